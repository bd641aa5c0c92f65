// Package tracecheck checks the agent's flight recorder end to end on
// maplab: a contention alert yields a window whose trace `go tool trace`
// reads and contendr diagnoses, and the trace's exact figures are set
// beside the window's profile- and metrics-based contention cost.
package tracecheck

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/contendr/contendr/agent"
	"github.com/contendr/contendr/alert"
	"github.com/contendr/contendr/analyze"
	"github.com/contendr/contendr/collectors/locktrace"
	"github.com/contendr/contendr/internal/maplab/strategy"
	"github.com/contendr/contendr/internal/maplab/workload"
	"github.com/contendr/contendr/source"
	"github.com/contendr/contendr/window"
)

// TestAlertTraceOnMaplab runs maplab's single-Mutex map on write-heavy with
// the recorder on and a contention rule that fires on the first window.
func TestAlertTraceOnMaplab(t *testing.T) {
	if testing.Short() {
		t.Skip("runs maplab for 2s")
	}
	const windowLength = 2 * time.Second
	a, err := agent.Start(agent.Config{
		Interval:       time.Hour, // windows close on CollectNow
		CPUProfileDuty: time.Hour,
		FlightRecorder: &agent.FlightRecorderConfig{MinAge: windowLength, Cooldown: time.Hour},
		Alerts: &alert.Config{For: 1, Rules: []alert.Rule{
			// Low, so that the rule fires on a loaded machine too: there
			// other processes keep the Ps busy (no idle P to lose) and the
			// cost is its sync CPU alone, 2–6% here, 0.5–5% under -race.
			// The capture path is under test, not the default limits.
			{Metric: alert.ContentionCost, Severity: alert.Warn, Threshold: 0.002},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Stop()

	m, err := strategy.New(strategy.NameMutex, strategy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	spec, err := workload.Named(workload.WriteHeavy)
	if err != nil {
		t.Fatal(err)
	}
	// One goroutine per P: a goroutine parked on the lock leaves its P
	// idle (maplab's cost matrix: 17–23% for every locked map), where 64
	// goroutines per P would keep both Ps busy and hide the lost P-time.
	spec.Goroutines = runtime.GOMAXPROCS(0)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := workload.Run(ctx, m, spec)
		done <- err
	}()
	// The rule fires on the first window over the limit; give it five.
	var w *window.Window
	for range 5 {
		time.Sleep(windowLength)
		if w, err = a.CollectNow(context.Background()); err != nil || w.Trace != nil {
			break
		}
	}
	cancel()
	if runErr := <-done; runErr != nil {
		t.Fatal(runErr)
	}
	if err != nil {
		t.Fatal(err)
	}
	if w.Trace == nil {
		t.Fatalf("no window got a trace: no contention alert in five windows; last notes %q", w.Notes)
	}
	if w.Trace.Reason != "alert contention_cost_warn" {
		t.Errorf("trace reason %q", w.Trace.Reason)
	}

	// The bundle carries the trace, and `go tool trace` parses it.
	var bundle bytes.Buffer
	if err := w.Encode(&bundle); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "window.zip")
	if err := os.WriteFile(path, bundle.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	loaded, err := source.Load(context.Background(), path, source.Options{})
	if err != nil {
		t.Fatal(err)
	}
	goToolTrace(t, loaded.Trace.Data)

	report, err := analyze.Analyze(analyze.Input{Window: loaded}, analyze.DefaultThresholds())
	if err != nil {
		t.Fatal(err)
	}
	d := report.Trace
	if d == nil {
		t.Fatalf("the report on the bundle has no trace diagnosis; notes %q", report.Notes)
	}
	top := d.Top()
	if top == nil || top.Component != "github.com/contendr/contendr/internal/maplab/strategy.(*MutexMap)" || len(top.Holders) == 0 {
		t.Fatalf("top trace site %+v, want the MutexMap with its holders", top)
	}
	if d.LostPSeconds <= 0 || d.BlockedSeconds <= 0 {
		t.Errorf("trace lost P %gs, blocked %gs: want both positive on a contended run", d.LostPSeconds, d.BlockedSeconds)
	}
	compare(t, w, report, d)
}

// compare logs the trace's exact figures per second beside the window's,
// for the README (go test -v -run AlertTrace ./testapps/maplab/tracecheck).
func compare(t *testing.T, w *window.Window, r *analyze.Report, d *locktrace.Diagnosis) {
	l, c := r.Lock, r.Lock.CostDetail
	perSec := func(v, s float64) float64 { return v / s }
	t.Logf("GOMAXPROCS %d, window %.2fs, trace %.2fs, %d lock waits; top site %s (%.0f%%), woken by %s",
		runtime.GOMAXPROCS(0), w.Seconds(), d.Seconds, d.LockWaits, d.Top().Function, 100*d.Top().Share, d.Top().Holders[0].Function)
	t.Logf("idle lost   trace %.3f P/s (exact)   window %.3f P/s (min(idle, wait), %s)",
		perSec(d.LostPSeconds, d.Seconds), perSec(c.IdleLostSeconds, w.Seconds()), c.IdleSource)
	t.Logf("lock wait   trace %.3f s/s blocked   window %.3f s/s (/sync/mutex/wait/total)",
		perSec(d.BlockedSeconds, d.Seconds), perSec(c.WaitSeconds, w.Seconds()))
	t.Logf("cost        trace lower bound %.3f   window %.3f (sync CPU %.3f + idle lost %.3f)",
		d.LostPShare, l.Cost, c.SyncCPUSeconds/(float64(r.Target.GOMAXPROCS)*w.Seconds()),
		c.IdleLostSeconds/(float64(r.Target.GOMAXPROCS)*w.Seconds()))
}

// goToolTrace runs `go tool trace -d=parsed` on the trace: the Go
// toolchain's own parser must read what the agent kept.
func goToolTrace(t *testing.T, data []byte) {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go command not found: cannot run go tool trace")
	}
	path := filepath.Join(t.TempDir(), "trace.out")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(goTool, "tool", "trace", "-d=parsed", path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("go tool trace -d=parsed: %v: %s", err, stderr.String())
	}
}
