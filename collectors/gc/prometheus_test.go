package gc

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/contendr/contendr/window"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// metricsWindow is TestPressureFromMetrics' window plus the legacy sync.Map
// fixture's allocs profile.
func metricsWindow(t *testing.T, id string) *window.Window {
	w := fixtureWindow(t, "go1.25-legacy-syncmap")
	w.ID = id
	t0 := w.Start
	w.Metrics = &window.SamplePair{
		Start: metricsSample(t0, map[string]float64{
			window.MetricCPUTotal: 100, window.MetricCPUGC: 5, window.MetricCPUGCAssist: 1,
			window.MetricGCCycles: 40, window.MetricAllocBytes: 1e9, window.MetricAllocObjs: 1e6,
		}, []uint64{0, 10, 60, 10, 0}),
		End: metricsSample(t0.Add(10*time.Second), map[string]float64{
			window.MetricCPUTotal: 120, window.MetricCPUGC: 8, window.MetricCPUGCAssist: 2.5,
			window.MetricGCCycles: 90, window.MetricAllocBytes: 3e9, window.MetricAllocObjs: 5e6,
			window.MetricHeapLive: 1, window.MetricHeapGoal: 2, window.MetricGOGC: 100, window.MetricGOMEMLIMIT: 3,
		}, []uint64{0, 10, 158, 11, 1}),
	}
	return w
}

const wantExposition = `
# HELP contendr_alloc_bytes_per_second Heap allocation in bytes per second over the last window.
# TYPE contendr_alloc_bytes_per_second gauge
contendr_alloc_bytes_per_second{role="canary",service="checkout"} 2e+08
# HELP contendr_gc_assist_share Share of GC CPU spent in mark assists by user goroutines over the last window.
# TYPE contendr_gc_assist_share gauge
contendr_gc_assist_share{role="canary",service="checkout"} 0.5
# HELP contendr_gc_cpu_fraction Share of available CPU (GOMAXPROCS × window) spent in GC over the last window.
# TYPE contendr_gc_cpu_fraction gauge
contendr_gc_cpu_fraction{role="canary",service="checkout"} 0.15
# HELP contendr_gc_cycles_per_second Completed GC cycles per second over the last window.
# TYPE contendr_gc_cycles_per_second gauge
contendr_gc_cycles_per_second{role="canary",service="checkout"} 5
# HELP contendr_gc_pause_p99_seconds 99th percentile stop-the-world GC pause over the last window (bucket upper bound).
# TYPE contendr_gc_pause_p99_seconds gauge
contendr_gc_pause_p99_seconds{role="canary",service="checkout"} 0.01
# HELP contendr_map_growth_bytes_per_second Allocation a component's map did to grow or copy itself, bytes per second over the last window (top components only).
# TYPE contendr_map_growth_bytes_per_second gauge
contendr_map_growth_bytes_per_second{component="main.(*syncMapStore)",kind="syncmap-dirty-copy",role="canary",service="checkout"} %s
# HELP contendr_map_growth_share A component's map growth as a share of the window's sampled allocation (top components only).
# TYPE contendr_map_growth_share gauge
contendr_map_growth_share{component="main.(*syncMapStore)",kind="syncmap-dirty-copy",role="canary",service="checkout"} %s
`

func TestCollectorExposition(t *testing.T) {
	current := metricsWindow(t, "w1")
	c := NewCollector(func() *window.Window { return current }, prometheus.Labels{"service": "checkout", "role": "canary"})

	// The fixture's growth figures, as Collect computes them (checked
	// against the profile in TestMapGrowthFixtures).
	r, err := Collect(current, nil)
	if err != nil {
		t.Fatal(err)
	}
	g := r.MapGrowth[0]
	want := fmt.Sprintf(wantExposition, formatFloat(g.BytesPerSecond), formatFloat(g.ShareOfAlloc))
	if err := testutil.CollectAndCompare(c, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
	if problems, err := testutil.CollectAndLint(c); err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %v", problems, err)
	}

	// Same window ID: the cached figures are served, not recomputed.
	current = metricsWindow(t, "w1")
	current.Metrics.End.Values[window.MetricCPUGC] = 20
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), "contendr_gc_cpu_fraction"); err != nil {
		t.Errorf("same window ID recomputed: %v", err)
	}
	// A new window is computed afresh.
	current = metricsWindow(t, "w2")
	current.Metrics.End.Values[window.MetricCPUGC] = 20
	fresh := `
# HELP contendr_gc_cpu_fraction Share of available CPU (GOMAXPROCS × window) spent in GC over the last window.
# TYPE contendr_gc_cpu_fraction gauge
contendr_gc_cpu_fraction{role="canary",service="checkout"} 0.75
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(fresh), "contendr_gc_cpu_fraction"); err != nil {
		t.Errorf("new window: %v", err)
	}
}

func formatFloat(v float64) string {
	return strings.TrimSpace(fmt.Sprintf("%v", v))
}

func TestCollectorWithoutData(t *testing.T) {
	tests := []struct {
		name string
		w    *window.Window
		want []string // series names exposed
	}{
		{"no window yet", nil, nil},
		{"empty window", &window.Window{ID: "empty"}, nil},
		// MemStats without a CPU profile: no CPU fraction, no assist share.
		{"memstats only", &window.Window{ID: "ms", MemStats: &window.MemStatsPair{
			Start: window.MemStats{NumGC: 1, Time: time.Unix(100, 0)},
			End:   window.MemStats{NumGC: 11, TotalAlloc: 1000, Time: time.Unix(110, 0)},
		}}, []string{"contendr_alloc_bytes_per_second", "contendr_gc_cycles_per_second", "contendr_gc_pause_p99_seconds"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewCollector(func() *window.Window { return tt.w }, nil)
			if n := testutil.CollectAndCount(c); n != len(tt.want) {
				t.Errorf("%d series, want %d (%v)", n, len(tt.want), tt.want)
			}
			for _, name := range tt.want {
				if n := testutil.CollectAndCount(c, name); n != 1 {
					t.Errorf("%s: %d series, want 1", name, n)
				}
			}
		})
	}
}

func TestTopGrowthBounded(t *testing.T) {
	var growth []*MapGrowth
	for i := range 3 * MaxGrowthSeries {
		// Two functions per component: summed into one series.
		for _, fn := range []string{"Get", "Set"} {
			growth = append(growth, &MapGrowth{Component: fmt.Sprintf("main.(*C%02d)", i), Function: fmt.Sprintf("main.(*C%02d).%s", i, fn),
				Kind: GrowthGoMap, Bytes: int64(i), BytesPerSecond: float64(i)})
		}
	}
	top := topGrowth(growth, MaxGrowthSeries)
	if len(top) != MaxGrowthSeries {
		t.Fatalf("%d series, want %d", len(top), MaxGrowthSeries)
	}
	last := 3*MaxGrowthSeries - 1
	if top[0].Component != fmt.Sprintf("main.(*C%02d)", last) || top[0].Bytes != int64(2*last) {
		t.Errorf("top series %+v, want C%02d with both functions summed", top[0], last)
	}
}
