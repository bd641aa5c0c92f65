// Package workload drives a strategy.Map with a named or parameterized mix
// of loads, overwrites, new-key inserts, deletes and full ranges from many
// goroutines, and measures its throughput.
package workload

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/contendr/contendr/internal/maplab/strategy"
)

// Spec is one workload: the operation mix and its scale.
//
// Keys [0, Keys) are prefilled and never deleted; writes to them are
// overwrites. Inserts and Deletes work on a second "churn" range
// [Keys, 2*Keys) so that new keys keep arriving and leaving; when the mix has
// inserts, loads draw from both ranges, so some of them miss, as lookups of
// recently added or removed keys do in a real cache.
type Spec struct {
	Name string `json:"name"`
	// Mix is the named mix the spec was made from (Named), when Name also
	// carries a regime ("read-mostly@g1-cpu-string-v1024").
	Mix string `json:"mix,omitempty"`

	// Fractions of operations; overwrites get the rest, 1-Reads-Inserts-Deletes.
	Reads   float64 `json:"reads"`
	Inserts float64 `json:"inserts"`
	Deletes float64 `json:"deletes"`
	// RangeEvery makes each goroutine iterate the whole map once every that
	// many operations; 0 means never.
	RangeEvery int `json:"range_every,omitempty"`
	// ZipfS, when > 1, draws keys from a Zipf distribution with that
	// exponent (key 0 hottest) instead of uniformly.
	ZipfS float64 `json:"zipf_s,omitempty"`

	Keys       int `json:"keys"`
	Goroutines int `json:"goroutines"`
	// GoroutinesPerP, when > 0, sets Goroutines to GoroutinesPerP ×
	// GOMAXPROCS when the workload runs (Resolve): the regime axis that
	// decides whether waiters queue (32 per P) or every goroutine has a P
	// of its own (1 per P, as b.RunParallel runs).
	GoroutinesPerP int `json:"goroutines_per_p,omitempty"`
	// Between is what each goroutine does between two map operations:
	// nothing (a tight loop), CPU work outside the lock, or an I/O wait.
	Between Between `json:"between,omitempty"`
	// KeyType is the type of key the map stores (int by default).
	KeyType strategy.KeyType `json:"key_type,omitempty"`
	// ValueSize, when > 0, makes every write also allocate a []byte of that
	// size, kept alive in a per-goroutine ring of about Keys/Goroutines slots
	// so that live heap and allocation rate behave like a map holding values
	// of that size. The map itself stores ints.
	ValueSize int `json:"value_size,omitempty"`
	// Duration is how long Run measures; 0 means until its context ends.
	Duration time.Duration `json:"duration"`
}

// Between is what a goroutine does between two map operations.
type Between string

// Work between operations.
const (
	// BetweenNone: the next operation at once (maplab's original regime).
	BetweenNone Between = "none"
	// BetweenCPU: CPUWorkRounds rounds of a xorshift, about 2 µs of CPU on
	// the 2-core machine maplab was measured on, outside every lock.
	BetweenCPU Between = "cpu"
	// BetweenIO: after every IOEvery operations, time.Sleep(IOWait) — a
	// goroutine parked off-CPU as one waiting on a database call is. The
	// wait is milliseconds long because a Go sleep of tens of µs is not:
	// it ends when a P next checks its timers, which takes up to a
	// millisecond on idle Ps and depends on what the other goroutines do,
	// so a short sleep measures the scheduler, not the map (measured on
	// the 2-core machine: a 50 µs sleep lasted 0.73 ms with the other Ps
	// idle and 1.03 ms beside a busy goroutine; a 2 ms sleep 2.15 and
	// 2.18 ms; with 50 µs waits copy-on-write ran 2.3× faster than every
	// other map on a 20%-write workload, with 2 ms waits 13% slower).
	BetweenIO Between = "io"
)

// Work parameters of the Between regimes.
const (
	CPUWorkRounds = 1000
	IOEvery       = 8
	IOWait        = 2 * time.Millisecond
)

// Valid reports whether b is known ("" means none).
func (b Between) Valid() bool {
	return b == "" || b == BetweenNone || b == BetweenCPU || b == BetweenIO
}

// Defaults used by Named and Custom.
const (
	DefaultKeys       = 100_000
	DefaultGoroutines = 64
)

// Workload names accepted by Named.
const (
	ReadOnly   = "read-only"
	ReadMostly = "read-mostly"
	ReadHeavy  = "read-heavy"
	Balanced   = "balanced"
	WriteHeavy = "write-heavy"
	Churn      = "churn"
	RangeScan  = "range"
	HotKey     = "hotkey"
	Overwrite  = "overwrite"
)

// mixes are the named operation mixes. Each states in its comment what it
// stands for and which strategy's weak spot it probes.
var mixes = map[string]Spec{
	// Feature flags or a routing table replaced now and then: one write in
	// 10,000 operations, where a copy-on-write snapshot's clone is paid so
	// rarely that its lock-free reads can win.
	ReadOnly: {Reads: 0.9999},
	// A config or routing table: almost only reads.
	ReadMostly: {Reads: 0.99},
	// A typical cache.
	ReadHeavy: {Reads: 0.90},
	Balanced:  {Reads: 0.50},
	// Writes to existing and new keys (10% of operations insert a key that
	// is absent at the time): legacy sync.Map's dirty-copy worst case, COW's
	// O(n) clone per write.
	WriteHeavy: {Reads: 0.10, Inserts: 0.20, Deletes: 0.20},
	// Session-table churn: keys come and go.
	Churn: {Reads: 0.50, Inserts: 0.25, Deletes: 0.25},
	// Reads with a periodic full iteration and a trickle of new keys, which
	// makes legacy sync.Map promote (and later re-copy) on every Range.
	RangeScan: {Reads: 0.90, Inserts: 0.01, Deletes: 0.01, RangeEvery: 10_000},
	// Skewed popularity: a few keys take most of the traffic.
	HotKey: {Reads: 0.90, ZipfS: 1.1},
	// Updates of existing keys only: free for a Go map, a node allocation
	// per write for HashTrieMap.
	Overwrite: {Reads: 0},
}

// Names lists the named workloads in the order reports show them.
func Names() []string {
	return []string{ReadOnly, ReadMostly, ReadHeavy, Balanced, WriteHeavy, Churn, RangeScan, HotKey, Overwrite}
}

// Named returns the named workload with the default scale.
func Named(name string) (Spec, error) {
	mix, ok := mixes[name]
	if !ok {
		return Spec{}, fmt.Errorf("unknown workload %q (known: %s)", name, strings.Join(Names(), ", "))
	}
	mix.Name, mix.Mix = name, name
	mix.Keys = DefaultKeys
	mix.Goroutines = DefaultGoroutines
	return mix, nil
}

// Custom returns a workload of loads and overwrites with the given read
// fraction and the default scale.
func Custom(reads float64) Spec {
	return Spec{
		Name:       fmt.Sprintf("reads-%g", reads),
		Reads:      reads,
		Keys:       DefaultKeys,
		Goroutines: DefaultGoroutines,
	}
}

// Overwrites is the fraction of operations that store to a prefilled key.
func (s Spec) Overwrites() float64 { return 1 - s.Reads - s.Inserts - s.Deletes }

// Validate reports the first thing wrong with s.
func (s Spec) Validate() error {
	for _, f := range []struct {
		name  string
		value float64
	}{{"reads", s.Reads}, {"inserts", s.Inserts}, {"deletes", s.Deletes}} {
		if f.value < 0 || f.value > 1 {
			return fmt.Errorf("workload %s: %s fraction %g is outside [0, 1]", s.Name, f.name, f.value)
		}
	}
	switch {
	case s.Overwrites() < -1e-9:
		return fmt.Errorf("workload %s: reads+inserts+deletes = %g exceeds 1", s.Name, s.Reads+s.Inserts+s.Deletes)
	case s.Keys < 1:
		return fmt.Errorf("workload %s: keys must be at least 1, got %d", s.Name, s.Keys)
	case s.Goroutines < 1 && s.GoroutinesPerP < 1:
		return fmt.Errorf("workload %s: goroutines must be at least 1, got %d", s.Name, s.Goroutines)
	case s.GoroutinesPerP < 0:
		return fmt.Errorf("workload %s: goroutines per P must not be negative, got %d", s.Name, s.GoroutinesPerP)
	case !s.Between.Valid():
		return fmt.Errorf("workload %s: unknown work between operations %q (known: %s, %s, %s)", s.Name, s.Between, BetweenNone, BetweenCPU, BetweenIO)
	case !s.KeyType.Valid():
		return fmt.Errorf("workload %s: unknown key type %q (known: %s, %s)", s.Name, s.KeyType, strategy.KeyInt, strategy.KeyString)
	case s.ValueSize < 0:
		return fmt.Errorf("workload %s: value size must not be negative, got %d", s.Name, s.ValueSize)
	case s.RangeEvery < 0:
		return fmt.Errorf("workload %s: range interval must not be negative, got %d", s.Name, s.RangeEvery)
	case s.ZipfS != 0 && s.ZipfS <= 1:
		return fmt.Errorf("workload %s: zipf exponent must be > 1, got %g", s.Name, s.ZipfS)
	case s.Duration < 0:
		return fmt.Errorf("workload %s: duration must not be negative, got %s", s.Name, s.Duration)
	}
	return nil
}

// String describes the mix in one line, for headers and logs.
func (s Spec) String() string {
	parts := []string{fmt.Sprintf("reads %.0f%%", 100*s.Reads), fmt.Sprintf("overwrites %.0f%%", 100*s.Overwrites())}
	if s.Inserts > 0 || s.Deletes > 0 {
		parts = append(parts, fmt.Sprintf("inserts %.0f%%", 100*s.Inserts), fmt.Sprintf("deletes %.0f%%", 100*s.Deletes))
	}
	if s.RangeEvery > 0 {
		parts = append(parts, fmt.Sprintf("range every %d ops", s.RangeEvery))
	}
	if s.ZipfS > 0 {
		parts = append(parts, fmt.Sprintf("zipf s=%g", s.ZipfS))
	}
	keys := fmt.Sprintf("%d keys", s.Keys)
	if s.KeyType == strategy.KeyString {
		keys = fmt.Sprintf("%d string keys", s.Keys)
	}
	goroutines := fmt.Sprintf("%d goroutines", s.Goroutines)
	if s.GoroutinesPerP > 0 {
		goroutines = fmt.Sprintf("%d goroutines per P", s.GoroutinesPerP)
	}
	parts = append(parts, keys, goroutines)
	if s.Between == BetweenCPU || s.Between == BetweenIO {
		parts = append(parts, string(s.Between)+" work between operations")
	}
	if s.ValueSize > 0 {
		parts = append(parts, fmt.Sprintf("%d-byte values", s.ValueSize))
	}
	return s.Name + " (" + strings.Join(parts, ", ") + ")"
}

// Resolve fixes the goroutine count for the GOMAXPROCS procs the workload
// runs on when it is given per P.
func (s Spec) Resolve(procs int) Spec {
	if s.GoroutinesPerP > 0 {
		s.Goroutines = s.GoroutinesPerP * max(procs, 1)
	}
	return s
}

// NewMap returns an empty map of the named strategy for s: its key type,
// with string keys precomputed for s's whole key space.
func NewMap(name string, s Spec, opts strategy.Options) (strategy.Map, error) {
	opts.Keys, opts.KeySpace = s.KeyType, 0
	if s.KeyType == strategy.KeyString {
		opts.KeySpace = 2 * s.Keys // prefilled keys and the churn range
	}
	return strategy.New(name, opts)
}

// Valid reports whether name is a named workload.
func Valid(name string) bool { return slices.Contains(Names(), name) }
