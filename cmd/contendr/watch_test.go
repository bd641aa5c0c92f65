package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/contendr/contendr/alert"
	"github.com/contendr/contendr/analyze"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/contendr/contendr/window"
)

// runCLI runs the CLI as main does and returns what it wrote.
func runCLI(t *testing.T, ctx context.Context, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = runIO(ctx, args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// fakeAgent speaks the agent's window protocol over real bundles: each
// request for the latest window closes the next one of lockFractions, each
// both the window's lock wait share and its contention cost (wait, user
// CPU and idle Ps chosen to give both; no CPU profile, so the cost is a
// lower bound of idle Ps only; GC at 2% of CPU).
type fakeAgent struct {
	mu            sync.Mutex
	lockFractions []float64
	served        int
}

var fakeEpoch = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func (f *fakeAgent) window(i int) *window.Window {
	wait := f.lockFractions[i]
	sample := func(t time.Time, scale float64) window.Sample {
		// Capacity 2 P-seconds a window: 2×wait idle, all lost to locks.
		return window.Sample{Time: t, Values: map[string]float64{
			window.MetricMutexWait: scale * 2 * wait,
			window.MetricCPUUser:   scale * 2 * (1 - wait),
			window.MetricCPUIdle:   scale * 2 * wait,
			window.MetricCPUGC:     scale * 0.04,
			window.MetricCPUTotal:  scale * 2,
		}}
	}
	start, end := fakeEpoch.Add(time.Duration(i)*time.Second), fakeEpoch.Add(time.Duration(i+1)*time.Second)
	return &window.Window{ID: fmt.Sprint(i + 1), Start: start, End: end,
		Meta:    window.Meta{Source: "in-process", GoVersion: "go1.26.8", GOMAXPROCS: 2, MutexProfileFraction: 10, BlockProfileRate: 10000},
		Metrics: &window.SamplePair{Start: sample(start, float64(i)), End: sample(end, float64(i+1))}}
}

func (f *fakeAgent) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch r.URL.Path {
	case "/debug/contendr/windows":
		list := []map[string]any{}
		for i := range min(f.served, len(f.lockFractions)) {
			list = append(list, map[string]any{"id": fmt.Sprint(i + 1), "end": fakeEpoch.Add(time.Duration(i+1) * time.Second)})
		}
		json.NewEncoder(w).Encode(list)
	case "/debug/contendr/windows/latest":
		i := min(f.served, len(f.lockFractions)-1)
		f.served++
		w.Header().Set("Content-Type", window.BundleContentType)
		if err := f.window(i).Encode(w); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	default:
		http.NotFound(w, r)
	}
}

// requireCostRules skips a test that runs watch's alert rules when the
// alert package predates rules on contention_cost and component_cost (they
// arrive with the prom branch's alert change).
func requireCostRules(t *testing.T) {
	t.Helper()
	e, err := alert.NewEvaluator(alert.Config{Rules: rulesFromThresholds(analyze.DefaultThresholds()), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Skipf("the alert package cannot evaluate watch's rules yet: %v", err)
	}
	e.Close()
}

func startFakeAgent(t *testing.T, lockFractions ...float64) string {
	t.Helper()
	srv := httptest.NewServer(&fakeAgent{lockFractions: lockFractions})
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestWatchPrintsWindowsAndAlerts(t *testing.T) {
	requireCostRules(t)
	target := startFakeAgent(t, 0.3, 0.3, 0.01, 0.01)
	code, stdout, stderr := runCLI(t, context.Background(), "watch", target,
		"--interval", "1ms", "--count", "4", "--for", "2", "--resolve-after", "2")
	if code != exitOK {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	var windows, firing, resolved []string
	for _, l := range lines {
		switch {
		case strings.Contains(l, "ALERT FIRING"):
			firing = append(firing, l)
		case strings.Contains(l, "ALERT RESOLVED"):
			resolved = append(resolved, l)
		case strings.Contains(l, "  cost "):
			windows = append(windows, l)
		}
	}
	if len(windows) != 4 || !strings.Contains(windows[0], "cost ≥ 30.0%  wait share  30.0%") || !strings.Contains(windows[0], "gc   2.0%") ||
		!strings.Contains(windows[3], "cost ≥  1.0%") {
		t.Errorf("want 4 window lines at 30%%, 30%%, 1%%, 1%% cost and 2%% GC:\n%s", stdout)
	}
	if strings.Count(stdout, "note: the contention cost is a lower bound") != 1 {
		t.Errorf("want the lower bound's reason said once:\n%s", stdout)
	}
	// contention_cost warn and crit fire on the second window over and
	// resolve on the second under.
	if len(firing) != 2 || !strings.Contains(firing[0], "contention_cost_warn") || !strings.Contains(firing[1], "contention_cost_crit") {
		t.Errorf("firing lines = %q\n%s", firing, stdout)
	}
	if len(resolved) != 2 {
		t.Errorf("resolved lines = %q\n%s", resolved, stdout)
	}
	if !(strings.Index(stdout, firing[0]) > strings.Index(stdout, windows[1]) &&
		strings.Index(stdout, firing[0]) < strings.Index(stdout, windows[2]) &&
		strings.Index(stdout, resolved[0]) > strings.Index(stdout, windows[3])) {
		t.Errorf("alerts are not printed after the window that caused them:\n%s", stdout)
	}
}

func TestWatchExitOnCrit(t *testing.T) {
	requireCostRules(t)
	tests := []struct {
		name     string
		fraction []float64
		exitOn   string
		want     int
		windows  int
	}{
		{"crit fires: exit 3 at once", []float64{0.3, 0.3, 0.3}, "crit", exitThreshold, 2},
		{"warn only: crit never fires", []float64{0.15, 0.15, 0.15}, "crit", exitOK, 3},
		{"warn fires with --exit-on warn", []float64{0.15, 0.15, 0.15}, "warn", exitThreshold, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target := startFakeAgent(t, tt.fraction...)
			code, stdout, stderr := runCLI(t, context.Background(), "watch", target, "--interval", "1ms",
				"--count", "3", "--for", "2", "--exit-on", tt.exitOn, "--format", "json")
			if code != tt.want {
				t.Fatalf("exit %d, want %d; stderr %q", code, tt.want, stderr)
			}
			var n int
			dec := json.NewDecoder(strings.NewReader(stdout))
			for dec.More() {
				var line watchLine
				if err := dec.Decode(&line); err != nil {
					t.Fatalf("output is not one JSON object per window: %v\n%s", err, stdout)
				}
				if line.ContentionCost == nil || math.Abs(*line.ContentionCost-tt.fraction[n]) > 1e-9 || !line.CostLowerBound || line.CostReason == "" {
					t.Errorf("window %d contention cost %v (lower bound %v, reason %q), want a lower bound of %v", n+1, line.ContentionCost, line.CostLowerBound, line.CostReason, tt.fraction[n])
				}
				n++
			}
			if n != tt.windows {
				t.Errorf("%d windows printed, want %d:\n%s", n, tt.windows, stdout)
			}
			if tt.want == exitThreshold && !strings.Contains(stderr, "fired") {
				t.Errorf("stderr %q does not say which alert fired", stderr)
			}
		})
	}
}

// A window the agent already served is not analyzed twice.
func TestWatchSkipsWindowsAlreadySeen(t *testing.T) {
	requireCostRules(t)
	var latest int
	var mu sync.Mutex
	fake := &fakeAgent{lockFractions: []float64{0.01, 0.02}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/debug/contendr/windows/latest" {
			mu.Lock()
			latest++
			// the agent closes its second window only at the fourth request
			if latest <= 3 {
				fake.mu.Lock()
				fake.served = 0
				fake.mu.Unlock()
			}
			mu.Unlock()
		}
		fake.ServeHTTP(w, r)
	}))
	defer srv.Close()
	code, stdout, stderr := runCLI(t, context.Background(), "watch", srv.URL, "--interval", "1ms", "--count", "2")
	if code != exitOK {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if got := strings.Count(stdout, "window "); got != 2 || !strings.Contains(stdout, "window 1\n") || !strings.Contains(stdout, "window 2\n") {
		t.Errorf("want windows 1 and 2 once each:\n%s", stdout)
	}
}

func TestWatchUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"watch"},
		{"watch", "http://127.0.0.1:1", "--interval", "0s"},
		{"watch", "http://127.0.0.1:1", "--for", "0"},
		{"watch", "http://127.0.0.1:1", "--exit-on", "ok"},
		{"watch", "http://127.0.0.1:1", "--format", "yaml"},
		{"watch", "http://127.0.0.1:1", "--count", "-1"},
	} {
		if code, _, stderr := runCLI(t, context.Background(), args...); code != exitUsage {
			t.Errorf("%q: exit %d, want %d; stderr %q", args, code, exitUsage, stderr)
		}
	}
}

func TestWatchUnreachableTargetFails(t *testing.T) {
	requireCostRules(t)
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there any more
	code, _, stderr := runCLI(t, context.Background(), "watch", url, "--interval", "1ms", "--timeout", "1s")
	if code != exitError || !strings.Contains(stderr, "contendr:") {
		t.Errorf("exit %d, stderr %q; want 1 and an error line", code, stderr)
	}
}
