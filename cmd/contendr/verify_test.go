package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/contendr/contendr/analyze"
	"github.com/contendr/contendr/internal/maplab/replay"
	"github.com/contendr/contendr/verify"
)

// TestVerifyAgainstMaplab is the user's path end to end, on real
// processes built without the race detector (which slows xsync's atomics
// far more than a mutex and would measure the detector): maplab's mutex map
// under a write-heavy mix with 64 goroutines, analyzed from its agent, then
// stopped, and the saved report verified by the contendr binary against
// xsync. On the quiet 2-core matrix xsync ran 3.2× mutex's ops/s there, so
// what must hold is that ranking: advice of a change is confirmed, and a
// keep (analyze keeps mutex when a loaded machine leaves its lock
// uncontended) is refuted by xsync. A machine so loaded that the replay's
// threads waited for a CPU half of the time changes which strategy wins
// (testapps/maplab/README.md); verify then says it cannot tell because the
// machine was busy, and the test accepts that stated reason, and no other.
func TestVerifyAgainstMaplab(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs maplab and contendr; skipped with -short")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go not in PATH: cannot build maplab and contendr")
	}
	dir := t.TempDir()
	maplab, contendr := filepath.Join(dir, "maplab"), filepath.Join(dir, "contendr")
	for bin, pkg := range map[string]string{maplab: "../../testapps/maplab", contendr: "."} {
		if out, err := exec.Command(goBin, "build", "-o", bin, pkg).CombinedOutput(); err != nil {
			t.Fatalf("building %s: %v\n%s", pkg, err, out)
		}
	}

	const component = "github.com/contendr/contendr/internal/maplab/strategy.(*MutexMap)"
	m := startGateMaplab(t, maplab, "-strategy", "mutex", "-workload", "write-heavy")
	url := m.url
	report := filepath.Join(dir, "report.json")
	var rec analyze.Recommendation
	// The agent closes a window every 2s; a loaded machine can leave one
	// under the cost's warn limit, so take up to three.
	for try := 0; try < 3 && (rec.Recommended == "" || rec.Recommended == analyze.StrategyKeep); try++ {
		time.Sleep(time.Duration(try) * 2 * time.Second)
		if out, err := exec.Command(contendr, "analyze", url, "--format", "json", "-o", report).CombinedOutput(); err != nil {
			t.Fatalf("contendr analyze: %v\n%s", err, out)
		}
		rep, err := verify.ReadReport(report)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rep.Recommendations {
			if r.Component == component {
				rec = r
			}
		}
	}
	m.stop(t) // the replay must not share the cores with the program it measured
	waitGone(t, url)
	if rec.Current != analyze.StrategyMutex {
		t.Fatalf("analyze read %s's strategy as %q, want mutex", component, rec.Current)
	}
	if rec.Recommended == analyze.StrategyKeep {
		t.Logf("analyze kept mutex (%s): verifying the keep against xsync", strings.Join(rec.Reasons, "; "))
	}

	verified := filepath.Join(dir, "verified.json")
	out, err := exec.Command(contendr, "verify", report, "--strategies", "xsync", "--seconds", "9", "--repeat", "6", "--format", "json", "-o", verified).CombinedOutput()
	if err != nil {
		t.Fatalf("contendr verify: %v\n%s", err, out)
	}
	var res verify.Result
	data, _ := os.ReadFile(verified)
	if err := json.Unmarshal(data, &res); err != nil {
		t.Fatalf("verify's JSON: %v\n%s", err, data)
	}
	var c *verify.Component
	for i := range res.Components {
		if res.Components[i].Component == component {
			c = &res.Components[i]
		}
	}
	if res.Schema != verify.Schema || c == nil || len(c.Strategies) < 2 {
		t.Fatalf("schema %q, components %+v", res.Schema, res.Components)
	}
	mutex, xsync := median(c, "mutex"), median(c, "xsync")
	t.Logf("%s → %s: %s (%s); mutex %.3gM, xsync %.3gM ops/s; run queue %.0f%% / %.0f%%", rec.Current, rec.Recommended, c.Verdict, c.Reason,
		mutex/1e6, xsync/1e6, 100*c.Comparison.RunQueue[0], 100*c.Comparison.RunQueue[1])
	// A change is confirmed; a keep is refuted: either way, measurably
	// faster than mutex.
	want := replay.Confirmed
	if rec.Recommended == analyze.StrategyKeep {
		want = replay.Refuted
	}
	switch {
	case c.Verdict == want:
		if c.Comparison.Baseline != "mutex" || c.Comparison.Ratio <= 1 || !c.Comparison.Differ() {
			t.Errorf("%s, yet the comparison is %+v", c.Verdict, c.Comparison)
		}
	case c.Verdict == replay.CannotTell && strings.Contains(c.Reason, "machine was busy"):
		if max(c.Comparison.RunQueue[0], c.Comparison.RunQueue[1]) <= replay.BusyRunQueue {
			t.Errorf("busy, yet the run queues were %v", c.Comparison.RunQueue)
		}
	default:
		t.Errorf("%s → %s: %s, want %s (or cannot tell on a busy machine): %s", rec.Current, rec.Recommended, c.Verdict, want, c.Reason)
	}
	// The report inside quotes the measurement as its expected gain.
	for _, r := range res.Report.Recommendations {
		if r.Component == component && (r.GainSource.Kind != analyze.GainFromVerify || r.Measured == nil || r.Measured.Verdict != string(c.Verdict)) {
			t.Errorf("the verified report's gain: %+v, %+v", r.GainSource, r.Measured)
		}
	}
}

func median(c *verify.Component, strategy string) float64 {
	for _, m := range c.Strategies {
		if m.Strategy == strategy {
			return m.OpsPerSec.Median
		}
	}
	return 0
}

// waitGone waits until nothing answers at url.
func waitGone(t *testing.T, url string) {
	t.Helper()
	client := &http.Client{Timeout: time.Second}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		resp, err := client.Get(url + "/debug/pprof/")
		if err != nil {
			return
		}
		resp.Body.Close()
	}
	t.Fatalf("%s still answers 10s after maplab was stopped", url)
}

func TestVerifyErrors(t *testing.T) {
	dir := t.TempDir()
	notReport := filepath.Join(dir, "notes.json")
	os.WriteFile(notReport, []byte(`{"title": "x"}`), 0o644)
	quiet := "../../analyze/testdata/golden/hand-quiet.json"
	noRecs := filepath.Join(dir, "none.json")
	os.WriteFile(noRecs, []byte(`{"schema": "contendr.report/v1", "recommendations": []}`), 0o644)
	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"verify", notReport}, exitError, `no "schema" field`},
		{[]string{"verify", filepath.Join(dir, "missing.json")}, exitError, "no such file"},
		{[]string{"verify", noRecs}, exitError, "the report has no recommendations"},
		{[]string{"verify", quiet}, exitError, "keep mutex: no change is advised (give --strategies"},
		{[]string{"verify", quiet, "--format", "xml"}, exitUsage, "want text or json"},
		{[]string{"verify", quiet, "--repeat", "0"}, exitUsage, "--repeat 0"},
		{[]string{"verify", quiet, "--strategies", "btree"}, exitUsage, `unknown strategy "btree"`},
		{[]string{"verify", quiet, "--alpha", "1.5"}, exitUsage, "--alpha"},
		{[]string{"verify", "../../verify/testdata/rwmutex-to-xsync.json", "--seconds", "1"}, exitError, "a run needs at least"},
		{[]string{"verify"}, exitUsage, "requires at least 1 arg"},
	} {
		code, _, stderr := execute(t, context.Background(), tt.args...)
		if code != tt.code || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d saying %q", tt.args, code, stderr, tt.code, tt.want)
		}
	}
}

// TestAnalyzeVerify runs analyze --verify on profile files: the replay
// runs in this (race-instrumented) process, so it asserts what the report
// says of its source, not a verdict.
func TestAnalyzeVerify(t *testing.T) {
	if testing.Short() {
		t.Skip("replays for 3s; skipped with -short")
	}
	code, stdout, stderr := execute(t, context.Background(), "analyze", legacyFixture, "--seconds", "10", "--go-version", "go1.25.0",
		"--format", "json", "--verify", "--verify-seconds", "3")
	if code != exitOK {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	rep := decodeReports(t, stdout)[0]
	var measured int
	for _, rec := range rep.Recommendations {
		if rec.Recommended == analyze.StrategyKeep {
			continue
		}
		if rec.GainSource.Kind != analyze.GainFromVerify || rec.Measured == nil || !strings.HasPrefix(rec.ExpectedGain, "measured on ") {
			t.Errorf("%s: gain source %+v, expected gain %q", rec.Component, rec.GainSource, rec.ExpectedGain)
		}
		measured++
	}
	if measured == 0 || !strings.Contains(stderr, "verified ") {
		t.Errorf("%d recommendations measured; stderr %q", measured, stderr)
	}
}
