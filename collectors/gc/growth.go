package gc

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/contendr/contendr/window"
	"github.com/google/pprof/profile"
)

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
//     is a copy loop: its growth is reported as copy-on-write;
//  5. hidden Go map growth: runtime/pprof drops the runtime and
//     internal/runtime frames at the top of every heap stack
//     (runtime/pprof/protomem.go), so a map that grows in user code shows
//     as an allocation in the user function itself, indistinguishable by
//     frames from new(T). Such a sample counts as Go map growth when its
//     leaf function takes a sync.Mutex or sync.RWMutex itself (seen in any
//     of the window's profiles): the lock-guarded map the recommendation is
//     about. It is marked Inferred.

// growthKey groups samples per user function and kind.
type growthKey struct {
	function string
	kind     GrowthKind
	inferred bool
}

// classifier decides, per sample, whether it is map growth and whose.
type classifier struct {
	// lockTakers are user functions seen taking a sync.Mutex/RWMutex.
	lockTakers map[string]bool
}

// newClassifier learns which user functions take locks from every profile
// of the window that has stacks.
func newClassifier(w *window.Window) *classifier {
	c := &classifier{lockTakers: map[string]bool{}}
	for _, k := range []window.ProfileKind{window.Mutex, window.Block, window.Allocs, window.CPU, window.Heap} {
		p := w.Profile(k)
		if p == nil {
			continue
		}
		for _, s := range p.Sample {
			if fn := lockTaker(frames(s)); fn != "" {
				c.lockTakers[fn] = true
			}
		}
	}
	return c
}

// lockTaker returns the user function directly above a sync.Mutex or
// sync.RWMutex frame ("" when there is none, or when the lock is sync.Map's
// own).
func lockTaker(stack []string) string {
	for i, fn := range stack {
		if !isLockPrimitive(fn) {
			continue
		}
		for _, above := range stack[i+1:] {
			switch {
			case strings.HasPrefix(above, "sync.(*Map)."):
				return ""
			case isRuntimeOrSync(above):
				continue
			case isUserFrame(above):
				return above
			default:
				return ""
			}
		}
	}
	return ""
}

func isLockPrimitive(fn string) bool {
	return strings.HasPrefix(fn, "sync.(*Mutex).") || strings.HasPrefix(fn, "sync.(*RWMutex).") ||
		strings.HasPrefix(fn, "internal/sync.(*Mutex).")
}

// classify returns the growth kind of one allocation stack and the user
// function to blame, or ok=false when the sample is not map growth.
func (c *classifier) classify(stack []string) (key growthKey, ok bool) {
	user := slices.IndexFunc(stack, isUserFrame)
	if user < 0 {
		user = slices.IndexFunc(stack, func(fn string) bool { return !isMachineryPackage(fn) })
	}
	if user < 0 {
		return growthKey{}, false
	}
	below := stack[:user]
	key.function = stack[user]
	has := func(match func(string) bool) bool { return slices.ContainsFunc(below, match) }
	syncMap := has(func(fn string) bool { return strings.HasPrefix(fn, "sync.(*Map).") })
	switch {
	case syncMap && has(isHashTrieNode):
		key.kind = GrowthHashTrieMap
	case syncMap && has(isHashTrieMap):
		return growthKey{}, false // other HashTrieMap bookkeeping, not growth
	case syncMap && has(isLockPrimitive) && !has(isDirtyCopy):
		return growthKey{}, false // waiting on the legacy map's lock (a sudog), not growth
	case syncMap:
		key.kind = GrowthSyncMapDirty
	case isDirtyCopyMethod(key.function):
		// A read/dirty map of the user's own (a fork of the Go ≤1.23
		// sync.Map, such as maplab's legacy strategy): its dirtyLocked
		// method copies the read map, and runtime/pprof hides the map
		// frames under it.
		key.kind = GrowthSyncMapDirty
	case has(isClone):
		key.kind = GrowthCOWClone
	case has(isGoMapGrowth):
		key.kind = GrowthGoMap
	case user == 0 && c.lockTakers[key.function]:
		key.kind, key.inferred = GrowthGoMap, true
	default:
		return growthKey{}, false
	}
	return key, true
}

func isHashTrieNode(fn string) bool {
	return strings.HasPrefix(fn, "internal/sync.newEntryNode") || strings.HasPrefix(fn, "internal/sync.newIndirectNode")
}

func isHashTrieMap(fn string) bool {
	return strings.HasPrefix(fn, "internal/sync.(*HashTrieMap") || strings.HasPrefix(fn, "internal/sync.(*entry") ||
		strings.HasPrefix(fn, "internal/sync.(*indirect")
}

func isDirtyCopy(fn string) bool { return fn == "sync.(*Map).dirtyLocked" }

// isDirtyCopyMethod matches a user type's dirtyLocked method, the name the
// read/dirty design gives its O(n) copy of the read map.
func isDirtyCopyMethod(fn string) bool { return strings.HasSuffix(fn, ").dirtyLocked") }

func isClone(fn string) bool {
	return strings.HasPrefix(fn, "maps.Clone") || fn == "maps.clone" || fn == "runtime.mapclone" || fn == "runtime.maps_clone" ||
		strings.HasPrefix(fn, "internal/runtime/maps.(*Map).Clone") || strings.HasPrefix(fn, "runtime.mapclone2")
}

func isMakeMap(fn string) bool { return strings.HasPrefix(fn, "runtime.makemap") }

func isGoMapGrowth(fn string) bool {
	return strings.HasPrefix(fn, "internal/runtime/maps.") || isMakeMap(fn) ||
		strings.HasPrefix(fn, "runtime.mapassign") || fn == "runtime.hashGrow" ||
		fn == "runtime.growWork" || fn == "runtime.(*hmap).newoverflow" || fn == "runtime.makeBucketArray"
}

// isUserFrame tells user code from the standard library: a standard package's
// path has no dot in its first element (and is not main).
func isUserFrame(fn string) bool {
	pkg := packageOf(fn)
	if pkg == "" {
		return false
	}
	if pkg == "main" {
		return true
	}
	first, _, _ := strings.Cut(pkg, "/")
	return strings.Contains(first, ".")
}

func isRuntimeOrSync(fn string) bool {
	pkg := packageOf(fn)
	return pkg == "runtime" || pkg == "sync" || strings.HasPrefix(pkg, "internal/")
}

// isMachineryPackage covers the packages a map's growth happens in; the
// fallback blame goes to the first frame outside them when no frame looks
// like user code (a module path without a dot).
func isMachineryPackage(fn string) bool {
	switch pkg := packageOf(fn); {
	case pkg == "runtime", pkg == "sync", pkg == "maps", pkg == "unique", strings.HasPrefix(pkg, "internal/"):
		return true
	}
	return false
}

// frames lists a sample's function names leaf first, inlined frames
// included (a Location's Line[0] is the innermost).
func frames(s *profile.Sample) []string {
	var out []string
	for _, loc := range s.Location {
		for _, line := range loc.Line {
			if line.Function != nil {
				out = append(out, line.Function.Name)
			}
		}
	}
	return out
}

// allocIndices are the positions of the sample types growth reads.
type allocIndices struct{ space, objects, inuse int }

func allocIndicesOf(p *profile.Profile) (allocIndices, error) {
	idx := allocIndices{
		space:   sampleIndex(p, "alloc_space"),
		objects: sampleIndex(p, "alloc_objects"),
		inuse:   sampleIndex(p, "inuse_space"),
	}
	if idx.space < 0 || idx.objects < 0 {
		return idx, fmt.Errorf("allocs profile lacks alloc_space/alloc_objects sample types")
	}
	return idx, nil
}

// mapGrowth attributes the window's allocs profile to map growth.
// It returns the growth sorted by bytes, the total alloc_space, and notes.
func mapGrowth(w *window.Window, prev *window.Window, seconds float64) ([]*MapGrowth, int64, []string, error) {
	allocs := w.Profile(window.Allocs)
	if allocs == nil {
		return nil, 0, []string{"map growth skipped: the window has no allocs profile"}, nil
	}
	idx, err := allocIndicesOf(allocs)
	if err != nil {
		return nil, 0, nil, err
	}
	c := newClassifier(w)
	byKey := map[growthKey]*MapGrowth{}
	var total int64
	makesMaps := map[string]bool{} // user functions that call makemap
	for _, s := range allocs.Sample {
		total += s.Value[idx.space]
		stack := frames(s)
		key, ok := c.classify(stack)
		if !ok {
			continue
		}
		if key.kind == GrowthGoMap && slices.ContainsFunc(stack, isMakeMap) {
			makesMaps[key.function] = true
		}
		g := byKey[key]
		if g == nil {
			g = &MapGrowth{Component: component(key.function), Function: key.function, Kind: key.kind, Inferred: key.inferred}
			byKey[key] = g
		}
		g.Bytes += s.Value[idx.space]
		g.Objects += s.Value[idx.objects]
	}
	growth := mergeCopyLoops(byKey, makesMaps)
	for _, g := range growth {
		g.BytesPerSecond = perSecond(float64(g.Bytes), seconds)
		g.ObjectsPerSecond = perSecond(float64(g.Objects), seconds)
		if total > 0 {
			g.ShareOfAlloc = float64(g.Bytes) / float64(total)
		}
	}
	var notes []string
	if prev != nil {
		notes = append(notes, inUseGrowth(growth, w, prev)...)
	}
	if slices.ContainsFunc(growth, func(g *MapGrowth) bool { return g.Inferred }) {
		notes = append(notes, "Go map growth marked inferred: runtime/pprof hides runtime frames at the top of allocation stacks, so allocation in a function that takes a sync.Mutex/RWMutex is taken as the growth of the map it guards")
	}
	slices.SortFunc(growth, func(a, b *MapGrowth) int {
		return cmp.Or(cmp.Compare(b.Bytes, a.Bytes), cmp.Compare(a.Component, b.Component),
			cmp.Compare(a.Function, b.Function), cmp.Compare(a.Kind, b.Kind))
	})
	return growth, total, notes, nil
}

// mergeCopyLoops turns the Go map growth of a function that also makes a new
// map into copy-on-write growth: the writer copies the map by hand.
func mergeCopyLoops(byKey map[growthKey]*MapGrowth, makesMaps map[string]bool) []*MapGrowth {
	merged := map[growthKey]*MapGrowth{}
	for key, g := range byKey {
		if key.kind == GrowthGoMap && !key.inferred && makesMaps[key.function] {
			key.kind, g.Kind = GrowthCOWClone, GrowthCOWClone
		}
		if into := merged[key]; into != nil {
			into.Bytes += g.Bytes
			into.Objects += g.Objects
			continue
		}
		merged[key] = g
	}
	out := make([]*MapGrowth, 0, len(merged))
	for _, g := range merged {
		out = append(out, g)
	}
	return out
}

// inUseGrowth sets InUseGrowthBytes from the in-use bytes that the same
// function's growth holds at the end of each window: the heap snapshot when
// the window has one, else the allocs profile's inuse_space.
func inUseGrowth(growth []*MapGrowth, w, prev *window.Window) []string {
	now, errNow := inUseByKey(w)
	before, errBefore := inUseByKey(prev)
	if err := cmp.Or(errNow, errBefore); err != nil {
		return []string{"in-use growth skipped: " + err.Error()}
	}
	for _, g := range growth {
		key := growthKey{function: g.Function, kind: g.Kind, inferred: g.Inferred}
		g.InUseGrowthBytes = now[key] - before[key]
		if g.Kind == GrowthCOWClone { // a copy loop's share was Go map growth before merging
			loop := growthKey{function: g.Function, kind: GrowthGoMap}
			g.InUseGrowthBytes += now[loop] - before[loop]
		}
	}
	return nil
}

func inUseByKey(w *window.Window) (map[growthKey]int64, error) {
	p := w.Profile(window.Heap)
	if p == nil {
		p = w.Profile(window.Allocs)
	}
	if p == nil {
		return nil, fmt.Errorf("window %s has no heap or allocs profile", w.ID)
	}
	idx, err := allocIndicesOf(p)
	if err != nil || idx.inuse < 0 {
		return nil, fmt.Errorf("window %s: profile lacks inuse_space", w.ID)
	}
	c := newClassifier(w)
	out := map[growthKey]int64{}
	for _, s := range p.Sample {
		if key, ok := c.classify(frames(s)); ok {
			out[key] += s.Value[idx.inuse]
		}
	}
	return out, nil
}
