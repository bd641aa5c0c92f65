package stacks

import "strings"

// Primitive is what a single frame says about how a stack locks.
type Primitive uint8

// Lock primitives a frame can belong to.
const (
	PrimNone Primitive = iota
	PrimMutex
	PrimRWRead
	PrimRWWrite
	PrimSyncMap     // sync.(*Map).*
	PrimHashTrieMap // internal/sync.(*HashTrieMap[...]).*
	PrimWaitGroup
	PrimCond
	PrimChan
	PrimSelect
	PrimRuntimeLock // runtime.unlock*, runtime._LostContendedRuntimeLock
)

// IsLock tells the primitives whose CPU is lock cost: sync.Mutex,
// sync.RWMutex (both sides, the reader-count atomics included),
// internal/sync.Mutex (sync.Map's and HashTrieMap's) and internal/poll's
// fdMutex. A HashTrieMap or sync.Map frame alone is map work, not lock
// work: its lookups take no lock.
func (p Primitive) IsLock() bool {
	return p == PrimMutex || p == PrimRWRead || p == PrimRWWrite
}

// primitiveOf reads a frame's role from its package, receiver and name.
// Receivers are matched after symbol.CollapseTypeArgs, so both spellings of a
// generic frame match.
func primitiveOf(f *Frame) Primitive {
	switch f.Pkg {
	case "sync":
		switch f.Recv {
		case "(*Mutex)":
			return PrimMutex
		case "(*RWMutex)":
			if isReadMethod(f.Func) {
				return PrimRWRead
			}
			return PrimRWWrite
		case "(*rlocker)": // RWMutex.RLocker()
			return PrimRWRead
		case "(*Map)":
			return PrimSyncMap
		case "(*WaitGroup)":
			return PrimWaitGroup
		case "(*Cond)":
			return PrimCond
		}
	case "internal/sync":
		switch {
		case f.Recv == "(*Mutex)":
			return PrimMutex
		case strings.HasPrefix(f.Recv, "(*HashTrieMap["):
			return PrimHashTrieMap
		}
	case "internal/poll":
		if f.Recv == "(*fdMutex)" {
			return PrimMutex
		}
	case "runtime":
		switch {
		case strings.HasPrefix(f.Func, "unlock"), f.Func == "_LostContendedRuntimeLock":
			return PrimRuntimeLock
		case f.Func == "selectgo", f.Func == "block": // block: select {}
			return PrimSelect
		case strings.HasPrefix(f.Func, "chan"):
			return PrimChan
		}
	}
	return PrimNone
}

// isReadMethod tells the reader side of an RWMutex: RLock, RUnlock,
// TryRLock, and the slow path rUnlockSlow.
func isReadMethod(method string) bool {
	return strings.HasPrefix(method, "R") || strings.HasPrefix(method, "rUnlock") || method == "TryRLock"
}

// Kind is how a lock site locks, read from the frames under it.
type Kind string

// Lock kinds (DESIGN.md, "Lock kind").
const (
	KindMutex         Kind = "mutex"
	KindRWMutexWrite  Kind = "rwmutex-write"
	KindRWMutexRead   Kind = "rwmutex-read"
	KindSyncMap       Kind = "syncmap"        // Go ≥1.24 HashTrieMap under sync.(*Map)
	KindSyncMapLegacy Kind = "syncmap-legacy" // read/dirty sync.Map: Mutex under sync.(*Map)
	KindChan          Kind = "chan"
	KindSelect        Kind = "select"
	KindWaitGroup     Kind = "waitgroup"
	KindCond          Kind = "cond"
	KindRuntime       Kind = "runtime" // runtime-internal locks; never blamed on user code
	KindOther         Kind = "other"
)

// IsRuntimeLeaf tells a runtime-internal lock stack: its leaf is the
// runtime's own unlock, or the placeholder the runtime records when it
// could not keep the stack. Such stacks are reported apart even when user
// code is further up (a malloc that started a GC), because no user lock
// was involved.
func IsRuntimeLeaf(frames []*Frame) bool {
	return len(frames) > 0 && frames[0].Prim == PrimRuntimeLock
}

// KindOf classifies a stack from its primitive frames, leaf first, up to
// (not including) the lock site. The innermost primitive decides, and only
// the wrappers that are built on it may refine it outward:
//
//   - sync.(*Mutex) under sync.(*RWMutex) is the RWMutex's writer lock;
//   - sync.(*Mutex) under sync.(*Map) is the legacy read/dirty map;
//   - internal/sync.(*HashTrieMap[…]) under sync.(*Map) is the Go ≥1.24
//     map; without sync.(*Map) (unique.Make) it is not a sync.Map: other;
//   - channel and select waits are never refined: a chanrecv deep inside a
//     GC that a sync.Map store triggered is a channel wait, not the map's.
//
// A Cond or WaitGroup never wraps: a Mutex.Lock under Cond.Wait is the
// relock of the Cond's mutex, a mutex wait.
func KindOf(prims []*Frame) Kind {
	innermost := -1
	for i, f := range prims {
		if f.Prim != PrimNone {
			innermost = i
			break
		}
	}
	if innermost < 0 {
		return KindOther
	}
	outer := prims[innermost+1:]
	switch prims[innermost].Prim {
	case PrimMutex:
		sawTrie := false
		for _, f := range outer {
			switch f.Prim {
			case PrimRWRead:
				return KindRWMutexRead
			case PrimRWWrite:
				return KindRWMutexWrite
			case PrimHashTrieMap:
				sawTrie = true
			case PrimSyncMap:
				if sawTrie {
					return KindSyncMap
				}
				return KindSyncMapLegacy
			}
		}
		if sawTrie {
			return KindOther
		}
		return KindMutex
	case PrimHashTrieMap:
		for _, f := range outer {
			if f.Prim == PrimSyncMap {
				return KindSyncMap
			}
		}
		return KindOther
	case PrimSyncMap:
		// A map frame with no lock frame under it: only the legacy map's
		// Mutex could have been dropped this way.
		return KindSyncMapLegacy
	case PrimRWRead:
		return KindRWMutexRead
	case PrimRWWrite:
		return KindRWMutexWrite
	case PrimWaitGroup:
		return KindWaitGroup
	case PrimCond:
		return KindCond
	case PrimChan:
		return KindChan
	case PrimSelect:
		return KindSelect
	case PrimRuntimeLock:
		return KindRuntime
	}
	return KindOther
}

// Class groups kinds for totals, shares and the lock figures: lock waits
// (what /sync/mutex/wait/total counts), other blocking (channels,
// WaitGroup, Cond — waiting for work or for an event, not for a lock), and
// runtime-internal locks.
type Class uint8

// Classes of kinds.
const (
	ClassLock Class = iota
	ClassBlocking
	ClassRuntime
	numClasses
)

// ClassOf is the class of a kind.
func ClassOf(k Kind) Class {
	switch k {
	case KindChan, KindSelect, KindWaitGroup, KindCond:
		return ClassBlocking
	case KindRuntime:
		return ClassRuntime
	}
	// KindOther stays with the locks: the mutex profile records only lock
	// hand-offs, and the block profile's non-lock waits are all named above.
	return ClassLock
}

// Locate finds the lock site in a leaf-first stack: the first frame outside
// the lock machinery, and the primitive it called (the frame just below).
// For a runtime-internal lock the site is the runtime function that held
// the lock. A stack with no frame outside the machinery is sited at its
// outermost frame.
func Locate(frames []*Frame) (site, prim int) {
	if len(frames) == 0 {
		return -1, -1
	}
	if IsRuntimeLeaf(frames) {
		site = 0
		for site < len(frames)-1 && frames[site].Prim == PrimRuntimeLock {
			site++
		}
		return site, max(site-1, 0)
	}
	site = len(frames) - 1
	for i, f := range frames {
		if !f.Machinery {
			site = i
			break
		}
	}
	return site, site - 1
}
