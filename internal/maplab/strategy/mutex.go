package strategy

import "sync"

// MutexMap is a Go map guarded by one sync.Mutex: every operation, read or
// write, serializes on the same lock.
type MutexMap struct {
	mu sync.Mutex
	m  map[int]int
}

// NewMutexMap returns an empty MutexMap.
func NewMutexMap() *MutexMap { return &MutexMap{m: make(map[int]int)} }

func (m *MutexMap) Load(k int) (int, bool) {
	m.mu.Lock()
	v, ok := m.m[k]
	m.mu.Unlock()
	return v, ok
}

func (m *MutexMap) Store(k, v int) {
	m.mu.Lock()
	m.m[k] = v
	m.mu.Unlock()
}

func (m *MutexMap) Delete(k int) {
	m.mu.Lock()
	delete(m.m, k)
	m.mu.Unlock()
}

// Range holds the lock for the whole iteration, as a typical cache's
// "snapshot under lock" code does; f must not call back into the map.
func (m *MutexMap) Range(f func(k, v int) bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k, v := range m.m {
		if !f(k, v) {
			return
		}
	}
}
