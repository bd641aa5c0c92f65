// Package strategy holds the concurrent-map strategies contendr recommends
// between, each a small real implementation behind one interface, so the
// maplab matrix can measure every one of them on the same workloads.
//
// Every lock is taken inside a method of a named type (for example
// (*MutexMap).Load or (*RWMap).Store), so a mutex or block profile of a
// program using these maps attributes contention to the strategy's own
// component, as a profile of a real service would.
package strategy

import (
	"fmt"
	"slices"
	"strings"
)

// Map is the operation set every strategy implements, shaped like sync.Map
// with int keys and values.
type Map interface {
	Load(k int) (v int, ok bool)
	Store(k, v int)
	Delete(k int)
	// Range calls f for each entry until f returns false. Strategies that
	// hold a lock while ranging (mutex, rwmutex, sharded) do not allow f to
	// call back into the map; sync.Map-like strategies do.
	Range(f func(k, v int) bool)
}

// Filler is implemented by strategies for which storing n keys one at a time
// is much slower than loading them at once (cow clones the whole map per
// Store). Prefill code should use it when present.
type Filler interface {
	// Fill stores every entry of entries, replacing existing values.
	Fill(entries map[int]int)
}

// Options tune the strategies that have knobs; the zero value gives the
// defaults.
type Options struct {
	// Shards is the shard count of the sharded strategy; 0 means
	// DefaultShards.
	Shards int
	// Keys is the key type the map stores ("" or KeyInt: ints); KeySpace
	// is how many int keys, [0, KeySpace), a string-keyed map gets its
	// strings precomputed for (NewFor sets it from a workload's key space).
	Keys     KeyType
	KeySpace int
}

// DefaultShards is the sharded strategy's shard count when Options.Shards is 0.
const DefaultShards = 32

// Strategy names accepted by New.
const (
	NameMutex   = "mutex"
	NameRWMutex = "rwmutex"
	NameSyncMap = "syncmap"
	NameSharded = "sharded"
	NameCOW     = "cow"
	NameXSync   = "xsync"
	NameLegacy  = "legacy"
)

var constructors = map[string]func(Options) (Map, error){
	NameMutex:   func(Options) (Map, error) { return NewMutexMap(), nil },
	NameRWMutex: func(Options) (Map, error) { return NewRWMap(), nil },
	NameSyncMap: func(Options) (Map, error) { return new(SyncMap), nil },
	NameSharded: func(o Options) (Map, error) { return NewShardedMap(o.Shards) },
	NameCOW:     func(Options) (Map, error) { return NewCOWMap(), nil },
	NameXSync:   func(Options) (Map, error) { return NewXSyncMap(), nil },
	NameLegacy:  func(Options) (Map, error) { return new(Legacy), nil },
}

// Names lists the strategy names in the order reports show them.
func Names() []string {
	return []string{NameMutex, NameRWMutex, NameSyncMap, NameSharded, NameCOW, NameXSync, NameLegacy}
}

// New returns an empty map of the named strategy.
func New(name string, opts Options) (Map, error) {
	construct, ok := constructors[name]
	if !ok {
		return nil, fmt.Errorf("unknown map strategy %q (known: %s)", name, strings.Join(Names(), ", "))
	}
	if !opts.Keys.Valid() {
		return nil, fmt.Errorf("unknown key type %q (known: %s, %s)", opts.Keys, KeyInt, KeyString)
	}
	if opts.Keys == KeyString {
		construct = func(o Options) (Map, error) { return newStringMap(name, o) }
	}
	m, err := construct(opts)
	if err != nil {
		return nil, fmt.Errorf("creating %s map: %w", name, err)
	}
	return m, nil
}

// Valid reports whether name is a known strategy.
func Valid(name string) bool { return slices.Contains(Names(), name) }
