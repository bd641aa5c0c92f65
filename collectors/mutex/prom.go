package mutex

import (
	"cmp"
	"slices"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/contendr/contendr/window"
)

// DefaultTopN bounds the per-site series a Collector exports when topN ≤ 0.
const DefaultTopN = 10

// siteLabels are the labels of the per-site series.
var siteLabels = []string{"component", "function", "kind", "side"}

// collector exports the latest window's lock figures.
type collector struct {
	results func() (*Result, error)
	topN    int

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
// bounded whatever the target does. Sites that share all four labels
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
		fraction: prometheus.NewDesc("contendr_lock_wait_fraction",
			"Share of goroutine time spent waiting for locks rather than running user code, wait/(wait+user CPU), over the latest window.",
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
		ch <- prometheus.NewInvalidMetric(c.fraction, err)
		return
	}
	if res == nil {
		return
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

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
