package main

import (
	"hash/maphash"
	"maps"
	"sync"
	"sync/atomic"

	"github.com/puzpuzpuz/xsync/v4"
)

// Map is what every workload needs from a concurrent map. Each
// implementation below is written the way a Go developer would write it
// for a service, without regard to how contendr reads profiles.
type Map[K comparable, V any] interface {
	Load(key K) (V, bool)
	Store(key K, value V)
	Delete(key K)
	// Update replaces key's value with f(old, loaded), atomically for that
	// key. Implementations that compare values (sync.Map) need a
	// comparable V.
	Update(key K, f func(old V, loaded bool) V)
	// Range calls f for every entry until f returns false.
	Range(f func(key K, value V) bool)
}

// fill loads entries into m before a benchmark starts, in one copy when m
// can take them at once.
func fill[K comparable, V any](m Map[K, V], entries map[K]V) {
	if bulk, ok := m.(interface{ StoreAll(map[K]V) }); ok {
		bulk.StoreAll(entries)
		return
	}
	for k, v := range entries {
		m.Store(k, v)
	}
}

// LockedMap is a map behind one sync.Mutex.
type LockedMap[K comparable, V any] struct {
	mu sync.Mutex
	m  map[K]V
}

func NewLockedMap[K comparable, V any]() *LockedMap[K, V] {
	return &LockedMap[K, V]{m: make(map[K]V)}
}

func (c *LockedMap[K, V]) Load(key K) (V, bool) {
	c.mu.Lock()
	v, ok := c.m[key]
	c.mu.Unlock()
	return v, ok
}

func (c *LockedMap[K, V]) Store(key K, value V) {
	c.mu.Lock()
	c.m[key] = value
	c.mu.Unlock()
}

func (c *LockedMap[K, V]) Delete(key K) {
	c.mu.Lock()
	delete(c.m, key)
	c.mu.Unlock()
}

func (c *LockedMap[K, V]) Update(key K, f func(V, bool) V) {
	c.mu.Lock()
	old, ok := c.m[key]
	c.m[key] = f(old, ok)
	c.mu.Unlock()
}

func (c *LockedMap[K, V]) Range(f func(K, V) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, v := range c.m {
		if !f(k, v) {
			return
		}
	}
}

// RWMap is a map behind one sync.RWMutex: readers share the lock.
type RWMap[K comparable, V any] struct {
	mu sync.RWMutex
	m  map[K]V
}

func NewRWMap[K comparable, V any]() *RWMap[K, V] {
	return &RWMap[K, V]{m: make(map[K]V)}
}

func (c *RWMap[K, V]) Load(key K) (V, bool) {
	c.mu.RLock()
	v, ok := c.m[key]
	c.mu.RUnlock()
	return v, ok
}

func (c *RWMap[K, V]) Store(key K, value V) {
	c.mu.Lock()
	c.m[key] = value
	c.mu.Unlock()
}

func (c *RWMap[K, V]) Delete(key K) {
	c.mu.Lock()
	delete(c.m, key)
	c.mu.Unlock()
}

func (c *RWMap[K, V]) Update(key K, f func(V, bool) V) {
	c.mu.Lock()
	old, ok := c.m[key]
	c.m[key] = f(old, ok)
	c.mu.Unlock()
}

func (c *RWMap[K, V]) Range(f func(K, V) bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	for k, v := range c.m {
		if !f(k, v) {
			return
		}
	}
}

// shardCount is the number of shards of a ShardedMap, as in the popular
// concurrent-map packages.
const shardCount = 32

// ShardedMap spreads keys over shardCount RWMutex-guarded maps by hash.
type ShardedMap[K comparable, V any] struct {
	seed   maphash.Seed
	shards [shardCount]struct {
		sync.RWMutex
		m map[K]V
		_ [40]byte // keep neighbouring shards' locks off one cache line
	}
}

func NewShardedMap[K comparable, V any]() *ShardedMap[K, V] {
	s := &ShardedMap[K, V]{seed: maphash.MakeSeed()}
	for i := range s.shards {
		s.shards[i].m = make(map[K]V)
	}
	return s
}

func (s *ShardedMap[K, V]) shard(key K) int {
	return int(maphash.Comparable(s.seed, key) % shardCount)
}

func (s *ShardedMap[K, V]) Load(key K) (V, bool) {
	sh := &s.shards[s.shard(key)]
	sh.RLock()
	v, ok := sh.m[key]
	sh.RUnlock()
	return v, ok
}

func (s *ShardedMap[K, V]) Store(key K, value V) {
	sh := &s.shards[s.shard(key)]
	sh.Lock()
	sh.m[key] = value
	sh.Unlock()
}

func (s *ShardedMap[K, V]) Delete(key K) {
	sh := &s.shards[s.shard(key)]
	sh.Lock()
	delete(sh.m, key)
	sh.Unlock()
}

func (s *ShardedMap[K, V]) Update(key K, f func(V, bool) V) {
	sh := &s.shards[s.shard(key)]
	sh.Lock()
	old, ok := sh.m[key]
	sh.m[key] = f(old, ok)
	sh.Unlock()
}

func (s *ShardedMap[K, V]) Range(f func(K, V) bool) {
	for i := range s.shards {
		sh := &s.shards[i]
		sh.RLock()
		for k, v := range sh.m {
			if !f(k, v) {
				sh.RUnlock()
				return
			}
		}
		sh.RUnlock()
	}
}

// SyncMap is the standard library's sync.Map with types on it.
type SyncMap[K comparable, V any] struct {
	m sync.Map
}

func NewSyncMap[K comparable, V any]() *SyncMap[K, V] { return &SyncMap[K, V]{} }

func (c *SyncMap[K, V]) Load(key K) (V, bool) {
	v, ok := c.m.Load(key)
	if !ok {
		var zero V
		return zero, false
	}
	return v.(V), true
}

func (c *SyncMap[K, V]) Store(key K, value V) { c.m.Store(key, value) }

func (c *SyncMap[K, V]) Delete(key K) { c.m.Delete(key) }

// Update is a compare-and-swap loop, sync.Map's way to change a value
// atomically.
func (c *SyncMap[K, V]) Update(key K, f func(V, bool) V) {
	for {
		old, ok := c.m.Load(key)
		if !ok {
			var zero V
			if _, loaded := c.m.LoadOrStore(key, f(zero, false)); !loaded {
				return
			}
			continue
		}
		if c.m.CompareAndSwap(key, old, f(old.(V), true)) {
			return
		}
	}
}

func (c *SyncMap[K, V]) Range(f func(K, V) bool) {
	c.m.Range(func(k, v any) bool { return f(k.(K), v.(V)) })
}

// SnapshotMap is copy-on-write: readers load an immutable map through an
// atomic.Pointer; writers, one at a time, copy it, change the copy and
// publish it.
type SnapshotMap[K comparable, V any] struct {
	writer  sync.Mutex
	current atomic.Pointer[map[K]V]
}

func NewSnapshotMap[K comparable, V any]() *SnapshotMap[K, V] {
	s := &SnapshotMap[K, V]{}
	m := make(map[K]V)
	s.current.Store(&m)
	return s
}

func (s *SnapshotMap[K, V]) Load(key K) (V, bool) {
	v, ok := (*s.current.Load())[key]
	return v, ok
}

func (s *SnapshotMap[K, V]) modify(change func(m map[K]V)) {
	s.writer.Lock()
	next := maps.Clone(*s.current.Load())
	change(next)
	s.current.Store(&next)
	s.writer.Unlock()
}

func (s *SnapshotMap[K, V]) Store(key K, value V) {
	s.modify(func(m map[K]V) { m[key] = value })
}

func (s *SnapshotMap[K, V]) Delete(key K) {
	s.modify(func(m map[K]V) { delete(m, key) })
}

func (s *SnapshotMap[K, V]) Update(key K, f func(V, bool) V) {
	s.modify(func(m map[K]V) {
		old, ok := m[key]
		m[key] = f(old, ok)
	})
}

// StoreAll stores every entry of entries with one copy, the way to load a
// copy-on-write map (one Store per entry would copy it once per entry).
func (s *SnapshotMap[K, V]) StoreAll(entries map[K]V) {
	s.modify(func(m map[K]V) { maps.Copy(m, entries) })
}

func (s *SnapshotMap[K, V]) Range(f func(K, V) bool) {
	for k, v := range *s.current.Load() {
		if !f(k, v) {
			return
		}
	}
}

// XsyncMap is github.com/puzpuzpuz/xsync's Map.
type XsyncMap[K comparable, V any] struct {
	m *xsync.Map[K, V]
}

func NewXsyncMap[K comparable, V any]() *XsyncMap[K, V] {
	return &XsyncMap[K, V]{m: xsync.NewMap[K, V]()}
}

func (c *XsyncMap[K, V]) Load(key K) (V, bool) { return c.m.Load(key) }

func (c *XsyncMap[K, V]) Store(key K, value V) { c.m.Store(key, value) }

func (c *XsyncMap[K, V]) Delete(key K) { c.m.Delete(key) }

func (c *XsyncMap[K, V]) Update(key K, f func(V, bool) V) {
	c.m.Compute(key, func(old V, loaded bool) (V, xsync.ComputeOp) {
		return f(old, loaded), xsync.UpdateOp
	})
}

func (c *XsyncMap[K, V]) Range(f func(K, V) bool) { c.m.Range(f) }
