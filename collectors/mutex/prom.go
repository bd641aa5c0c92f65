package mutex

import (
	"cmp"
	"slices"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/contendr/contendr/window"
)

// DefaultTopN bounds the per-site and per-component series a Collector
// exports when topN ≤ 0.
const DefaultTopN = 10

// siteLabels are the labels of the per-site series.
var siteLabels = []string{"component", "function", "kind", "side"}

// collector exports the latest window's lock figures.
type collector struct {
	results func() (*Result, error)
	topN    int

	cost          *prometheus.Desc
	costEstimated *prometheus.Desc
	componentCost *prometheus.Desc
	waiters       *prometheus.Desc

	fraction          *prometheus.Desc
	fractionEstimated *prometheus.Desc
	siteDelay         *prometheus.Desc
	siteFraction      *prometheus.Desc
	runtimeDelay      *prometheus.Desc

	mu           sync.Mutex
	cachedWindow *window.Window
	cachedID     string
	cached       *Result
	cachedErr    error
}

// NewCollector returns a prometheus.Collector that reports the window
// latest returns (nil: nothing yet, no series). The Result is computed once
// per window — scrapes in between reuse it — and only the topN lock sites
// (DefaultTopN when ≤ 0) by delay get a series, so the label cardinality is
// bounded whatever the target does; likewise only the topN components by
// cost get a component series. Sites that share all four labels
// (one function calling several primitives of one kind) are summed.
// Channel, select, WaitGroup and Cond waits are not lock sites and are not
// exported.
func NewCollector(latest func() *window.Window, topN int, constLabels prometheus.Labels) prometheus.Collector {
	c := newCollector(topN, constLabels)
	c.results = func() (*Result, error) {
		w := latest()
		if w == nil {
			return nil, nil
		}
		return c.result(w)
	}
	return c
}

// NewCollectorOf is NewCollector over Results the host already computes
// once per window (the agent does, for its alert rules), so that a scrape
// never repeats the work. results returns the latest window's Result, or
// nil when there is none yet.
func NewCollectorOf(results func() (*Result, error), topN int, constLabels prometheus.Labels) prometheus.Collector {
	c := newCollector(topN, constLabels)
	c.results = results
	return c
}

func newCollector(topN int, constLabels prometheus.Labels) *collector {
	if topN <= 0 {
		topN = DefaultTopN
	}
	return &collector{
		topN: topN,
		cost: prometheus.NewDesc("contendr_contention_cost_ratio",
			"Contention cost over the latest window: the share of the CPU capacity (GOMAXPROCS x window) spent inside lock primitives or left idle while goroutines waited on locks. The headline lock figure; a lower bound without a CPU profile (see contendr_contention_cost_estimated).",
			nil, constLabels),
		costEstimated: prometheus.NewDesc("contendr_contention_cost_estimated",
			"1 when contendr_contention_cost_ratio was not measured directly over the latest window (no CPU profile: a lower bound; idle time from OS accounting, which counts CPU taken by other processes as idle; or scaled readings), else 0.",
			nil, constLabels),
		componentCost: prometheus.NewDesc("contendr_component_contention_cost_ratio",
			"A component's part of contendr_contention_cost_ratio over the latest window: its CPU inside lock primitives plus the idle time lost to locks times its share of lock wait, over GOMAXPROCS x window; for the costliest components only.",
			[]string{"component"}, constLabels),
		waiters: prometheus.NewDesc("contendr_lock_waiters",
			"Goroutines blocked on locks, on average over the latest window (lock wait / window): a latency figure, not a share of throughput lost.",
			nil, constLabels),
		fraction: prometheus.NewDesc("contendr_lock_wait_fraction",
			"Lock wait share over the latest window: goroutine time spent waiting for locks rather than running user code, wait/(wait+user CPU). It counts waits that cost no throughput (a goroutine blocked while another runs in its place); alert on contendr_contention_cost_ratio instead.",
			nil, constLabels),
		fractionEstimated: prometheus.NewDesc("contendr_lock_wait_fraction_estimated",
			"1 when contendr_lock_wait_fraction was estimated from profiles because runtime/metrics were unavailable, else 0.",
			nil, constLabels),
		siteDelay: prometheus.NewDesc("contendr_lock_site_delay_seconds_per_second",
			"Lock delay at a lock site per second of the latest window, for the heaviest sites only.",
			siteLabels, constLabels),
		siteFraction: prometheus.NewDesc("contendr_lock_site_fraction",
			"A lock site's part of contendr_lock_wait_fraction over the latest window, for the heaviest sites only.",
			siteLabels, constLabels),
		runtimeDelay: prometheus.NewDesc("contendr_lock_runtime_delay_seconds_per_second",
			"Runtime-internal lock delay per second of the latest window, from the mutex profile.",
			nil, constLabels),
	}
}

// Describe sends the fixed descriptors.
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.cost
	ch <- c.costEstimated
	ch <- c.componentCost
	ch <- c.waiters
	ch <- c.fraction
	ch <- c.fractionEstimated
	ch <- c.siteDelay
	ch <- c.siteFraction
	ch <- c.runtimeDelay
}

// Collect reads the latest window's Result and sends its values.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	res, err := c.results()
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.cost, err)
		return
	}
	if res == nil {
		return
	}
	// An unknown cost is no series, not 0 ("uncontended").
	if res.Cost.Known {
		ch <- prometheus.MustNewConstMetric(c.cost, prometheus.GaugeValue, res.Cost.Value)
		ch <- prometheus.MustNewConstMetric(c.costEstimated, prometheus.GaugeValue, boolValue(res.Cost.Estimated))
		for _, comp := range topComponents(res.Components, c.topN) {
			ch <- prometheus.MustNewConstMetric(c.componentCost, prometheus.GaugeValue, comp.Cost, comp.Name)
		}
	}
	if res.Waiters.Known {
		ch <- prometheus.MustNewConstMetric(c.waiters, prometheus.GaugeValue, res.Waiters.Average)
	}
	if res.LockFraction.Known {
		ch <- prometheus.MustNewConstMetric(c.fraction, prometheus.GaugeValue, res.LockFraction.Value)
		ch <- prometheus.MustNewConstMetric(c.fractionEstimated, prometheus.GaugeValue, boolValue(res.LockFraction.Estimated))
	}
	// With mutex profiling off, 0 would read as "no runtime lock delay".
	if res.MutexProfileEnabled {
		var runtimeDelay float64
		for _, s := range res.Runtime {
			runtimeDelay += s.DelaySecondsPerSecond
		}
		ch <- prometheus.MustNewConstMetric(c.runtimeDelay, prometheus.GaugeValue, runtimeDelay)
	}
	for _, s := range topSeries(res.Sites, c.topN) {
		ch <- prometheus.MustNewConstMetric(c.siteDelay, prometheus.GaugeValue, s.delayPerSecond, s.labels[:]...)
		ch <- prometheus.MustNewConstMetric(c.siteFraction, prometheus.GaugeValue, s.fraction, s.labels[:]...)
	}
}

// result returns the window's Result, computing it once per window.
func (c *collector) result(w *window.Window) (*Result, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if w != c.cachedWindow || w.ID != c.cachedID {
		c.cached, c.cachedErr = Collect(w, Options{})
		c.cachedWindow, c.cachedID = w, w.ID
	}
	return c.cached, c.cachedErr
}

type siteSeries struct {
	labels         [4]string
	delay          float64 // seconds, for ordering when the window has no length
	delayPerSecond float64
	fraction       float64
}

// topSeries sums lock sites per label set and keeps the n heaviest.
func topSeries(sites []*Site, n int) []*siteSeries {
	byLabels := map[[4]string]*siteSeries{}
	for _, s := range sites {
		if classOf(s.Kind) != classLock {
			continue
		}
		labels := [4]string{s.Component, s.Function, string(s.Kind), string(s.Side)}
		series := byLabels[labels]
		if series == nil {
			series = &siteSeries{labels: labels}
			byLabels[labels] = series
		}
		series.delay += s.DelaySeconds
		series.delayPerSecond += s.DelaySecondsPerSecond
		series.fraction += s.Fraction
	}
	all := make([]*siteSeries, 0, len(byLabels))
	for _, s := range byLabels {
		all = append(all, s)
	}
	slices.SortFunc(all, func(a, b *siteSeries) int {
		return cmp.Or(cmp.Compare(b.delay, a.delay), strings.Compare(strings.Join(a.labels[:], "\x00"), strings.Join(b.labels[:], "\x00")))
	})
	return all[:min(n, len(all))]
}

// topComponents returns the n costliest components with a cost above 0,
// ordered by cost then name. Result.Components are unique by name.
func topComponents(comps []*Component, n int) []*Component {
	var costly []*Component
	for _, c := range comps {
		if c.Cost > 0 {
			costly = append(costly, c)
		}
	}
	slices.SortFunc(costly, func(a, b *Component) int {
		return cmp.Or(cmp.Compare(b.Cost, a.Cost), strings.Compare(a.Name, b.Name))
	})
	return costly[:min(n, len(costly))]
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
