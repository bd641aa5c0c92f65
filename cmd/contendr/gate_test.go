package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestJudgeGate(t *testing.T) {
	side := func(cost, gc float64) gateSide {
		s := gateSide{Target: "t"}
		if cost >= 0 {
			s.ContentionCost = ptr(cost)
		}
		if gc >= 0 {
			s.GCCPUFraction = ptr(gc)
		}
		return s
	}
	const unknown = -1
	defaults := gateLimits{MaxRatio: 1.5, MinContentionCost: 0.02, MinGCCPU: 0.05}
	withAbsolute := defaults
	withAbsolute.MaxContentionCost, withAbsolute.MaxGCCPU = 0.10, 0.20
	tests := []struct {
		name             string
		baseline, canary gateSide
		limits           gateLimits
		want             string   // verdict
		statuses         []string // per check, in order
		reason           string   // in the reasons, when failing
	}{
		{"same figures pass", side(0.10, 0.08), side(0.10, 0.08), defaults, verdictPass,
			[]string{statusPass, statusPass}, ""},
		{"cost 3× the baseline fails", side(0.05, 0.01), side(0.15, 0.01), defaults, verdictFail,
			[]string{statusFail, statusPass}, "canary contention cost 15.0% is 3.0× the baseline's 5.0% (limit 1.5×)"},
		{"a doubling under the floor passes", side(0.001, 0.01), side(0.002, 0.02), defaults, verdictPass,
			[]string{statusPass, statusPass}, ""},
		{"a zero baseline fails a canary over the floor", side(0, 0), side(0.3, 0), defaults, verdictFail,
			[]string{statusFail, statusPass}, "canary contention cost 30.0% is ∞× the baseline's 0.0% (limit 1.5×)"},
		{"exactly the ratio passes", side(0.1, 0.1), side(0.15, 0.15), defaults, verdictPass,
			[]string{statusPass, statusPass}, ""},
		{"GC ratio fails on its own", side(0.01, 0.06), side(0.01, 0.12), defaults, verdictFail,
			[]string{statusPass, statusFail}, "canary GC CPU fraction 12.0% is 2.0× the baseline's 6.0% (limit 1.5×)"},
		{"absolute limit fails a canary no worse than its baseline", side(0.3, 0.01), side(0.3, 0.01), withAbsolute, verdictFail,
			[]string{statusFail, statusPass, statusPass, statusPass}, "canary contention cost 30.0% is above the limit of 10.0%"},
		{"unknown baseline cost skips that check", side(unknown, 0.06), side(0.5, 0.06), defaults, verdictPass,
			[]string{statusSkipped, statusPass}, ""},
		{"nothing measurable is no data", side(unknown, unknown), side(unknown, unknown), defaults, verdictNoData,
			[]string{statusSkipped, statusSkipped}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := judgeGate(tt.baseline, tt.canary, tt.limits)
			if res.Verdict != tt.want {
				t.Errorf("verdict %s, want %s (reasons %q)", res.Verdict, tt.want, res.Reasons)
			}
			var statuses []string
			for _, c := range res.Checks {
				statuses = append(statuses, c.Status)
			}
			if strings.Join(statuses, ",") != strings.Join(tt.statuses, ",") {
				t.Errorf("check statuses %v, want %v", statuses, tt.statuses)
			}
			if tt.reason != "" && (len(res.Reasons) == 0 || res.Reasons[0] != tt.reason) {
				t.Errorf("reasons %q, want %q first", res.Reasons, tt.reason)
			}
			if _, err := json.Marshal(res); err != nil { // no ±Inf may reach the JSON
				t.Errorf("result does not encode: %v", err)
			}
		})
	}
}

func TestGateUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"gate"},
		{"gate", "--canary", "http://127.0.0.1:1"},
		{"gate", "--baseline", "a", "--canary", "b", "--max-ratio", "1"},
		{"gate", "--baseline", "a", "--canary", "b", "--format", "html"},
		{"gate", "--baseline", "a", "--canary", "b", "--max-cost", "lots"},
		{"gate", "--baseline", "a", "--canary", "b", "--max-lock-fraction", "lots"},
		{"gate", "--baseline", "a", "--canary", "b", "--header", "no colon"},
		{"gate", "extra-arg"},
	} {
		if code, _, stderr := runCLI(t, context.Background(), args...); code != exitUsage {
			t.Errorf("%q: exit %d, want %d; stderr %q", args, code, exitUsage, stderr)
		}
	}
}

func TestGateOverFakeAgents(t *testing.T) {
	baseline := startFakeAgent(t, 0.05)
	canary := startFakeAgent(t, 0.3)
	code, stdout, stderr := runCLI(t, context.Background(), "gate", "--baseline", baseline, "--canary", canary)
	if code != exitThreshold {
		t.Fatalf("exit %d, want 3; stderr %q", code, stderr)
	}
	for _, want := range []string{"contention cost vs baseline", "5.0%", "30.0%", "6.00×", "FAIL", "GC CPU fraction vs baseline", "PASS", "lock wait share (context)", "lower bound"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("table lacks %q:\n%s", want, stdout)
		}
	}
	if !strings.Contains(stderr, "the canary failed the gate: canary contention cost 30.0% is 6.0×") {
		t.Errorf("stderr %q does not give the reason", stderr)
	}

	code, stdout, stderr = runCLI(t, context.Background(), "gate", "--baseline", baseline, "--canary", startFakeAgent(t, 0.06), "--format", "json")
	if code != exitOK {
		t.Fatalf("exit %d, want 0; stderr %q", code, stderr)
	}
	var res gateResult
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("--format json: %v\n%s", err, stdout)
	}
	if res.Schema != gateSchema || res.Verdict != verdictPass || *res.Canary.ContentionCost != 0.06 || *res.Baseline.ContentionCost != 0.05 ||
		*res.Canary.LockFraction != 0.06 {
		t.Errorf("result = %+v", res)
	}
}

// TestGateAgainstMaplab runs the gate on real processes: maplab's rwmutex
// map on a write-heavy mix with 64 goroutines as the canary, against a
// calm baseline (exit 3) and against a second copy of itself (exit 0).
// Runtime metrics are process-wide, so each side is its own process. With
// 64 goroutines the allocation per CPU second is steady enough that GC CPU
// stays under the gate's 5% floor; fewer goroutines make the GC ratio of two
// identical builds noisy enough to fail.
func TestGateAgainstMaplab(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs maplab; skipped with -short")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go not in PATH: cannot build maplab")
	}
	bin := filepath.Join(t.TempDir(), "maplab")
	if out, err := exec.Command(goBin, "build", "-o", bin, "../../testapps/maplab").CombinedOutput(); err != nil {
		t.Fatalf("building maplab: %v\n%s", err, out)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	contended := []string{"-strategy", "rwmutex", "-workload", "write-heavy"}
	canary := startGateMaplab(ctx, t, bin, contended...)
	twin := startGateMaplab(ctx, t, bin, contended...)
	// One goroutine: nothing to contend with.
	calm := startGateMaplab(ctx, t, bin, "-strategy", "sharded", "-workload", "write-heavy", "-goroutines", "1")

	code, stdout, stderr := runCLI(t, ctx, "gate", "--baseline", calm, "--canary", canary)
	t.Logf("contended canary vs calm baseline:\n%s", stdout)
	if code != exitThreshold {
		t.Errorf("exit %d, want 3; stderr %q", code, stderr)
	}
	code, stdout, stderr = runCLI(t, ctx, "gate", "--baseline", twin, "--canary", canary)
	t.Logf("canary vs the same build:\n%s", stdout)
	if code != exitOK {
		t.Errorf("exit %d, want 0; stderr %q", code, stderr)
	}
}

// startGateMaplab runs maplab with its agent on a free loopback port, 2s
// windows, and returns the agent's URL once it has closed two windows (the
// first may cover the map's prefill).
func startGateMaplab(ctx context.Context, t *testing.T, bin string, args ...string) string {
	t.Helper()
	args = append([]string{"-duration", "0", "-listen", "127.0.0.1:0", "-interval", "2s"}, args...)
	cmd := exec.CommandContext(ctx, bin, args...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting maplab: %v", err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	url := ""
	scanner := bufio.NewScanner(stderr)
	for url == "" && scanner.Scan() {
		if _, after, ok := strings.Cut(scanner.Text(), "contendr agent on "); ok {
			url = strings.Fields(after)[0]
		}
	}
	if url == "" {
		t.Fatalf("maplab %v did not print its agent's address", args)
	}
	go io.Copy(io.Discard, stderr) // keep the pipe drained
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(250 * time.Millisecond) {
		var windows []json.RawMessage
		if resp, err := http.Get(url + "/debug/contendr/windows"); err == nil {
			json.NewDecoder(resp.Body).Decode(&windows)
			resp.Body.Close()
		}
		if len(windows) >= 2 {
			return url
		}
		if time.Now().After(deadline) {
			t.Fatalf("maplab %v: the agent closed no second window in 30s", args)
		}
	}
}

func TestShortComponent(t *testing.T) {
	for in, want := range map[string]string{
		"github.com/contendr/contendr/testapps/maplab/strategy.(*RWMap)": "strategy.(*RWMap)",
		"main.(*Cache)": "main.(*Cache)",
		"example.com/x/cache.(*LRU[go.shape.string/x.y])": "cache.(*LRU[go.shape.string/x.y])",
		"example.com/x/cache":                             "cache",
	} {
		if got := shortComponent(in); got != want {
			t.Errorf("shortComponent(%q) = %q, want %q", in, got, want)
		}
	}
}
