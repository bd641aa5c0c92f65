package strategy

import (
	"fmt"
	"hash/maphash"
	"maps"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/puzpuzpuz/xsync/v4"
)

// KeyType is the type of key a strategy's map stores. The Map interface
// speaks ints; a string-keyed strategy turns each int into its decimal
// string from a table built before the run (keyTable), outside every lock,
// so what the matrix measures is the map hashing and comparing strings
// under its lock, not the conversion.
type KeyType string

// Key types accepted in Options.
const (
	KeyInt    KeyType = "int"
	KeyString KeyType = "string"
)

// Valid reports whether k is a known key type ("" means int).
func (k KeyType) Valid() bool { return k == "" || k == KeyInt || k == KeyString }

// keyTable holds the string of every int key in [0, len): the workload's
// key space.
type keyTable []string

func newKeyTable(n int) keyTable {
	t := make(keyTable, n)
	for k := range t {
		t[k] = strconv.Itoa(k)
	}
	return t
}

// of is k's string; a key outside the table is converted on the spot.
func (t keyTable) of(k int) string {
	if k >= 0 && k < len(t) {
		return t[k]
	}
	return strconv.Itoa(k)
}

// intKey turns a stored string back into the int the Map interface speaks.
func intKey(s string) int {
	k, _ := strconv.Atoi(s)
	return k
}

// stringConstructors are the strategies measured with string keys. The
// hand-written read/dirty map (legacy) has int keys only.
var stringConstructors = map[string]func(Options, keyTable) (Map, error){
	NameMutex:   func(_ Options, t keyTable) (Map, error) { return &StringMutexMap{keys: t, m: map[string]int{}}, nil },
	NameRWMutex: func(_ Options, t keyTable) (Map, error) { return &StringRWMap{keys: t, m: map[string]int{}}, nil },
	NameSyncMap: func(_ Options, t keyTable) (Map, error) { return &StringSyncMap{keys: t}, nil },
	NameSharded: newStringSharded,
	NameCOW:     func(_ Options, t keyTable) (Map, error) { return newStringCOW(t), nil },
	NameXSync: func(_ Options, t keyTable) (Map, error) {
		return &StringXSyncMap{keys: t, m: xsync.NewMap[string, int]()}, nil
	},
}

// SupportsKeys reports whether strategy name can run with key type k.
func SupportsKeys(name string, k KeyType) bool {
	if k == KeyString {
		_, ok := stringConstructors[name]
		return ok
	}
	return Valid(name)
}

func newStringMap(name string, opts Options) (Map, error) {
	construct, ok := stringConstructors[name]
	if !ok {
		return nil, fmt.Errorf("map strategy %q has int keys only", name)
	}
	return construct(opts, newKeyTable(opts.KeySpace))
}

// StringMutexMap is MutexMap with string keys.
type StringMutexMap struct {
	keys keyTable
	mu   sync.Mutex
	m    map[string]int
}

func (m *StringMutexMap) Load(k int) (int, bool) {
	s := m.keys.of(k)
	m.mu.Lock()
	v, ok := m.m[s]
	m.mu.Unlock()
	return v, ok
}

func (m *StringMutexMap) Store(k, v int) {
	s := m.keys.of(k)
	m.mu.Lock()
	m.m[s] = v
	m.mu.Unlock()
}

func (m *StringMutexMap) Delete(k int) {
	s := m.keys.of(k)
	m.mu.Lock()
	delete(m.m, s)
	m.mu.Unlock()
}

func (m *StringMutexMap) Range(f func(k, v int) bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for s, v := range m.m {
		if !f(intKey(s), v) {
			return
		}
	}
}

// StringRWMap is RWMap with string keys.
type StringRWMap struct {
	keys keyTable
	mu   sync.RWMutex
	m    map[string]int
}

func (m *StringRWMap) Load(k int) (int, bool) {
	s := m.keys.of(k)
	m.mu.RLock()
	v, ok := m.m[s]
	m.mu.RUnlock()
	return v, ok
}

func (m *StringRWMap) Store(k, v int) {
	s := m.keys.of(k)
	m.mu.Lock()
	m.m[s] = v
	m.mu.Unlock()
}

func (m *StringRWMap) Delete(k int) {
	s := m.keys.of(k)
	m.mu.Lock()
	delete(m.m, s)
	m.mu.Unlock()
}

func (m *StringRWMap) Range(f func(k, v int) bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	for s, v := range m.m {
		if !f(intKey(s), v) {
			return
		}
	}
}

// StringShardedMap is ShardedMap with string keys, sharded by maphash.
type StringShardedMap struct {
	keys   keyTable
	seed   maphash.Seed
	shards []stringShard
}

type stringShard struct {
	mu sync.RWMutex
	m  map[string]int
	_  [32]byte // pad to a cache line, as shard does
}

func newStringSharded(o Options, t keyTable) (Map, error) {
	n := o.Shards
	if n == 0 {
		n = DefaultShards
	}
	if n < 0 {
		return nil, fmt.Errorf("shard count must be positive, got %d", n)
	}
	s := &StringShardedMap{keys: t, seed: maphash.MakeSeed(), shards: make([]stringShard, n)}
	for i := range s.shards {
		s.shards[i].m = map[string]int{}
	}
	return s, nil
}

func (s *StringShardedMap) shardFor(key string) *stringShard {
	return &s.shards[maphash.String(s.seed, key)%uint64(len(s.shards))]
}

func (s *StringShardedMap) Load(k int) (int, bool) {
	key := s.keys.of(k)
	sh := s.shardFor(key)
	sh.mu.RLock()
	v, ok := sh.m[key]
	sh.mu.RUnlock()
	return v, ok
}

func (s *StringShardedMap) Store(k, v int) {
	key := s.keys.of(k)
	sh := s.shardFor(key)
	sh.mu.Lock()
	sh.m[key] = v
	sh.mu.Unlock()
}

func (s *StringShardedMap) Delete(k int) {
	key := s.keys.of(k)
	sh := s.shardFor(key)
	sh.mu.Lock()
	delete(sh.m, key)
	sh.mu.Unlock()
}

func (s *StringShardedMap) Range(f func(k, v int) bool) {
	for i := range s.shards {
		if !s.rangeShard(&s.shards[i], f) {
			return
		}
	}
}

func (s *StringShardedMap) rangeShard(sh *stringShard, f func(k, v int) bool) bool {
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	for key, v := range sh.m {
		if !f(intKey(key), v) {
			return false
		}
	}
	return true
}

// StringSyncMap is SyncMap with string keys.
type StringSyncMap struct {
	keys keyTable
	m    sync.Map
}

func (m *StringSyncMap) Load(k int) (int, bool) {
	v, ok := m.m.Load(m.keys.of(k))
	if !ok {
		return 0, false
	}
	return v.(int), true
}

func (m *StringSyncMap) Store(k, v int) { m.m.Store(m.keys.of(k), v) }

func (m *StringSyncMap) Delete(k int) { m.m.Delete(m.keys.of(k)) }

func (m *StringSyncMap) Range(f func(k, v int) bool) {
	m.m.Range(func(k, v any) bool { return f(intKey(k.(string)), v.(int)) })
}

// StringCOWMap is COWMap with string keys.
type StringCOWMap struct {
	keys    keyTable
	mu      sync.Mutex
	current atomic.Pointer[map[string]int]
}

func newStringCOW(t keyTable) *StringCOWMap {
	m := &StringCOWMap{keys: t}
	empty := map[string]int{}
	m.current.Store(&empty)
	return m
}

func (m *StringCOWMap) Load(k int) (int, bool) {
	v, ok := (*m.current.Load())[m.keys.of(k)]
	return v, ok
}

func (m *StringCOWMap) Store(k, v int) {
	s := m.keys.of(k)
	m.mu.Lock()
	defer m.mu.Unlock()
	next := maps.Clone(*m.current.Load())
	next[s] = v
	m.current.Store(&next)
}

func (m *StringCOWMap) Delete(k int) {
	s := m.keys.of(k)
	m.mu.Lock()
	defer m.mu.Unlock()
	old := *m.current.Load()
	if _, ok := old[s]; !ok {
		return
	}
	next := maps.Clone(old)
	delete(next, s)
	m.current.Store(&next)
}

func (m *StringCOWMap) Range(f func(k, v int) bool) {
	for s, v := range *m.current.Load() {
		if !f(intKey(s), v) {
			return
		}
	}
}

// Fill stores all entries with one clone.
func (m *StringCOWMap) Fill(entries map[int]int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	next := maps.Clone(*m.current.Load())
	for k, v := range entries {
		next[m.keys.of(k)] = v
	}
	m.current.Store(&next)
}

// StringXSyncMap is XSyncMap with string keys.
type StringXSyncMap struct {
	keys keyTable
	m    *xsync.Map[string, int]
}

func (m *StringXSyncMap) Load(k int) (int, bool) { return m.m.Load(m.keys.of(k)) }

func (m *StringXSyncMap) Store(k, v int) { m.m.Store(m.keys.of(k), v) }

func (m *StringXSyncMap) Delete(k int) { m.m.Delete(m.keys.of(k)) }

func (m *StringXSyncMap) Range(f func(k, v int) bool) {
	m.m.Range(func(k string, v int) bool { return f(intKey(k), v) })
}
