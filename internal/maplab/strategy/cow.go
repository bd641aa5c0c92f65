package strategy

import (
	"maps"
	"sync"
	"sync/atomic"
)

// COWMap publishes an immutable Go map through an atomic pointer: readers
// load the pointer and never lock; writers serialize on a mutex, clone the
// whole map, change the clone and publish it. Every write is O(n).
type COWMap struct {
	mu      sync.Mutex // serializes writers
	current atomic.Pointer[map[int]int]
}

// NewCOWMap returns an empty COWMap.
func NewCOWMap() *COWMap {
	m := &COWMap{}
	empty := make(map[int]int)
	m.current.Store(&empty)
	return m
}

func (m *COWMap) Load(k int) (int, bool) {
	v, ok := (*m.current.Load())[k]
	return v, ok
}

func (m *COWMap) Store(k, v int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	next := maps.Clone(*m.current.Load())
	next[k] = v
	m.current.Store(&next)
}

func (m *COWMap) Delete(k int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	old := *m.current.Load()
	if _, ok := old[k]; !ok {
		return // nothing to copy for
	}
	next := maps.Clone(old)
	delete(next, k)
	m.current.Store(&next)
}

// Range iterates the snapshot current at the call; f may call back into the
// map.
func (m *COWMap) Range(f func(k, v int) bool) {
	for k, v := range *m.current.Load() {
		if !f(k, v) {
			return
		}
	}
}

// Fill stores all entries with one clone instead of one per key.
func (m *COWMap) Fill(entries map[int]int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	next := maps.Clone(*m.current.Load())
	maps.Copy(next, entries)
	m.current.Store(&next)
}
