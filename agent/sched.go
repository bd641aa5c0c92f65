package agent

import (
	"runtime"
	"runtime/metrics"
	"sync"
	"time"

	"github.com/contendr/contendr/window"
)

// schedSamplePeriod is how often the scheduler sampler reads the run
// state: 50 Hz resolves a window's idle time to a few percent. A reading
// takes the scheduler lock briefly: BenchmarkSchedSample measured 263 ns
// (GOMAXPROCS 2, go1.26.8), 13 µs of CPU a second at 50 Hz.
const schedSamplePeriod = 20 * time.Millisecond

// schedSampler integrates idle Ps and runnable goroutines over time from
// Go 1.26's /sched/goroutines gauges. The contention cost needs the
// P-time left idle while goroutines waited on locks; /cpu/classes/idle has
// it exactly but moves only when a GC ends (golang/go#59749), and the OS's
// process CPU counts time other processes took as idle. A P whose thread
// the OS descheduled still holds a running goroutine, so sampled idle Ps
// are idle for lack of work, whatever the machine's load.
type schedSampler struct {
	samples []metrics.Sample

	mu       sync.Mutex
	counters window.SchedCounters
	last     time.Time
}

var schedMetrics = []string{window.MetricRunning, window.MetricRunnable, window.MetricGOMAXPROCS}

// newSchedSampler returns nil when the runtime lacks the gauges (Go <1.26).
func newSchedSampler() *schedSampler {
	supported := map[string]bool{}
	for _, d := range metrics.All() {
		supported[d.Name] = true
	}
	s := &schedSampler{}
	for _, name := range schedMetrics {
		if !supported[name] {
			return nil
		}
		s.samples = append(s.samples, metrics.Sample{Name: name})
	}
	return s
}

// run samples until stop closes.
func (s *schedSampler) run(stop <-chan struct{}) {
	t := time.NewTicker(schedSamplePeriod)
	defer t.Stop()
	s.sample(time.Now())
	for {
		select {
		case <-t.C:
			// The ticker wakes this goroutine in the same timer run as
			// every goroutine whose sleep ended by then (the runtime
			// fires due timers together), so a reading taken at once
			// finds goroutines that sleep between operations running or
			// runnable at each sample: maplab's I/O regime at one
			// goroutine per P read 92% busy, its Ps 99% idle by the
			// runtime's own account. Yielding first lets that cohort run
			// its few operations and sleep again; work that keeps the Ps
			// busy is still there after the yield.
			runtime.Gosched()
			s.sample(time.Now())
		case <-stop:
			return
		}
	}
}

func (s *schedSampler) sample(now time.Time) {
	metrics.Read(s.samples)
	value := func(i int) float64 {
		if s.samples[i].Value.Kind() != metrics.KindUint64 {
			return 0
		}
		return float64(s.samples[i].Value.Uint64())
	}
	running, runnable, procs := value(0), value(1), value(2)
	// Busy Ps are those running a goroutine. Goroutines in a system call
	// or cgo call (/sched/goroutines/not-in-go) hold none for long: a
	// blocking call hands its P off, sysmon retakes the P of one that
	// lasts, and the runtime counts either P idle. Two of them sit there
	// for a whole window — the CPU profile's reader and os/signal's loop
	// wait in the runtime as if in a system call — and counting them busy
	// read maplab's I/O regime, its process on 1% of the CPU, as both Ps
	// busy throughout. The sampler's own goroutine is one of the running
	// ones. With work queued, its P would have run that work; with none,
	// it most likely woke an idle P to take this reading.
	busy := running
	if runnable == 0 {
		busy = max(busy-1, 0)
	}
	idle := max(procs-busy, 0)
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.last.IsZero() {
		dt := now.Sub(s.last).Seconds()
		s.counters.CoveredSeconds += dt
		s.counters.IdlePSeconds += idle * dt
		s.counters.RunnableSeconds += runnable * dt
	}
	s.counters.Samples++
	s.last = now
}

// read returns the cumulative counters, nil for a nil sampler.
func (s *schedSampler) read() *window.SchedCounters {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.counters
	return &c
}
