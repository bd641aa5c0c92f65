// Package figure is the one account of what a window measured: for each
// figure the collectors report, whether it is known, estimated (and why) or
// missing (and why).
//
// The collectors fill a Set; analyze, the alert evaluator, watch, gate, the
// web UI and the Prometheus collectors read it, so that a figure the window
// could not provide is never shown, judged or alerted on as 0.
package figure

import (
	"cmp"
	"maps"
	"slices"
)

// Figure names a figure the collectors report. The names of the alerted
// figures are those of the alert metrics and of analyze's thresholds.
type Figure string

// Figures of the mutex collector.
const (
	// ContentionCost is the contention cost, process-wide and per
	// component (DESIGN.md).
	ContentionCost Figure = "contention_cost"
	// LockWaiters is goroutines blocked on locks on average.
	LockWaiters Figure = "lock_waiters"
	// LockFraction is the lock wait share, process-wide and per component.
	LockFraction Figure = "lock_fraction"
)

// Figures of the GC collector.
const (
	GCCPUFraction Figure = "gc_cpu_fraction"
	GCAssistShare Figure = "gc_assist_share"
	GCPauseP50    Figure = "gc_pause_p50"
	GCPauseP99    Figure = "gc_pause_p99"
	GCPauseMax    Figure = "gc_pause_max"
	// GCCycles is the cycle count and cycles per second.
	GCCycles Figure = "gc_cycles"
	// AllocRate is allocation bytes and objects per second.
	AllocRate  Figure = "alloc_rate"
	HeapLive   Figure = "heap_live"
	HeapGoal   Figure = "heap_goal"
	GOGC       Figure = "gogc"
	GOMEMLIMIT Figure = "gomemlimit"
	// MapGrowth is map growth per component, from the allocs profile.
	MapGrowth Figure = "map_growth"
)

// GC lists the GC pressure figures, in the order a report shows them.
var GC = []Figure{GCCPUFraction, GCAssistShare, GCPauseP50, GCPauseP99, GCPauseMax,
	GCCycles, AllocRate, HeapLive, HeapGoal, GOGC, GOMEMLIMIT}

// State says whether a figure has a value.
type State string

// States.
const (
	// Known: measured over the window from its exact source.
	Known State = "known"
	// Estimated: a value derived from a lesser source; Reason says which.
	Estimated State = "estimated"
	// Missing: no value; Reason says why and, when it can, how to get one.
	Missing State = "missing"
)

// Status is one figure's state and the reason for it.
type Status struct {
	State  State  `json:"state"`
	Reason string `json:"reason,omitempty"`
}

// Has reports whether the figure has a value, measured or estimated.
func (s Status) Has() bool { return s.State == Known || s.State == Estimated }

// Set is what a window measured, per figure. A figure the set does not
// name is missing: a zero Set has nothing.
type Set map[Figure]Status

// Get returns f's status; a figure not in the set is missing.
func (s Set) Get(f Figure) Status {
	if st, ok := s[f]; ok {
		return st
	}
	return Status{State: Missing, Reason: "not measured"}
}

// Has reports whether f has a value, measured or estimated.
func (s Set) Has(f Figure) bool { return s.Get(f).Has() }

// Estimated reports whether f has a value that is an estimate.
func (s Set) Estimated(f Figure) bool { return s.Get(f).State == Estimated }

// Know marks figures known.
func (s Set) Know(figures ...Figure) {
	for _, f := range figures {
		s[f] = Status{State: Known}
	}
}

// Estimate marks f estimated, for reason.
func (s Set) Estimate(f Figure, reason string) { s[f] = Status{State: Estimated, Reason: reason} }

// Miss marks figures missing, for reason.
func (s Set) Miss(reason string, figures ...Figure) {
	for _, f := range figures {
		s[f] = Status{State: Missing, Reason: reason}
	}
}

// Lacking returns the figures s names as missing, sorted by name.
func (s Set) Lacking() []Figure {
	var out []Figure
	for f, st := range s {
		if !st.Has() {
			out = append(out, f)
		}
	}
	slices.SortFunc(out, func(a, b Figure) int { return cmp.Compare(a, b) })
	return out
}

// Merge returns one set holding every figure of sets; a figure named twice
// takes the later status.
func Merge(sets ...Set) Set {
	out := Set{}
	for _, s := range sets {
		maps.Copy(out, s)
	}
	return out
}

// Mutex lists the lock figures.
var Mutex = []Figure{ContentionCost, LockWaiters, LockFraction}

// All lists every figure: the lock figures, the GC figures, map growth.
var All = slices.Concat(Mutex, GC, []Figure{MapGrowth})

// KnownSet returns a set in which figures are known: for results built by
// hand (tests, fixtures) from a complete source.
func KnownSet(figures ...Figure) Set {
	s := Set{}
	s.Know(figures...)
	return s
}
