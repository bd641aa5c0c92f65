package mutex

import "strings"

// primitive is what a single frame says about how a stack locks.
type primitive uint8

const (
	primNone primitive = iota
	primMutex
	primRWRead
	primRWWrite
	primSyncMap     // sync.(*Map).*
	primHashTrieMap // internal/sync.(*HashTrieMap[...]).*
	primWaitGroup
	primCond
	primChan
	primSelect
	primRuntimeLock // runtime.unlock*, runtime._LostContendedRuntimeLock
)

// primitiveOf reads a frame's role from its package, receiver and name.
// Receivers are matched after symbol.CollapseTypeArgs, so both spellings of a
// generic frame match.
func primitiveOf(f *frame) primitive {
	switch f.Pkg {
	case "sync":
		switch f.Recv {
		case "(*Mutex)":
			return primMutex
		case "(*RWMutex)":
			if isReadMethod(f.Func) {
				return primRWRead
			}
			return primRWWrite
		case "(*rlocker)": // RWMutex.RLocker()
			return primRWRead
		case "(*Map)":
			return primSyncMap
		case "(*WaitGroup)":
			return primWaitGroup
		case "(*Cond)":
			return primCond
		}
	case "internal/sync":
		switch {
		case f.Recv == "(*Mutex)":
			return primMutex
		case strings.HasPrefix(f.Recv, "(*HashTrieMap["):
			return primHashTrieMap
		}
	case "internal/poll":
		if f.Recv == "(*fdMutex)" {
			return primMutex
		}
	case "runtime":
		switch {
		case strings.HasPrefix(f.Func, "unlock"), f.Func == "_LostContendedRuntimeLock":
			return primRuntimeLock
		case f.Func == "selectgo", f.Func == "block": // block: select {}
			return primSelect
		case strings.HasPrefix(f.Func, "chan"):
			return primChan
		}
	}
	return primNone
}

// isReadMethod tells the reader side of an RWMutex: RLock, RUnlock,
// TryRLock, and the slow path rUnlockSlow.
func isReadMethod(method string) bool {
	return strings.HasPrefix(method, "R") || strings.HasPrefix(method, "rUnlock") || method == "TryRLock"
}

// isRuntimeLeaf tells a runtime-internal lock stack: its leaf is the
// runtime's own unlock, or the placeholder the runtime records when it
// could not keep the stack. Such stacks are reported apart even when user
// code is further up (a malloc that started a GC), because no user lock
// was involved.
func isRuntimeLeaf(frames []*frame) bool {
	return len(frames) > 0 && frames[0].prim == primRuntimeLock
}

// kindOf classifies a stack from its primitive frames, leaf first, up to
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
func kindOf(prims []*frame) Kind {
	innermost := -1
	for i, f := range prims {
		if f.prim != primNone {
			innermost = i
			break
		}
	}
	if innermost < 0 {
		return KindOther
	}
	outer := prims[innermost+1:]
	switch prims[innermost].prim {
	case primMutex:
		sawTrie := false
		for _, f := range outer {
			switch f.prim {
			case primRWRead:
				return KindRWMutexRead
			case primRWWrite:
				return KindRWMutexWrite
			case primHashTrieMap:
				sawTrie = true
			case primSyncMap:
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
	case primHashTrieMap:
		for _, f := range outer {
			if f.prim == primSyncMap {
				return KindSyncMap
			}
		}
		return KindOther
	case primSyncMap:
		// A map frame with no lock frame under it: only the legacy map's
		// Mutex could have been dropped this way.
		return KindSyncMapLegacy
	case primRWRead:
		return KindRWMutexRead
	case primRWWrite:
		return KindRWMutexWrite
	case primWaitGroup:
		return KindWaitGroup
	case primCond:
		return KindCond
	case primChan:
		return KindChan
	case primSelect:
		return KindSelect
	case primRuntimeLock:
		return KindRuntime
	}
	return KindOther
}

// class groups kinds for totals, shares and the lock fraction: lock waits
// (what /sync/mutex/wait/total counts), other blocking (channels,
// WaitGroup, Cond — waiting for work or for an event, not for a lock), and
// runtime-internal locks.
type class uint8

const (
	classLock class = iota
	classBlocking
	classRuntime
)

func classOf(k Kind) class {
	switch k {
	case KindChan, KindSelect, KindWaitGroup, KindCond:
		return classBlocking
	case KindRuntime:
		return classRuntime
	}
	// KindOther stays with the locks: the mutex profile records only lock
	// hand-offs, and the block profile's non-lock waits are all named above.
	return classLock
}

// locate finds the lock site in a leaf-first stack: the first frame outside
// the lock machinery, and the primitive it called (the frame just below).
// For a runtime-internal lock the site is the runtime function that held
// the lock. A stack with no frame outside the machinery is sited at its
// outermost frame.
func locate(frames []*frame) (site, prim int) {
	if len(frames) == 0 {
		return -1, -1
	}
	if isRuntimeLeaf(frames) {
		site = 0
		for site < len(frames)-1 && frames[site].prim == primRuntimeLock {
			site++
		}
		return site, max(site-1, 0)
	}
	site = len(frames) - 1
	for i, f := range frames {
		if !f.machinery {
			site = i
			break
		}
	}
	return site, site - 1
}
