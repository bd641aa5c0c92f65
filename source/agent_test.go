package source

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/contendr/contendr/agent"
	"github.com/contendr/contendr/window"
)

// startAgent runs a real contendr agent in the test process and serves its
// handler.
func startAgent(t *testing.T, cfg agent.Config) (*agent.Agent, string) {
	t.Helper()
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	a, err := agent.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Stop() })
	return a, serve(t, a.Handler()).URL
}

// waitForWindow waits until the agent has closed its first window, so that
// a loaded test machine does not turn into a "no window yet" failure.
func waitForWindow(t *testing.T, a *agent.Agent) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); a.Latest() == nil; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the agent closed no window in 30s")
		}
	}
}

func TestLoadAgent(t *testing.T) {
	// No CPU profile in the agent's windows, so that Load records one live.
	a, url := startAgent(t, agent.Config{Interval: 300 * time.Millisecond, Token: "s3cret", CPUProfileDuty: -1})
	waitForWindow(t, a)

	_, err := Load(context.Background(), url, Options{Seconds: 5 * time.Second})
	wantErrContains(t, err, url+": GET /debug/contendr/windows: 401 Unauthorized", "pass --header 'Authorization: Bearer <token>'")
	if !errors.Is(err, ErrUnauthorized) {
		t.Errorf("error %v is not ErrUnauthorized", err)
	}

	opts := Options{
		Seconds:  time.Second,
		Headers:  http.Header{"Authorization": {"Bearer s3cret"}},
		Profiles: []window.ProfileKind{window.CPU, window.Goroutine},
	}
	w, err := Load(context.Background(), url+"/debug/pprof/", opts)
	if err != nil {
		t.Fatal(err)
	}
	if w.Metrics == nil {
		t.Error("an agent window should carry runtime/metrics samples")
	}
	if w.Meta.GoVersion != runtime.Version() || w.Meta.Source != url+"/debug/pprof/" {
		t.Errorf("meta = %+v", w.Meta)
	}
	for _, k := range []window.ProfileKind{window.Mutex, window.Block, window.Allocs, window.CPU, window.Goroutine} {
		if w.Profile(k) == nil {
			t.Errorf("window has no %s profile", k)
		}
	}
	if !strings.Contains(strings.Join(w.Notes, "\n"), "cpu profile recorded live for 1s") {
		t.Errorf("notes do not say the CPU profile was recorded apart: %q", w.Notes)
	}
}

func TestLoadAgentWithPrevious(t *testing.T) {
	a, url := startAgent(t, agent.Config{Interval: time.Hour})
	first, err := a.CollectNow(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	_, prev, err := LoadWithPrevious(context.Background(), url, Options{Seconds: time.Second})
	if err != nil || prev != nil {
		t.Fatalf("with one window: previous %v, err %v; want none", prev, err)
	}
	second, err := a.CollectNow(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	w, prev, err := LoadWithPrevious(context.Background(), url, Options{Seconds: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if w.ID != second.ID || prev == nil || prev.ID != first.ID {
		t.Errorf("got window %q after %v, want %q after %q", w.ID, prev, second.ID, first.ID)
	}
}

// TestLoadAgentWithoutWindow: an agent that has not closed a window yet
// is measured live from its pprof endpoints, and the window says so.
func TestLoadAgentWithoutWindow(t *testing.T) {
	_, url := startAgent(t, agent.Config{Interval: time.Hour})
	w, err := Load(context.Background(), url, Options{Seconds: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(w.Notes, "\n"), "had not closed a window yet: this window was measured live for 1s") {
		t.Errorf("notes do not say the window was measured live: %q", w.Notes)
	}
	for _, k := range []window.ProfileKind{window.Mutex, window.Block, window.CPU} {
		if w.Profile(k) == nil {
			t.Errorf("live window has no %s profile", k)
		}
	}
	if w.Meta.GOMAXPROCS != runtime.GOMAXPROCS(0) || w.Meta.GoVersion != runtime.Version() {
		t.Errorf("live window meta %+v: want GOMAXPROCS and the Go version from the agent's config", w.Meta)
	}
}

func TestLoadAgentLive(t *testing.T) {
	// An hour's interval: the agent's own window is never the one loaded.
	a, url := startAgent(t, agent.Config{Interval: time.Hour})
	if _, err := a.CollectNow(context.Background()); err != nil {
		t.Fatal(err)
	}
	w, err := Load(context.Background(), url, Options{Seconds: time.Second, Live: true})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(w.ID, "pprof-") || w.Metrics == nil || w.MemStats == nil {
		t.Fatalf("want a live window with the agent's metrics and MemStats: id %q, metrics %v, memstats %v", w.ID, w.Metrics != nil, w.MemStats != nil)
	}
	// The agent's readings at both ends: its scheduler counters (the
	// contention cost's idle Ps) and GOMAXPROCS, which pprof cannot say.
	if _, ok := w.Metrics.SchedDelta(); !ok {
		t.Errorf("live window has no scheduler counters: start %+v end %+v", w.Metrics.Start.Sched, w.Metrics.End.Sched)
	}
	if _, ok := w.Metrics.Delta(window.MetricCPUTotal); !ok {
		t.Errorf("live window has no %s delta", window.MetricCPUTotal)
	}
	if w.Meta.GOMAXPROCS != runtime.GOMAXPROCS(0) || w.Meta.GoVersion != runtime.Version() {
		t.Errorf("live window meta %+v: want GOMAXPROCS and the Go version from the agent", w.Meta)
	}
	if d := w.End.Sub(w.Start); d < 900*time.Millisecond || d > 5*time.Second {
		t.Errorf("live window of %v, want about 1s", d)
	}
}

// The agent serves its metrics reading where source looks for it.
func TestAgentSamplePath(t *testing.T) {
	if agentSample != agent.SamplePath {
		t.Errorf("source reads %q, the agent serves %q", agentSample, agent.SamplePath)
	}
}
