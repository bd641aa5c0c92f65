package strategy

import "github.com/puzpuzpuz/xsync/v4"

// XSyncMap is puzpuzpuz/xsync's Map, a cache-line bucketed hash table whose
// reads take no lock; the third-party option in recommendations.
type XSyncMap struct {
	m *xsync.Map[int, int]
}

// NewXSyncMap returns an empty XSyncMap.
func NewXSyncMap() *XSyncMap { return &XSyncMap{m: xsync.NewMap[int, int]()} }

func (m *XSyncMap) Load(k int) (int, bool) { return m.m.Load(k) }

func (m *XSyncMap) Store(k, v int) { m.m.Store(k, v) }

func (m *XSyncMap) Delete(k int) { m.m.Delete(k) }

func (m *XSyncMap) Range(f func(k, v int) bool) { m.m.Range(f) }
