package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/contendr/contendr/canary"
	"github.com/contendr/contendr/gate"
	"github.com/contendr/contendr/source"
	"github.com/contendr/contendr/window"
)

func TestGateUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"gate"},
		{"gate", "--canary", "http://127.0.0.1:1"},
		{"gate", "--baseline", "a", "--canary", "b", "--max-ratio", "0.5"},
		{"gate", "--baseline", "a", "--canary", "b", "--format", "html"},
		{"gate", "--baseline", "a", "--canary", "b", "--max-cost", "lots"},
		{"gate", "--baseline", "a", "--canary", "b", "--max-lock-fraction", "lots"},
		{"gate", "--baseline", "a", "--canary", "b", "--header", "no colon"},
		{"gate", "--baseline", "a", "--canary", "b", "--seconds", "5"},
		{"gate", "--baseline", "a", "--canary", "b", "--windows", "0"},
		{"gate", "--baseline", "a", "--canary", "b", "--alpha", "2"},
		{"gate", "extra-arg"},
	} {
		if code, _, stderr := runCLI(t, context.Background(), args...); code != exitUsage {
			t.Errorf("%q: exit %d, want %d; stderr %q", args, code, exitUsage, stderr)
		}
	}
}

// fakeGateLoad serves each target's windows from a fakeAgent, one fresh
// window a call, in place of live windows; a target named "bundle" serves
// the same window every time.
func fakeGateLoad(t *testing.T, agents map[string]*fakeAgent) {
	t.Helper()
	next := map[string]int{}
	var mu sync.Mutex
	old := gateLoad
	gateLoad = func(_ context.Context, target string, _ source.Options) (*window.Window, error) {
		mu.Lock()
		defer mu.Unlock()
		a := agents[target]
		i := next[target] % len(a.lockFractions)
		if target != "bundle" {
			next[target]++
		}
		return a.window(i), nil
	}
	t.Cleanup(func() { gateLoad = old })
}

func TestGateOverFakeWindows(t *testing.T) {
	fakeGateLoad(t, map[string]*fakeAgent{
		"calm":      {lockFractions: []float64{.05, .04, .06, .05, .05, .04}},
		"contended": {lockFractions: []float64{.30, .28, .33, .31, .29, .30}},
		"same":      {lockFractions: []float64{.05, .06, .04, .05, .04, .05}},
		"bundle":    {lockFractions: []float64{.05}},
	})
	fast := []string{"--seconds", "12"}
	code, stdout, stderr := runCLI(t, context.Background(), append([]string{"gate", "--baseline", "calm", "--canary", "contended"}, fast...)...)
	if code != exitThreshold {
		t.Fatalf("exit %d, want 3; stderr %q", code, stderr)
	}
	for _, want := range []string{"6 windows of 1s", "contention cost", "5.0% [", "FAIL", "GC CPU fraction", "PASS", "lock wait share (context)", "lower bound"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("table lacks %q:\n%s", want, stdout)
		}
	}
	if !strings.Contains(stderr, "the canary failed the gate: contention cost: canary 30.0% against baseline 5.0%") {
		t.Errorf("stderr %q does not give the reason", stderr)
	}

	code, stdout, stderr = runCLI(t, context.Background(), append([]string{"gate", "--baseline", "calm", "--canary", "same", "--format", "json"}, fast...)...)
	if code != exitOK {
		t.Fatalf("exit %d, want 0; stderr %q", code, stderr)
	}
	var res gate.Result
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("--format json: %v\n%s", err, stdout)
	}
	if res.Schema != canary.Schema || res.Verdict != canary.Pass || len(res.Canary.Windows) != 6 || len(res.Figures) < 2 ||
		res.Figures[0].Name != "contention_cost" || math.Abs(res.Figures[0].Canary.Median-0.05) > 1e-9 {
		t.Errorf("result = %+v", res)
	}

	// A bundle is one window: the gate cannot tell, exit 0 with a warning,
	// or 3 with --fail-on-undecided.
	code, stdout, stderr = runCLI(t, context.Background(), append([]string{"gate", "--baseline", "calm", "--canary", "bundle"}, fast...)...)
	if code != exitOK || !strings.Contains(stdout, "CANNOT TELL") || !strings.Contains(stderr, "warning: the gate cannot tell") ||
		!strings.Contains(stdout, "one window only") {
		t.Errorf("bundle canary: exit %d\n%s\nstderr %q", code, stdout, stderr)
	}
	code, _, _ = runCLI(t, context.Background(), append([]string{"gate", "--baseline", "calm", "--canary", "bundle", "--fail-on-undecided"}, fast...)...)
	if code != exitThreshold {
		t.Errorf("--fail-on-undecided: exit %d, want 3", code)
	}
}

// TestGateAgainstMaplab runs the gate on real processes, two at a time
// (runtime metrics are process-wide, and a third process's CPU would read
// as idle Ps): maplab's rwmutex map on a write-heavy mix with 64 goroutines
// fails against a calm one-goroutine baseline, the reverse passes, and two
// copies of the contended build pass. Each gate takes 4 windows of 1s a
// side, the fewest that can decide at α=0.05. It asserts verdicts only.
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
	contended := []string{"-strategy", "rwmutex", "-workload", "write-heavy"}
	calm := []string{"-strategy", "sharded", "-workload", "write-heavy", "-goroutines", "1"}
	for _, tt := range []struct {
		name             string
		baseline, canary []string
		want             canary.Verdict
	}{
		{"identical builds pass", contended, contended, canary.Pass},
		{"a contended canary fails against a calm baseline", calm, contended, canary.Fail},
		{"a calm canary passes against a contended baseline", contended, calm, canary.Pass},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			baseline := startGateMaplab(ctx, t, bin, tt.baseline...)
			canarySide := startGateMaplab(ctx, t, bin, tt.canary...)
			_, stdout, stderr := runCLI(t, ctx, "gate", "--baseline", baseline, "--canary", canarySide, "--seconds", "8", "--windows", "4", "--format", "json")
			var res gate.Result
			if err := json.Unmarshal([]byte(stdout), &res); err != nil {
				t.Fatalf("%v; stderr %q", err, stderr)
			}
			// Noise must never fail a build; it may leave a figure
			// undecided (GC pauses on a loaded machine), which exits 0
			// with a warning.
			switch {
			case tt.want == canary.Pass && res.Verdict == canary.CannotTell:
				t.Logf("verdict %s (allowed for %s): %q", res.Verdict, tt.want, res.Reasons)
			case res.Verdict != tt.want:
				t.Errorf("verdict %s, want %s: %q", res.Verdict, tt.want, res.Reasons)
			}
		})
	}
}

// startGateMaplab runs maplab with its agent on a free loopback port, 2s
// windows, and returns the agent's URL once it has closed two windows (the
// first may cover the map's prefill; the gate reads GOMAXPROCS from the
// latest).
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
