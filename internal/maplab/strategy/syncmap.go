package strategy

import "sync"

// SyncMap is the standard library's sync.Map (a HashTrieMap since Go 1.24)
// with the interface's int types.
type SyncMap struct {
	m sync.Map
}

func (m *SyncMap) Load(k int) (int, bool) {
	v, ok := m.m.Load(k)
	if !ok {
		return 0, false
	}
	return v.(int), true
}

func (m *SyncMap) Store(k, v int) { m.m.Store(k, v) }

func (m *SyncMap) Delete(k int) { m.m.Delete(k) }

func (m *SyncMap) Range(f func(k, v int) bool) {
	m.m.Range(func(k, v any) bool { return f(k.(int), v.(int)) })
}
