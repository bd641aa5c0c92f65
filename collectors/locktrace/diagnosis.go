// Package locktrace diagnoses lock contention exactly from a Go execution
// trace (runtime/trace, a flight-recorder snapshot, go test -trace): every
// wait on a lock with the stack that waited, the goroutine and stack that
// woke it (the holder side), the P-time lost while goroutines waited on locks
// with Ps idle, and the longest chains of waits behind waits.
//
// Profiles sample; a trace records every blocking event and how many
// goroutines were running at each instant, so its figures check the
// profile- and metrics-based contention cost (collectors/mutex). Parsing is
// golang.org/x/exp/trace's: traces written by Go 1.22 to 1.26 (see
// SupportedVersions).
package locktrace

import (
	"github.com/contendr/contendr/collectors/stacks"
)

// SupportedVersions says which Go versions' traces Read diagnoses: those
// golang.org/x/exp/trace v0.0.0-20261113113407 reads in the current
// format. Go 1.11–1.21 traces are converted by the same parser, but their
// goroutine states at the start of a trace are unknown, so lost P-time is
// not measured on them.
const SupportedVersions = "Go 1.22 to Go 1.26"

// Diagnosis is what one trace says about its locks. Durations are in
// seconds of the trace's own clock.
type Diagnosis struct {
	// GoVersion is the version named in the trace's header ("go1.26").
	GoVersion string `json:"go_version"`
	// Seconds is the span from the trace's first event to its last.
	Seconds    float64 `json:"seconds"`
	GOMAXPROCS int     `json:"gomaxprocs"`

	// LockWaits counts waits on locks (sync.Mutex, sync.RWMutex, sync.Map's
	// and HashTrieMap's mutexes): a goroutine blocking with the runtime's
	// "sync" reason under a lock primitive.
	LockWaits int64 `json:"lock_waits"`
	// BlockedSeconds is the time goroutines spent blocked on locks, from
	// the block to the wake-up (run-queue time after the wake-up is not
	// counted), summed over goroutines.
	BlockedSeconds float64 `json:"blocked_seconds"`
	// LostPSeconds is the P-time lost to locks: at each instant, the
	// smaller of the idle Ps (GOMAXPROCS − running goroutines) and the
	// goroutines blocked on locks, integrated over the trace — the exact
	// form of the contention cost's idle_lost.
	LostPSeconds float64 `json:"lost_p_seconds"`
	// LostPShare is LostPSeconds over GOMAXPROCS × Seconds: the idle part
	// of the contention cost (its sync CPU is not in a trace).
	LostPShare float64 `json:"lost_p_share"`

	// Sites are the waiting lock sites, most blocked first.
	Sites []*Site `json:"sites"`
	// Components join the sites of one component (package + receiver).
	Components []*Component `json:"components"`
	// Chains are the longest chains of waits: a goroutine blocked while
	// the goroutine that would wake it was itself blocked on a lock, and
	// so on. Longest first.
	Chains []*Chain `json:"chains"`
	// OtherBlocking totals sync waits that are not lock waits
	// (sync.WaitGroup, sync.Cond: waiting for an event, not for a lock;
	// "runtime": the runtime's own semaphores, such as the GC's).
	OtherBlocking []KindTotal `json:"other_blocking,omitempty"`

	// Notes say what the trace lacked ("GOMAXPROCS unknown until …").
	Notes []string `json:"notes,omitempty"`

	// profile holds every waiting stack, for SyncProfile.
	profile *syncProfile
}

// Site is one waiting lock site: the first frame above the lock primitive
// outside the lock machinery (the same rule as collectors/stacks).
type Site struct {
	Function  string      `json:"function"`
	Component string      `json:"component"`
	Kind      stacks.Kind `json:"kind"`
	// Primitive is the lock frame the site called.
	Primitive string `json:"primitive"`

	Waits          int64   `json:"waits"`
	BlockedSeconds float64 `json:"blocked_seconds"`
	MaxWaitSeconds float64 `json:"max_wait_seconds"`
	// Share is the site's part of Diagnosis.BlockedSeconds.
	Share float64 `json:"share"`
	// LostPSeconds is the site's part of the lost P-time: at each instant
	// the lost Ps are split among the sites by the goroutines blocked there.
	LostPSeconds float64 `json:"lost_p_seconds"`

	// Holders are the sites that woke this site's waiters (the Unlock
	// that handed the lock over), most blocked time ended first.
	Holders []*Holder `json:"holders"`
	// Stacks are the heaviest waiting stacks, leaf first.
	Stacks []Stack `json:"stacks"`

	stackTotal map[*stackInfo]*Stack
}

// Holder is the side of a lock that woke its waiters: the goroutine that
// unlocked, sited by its stack at the wake-up.
type Holder struct {
	Function  string `json:"function"`
	Component string `json:"component"`
	// Waits and BlockedSeconds are the waits this holder ended and their
	// length; Goroutines how many distinct goroutines held the lock.
	Waits          int64   `json:"waits"`
	BlockedSeconds float64 `json:"blocked_seconds"`
	Goroutines     int     `json:"goroutines"`
	// Stack is the heaviest unlocking stack, leaf first.
	Stack []string `json:"stack"`

	goroutines map[int64]struct{}
	stackTotal map[*stackInfo]float64
}

// Stack is one waiting stack and its blocked time.
type Stack struct {
	Frames         []string `json:"frames"`
	Waits          int64    `json:"waits"`
	BlockedSeconds float64  `json:"blocked_seconds"`
}

// Component joins one component's waiting sites.
type Component struct {
	Name           string   `json:"name"`
	Waits          int64    `json:"waits"`
	BlockedSeconds float64  `json:"blocked_seconds"`
	LostPSeconds   float64  `json:"lost_p_seconds"`
	Share          float64  `json:"share"`
	Sites          []string `json:"sites"`
}

// Chain is a chain of waits, from the last waiter back to the first: each
// link's goroutine was woken by the next link's goroutine, which was itself
// blocked on a lock while the earlier one already waited.
type Chain struct {
	Length int `json:"length"`
	// SpanSeconds runs from the first link's block to the last link's
	// wake-up; BlockedSeconds sums the links' waits.
	SpanSeconds    float64 `json:"span_seconds"`
	BlockedSeconds float64 `json:"blocked_seconds"`
	// Links are the chain's latest waits, the last waiter first (at
	// most 8: a convoy lasting the whole trace is one chain).
	Links []Link `json:"links"`
}

// Link is one wait of a chain.
type Link struct {
	Goroutine   int64   `json:"goroutine"`
	Site        string  `json:"site"`
	WaitSeconds float64 `json:"wait_seconds"`
	// WokenBy is the goroutine that woke it (the next link's), 0 when the
	// runtime woke it from no goroutine.
	WokenBy int64 `json:"woken_by"`
}

// KindTotal is the sync blocking of one non-lock kind.
type KindTotal struct {
	Kind           stacks.Kind `json:"kind"`
	Waits          int64       `json:"waits"`
	BlockedSeconds float64     `json:"blocked_seconds"`
}
