// Package mutex turns a window's mutex and block profile deltas, and its
// runtime/metrics samples, into lock sites, their kinds and both sides of each
// lock, and the process-wide lock fraction defined in DESIGN.md.
package mutex

import (
	"cmp"

	"github.com/contendr/contendr/collectors/figure"
	"github.com/contendr/contendr/collectors/stacks"
)

// Side says which profile a site comes from.
type Side string

const (
	// Holder: the mutex profile's stack, the unlocker that made others wait.
	Holder Side = "holder"
	// Waiter: the block profile's stack, the goroutine that waited.
	Waiter Side = "waiter"
)

// Site is one lock site on one side: the first frame above the lock
// primitive that is outside sync, internal/sync, runtime and the standard
// library's lock wrappers.
type Site struct {
	Function  string `json:"function"`  // e.g. main.(*Cache).Get
	Component string `json:"component"` // package + receiver type, e.g. main.(*Cache)
	Kind      Kind   `json:"kind"`
	Side      Side   `json:"side"`
	// Primitive is the lock frame the site called, e.g. sync.(*RWMutex).Lock.
	Primitive string `json:"primitive"`

	DelaySeconds float64 `json:"delay_seconds"`
	Contentions  int64   `json:"contentions"`
	// Per second of window.
	DelaySecondsPerSecond float64 `json:"delay_seconds_per_second"`
	ContentionsPerSecond  float64 `json:"contentions_per_second"`
	// Share of the side's total lock delay; Fraction is the site's part of
	// LockFraction.Value (Share of the side's lock and runtime-lock delay ×
	// LockFraction.Value; see Collect), 0 for non-lock waits.
	Share    float64 `json:"share"`
	Fraction float64 `json:"fraction"`

	// Stacks are the heaviest few stacks behind the site, leaf first, as
	// evidence.
	Stacks []Stack `json:"stacks,omitempty"`
}

// Stack is one sampled stack and its delay.
type Stack struct {
	Frames       []string `json:"frames"` // leaf first
	DelaySeconds float64  `json:"delay_seconds"`
	Contentions  int64    `json:"contentions"`
}

// Component joins both sides of the locks held in one component, so a report
// can say "main.(*Cache).Set holds the lock that main.(*Cache).Get waits on".
type Component struct {
	Name    string  `json:"name"`
	Kinds   []Kind  `json:"kinds"`
	Holders []*Site `json:"holders"` // sorted by delay, descending
	Waiters []*Site `json:"waiters"`
	// DelaySeconds is the larger of the two sides' totals (each side
	// measures the same waiting from a different end); DelaySecondsPerSecond
	// is it per second of window, and Fraction and Share are its sites'
	// Fraction and Share summed on the side it was taken from.
	DelaySeconds          float64 `json:"delay_seconds"`
	DelaySecondsPerSecond float64 `json:"delay_seconds_per_second"`
	Fraction              float64 `json:"fraction"`
	Share                 float64 `json:"share"`
	// Cost is the component's part of the contention cost: its CPU inside
	// lock primitives (sites in the component, the first frame above the
	// primitive) plus the idle time lost to locks times its share of lock
	// wait, over GOMAXPROCS × window.
	Cost            float64 `json:"cost"`
	SyncCPUSeconds  float64 `json:"sync_cpu_seconds"`
	IdleLostSeconds float64 `json:"idle_lost_seconds"`
	// Read and write contention on an RWMutex-guarded component, from the
	// waiter side (RLock vs Lock), in delay seconds.
	ReadDelaySeconds  float64 `json:"read_delay_seconds"`
	WriteDelaySeconds float64 `json:"write_delay_seconds"`
}

// LockFraction is Δwait / (Δwait + Δuser_cpu) over the window.
type LockFraction struct {
	Value float64 `json:"value"`
	// Estimated is set when either half was not measured over exactly the
	// window by runtime/metrics: derived from profiles, or user CPU scaled
	// or bounded because the runtime refreshes its CPU metrics only at GC
	// (see lockFraction in fraction.go). Reason says what was used.
	Estimated bool   `json:"estimated"`
	Reason    string `json:"reason,omitempty"`
	// Known is false when neither runtime/metrics nor profiles allow a value.
	Known bool `json:"known"`

	WaitSeconds    float64 `json:"wait_seconds"`
	UserCPUSeconds float64 `json:"user_cpu_seconds"`
}

// Result is what the collector found in one window.
type Result struct {
	WindowSeconds float64 `json:"window_seconds"`
	// Cost is the contention cost, the headline figure; Waiters the
	// goroutines blocked on locks on average.
	Cost    Cost    `json:"cost"`
	Waiters Waiters `json:"waiters"`
	// LockFraction is the lock wait share, Δwait ÷ (Δwait + Δuser CPU),
	// kept for compatibility: it counts waits that cost no throughput.
	LockFraction LockFraction `json:"lock_fraction"`
	// Sites of user code, both sides, sorted by delay descending.
	Sites []*Site `json:"sites"`
	// Components are sorted by cost, then delay, descending; a component
	// whose CPU in lock primitives is at least MinComponentSyncCPU of the
	// capacity is listed even with no contention sampled (an RWMutex whose
	// readers bounce the reader count: golang/go#17973).
	Components []*Component `json:"components"`
	// Runtime holds runtime-internal lock contention, reported apart.
	Runtime []*Site `json:"runtime,omitempty"`
	// Notes explain gaps: "mutex profiling is off on the target
	// (runtime.SetMutexProfileFraction is 0): enable it with …".
	Notes []string `json:"notes,omitempty"`
	// MutexProfileEnabled / BlockProfileEnabled are false when the window's
	// rate says the profile was disabled (so empty ≠ uncontended).
	MutexProfileEnabled bool `json:"mutex_profile_enabled"`
	BlockProfileEnabled bool `json:"block_profile_enabled"`

	// Attribution is the window's stack attribution the result was built
	// from, for analyze's per-component workload figures (not encoded).
	Attribution *stacks.Attribution `json:"-"`
}

// Measured says which of the lock figures the window measured, estimated
// or lacked, and why.
func (r *Result) Measured() figure.Set {
	got := figure.Set{}
	if r == nil {
		got.Miss("the mutex collector did not run on this window", figure.ContentionCost, figure.LockWaiters, figure.LockFraction)
		return got
	}
	status(got, figure.ContentionCost, r.Cost.Known, r.Cost.Estimated || r.Cost.LowerBound, r.Cost.Reason,
		"the window has neither a CPU profile nor idle time and lock wait to compute it from")
	status(got, figure.LockFraction, r.LockFraction.Known, r.LockFraction.Estimated, r.LockFraction.Reason,
		"the window has neither runtime/metrics nor a mutex/block profile with a CPU profile to estimate it from")
	status(got, figure.LockWaiters, r.Waiters.Known, false, "",
		"the window has neither runtime/metrics lock wait nor a mutex or block profile")
	return got
}

func status(got figure.Set, f figure.Figure, known, estimated bool, reason, missing string) {
	switch {
	case !known:
		got.Miss(cmp.Or(reason, missing), f)
	case estimated:
		got.Estimate(f, reason)
	default:
		got.Know(f)
	}
}
