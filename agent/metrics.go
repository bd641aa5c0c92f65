package agent

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"regexp"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/contendr/contendr/collectors/gc"
	"github.com/contendr/contendr/collectors/mutex"
)

// selfMetrics are the agent's Prometheus metrics: what its collections cost,
// and the lock and GC figures of the latest window (collectors/mutex,
// collectors/gc).
type selfMetrics struct {
	collectSeconds prometheus.Counter
	collectCPU     prometheus.Counter // nil where thread CPU time is unavailable
	collections    prometheus.Counter
	errors         prometheus.Counter
	allocBytes     prometheus.Counter
	cpuYields      prometheus.Counter

	registerer prometheus.Registerer
	// gatherer serves /metrics; nil when the host's Registerer cannot be
	// gathered (the host then serves its metrics itself).
	gatherer   prometheus.Gatherer
	registered []prometheus.Collector
}

func newSelfMetrics(cfg Config, latest func() windowResults, log *slog.Logger) (*selfMetrics, error) {
	m := &selfMetrics{registerer: cfg.Registerer}
	private := cfg.Registerer == nil
	switch {
	case private:
		reg := prometheus.NewRegistry()
		m.registerer, m.gatherer = reg, reg
	case cfg.Registerer == prometheus.DefaultRegisterer:
		m.gatherer = prometheus.DefaultGatherer
	default:
		m.gatherer, _ = cfg.Registerer.(prometheus.Gatherer)
	}

	labels := prometheus.Labels(maps.Clone(cfg.Labels))
	counter := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help, ConstLabels: labels})
	}
	m.collectSeconds = counter("contendr_agent_collect_seconds_total",
		"Wall-clock seconds the agent spent collecting windows (an upper bound of their CPU time: "+
			"a collection runs on one goroutine).")
	if threadCPUSupported {
		m.collectCPU = counter("contendr_agent_collect_cpu_seconds_total",
			"CPU seconds the agent's collections used: the collecting thread's CPU time (getrusage RUSAGE_THREAD), "+
				"GC assists included; background GC work its allocation causes is not.")
	}
	m.collections = counter("contendr_agent_collections_total", "Window collections attempted by the agent.")
	m.errors = counter("contendr_agent_collect_errors_total",
		"Window collections that failed or panicked (recovered); the agent keeps collecting.")
	m.allocBytes = counter("contendr_agent_collect_alloc_bytes_total",
		"Heap bytes allocated during the agent's collections, approximate: the difference of "+
			"/gc/heap/allocs:bytes around each collection, which includes other goroutines' allocation.")

	m.cpuYields = counter("contendr_agent_cpu_profile_yields_total",
		"Duty-cycle CPU profiles the agent cut short so that a user's /debug/pprof/profile, /debug/pprof/trace "+
			"or /debug/fgprof could run.")

	own := []prometheus.Collector{
		m.collectSeconds, m.collections, m.errors, m.allocBytes, m.cpuYields,
		mutex.NewCollectorOf(func() (*mutex.Result, error) { r := latest(); return r.lock, r.lockErr }, mutex.DefaultTopN, labels),
		gc.NewCollectorOf(func() *gc.Result { return latest().gc }, labels),
	}
	if m.collectCPU != nil {
		own = append(own, m.collectCPU)
	}
	for _, c := range own {
		if err := m.registerer.Register(c); err != nil {
			m.unregister()
			return nil, fmt.Errorf("registering contendr agent metrics: %w", err)
		}
		m.registered = append(m.registered, c)
	}

	runtimeCollectors := []prometheus.Collector{
		collectors.NewGoCollector(collectors.WithGoCollectorRuntimeMetrics(
			collectors.GoRuntimeMetricsRule{Matcher: regexp.MustCompile(`^/sync/mutex/wait/.*`)},
			collectors.GoRuntimeMetricsRule{Matcher: regexp.MustCompile(`^/gc/.*`)},
			collectors.GoRuntimeMetricsRule{Matcher: regexp.MustCompile(`^/cpu/classes/.*`)},
			collectors.GoRuntimeMetricsRule{Matcher: regexp.MustCompile(`^/sched/.*`)},
		)),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	}
	for _, c := range runtimeCollectors {
		err := m.registerer.Register(c)
		var already prometheus.AlreadyRegisteredError
		switch {
		case err == nil:
			m.registered = append(m.registered, c)
		case private:
			m.unregister()
			return nil, fmt.Errorf("registering Go runtime metrics: %w", err)
		case errors.As(err, &already):
			// The host registered the same collector: its metrics are there.
		default:
			// Most likely the host has its own Go or process collector with
			// other options; keep the host's.
			log.Warn("contendr agent: not registering a runtime collector, the host's registry has a conflicting one", "err", err)
		}
	}
	return m, nil
}

// collectionCost is what one collection cost the host.
type collectionCost struct {
	wall      time.Duration
	cpu       time.Duration // 0 where unavailable
	allocated uint64
}

// observe accounts for one collection.
func (m *selfMetrics) observe(cost collectionCost, err error) {
	m.collections.Inc()
	m.collectSeconds.Add(cost.wall.Seconds())
	if m.collectCPU != nil {
		m.collectCPU.Add(cost.cpu.Seconds())
	}
	m.allocBytes.Add(float64(cost.allocated))
	if err != nil {
		m.errors.Inc()
	}
}

func (m *selfMetrics) unregister() {
	for _, c := range m.registered {
		m.registerer.Unregister(c)
	}
	m.registered = nil
}
