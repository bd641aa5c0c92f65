package mutex

import (
	"strings"
	"testing"
	"time"

	"github.com/google/pprof/profile"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/contendr/contendr/window"
)

// promWindow is a 2-second window measured with runtime/metrics (wait 4 µs,
// user CPU 4 µs: lock fraction 0.5). Waiters: Get 1 µs, Set 2 µs, a
// channel 3 µs; holders: Get 1 µs, a runtime lock 2 µs. Set's fraction is
// its 2/3 of the waiters' lock delay × 0.5; Get's holder fraction 1/3 of
// the holders' × 0.5.
func promWindow(id string) *window.Window {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	w := &window.Window{ID: id, Start: start, End: start.Add(2 * time.Second),
		Metrics: metricsPair(0, 0, 4e-6, 4e-6),
		Meta:    window.Meta{MutexProfileFraction: 1, BlockProfileRate: 1}}
	w.SetProfile(window.Block, contentionProfile(lockWaitStack, stack{{"sync.(*Mutex).Lock", "main.(*C).Set"}}, chanWait))
	w.SetProfile(window.Mutex, contentionProfile(unlock, rtUnlock))
	return w
}

func TestCollectorExposition(t *testing.T) {
	w := promWindow("w1")
	c := NewCollector(func() *window.Window { return w }, 2, prometheus.Labels{"service": "api"})
	// Top 2 of three lock series: Set (waiter, 2 µs), then of the two 1 µs
	// Get series the first by labels (holder). The channel wait is no lock
	// site.
	want := `
# HELP contendr_lock_waiters Goroutines blocked on locks, on average over the latest window (lock wait / window): a latency figure, not a share of throughput lost.
# TYPE contendr_lock_waiters gauge
contendr_lock_waiters{service="api"} 2e-06
# HELP contendr_lock_wait_fraction Lock wait share over the latest window: goroutine time spent waiting for locks rather than running user code, wait/(wait+user CPU). It counts waits that cost no throughput (a goroutine blocked while another runs in its place); alert on contendr_contention_cost_ratio instead.
# TYPE contendr_lock_wait_fraction gauge
contendr_lock_wait_fraction{service="api"} 0.5
# HELP contendr_lock_wait_fraction_estimated 1 when contendr_lock_wait_fraction was estimated from profiles because runtime/metrics were unavailable, else 0.
# TYPE contendr_lock_wait_fraction_estimated gauge
contendr_lock_wait_fraction_estimated{service="api"} 0
# HELP contendr_lock_site_delay_seconds_per_second Lock delay at a lock site per second of the latest window, for the heaviest sites only.
# TYPE contendr_lock_site_delay_seconds_per_second gauge
contendr_lock_site_delay_seconds_per_second{component="main.(*C)",function="main.(*C).Set",kind="mutex",service="api",side="waiter"} 1e-06
contendr_lock_site_delay_seconds_per_second{component="main.(*C)",function="main.(*C).Get",kind="mutex",service="api",side="holder"} 5e-07
# HELP contendr_lock_site_fraction A lock site's part of contendr_lock_wait_fraction over the latest window, for the heaviest sites only.
# TYPE contendr_lock_site_fraction gauge
contendr_lock_site_fraction{component="main.(*C)",function="main.(*C).Set",kind="mutex",service="api",side="waiter"} 0.3333333333333333
contendr_lock_site_fraction{component="main.(*C)",function="main.(*C).Get",kind="mutex",service="api",side="holder"} 0.16666666666666666
# HELP contendr_lock_runtime_delay_seconds_per_second Runtime-internal lock delay per second of the latest window, from the mutex profile.
# TYPE contendr_lock_runtime_delay_seconds_per_second gauge
contendr_lock_runtime_delay_seconds_per_second{service="api"} 1e-06
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
}

// costWindow is promWindow at GOMAXPROCS 2 (4 CPU-seconds of capacity)
// with a CPU profile: 0.4 s inside sync.(*Mutex).Lock under C.Set, 0.2 s
// under C.Get, 0.1 s under D.Put (no contention sampled), 1.3 s of Get's own
// code; the runtime's idle-P time, refreshed over the whole window, is 0.
// Cost (0.4+0.2+0.1)/4 = 0.175: main.(*C) 0.15, main.(*D) 0.025.
func costWindow(id string) *window.Window {
	w := promWindow(id)
	w.Meta.GOMAXPROCS = 2
	w.Metrics.Start.Values[window.MetricCPUIdle], w.Metrics.End.Values[window.MetricCPUIdle] = 0, 0
	w.Metrics.Start.Values[window.MetricCPUTotal], w.Metrics.End.Values[window.MetricCPUTotal] = 0, 4
	const ms = int64(time.Millisecond)
	cpu := cpuProfile([]int64{400 * ms, 200 * ms, 100 * ms, 1300 * ms},
		stack{{"sync.(*Mutex).Lock", "main.(*C).Set"}},
		stack{{"sync.(*Mutex).Lock", "main.(*C).Get"}},
		stack{{"sync.(*Mutex).Lock", "main.(*D).Put"}},
		stack{{"main.(*C).Get"}})
	cpu.DurationNanos = int64(2 * time.Second)
	w.SetProfile(window.CPU, cpu)
	return w
}

func TestCollectorCostExposition(t *testing.T) {
	w := costWindow("w1")
	c := NewCollector(func() *window.Window { return w }, 1, nil)
	// Top 1 component by cost: main.(*C), not main.(*D).
	want := `
# HELP contendr_contention_cost_ratio Contention cost over the latest window: the share of the CPU capacity (GOMAXPROCS x window) spent inside lock primitives or left idle while goroutines waited on locks. The headline lock figure; a lower bound without a CPU profile (see contendr_contention_cost_estimated).
# TYPE contendr_contention_cost_ratio gauge
contendr_contention_cost_ratio 0.175
# HELP contendr_contention_cost_estimated 1 when contendr_contention_cost_ratio was not measured directly over the latest window (no CPU profile: a lower bound; idle time from OS accounting, which counts CPU taken by other processes as idle; or scaled readings), else 0.
# TYPE contendr_contention_cost_estimated gauge
contendr_contention_cost_estimated 0
# HELP contendr_component_contention_cost_ratio A component's part of contendr_contention_cost_ratio over the latest window: its CPU inside lock primitives plus the idle time lost to locks times its share of lock wait, over GOMAXPROCS x window; for the costliest components only.
# TYPE contendr_component_contention_cost_ratio gauge
contendr_component_contention_cost_ratio{component="main.(*C)"} 0.15
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want),
		"contendr_contention_cost_ratio", "contendr_contention_cost_estimated", "contendr_component_contention_cost_ratio"); err != nil {
		t.Error(err)
	}
	all := NewCollector(func() *window.Window { return w }, 5, nil)
	if n := testutil.CollectAndCount(all, "contendr_component_contention_cost_ratio"); n != 2 {
		t.Errorf("%d component series with room for 5, want main.(*C) and main.(*D)", n)
	}
}

// TestCollectorUnknownCost: without GOMAXPROCS the capacity the cost is a
// share of is unknown, and no cost series is exported as 0; without a CPU
// profile the cost is a lower bound, exported and marked estimated.
func TestCollectorUnknownCost(t *testing.T) {
	unknown := promWindow("w1")
	c := NewCollector(func() *window.Window { return unknown }, 3, nil)
	if n := testutil.CollectAndCount(c, "contendr_contention_cost_ratio", "contendr_contention_cost_estimated",
		"contendr_component_contention_cost_ratio"); n != 0 {
		t.Errorf("%d cost series for an unknown cost, want none", n)
	}

	lowerBound := promWindow("w2")
	lowerBound.Meta.GOMAXPROCS = 2
	lowerBound.Metrics = costWindow("w2").Metrics
	c = NewCollector(func() *window.Window { return lowerBound }, 3, nil)
	want := `
# HELP contendr_contention_cost_estimated 1 when contendr_contention_cost_ratio was not measured directly over the latest window (no CPU profile: a lower bound; idle time from OS accounting, which counts CPU taken by other processes as idle; or scaled readings), else 0.
# TYPE contendr_contention_cost_estimated gauge
contendr_contention_cost_estimated 1
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), "contendr_contention_cost_estimated"); err != nil {
		t.Error(err)
	}
}

// TestCollectorLint runs the checks of `promtool check metrics` over what
// the collector exports for every fixture.
func TestCollectorLint(t *testing.T) {
	for _, fx := range fixtures {
		w := loadFixture(t, fx.dir)
		// A 10 s window at GOMAXPROCS 2 with 5 idle P-seconds and 10 s of
		// lock wait: a cost (a lower bound, with no CPU profile) shared
		// out to the components by their lock wait.
		w.Start = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		w.End = w.Start.Add(10 * time.Second)
		w.Meta.GOMAXPROCS = 2
		w.Metrics = metricsPair(0, 0, 10, 30)
		w.Metrics.End.Values[window.MetricCPUIdle], w.Metrics.End.Values[window.MetricCPUTotal] = 5, 20
		w.Metrics.Start.Values[window.MetricCPUIdle], w.Metrics.Start.Values[window.MetricCPUTotal] = 0, 0
		c := NewCollector(func() *window.Window { return w }, 5, nil)
		problems, err := testutil.CollectAndLint(c)
		if err != nil {
			t.Fatalf("%s: %v", fx.dir, err)
		}
		for _, p := range problems {
			t.Errorf("%s: %s: %s", fx.dir, p.Metric, p.Text)
		}
		// One function calling several sync.Map methods is one series per
		// side, not one per primitive (duplicate label sets would fail).
		if n := testutil.CollectAndCount(c, "contendr_lock_site_delay_seconds_per_second"); n == 0 || n > 5 {
			t.Errorf("%s: %d site series, want 1..5", fx.dir, n)
		}
		if n := testutil.CollectAndCount(c, "contendr_contention_cost_ratio", "contendr_contention_cost_estimated", "contendr_lock_waiters"); n != 3 {
			t.Errorf("%s: %d cost and waiter series, want 3", fx.dir, n)
		}
		if n := testutil.CollectAndCount(c, "contendr_component_contention_cost_ratio"); n == 0 || n > 5 {
			t.Errorf("%s: %d component series, want 1..5", fx.dir, n)
		}
	}
}

func TestCollectorCachesPerWindow(t *testing.T) {
	current := promWindow("w1")
	c := NewCollector(func() *window.Window { return current }, 3, nil).(*collector)
	testutil.CollectAndCount(c)
	first := c.cached
	testutil.CollectAndCount(c)
	if c.cached != first || first == nil {
		t.Error("a second scrape of the same window recomputed the result")
	}
	current = promWindow("w2")
	testutil.CollectAndCount(c)
	if c.cached == first {
		t.Error("a new window reused the previous window's result")
	}
}

func TestCollectorWithoutWindow(t *testing.T) {
	c := NewCollector(func() *window.Window { return nil }, 3, nil)
	if n := testutil.CollectAndCount(c); n != 0 {
		t.Errorf("%d series before the first window, want none", n)
	}
}

// TestCollectorUnknownFraction: without runtime/metrics or a CPU profile
// the lock fraction is unknown and not exported as 0.
func TestCollectorUnknownFraction(t *testing.T) {
	w := promWindow("w1")
	w.Metrics = nil
	c := NewCollector(func() *window.Window { return w }, 3, nil)
	if n := testutil.CollectAndCount(c, "contendr_lock_wait_fraction", "contendr_lock_wait_fraction_estimated"); n != 0 {
		t.Errorf("%d lock-fraction series for an unknown fraction, want none", n)
	}
	if n := testutil.CollectAndCount(c, "contendr_lock_site_delay_seconds_per_second"); n != 3 {
		t.Errorf("%d site series, want 3", n)
	}
}

func TestCollectorReportsBadWindow(t *testing.T) {
	w := promWindow("bad")
	w.Profile(window.Block).SampleType = []*profile.ValueType{{Type: "x", Unit: "count"}, {Type: "y", Unit: "count"}}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(NewCollector(func() *window.Window { return w }, 3, nil))
	if _, err := reg.Gather(); err == nil || !strings.Contains(err.Error(), "delay") {
		t.Errorf("gather error %v, want the unreadable block profile", err)
	}
}
