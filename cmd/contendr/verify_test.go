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
// stopped, and the saved report verified by the contendr binary. On the
// quiet 2-core matrix xsync ran 3.2× mutex's ops/s there, so the advice
// (xsync) must be confirmed. On a machine so loaded that the replay's
// threads waited for a CPU half of the time, a loaded machine changes which
// strategy wins (testapps/maplab/README.md), and verify says it cannot tell
// because the machine was busy; the test accepts that stated reason, and
// no other.
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

	ctx, stopMaplab := context.WithCancel(context.Background())
	defer stopMaplab()
	url := startGateMaplab(ctx, t, maplab, "-strategy", "mutex", "-workload", "write-heavy")
	report := filepath.Join(dir, "report.json")
	if out, err := exec.Command(contendr, "analyze", url, "--format", "json", "-o", report).CombinedOutput(); err != nil {
		t.Fatalf("contendr analyze: %v\n%s", err, out)
	}
	stopMaplab() // the replay must not share the cores with the program it measured
	waitGone(t, url)

	rep, err := verify.ReadReport(report)
	if err != nil {
		t.Fatal(err)
	}
	const component = "github.com/contendr/contendr/internal/maplab/strategy.(*MutexMap)"
	var advised analyze.Strategy
	for _, rec := range rep.Recommendations {
		if rec.Component == component {
			advised = rec.Recommended
		}
	}
	if advised == "" || advised == analyze.StrategyKeep {
		t.Fatalf("analyze advised %q for %s, want a change; recommendations %+v", advised, component, rep.Recommendations)
	}

	verified := filepath.Join(dir, "verified.json")
	out, err := exec.Command(contendr, "verify", report, "--seconds", "9", "--repeat", "6", "--format", "json", "-o", verified).CombinedOutput()
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
	if res.Schema != verify.Schema || c == nil || len(c.Strategies) != 2 {
		t.Fatalf("schema %q, components %+v", res.Schema, res.Components)
	}
	cur, adv := c.Strategies[0].OpsPerSec, c.Strategies[1].OpsPerSec
	t.Logf("mutex → %s: %s (%s); medians %.3gM vs %.3gM ops/s, run queue %.0f%% / %.0f%%", advised, c.Verdict, c.Reason,
		cur.Median/1e6, adv.Median/1e6, 100*c.Comparison.RunQueue[0], 100*c.Comparison.RunQueue[1])
	switch {
	case c.Verdict == replay.Confirmed:
		if adv.Median <= cur.Median || !c.Comparison.Differ() {
			t.Errorf("confirmed, yet medians %g vs %g at p=%g", adv.Median, cur.Median, c.Comparison.P)
		}
	case c.Verdict == replay.CannotTell && strings.Contains(c.Reason, "machine was busy"):
		if max(c.Comparison.RunQueue[0], c.Comparison.RunQueue[1]) <= replay.BusyRunQueue {
			t.Errorf("busy, yet the run queues were %v", c.Comparison.RunQueue)
		}
	default:
		t.Errorf("mutex → %s: %s, want confirmed (or cannot tell on a busy machine): %s", advised, c.Verdict, c.Reason)
	}
	// The report inside quotes the measurement as its expected gain.
	for _, rec := range res.Report.Recommendations {
		if rec.Component == component && (rec.GainSource.Kind != analyze.GainFromVerify || rec.Measured == nil || rec.Measured.Verdict != string(c.Verdict)) {
			t.Errorf("the verified report's gain: %+v, %+v", rec.GainSource, rec.Measured)
		}
	}
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
		{[]string{"verify", quiet}, exitError, "keep mutex: no change is advised"},
		{[]string{"verify", quiet, "--format", "xml"}, exitUsage, "want text or json"},
		{[]string{"verify", quiet, "--repeat", "0"}, exitUsage, "--repeat 0"},
		{[]string{"verify", quiet, "--strategies", "btree"}, exitUsage, `unknown strategy "btree"`},
		{[]string{"verify", quiet, "--alpha", "1.5"}, exitUsage, "--alpha"},
		{[]string{"verify", "../../analyze/testdata/golden/hand-rwmutex-write-heavy.json", "--seconds", "1"}, exitError, "a run needs at least"},
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
