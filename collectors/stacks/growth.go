package stacks

import "strings"

// GrowthKind names the map machinery that allocated.
type GrowthKind string

// Growth kinds (DESIGN.md, "Dirty-map growth").
const (
	GrowthSyncMapDirty GrowthKind = "syncmap-dirty-copy" // legacy sync.(*Map).dirtyLocked
	GrowthHashTrieMap  GrowthKind = "hashtriemap-node"   // newEntryNode / newIndirectNode
	GrowthGoMap        GrowthKind = "gomap-grow"         // internal/runtime/maps, runtime.makemap*
	GrowthCOWClone     GrowthKind = "cow-clone"          // maps.Clone or a copy loop in a writer
)

// growthRole is what one frame says about map growth.
type growthRole uint8

const (
	growthNone      growthRole = iota
	growthTrieNode             // internal/sync.newEntryNode / newIndirectNode
	growthTrieOther            // other HashTrieMap bookkeeping
	growthSyncMap              // sync.(*Map).*, not dirtyLocked
	growthDirtyCopy            // sync.(*Map).dirtyLocked
	growthClone                // maps.Clone, runtime.mapclone…
	growthMakeMap              // runtime.makemap*
	growthGoMap                // internal/runtime/maps.*, mapassign, hashGrow…
)

func growthRoleOf(f *Frame) growthRole {
	fn := f.Name
	switch {
	case strings.HasPrefix(fn, "internal/sync.newEntryNode"), strings.HasPrefix(fn, "internal/sync.newIndirectNode"):
		return growthTrieNode
	case strings.HasPrefix(fn, "internal/sync.(*HashTrieMap"), strings.HasPrefix(fn, "internal/sync.(*entry"),
		strings.HasPrefix(fn, "internal/sync.(*indirect"):
		return growthTrieOther
	case fn == "sync.(*Map).dirtyLocked":
		return growthDirtyCopy
	case strings.HasPrefix(fn, "sync.(*Map)."):
		return growthSyncMap
	case strings.HasPrefix(fn, "maps.Clone"), fn == "maps.clone", fn == "runtime.mapclone", fn == "runtime.maps_clone",
		strings.HasPrefix(fn, "internal/runtime/maps.(*Map).Clone"), strings.HasPrefix(fn, "runtime.mapclone2"):
		return growthClone
	case strings.HasPrefix(fn, "runtime.makemap"):
		return growthMakeMap
	case strings.HasPrefix(fn, "internal/runtime/maps."), strings.HasPrefix(fn, "runtime.mapassign"),
		fn == "runtime.hashGrow", fn == "runtime.growWork", fn == "runtime.(*hmap).newoverflow", fn == "runtime.makeBucketArray":
		return growthGoMap
	}
	return growthNone
}

// growthMachinery covers the packages a map's growth happens in; the
// fallback blame goes to the first frame outside them when no frame looks
// like user code.
func (f *Frame) growthMachinery() bool {
	switch f.Pkg {
	case "runtime", "sync", "maps", "unique":
		return true
	}
	return strings.HasPrefix(f.Pkg, "internal/")
}

// GrowthKey groups allocation by map growth per user function and kind.
type GrowthKey struct {
	Function string
	Kind     GrowthKind
	// Inferred marks growth read from a lock-taking function's own
	// allocation, runtime/pprof having hidden the map frames (rule 5).
	Inferred bool
}

// How an allocation sample is recognised as map growth.
//
// Frames are read leaf first. The machinery must sit below the first user
// frame (between it and the allocation); the user frame and its component
// take the blame. In order:
//
//  1. Go ≥1.24 sync.Map: internal/sync.newEntryNode/newIndirectNode under
//     sync.(*Map).* (unique.Make uses the same HashTrieMap: not the user's
//     map, not counted);
//  2. legacy sync.Map: a sync.(*Map).* frame with no HashTrieMap frame —
//     dirtyLocked's O(n) copy plus what the map allocates on writes
//     (entries, boxed values, the dirty map's growth), but not the sudogs
//     of goroutines waiting on its mutex;
//  3. copy-on-write: maps.Clone, runtime.mapclone/maps_clone,
//     internal/runtime/maps.(*Map).Clone;
//  4. Go map growth: internal/runtime/maps.*, runtime.makemap*,
//     runtime.mapassign*, and the pre-1.24 hashGrow/growWork/newoverflow.
//     A writer that both makes a new map (makemap) and fills it (mapassign)
//     is a copy loop: collectors/gc reports its growth as copy-on-write;
//  5. hidden Go map growth: runtime/pprof drops the runtime and
//     internal/runtime frames at the top of every heap stack
//     (runtime/pprof/protomem.go), so a map that grows in user code shows
//     as an allocation in the user function itself, indistinguishable by
//     frames from new(T). Such a sample counts as Go map growth when its
//     leaf function takes a sync.Mutex or sync.RWMutex itself (seen in any
//     of the window's profiles): the lock-guarded map the recommendation is
//     about. It is marked Inferred.
//
// classifyGrowth returns the growth key of one allocation stack, whether
// the stack made a new map (makemap), and ok=false when the sample is not
// map growth.
func classifyGrowth(stack []*Frame, lockTakers map[*Frame]bool) (key GrowthKey, makesMap, ok bool) {
	user := -1
	for i, f := range stack {
		if f.User {
			user = i
			break
		}
	}
	if user < 0 {
		for i, f := range stack {
			if !f.growthMachinery() {
				user = i
				break
			}
		}
	}
	if user < 0 {
		return GrowthKey{}, false, false
	}
	var has [growthGoMap + 1]bool
	lockBelow := false
	for _, f := range stack[:user] {
		has[f.Growth] = true
		if f.Prim == PrimMutex || f.Prim == PrimRWRead || f.Prim == PrimRWWrite {
			lockBelow = true
		}
	}
	key.Function = stack[user].Name
	syncMap := has[growthSyncMap] || has[growthDirtyCopy]
	switch {
	case syncMap && has[growthTrieNode]:
		key.Kind = GrowthHashTrieMap
	case syncMap && has[growthTrieOther]:
		return GrowthKey{}, false, false // other HashTrieMap bookkeeping, not growth
	case syncMap && lockBelow && !has[growthDirtyCopy]:
		return GrowthKey{}, false, false // waiting on the legacy map's lock (a sudog), not growth
	case syncMap:
		key.Kind = GrowthSyncMapDirty
	case strings.HasSuffix(key.Function, ").dirtyLocked"):
		// A read/dirty map of the user's own (a fork of the Go ≤1.23
		// sync.Map, such as maplab's legacy strategy): its dirtyLocked
		// method copies the read map, and runtime/pprof hides the map
		// frames under it.
		key.Kind = GrowthSyncMapDirty
	case has[growthClone]:
		key.Kind = GrowthCOWClone
	case has[growthGoMap] || has[growthMakeMap]:
		key.Kind = GrowthGoMap
	case user == 0 && lockTakers[stack[user]]: // nil lockTakers: decided by the caller
		key.Kind, key.Inferred = GrowthGoMap, true
	default:
		return GrowthKey{}, false, false
	}
	return key, key.Kind == GrowthGoMap && has[growthMakeMap], true
}

// lockTaker returns the user frame directly above a sync.Mutex or
// sync.RWMutex frame (nil when there is none, or when the lock is
// sync.Map's own).
func lockTaker(stack []*Frame) *Frame {
	for i, f := range stack {
		if !f.Prim.IsLock() || f.Pkg == "internal/poll" {
			continue
		}
		for _, above := range stack[i+1:] {
			switch {
			case above.Prim == PrimSyncMap:
				return nil
			case above.Pkg == "runtime" || above.Pkg == "sync" || strings.HasPrefix(above.Pkg, "internal/"):
				continue
			case above.User:
				return above
			default:
				return nil
			}
		}
	}
	return nil
}
