package window

import (
	"math"
	"time"
)

// runtime/metrics names the collectors read. The agent samples exactly these
// at both ends of a window.
const (
	MetricMutexWait   = "/sync/mutex/wait/total:seconds"
	MetricCPUUser     = "/cpu/classes/user:cpu-seconds"
	MetricCPUTotal    = "/cpu/classes/total:cpu-seconds"
	MetricCPUGC       = "/cpu/classes/gc/total:cpu-seconds"
	MetricCPUGCAssist = "/cpu/classes/gc/mark/assist:cpu-seconds"
	MetricCPUIdle     = "/cpu/classes/idle:cpu-seconds"
	MetricGCPauses    = "/sched/pauses/total/gc:seconds" // histogram
	MetricGCCycles    = "/gc/cycles/total:gc-cycles"
	MetricAllocBytes  = "/gc/heap/allocs:bytes"
	MetricAllocObjs   = "/gc/heap/allocs:objects"
	MetricHeapLive    = "/gc/heap/live:bytes"
	MetricHeapGoal    = "/gc/heap/goal:bytes"
	MetricGOGC        = "/gc/gogc:percent"
	MetricGOMEMLIMIT  = "/gc/gomemlimit:bytes"
	MetricGoroutines  = "/sched/goroutines:goroutines"
	MetricGOMAXPROCS  = "/sched/gomaxprocs:threads"
	// Go ≥1.26: goroutines by state at the reading.
	MetricRunnable = "/sched/goroutines/runnable:goroutines"
	MetricRunning  = "/sched/goroutines/running:goroutines"
	MetricWaiting  = "/sched/goroutines/waiting:goroutines"
)

// MetricNames lists every runtime/metrics name a window carries.
var MetricNames = []string{
	MetricMutexWait, MetricCPUUser, MetricCPUTotal, MetricCPUGC, MetricCPUGCAssist,
	MetricGCPauses, MetricGCCycles, MetricAllocBytes, MetricAllocObjs,
	MetricHeapLive, MetricHeapGoal, MetricGOGC, MetricGOMEMLIMIT,
	MetricGoroutines, MetricGOMAXPROCS, MetricCPUIdle, MetricRunnable, MetricRunning, MetricWaiting,
}

// Sample is one reading of runtime/metrics.
type Sample struct {
	Time       time.Time            `json:"time"`
	Values     map[string]float64   `json:"values"`
	Histograms map[string]Histogram `json:"histograms,omitempty"`
	// ProcessCPUSeconds is the process's user+system CPU time as the OS
	// accounts it (getrusage), 0 when the reader could not tell. Unlike
	// /cpu/classes, it moves continuously, not only at each GC.
	ProcessCPUSeconds float64 `json:"process_cpu_seconds,omitempty"`
	// MachineIdleSeconds is the idle CPU time of all the machine's CPUs
	// since boot (Linux /proc/stat), 0 when the reader could not tell: with
	// ProcessCPUSeconds it says whether the process's Ps were kept from
	// running by other processes or by its own threads sleeping while
	// cores were free.
	MachineIdleSeconds float64 `json:"machine_idle_seconds,omitempty"`
	// Sched holds the agent's scheduler sampler's cumulative counters at
	// the reading (nil without one).
	Sched *SchedCounters `json:"sched,omitempty"`
}

// SchedCounters integrate the scheduler's run state over time, sampled
// from /sched/goroutines/{running,runnable} (Go ≥1.26): cumulative since
// the sampler started, so a window holds the difference of its two ends.
type SchedCounters struct {
	// IdlePSeconds is Ps without a running goroutine, integrated over time.
	IdlePSeconds float64 `json:"idle_p_seconds"`
	// RunnableSeconds is goroutines ready to run but not running,
	// integrated over time.
	RunnableSeconds float64 `json:"runnable_seconds"`
	// CoveredSeconds is the time the samples span; Samples how many.
	CoveredSeconds float64 `json:"covered_seconds"`
	Samples        int64   `json:"samples"`
}

// SchedDelta is the scheduler counters' difference over the window, and
// whether both readings had them and enough samples to say anything.
func (p *SamplePair) SchedDelta() (SchedCounters, bool) {
	if p == nil || p.Start.Sched == nil || p.End.Sched == nil {
		return SchedCounters{}, false
	}
	s, e := p.Start.Sched, p.End.Sched
	d := SchedCounters{
		IdlePSeconds: e.IdlePSeconds - s.IdlePSeconds, RunnableSeconds: e.RunnableSeconds - s.RunnableSeconds,
		CoveredSeconds: e.CoveredSeconds - s.CoveredSeconds, Samples: e.Samples - s.Samples,
	}
	if d.Samples < 10 || d.CoveredSeconds <= 0 || d.IdlePSeconds < 0 || d.RunnableSeconds < 0 {
		return SchedCounters{}, false
	}
	return d, true
}

// ProcessCPUDelta is the OS-accounted CPU the process used between the
// readings, and whether both readings had it.
func (p *SamplePair) ProcessCPUDelta() (float64, bool) {
	if p == nil || p.Start.ProcessCPUSeconds <= 0 || p.End.ProcessCPUSeconds < p.Start.ProcessCPUSeconds {
		return 0, false
	}
	return p.End.ProcessCPUSeconds - p.Start.ProcessCPUSeconds, true
}

// MachineIdleDelta is the machine's idle CPU time between the readings, and
// whether both readings had it.
func (p *SamplePair) MachineIdleDelta() (float64, bool) {
	if p == nil || p.Start.MachineIdleSeconds <= 0 || p.End.MachineIdleSeconds < p.Start.MachineIdleSeconds {
		return 0, false
	}
	return p.End.MachineIdleSeconds - p.Start.MachineIdleSeconds, true
}

// Histogram is a runtime/metrics Float64Histogram: Counts[i] observations
// fell in [Buckets[i], Buckets[i+1]). Buckets has len(Counts)+1 entries and
// its ends may be ±Inf (written in JSON as the strings "+Inf" and "-Inf").
type Histogram struct {
	Counts  []uint64  `json:"counts"`
	Buckets []float64 `json:"buckets"`
}

// SamplePair holds the readings at a window's start and end.
type SamplePair struct {
	Start Sample `json:"start"`
	End   Sample `json:"end"`
}

// Delta returns end − start of a cumulative metric and whether both
// readings had it. A negative delta (the process restarted) reports ok=false.
func (p *SamplePair) Delta(name string) (delta float64, ok bool) {
	if p == nil {
		return 0, false
	}
	s, okS := p.Start.Values[name]
	e, okE := p.End.Values[name]
	if !okS || !okE || e < s {
		return 0, false
	}
	return e - s, true
}

// Last returns a gauge's value at the window's end.
func (p *SamplePair) Last(name string) (float64, bool) {
	if p == nil {
		return 0, false
	}
	v, ok := p.End.Values[name]
	return v, ok
}

// HistogramDelta returns the observations added to a histogram during the
// window. ok is false when either reading lacks it, the bucket layouts
// differ, or a count went down.
func (p *SamplePair) HistogramDelta(name string) (h Histogram, ok bool) {
	if p == nil {
		return Histogram{}, false
	}
	s, okS := p.Start.Histograms[name]
	e, okE := p.End.Histograms[name]
	if !okS || !okE || len(s.Counts) != len(e.Counts) {
		return Histogram{}, false
	}
	h = Histogram{Counts: make([]uint64, len(e.Counts)), Buckets: e.Buckets}
	for i := range e.Counts {
		if e.Counts[i] < s.Counts[i] {
			return Histogram{}, false
		}
		h.Counts[i] = e.Counts[i] - s.Counts[i]
	}
	return h, true
}

// Total is the number of observations in h.
func (h Histogram) Total() uint64 {
	var n uint64
	for _, c := range h.Counts {
		n += c
	}
	return n
}

// Quantile returns an upper bound for the q-quantile (0 ≤ q ≤ 1) of h: the
// upper edge of the bucket holding it, or its lower edge when the upper one
// is +Inf. It returns 0 for an empty histogram.
func (h Histogram) Quantile(q float64) float64 {
	total := h.Total()
	if total == 0 || len(h.Buckets) != len(h.Counts)+1 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(total)))
	if rank == 0 {
		rank = 1
	}
	var seen uint64
	for i, c := range h.Counts {
		seen += c
		if seen >= rank {
			if hi := h.Buckets[i+1]; !math.IsInf(hi, 1) {
				return hi
			}
			return h.Buckets[i]
		}
	}
	return h.Buckets[len(h.Buckets)-1]
}

// Max returns an upper bound of the largest observation in h (0 if empty).
func (h Histogram) Max() float64 { return h.Quantile(1) }
