package strategy

import "sync"

// RWMap is a Go map guarded by one sync.RWMutex: loads and ranges share the
// read lock, writes take it exclusively.
type RWMap struct {
	mu sync.RWMutex
	m  map[int]int
}

// NewRWMap returns an empty RWMap.
func NewRWMap() *RWMap { return &RWMap{m: make(map[int]int)} }

func (m *RWMap) Load(k int) (int, bool) {
	m.mu.RLock()
	v, ok := m.m[k]
	m.mu.RUnlock()
	return v, ok
}

func (m *RWMap) Store(k, v int) {
	m.mu.Lock()
	m.m[k] = v
	m.mu.Unlock()
}

func (m *RWMap) Delete(k int) {
	m.mu.Lock()
	delete(m.m, k)
	m.mu.Unlock()
}

// Range holds the read lock for the whole iteration; f must not call back
// into the map's write methods.
func (m *RWMap) Range(f func(k, v int) bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	for k, v := range m.m {
		if !f(k, v) {
			return
		}
	}
}
