package gc

import (
	"cmp"
	"slices"
	"sync"

	"github.com/contendr/contendr/collectors/figure"
	"github.com/contendr/contendr/window"
	"github.com/prometheus/client_golang/prometheus"
)

// MaxGrowthSeries bounds the map-growth series a scrape exposes: the top
// components by bytes, so that label cardinality stays fixed however many
// maps a service has.
const MaxGrowthSeries = 10

// Collector exposes the latest window's GC figures to Prometheus.
type Collector struct {
	latest  func() *window.Window
	results func() *Result // set by NewCollectorOf; latest is then unused

	cpuFraction, assistShare, pauseP99, cyclesPerSecond, allocBytesPerSecond *prometheus.Desc
	growthBytesPerSecond, growthShare                                        *prometheus.Desc

	mu      sync.Mutex
	cachedW *window.Window // the window cached was computed from
	cached  *Result
}

// NewCollector returns a prometheus.Collector over the window that latest
// returns at scrape time (nil: nothing to expose yet). Figures are computed
// once per window and cached. constLabels (service, version, role) are added
// to every series.
func NewCollector(latest func() *window.Window, constLabels prometheus.Labels) prometheus.Collector {
	c := newCollector(constLabels)
	c.latest = latest
	return c
}

// NewCollectorOf is NewCollector over Results the host already computes
// once per window (the agent does, for its alert rules), so that a scrape
// never repeats the work. results returns the latest window's Result, or
// nil when there is none yet.
func NewCollectorOf(results func() *Result, constLabels prometheus.Labels) prometheus.Collector {
	c := newCollector(constLabels)
	c.results = results
	return c
}

func newCollector(constLabels prometheus.Labels) *Collector {
	desc := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, labels, constLabels)
	}
	return &Collector{
		cpuFraction:         desc("contendr_gc_cpu_fraction", "Share of available CPU (GOMAXPROCS × window) spent in GC over the last window."),
		assistShare:         desc("contendr_gc_assist_share", "Share of GC CPU spent in mark assists by user goroutines over the last window."),
		pauseP99:            desc("contendr_gc_pause_p99_seconds", "99th percentile stop-the-world GC pause over the last window (bucket upper bound)."),
		cyclesPerSecond:     desc("contendr_gc_cycles_per_second", "Completed GC cycles per second over the last window."),
		allocBytesPerSecond: desc("contendr_alloc_bytes_per_second", "Heap allocation in bytes per second over the last window."),
		growthBytesPerSecond: desc("contendr_map_growth_bytes_per_second",
			"Allocation a component's map did to grow or copy itself, bytes per second over the last window (top components only).", "component", "kind"),
		growthShare: desc("contendr_map_growth_share",
			"A component's map growth as a share of the window's sampled allocation (top components only).", "component", "kind"),
	}
}

// Describe sends every descriptor.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.cpuFraction, c.assistShare, c.pauseP99, c.cyclesPerSecond,
		c.allocBytesPerSecond, c.growthBytesPerSecond, c.growthShare} {
		ch <- d
	}
}

// Collect sends the latest window's figures. A figure the window's source
// lacks is left out rather than sent as a misleading 0.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	r := c.result()
	if r == nil {
		return
	}
	p := r.Pressure
	gauges := []struct {
		desc  *prometheus.Desc
		fig   figure.Figure
		value float64
		rate  bool // needs the window's length
	}{
		{c.cpuFraction, figure.GCCPUFraction, p.CPUFraction, false},
		{c.assistShare, figure.GCAssistShare, p.AssistShare, false},
		{c.pauseP99, figure.GCPauseP99, p.PauseP99Seconds, false},
		{c.cyclesPerSecond, figure.GCCycles, p.CyclesPerSecond, true},
		{c.allocBytesPerSecond, figure.AllocRate, p.AllocBytesPerSecond, true},
	}
	for _, g := range gauges {
		if !r.Measured.Has(g.fig) || g.rate && r.WindowSeconds <= 0 {
			continue
		}
		ch <- prometheus.MustNewConstMetric(g.desc, prometheus.GaugeValue, g.value)
	}
	for _, g := range topGrowth(r.MapGrowth, MaxGrowthSeries) {
		ch <- prometheus.MustNewConstMetric(c.growthBytesPerSecond, prometheus.GaugeValue, g.BytesPerSecond, g.Component, string(g.Kind))
		ch <- prometheus.MustNewConstMetric(c.growthShare, prometheus.GaugeValue, g.ShareOfAlloc, g.Component, string(g.Kind))
	}
}

// result returns the figures of the latest window, computing them once per
// window. The window before it is kept for in-use growth.
func (c *Collector) result() *Result {
	if c.results != nil {
		return c.results()
	}
	w := c.latest()
	if w == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cachedW != nil && sameWindow(c.cachedW, w) {
		return c.cached
	}
	prev := c.cachedW // the window before w: in-use growth across the two
	r, err := Collect(w, prev)
	if err != nil {
		// An unreadable window exposes nothing; the agent logs and counts
		// collection errors where it builds windows.
		r = nil
	}
	c.cachedW, c.cached = w, r
	return r
}

// sameWindow compares by ID, or by identity for windows without one.
func sameWindow(a, b *window.Window) bool {
	if a.ID != "" || b.ID != "" {
		return a.ID == b.ID
	}
	return a == b
}

// topGrowth sums growth per component and kind (several functions may grow
// one component's map) and keeps the n largest.
func topGrowth(growth []*MapGrowth, n int) []MapGrowth {
	type key struct {
		component string
		kind      GrowthKind
	}
	sums := map[key]*MapGrowth{}
	var order []key
	for _, g := range growth {
		k := key{g.Component, g.Kind}
		s := sums[k]
		if s == nil {
			s = &MapGrowth{Component: g.Component, Kind: g.Kind}
			sums[k] = s
			order = append(order, k)
		}
		s.Bytes += g.Bytes
		s.BytesPerSecond += g.BytesPerSecond
		s.ShareOfAlloc += g.ShareOfAlloc
	}
	out := make([]MapGrowth, 0, len(order))
	for _, k := range order {
		out = append(out, *sums[k])
	}
	slices.SortFunc(out, func(a, b MapGrowth) int {
		return cmp.Or(cmp.Compare(b.Bytes, a.Bytes), cmp.Compare(a.Component, b.Component), cmp.Compare(a.Kind, b.Kind))
	})
	return out[:min(n, len(out))]
}
