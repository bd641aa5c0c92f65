package strategy

import (
	"sync"
	"sync/atomic"
)

// Legacy re-implements the read/dirty design that sync.Map used up to Go
// 1.23, so maplab can show its behaviour (and its profile signature) on a
// current toolchain.
//
// Entries live in a read-only map published through an atomic pointer; a
// load or an overwrite of a key present there takes no lock. Keys added
// since the last promotion live only in the dirty map, under mu; the read
// map is then marked amended. Each lookup that has to fall through to the
// dirty map counts a miss, and once misses reach len(dirty) the dirty map is
// promoted to be the new read map. The next new key then rebuilds a dirty
// map by copying every live entry of the read map (dirtyLocked, O(n)):
// write-heavy and range-heavy use of new keys pays that copy again and again.
type Legacy struct {
	mu     sync.Mutex
	read   atomic.Pointer[legacyReadOnly]
	dirty  map[int]*legacyEntry // nil right after a promotion
	misses int
}

// legacyReadOnly is the immutable snapshot readers see. amended says the
// dirty map holds keys missing here.
type legacyReadOnly struct {
	m       map[int]*legacyEntry
	amended bool
}

// legacyEntry is a slot shared by the read and dirty maps, so a value stored
// through one is seen through the other. Its pointer is:
//   - a value: the key is present;
//   - nil: deleted, but still listed in the dirty map (if there is one);
//   - legacyExpunged: deleted and left out of the dirty map, so it must be
//     un-expunged and re-added to dirty before it can hold a value again.
type legacyEntry struct {
	p atomic.Pointer[int]
}

var legacyExpunged = new(int)

func newLegacyEntry(v int) *legacyEntry {
	e := &legacyEntry{}
	e.p.Store(&v)
	return e
}

func (m *Legacy) loadReadOnly() legacyReadOnly {
	if r := m.read.Load(); r != nil {
		return *r
	}
	return legacyReadOnly{}
}

func (m *Legacy) Load(k int) (int, bool) {
	read := m.loadReadOnly()
	e, ok := read.m[k]
	if !ok && read.amended {
		m.mu.Lock()
		// Re-check under the lock: a promotion may have happened meanwhile.
		read = m.loadReadOnly()
		e, ok = read.m[k]
		if !ok && read.amended {
			e, ok = m.dirty[k]
			m.missLocked()
		}
		m.mu.Unlock()
	}
	if !ok {
		return 0, false
	}
	return e.load()
}

func (e *legacyEntry) load() (int, bool) {
	p := e.p.Load()
	if p == nil || p == legacyExpunged {
		return 0, false
	}
	return *p, true
}

func (m *Legacy) Store(k, v int) {
	read := m.loadReadOnly()
	if e, ok := read.m[k]; ok && e.tryStore(&v) {
		return // overwrite of a key in the read map: lock-free
	}

	m.mu.Lock()
	read = m.loadReadOnly()
	if e, ok := read.m[k]; ok {
		if e.p.CompareAndSwap(legacyExpunged, nil) {
			// The entry was left out of the dirty map; put it back so the
			// next promotion keeps it.
			m.dirty[k] = e
		}
		e.p.Store(&v)
	} else if e, ok := m.dirty[k]; ok {
		e.p.Store(&v)
	} else {
		if !read.amended {
			// First new key since the last promotion.
			m.dirtyLocked()
			m.read.Store(&legacyReadOnly{m: read.m, amended: true})
		}
		m.dirty[k] = newLegacyEntry(v)
	}
	m.mu.Unlock()
}

// tryStore stores v unless the entry is expunged (then the caller must go
// through the dirty map under the lock).
func (e *legacyEntry) tryStore(v *int) bool {
	for {
		p := e.p.Load()
		if p == legacyExpunged {
			return false
		}
		if e.p.CompareAndSwap(p, v) {
			return true
		}
	}
}

func (m *Legacy) Delete(k int) {
	read := m.loadReadOnly()
	e, ok := read.m[k]
	if !ok && read.amended {
		m.mu.Lock()
		read = m.loadReadOnly()
		e, ok = read.m[k]
		if !ok && read.amended {
			e, ok = m.dirty[k]
			delete(m.dirty, k)
			// Counts as a miss: the key was not in the read map.
			m.missLocked()
		}
		m.mu.Unlock()
	}
	if ok {
		e.delete()
	}
}

func (e *legacyEntry) delete() {
	for {
		p := e.p.Load()
		if p == nil || p == legacyExpunged {
			return
		}
		if e.p.CompareAndSwap(p, nil) {
			return
		}
	}
}

// Range promotes the dirty map first when the read map is amended, so that
// it iterates one consistent map without holding the lock; the next new key
// then pays a full dirtyLocked copy.
func (m *Legacy) Range(f func(k, v int) bool) {
	read := m.loadReadOnly()
	if read.amended {
		m.mu.Lock()
		read = m.loadReadOnly()
		if read.amended {
			read = legacyReadOnly{m: m.dirty}
			m.read.Store(&read)
			m.dirty = nil
			m.misses = 0
		}
		m.mu.Unlock()
	}
	for k, e := range read.m {
		v, ok := e.load()
		if !ok {
			continue
		}
		if !f(k, v) {
			return
		}
	}
}

// missLocked counts a lookup that had to consult the dirty map and promotes
// the dirty map once misses have cost as much as copying it did.
func (m *Legacy) missLocked() {
	m.misses++
	if m.misses < len(m.dirty) {
		return
	}
	m.read.Store(&legacyReadOnly{m: m.dirty})
	m.dirty = nil
	m.misses = 0
}

// dirtyLocked rebuilds the dirty map from the read map: an O(n) copy of every
// live entry. Deleted (nil) entries are expunged instead of copied.
func (m *Legacy) dirtyLocked() {
	if m.dirty != nil {
		return
	}
	read := m.loadReadOnly()
	m.dirty = make(map[int]*legacyEntry, len(read.m))
	for k, e := range read.m {
		if !e.tryExpungeLocked() {
			m.dirty[k] = e
		}
	}
}

// tryExpungeLocked marks a deleted entry expunged and reports whether the
// entry is (now) expunged.
func (e *legacyEntry) tryExpungeLocked() bool {
	p := e.p.Load()
	for p == nil {
		if e.p.CompareAndSwap(nil, legacyExpunged) {
			return true
		}
		p = e.p.Load()
	}
	return p == legacyExpunged
}
