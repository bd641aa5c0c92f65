package stacks

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/google/pprof/profile"

	"github.com/contendr/contendr/window"
)

// Attribution is everything the collectors need from a window's stacks,
// read in one pass over each profile.
type Attribution struct {
	// Holders and Waiters are the lock sites of the mutex profile (the
	// unlockers that made others wait) and of the block profile (the
	// goroutines that waited).
	Holders, Waiters *Contention
	// CPU is the CPU profile's account; CPU.Present is false without one.
	CPU CPU
	// Components holds per-component figures from every profile, keyed by
	// component name (package plus receiver type) and by package name, so
	// that a package-level component (main, for main.worker) sees all of
	// its package's frames.
	Components map[string]*Component
	// Growth is allocation by map growth; see GrowthKey.
	Growth Growth
}

// Component is what the window's stacks say about one component.
type Component struct {
	Name string
	// CPUWork weighs CPU nanoseconds through the component by map
	// operation; ContentionWork the mutex and block profiles' delay
	// nanoseconds.
	CPUWork, ContentionWork MapWork
	// SyncCPUNanos is CPU inside lock primitives whose site (the first
	// frame above the primitive) is in this component.
	SyncCPUNanos int64
	// SyncCPUKinds splits SyncCPUNanos by the kind of lock it was spent in.
	SyncCPUKinds map[Kind]int64
	// RLockCPUNanos is CPU with sync.(*RWMutex).RLock/RUnlock at the leaf
	// on stacks through the component: the reader-count cache line.
	RLockCPUNanos int64
	// MapCPUNanos is CPU inside map operations (the runtime's map, sync.Map
	// and its HashTrieMap, maps.Clone and the other library frames
	// libraryOp names) whose first user frame above is in this component:
	// the component that does the map work itself, not its callers.
	MapCPUNanos int64
	// MapOpsByMethod is, for each of the component's methods seen directly
	// above a map operation in the CPU profile, the operations it did
	// (bits 1<<OpRead, 1<<OpWrite, 1<<OpRange, and 1<<OpDelete for
	// deletes): a method with more than one may do them under one lock,
	// which a per-key strategy would no longer make atomic.
	MapOpsByMethod map[string]uint8
	// SyncMapAllocs is set when an allocation stack through the component
	// passes through sync.(*Map): a real sync.Map, not a read/dirty map of
	// the user's own.
	SyncMapAllocs bool
}

// OpDelete is MapOpsByMethod's bit for deletes, a kind of OpWrite.
const OpDelete MapOp = OpRange + 1

// CPU is the CPU profile's account of where the window's CPU went.
type CPU struct {
	Present bool
	// Err says why a present profile could not be read (no cpu sample
	// type, a bad unit).
	Err error
	// ProfileNanos is the profile's own duration (how long the profiler
	// ran), 0 when it does not say.
	ProfileNanos int64
	// TotalNanos is all sampled CPU; GCNanos the part in GC mark work
	// (workers, assists, root marking, stop-the-world phases); BackgroundNanos
	// the runtime's background sweeper and scavenger.
	TotalNanos, GCNanos, BackgroundNanos int64
	// SyncNanos is CPU inside user-visible lock primitives (sync.Mutex,
	// sync.RWMutex with its reader-count atomics, internal/sync.Mutex,
	// internal/poll's fdMutex), slow paths, spinning and the semaphore and
	// futex calls under them included. RuntimeLockNanos is CPU in the
	// runtime's internal locks, counted apart and never blamed on user code.
	SyncNanos, RuntimeLockNanos int64
}

// Contention is one contention profile's stacks grouped into lock sites.
type Contention struct {
	Present bool // the window has the profile
	// Err says why a present profile could not be read.
	Err      error
	Samples  int // samples with a positive delay
	Negative int // samples with negative values (a broken delta), skipped
	// Totals are delay nanoseconds per Class.
	Totals [numClasses]int64
	Sites  map[SiteKey]*Site

	// stacks finds a stack by the hash of its frame ids; ids and slab
	// hold the stacks' ids and structs in chunks, not one allocation each.
	stacks map[uint64]*Stack
	ids    []uint32
	slab   []Stack
}

// stack returns the distinct stack with frames' ids, adding it to site
// when it is new.
func (c *Contention) stack(site *Site, frames []*Frame, r *Reader) *Stack {
	h := uint64(14695981039346656037) // FNV-1a over the ids
	for _, f := range frames {
		h = (h ^ uint64(f.id)) * 1099511628211
	}
	for st := c.stacks[h]; st != nil; st = st.next {
		if sameIDs(st.ids, frames) {
			return st
		}
	}
	if len(c.ids)+len(frames) > cap(c.ids) {
		c.ids = make([]uint32, 0, max(1<<14, len(frames)))
	}
	start := len(c.ids)
	for _, f := range frames {
		c.ids = append(c.ids, f.id)
	}
	if len(c.slab) == cap(c.slab) {
		c.slab = make([]Stack, 0, 256)
	}
	c.slab = append(c.slab, Stack{ids: c.ids[start:len(c.ids):len(c.ids)], reader: r, next: c.stacks[h]})
	st := &c.slab[len(c.slab)-1]
	c.stacks[h] = st
	site.Stacks = append(site.Stacks, st)
	return st
}

func sameIDs(ids []uint32, frames []*Frame) bool {
	if len(ids) != len(frames) {
		return false
	}
	for i, f := range frames {
		if ids[i] != f.id {
			return false
		}
	}
	return true
}

// SiteKey identifies a lock site on one side.
type SiteKey struct {
	Function, Primitive string
	Kind                Kind
}

// Site accumulates the stacks that resolve to one lock site.
type Site struct {
	Key         SiteKey
	Component   string
	Delay       int64 // nanoseconds
	Contentions int64
	// Stacks are the site's distinct stacks, merged by function names (not
	// addresses), in the order first seen; Top orders the heaviest.
	Stacks []*Stack
}

// Stack is one distinct stack of a site.
type Stack struct {
	// ids are the frames' Reader numbers, leaf first; reader turns them
	// back into frames for the few stacks a result keeps.
	ids         []uint32
	reader      *Reader
	next        *Stack // the previous stack with the same hash
	Delay       int64
	Contentions int64
}

// Frames returns the stack's frames, leaf first.
func (s *Stack) Frames() []*Frame {
	out := make([]*Frame, len(s.ids))
	for i, id := range s.ids {
		out[i] = s.reader.frames[id]
	}
	return out
}

// AppendNames appends the stack's function names, leaf first, to dst.
func (s *Stack) AppendNames(dst []string) []string {
	for _, id := range s.ids {
		dst = append(dst, s.reader.frames[id].Name)
	}
	return dst
}

// Len is the stack's number of frames.
func (s *Stack) Len() int { return len(s.ids) }

// Top returns the site's n heaviest stacks: by delay, then contentions,
// then frame names, so that equal stacks come out in the same order every
// time. It selects without sorting every stack: a site of a busy service
// has thousands, a result keeps a few.
func (s *Site) Top(n int) []*Stack {
	top := make([]*Stack, 0, min(n, len(s.Stacks))+1)
	for _, st := range s.Stacks {
		if len(top) == n && (n == 0 || compareStacks(st, top[n-1]) >= 0) {
			continue
		}
		i, _ := slices.BinarySearchFunc(top, st, compareStacks)
		top = slices.Insert(top, i, st)
		if len(top) > n {
			top = top[:n]
		}
	}
	return top
}

// compareStacks orders heaviest first, then by frame names.
func compareStacks(a, b *Stack) int {
	if c := cmp.Compare(b.Delay, a.Delay); c != 0 {
		return c
	}
	if c := cmp.Compare(b.Contentions, a.Contentions); c != 0 {
		return c
	}
	for i := range min(len(a.ids), len(b.ids)) {
		if c := strings.Compare(a.reader.frames[a.ids[i]].Name, b.reader.frames[b.ids[i]].Name); c != 0 {
			return c
		}
	}
	return cmp.Compare(len(a.ids), len(b.ids))
}

// Growth is allocation by map growth, per GrowthKey.
type Growth struct {
	// Present is false when the window has no allocs profile; Err says why
	// a present one could not be read.
	Present bool
	Err     error
	// AllocBytes is the allocs profile's total alloc_space.
	AllocBytes int64
	Bytes      map[GrowthKey]int64
	Objects    map[GrowthKey]int64
	// InUse is the in-use bytes per key at the window's end: from the heap
	// snapshot when the window has one, else the allocs profile's
	// inuse_space; InUseErr says why it is missing.
	InUse    map[GrowthKey]int64
	InUseErr error
	// MakesMaps lists functions whose Go map growth includes making a new
	// map: with mapassign in the same writer, a copy loop.
	MakesMaps map[string]bool
}

// Attribute walks each profile of w once. It never fails: a profile it
// cannot read leaves its part's Err set, for the collector that needs it to
// report.
func Attribute(w *window.Window) *Attribution {
	a := &attributor{
		reader:     NewReader(),
		out:        &Attribution{Components: map[string]*Component{}},
		lockTakers: map[*Frame]bool{},
	}
	a.out.Holders = a.contention(w.Profile(window.Mutex))
	a.out.Waiters = a.contention(w.Profile(window.Block))
	a.out.CPU = a.cpu(w.Profile(window.CPU))
	a.out.Growth = a.growth(w.Profile(window.Allocs), w.Profile(window.Heap))
	return a.out
}

// AttributeGrowth is Attribute reduced to Growth, all that a later
// window's map growth compares with (the in-use bytes per growth key): the
// contention and CPU profiles are walked only for their lock takers
// (growth rule 5), not tallied into components and sites. Holders and
// Waiters are empty, CPU is zero.
func AttributeGrowth(w *window.Window) *Attribution {
	a := &attributor{
		reader:     NewReader(),
		out:        &Attribution{Components: map[string]*Component{}},
		lockTakers: map[*Frame]bool{},
		growthOnly: true,
	}
	a.contention(w.Profile(window.Mutex))
	a.contention(w.Profile(window.Block))
	a.cpu(w.Profile(window.CPU))
	a.out.Growth = a.growth(w.Profile(window.Allocs), w.Profile(window.Heap))
	a.out.Holders = &Contention{Sites: map[SiteKey]*Site{}}
	a.out.Waiters = &Contention{Sites: map[SiteKey]*Site{}}
	return a.out
}

// Component returns the named component's figures, or an empty value.
func (a *Attribution) Component(name string) *Component {
	if c := a.Components[name]; c != nil {
		return c
	}
	return &Component{Name: name}
}

type attributor struct {
	reader *Reader
	out    *Attribution
	// seenIn[id] == stamp marks a component already visited in the stack
	// being walked; stamp advances per stack.
	seenIn []uint32
	stamp  uint32
	// byID caches out.Components by Reader number.
	byID []*Component
	// lockTakers are user frames seen directly above a sync.Mutex or
	// RWMutex in any profile (growth rule 5).
	lockTakers map[*Frame]bool
	// growthOnly stops the contention and CPU walks after the lock
	// takers (AttributeGrowth).
	growthOnly bool
}

func (a *attributor) component(name string) *Component {
	c := a.out.Components[name]
	if c == nil {
		c = &Component{Name: name}
		a.out.Components[name] = c
	}
	return c
}

// componentByID is the component a Reader number names.
func (a *attributor) componentByID(id uint32, name string) *Component {
	if int(id) >= len(a.byID) {
		a.byID = append(a.byID, make([]*Component, int(id)+1-len(a.byID))...)
	}
	if c := a.byID[id]; c != nil {
		return c
	}
	c := a.component(name)
	a.byID[id] = c
	return c
}

// eachComponent calls fn once per component the stack passes through (by
// component and by package), with its number and the index of its
// innermost frame.
func (a *attributor) eachComponent(stack []*Frame, fn func(c *Component, key componentKey, at int)) {
	a.stamp++
	for i, f := range stack {
		if f.Machinery {
			continue
		}
		for _, k := range [2]componentKey{{f.compID, f.Component}, {f.pkgID, f.Pkg}} {
			if k.name == "" {
				continue
			}
			if int(k.id) >= len(a.seenIn) {
				a.seenIn = append(a.seenIn, make([]uint32, int(k.id)+1-len(a.seenIn))...)
			}
			if a.seenIn[k.id] == a.stamp {
				continue
			}
			a.seenIn[k.id] = a.stamp
			fn(a.componentByID(k.id, k.name), k, i)
		}
	}
}

// stackBuf holds a sample's frames while it is attributed. Declared in
// the walking function, it lives on the goroutine's stack, so filling it
// is no heap write (no write barrier while the GC runs); a deeper stack
// spills to the heap.
type stackBuf [128]*Frame

// workOf selects the MapWork of a component a tally adds to.
type workOf uint8

const (
	contentionWork workOf = iota
	cpuWork
)

// tally adds a stack's weight to the map work of every component it passes
// through (by component and by package, once each), classified at the
// component's innermost frame as classifyAt classifies it, and rlockCPU to
// each one's RLockCPUNanos. It is one walk from the leaf: the nearest
// map-operation frame below the current frame is carried along rather than
// searched for again per component.
func (a *attributor) tally(stack []*Frame, weight float64, which workOf, rlockCPU int64) {
	a.stamp++
	nearest := -1
	for i, f := range stack {
		if !f.Machinery {
			// Most frames' components were met further down the stack:
			// that check is made here, the rest in tallyAt.
			if id := f.compID; id != 0 && (int(id) >= len(a.seenIn) || a.seenIn[id] != a.stamp) {
				a.tallyAt(stack, i, id, f.Component, nearest, weight, which, rlockCPU)
			}
			if id := f.pkgID; id != 0 && (int(id) >= len(a.seenIn) || a.seenIn[id] != a.stamp) {
				a.tallyAt(stack, i, id, f.Pkg, nearest, weight, which, rlockCPU)
			}
		}
		if f.Op != OpNone {
			nearest = i
		}
	}
}

// tallyAt is tally's work for the component numbered id, first met at
// stack[at]; nearest is the nearest map-operation frame below it, or -1.
func (a *attributor) tallyAt(stack []*Frame, at int, id uint32, name string, nearest int, weight float64, which workOf, rlockCPU int64) {
	if int(id) >= len(a.seenIn) {
		a.seenIn = append(a.seenIn, make([]uint32, int(id)+1-len(a.seenIn))...)
	}
	if a.seenIn[id] == a.stamp {
		return
	}
	a.seenIn[id] = a.stamp
	c := a.componentByID(id, name)
	key := componentKey{id: id, name: name}
	var op MapOp
	fromMap, deletes := false, false
	if nearest >= 0 {
		f := stack[nearest]
		op = f.Op
		if op == OpRange && inWritePath(stack[at:], key) {
			op = OpWrite // as classifyAt: a writer that iterates its map copies it
		}
		fromMap = f.Prim != PrimRWRead && f.Prim != PrimRWWrite
		deletes = f.libDelete
	} else {
		op, _ = key.methodOp(stack[at])
		deletes = op == OpWrite && key.own(stack[at]) && stack[at].ownDelete
	}
	w := &c.ContentionWork
	if which == cpuWork {
		w = &c.CPUWork
	}
	w.add(op, weight, fromMap, deletes)
	c.RLockCPUNanos += rlockCPU
}

func (a *attributor) noteLockTaker(stack []*Frame) {
	if f := lockTaker(stack); f != nil {
		a.lockTakers[f] = true
	}
}

// contention groups a mutex or block profile (nil: absent) into sites.
func (a *attributor) contention(p *profile.Profile) *Contention {
	c := &Contention{Sites: map[SiteKey]*Site{}}
	if p == nil {
		return c
	}
	c.stacks = make(map[uint64]*Stack, len(p.Sample))
	c.Present = true
	delayIdx, contIdx, delayNanos, err := contentionIndexes(p)
	if err != nil {
		c.Err = err
		return c
	}
	a.reader.ForProfile(p)
	var frames stackBuf
	for _, sample := range p.Sample {
		if delayIdx >= len(sample.Value) {
			c.Err = fmt.Errorf("a sample has %d values, want at least %d", len(sample.Value), delayIdx+1)
			return c
		}
		delay := sample.Value[delayIdx] * delayNanos
		var contentions int64
		if contIdx >= 0 && contIdx < len(sample.Value) {
			contentions = sample.Value[contIdx]
		}
		if delay < 0 || contentions < 0 {
			c.Negative++
			continue
		}
		if delay == 0 && contentions == 0 {
			continue
		}
		stack := a.reader.Frames(sample, frames[:0])
		if len(stack) == 0 {
			continue
		}
		c.Samples++
		a.noteLockTaker(stack)
		if a.growthOnly {
			continue
		}
		a.tally(stack, float64(delay), contentionWork, 0)
		site := c.site(stack)
		site.Delay += delay
		site.Contentions += contentions
		c.Totals[ClassOf(site.Key.Kind)] += delay

		// Stacks merge by function names, found by the frames' ids.
		st := c.stack(site, stack, a.reader)
		st.Delay += delay
		st.Contentions += contentions
	}
	return c
}

// site resolves a leaf-first stack to its site.
func (c *Contention) site(frames []*Frame) *Site {
	siteIdx, primIdx := Locate(frames)
	kind := KindRuntime
	if !IsRuntimeLeaf(frames) {
		// The primitive frames run from the leaf up to the site; when no
		// frame is outside the machinery the site itself is one of them.
		prims := frames[:siteIdx]
		if frames[siteIdx].Machinery {
			prims = frames[:siteIdx+1]
		}
		kind = KindOf(prims)
	}
	key := SiteKey{Function: frames[siteIdx].Name, Kind: kind}
	if primIdx >= 0 {
		key.Primitive = frames[primIdx].Name
	}
	s := c.Sites[key]
	if s == nil {
		component := frames[siteIdx].Component
		if kind == KindRuntime {
			component = "runtime"
		}
		s = &Site{Key: key, Component: component}
		c.Sites[key] = s
	}
	return s
}

// cpu accounts a CPU profile (nil: absent).
func (a *attributor) cpu(p *profile.Profile) CPU {
	var out CPU
	if p == nil {
		return out
	}
	out.Present = true
	out.ProfileNanos = p.DurationNanos
	idx, nanos, err := cpuIndex(p)
	if err != nil {
		out.Err = err
		return out
	}
	a.reader.ForProfile(p)
	var frames stackBuf
	for _, s := range p.Sample {
		if idx >= len(s.Value) || s.Value[idx] <= 0 {
			continue
		}
		v := s.Value[idx] * nanos
		stack := a.reader.Frames(s, frames[:0])
		out.TotalNanos += v
		switch cpuClassOf(stack) {
		case cpuGC:
			out.GCNanos += v
		case cpuBackground:
			out.BackgroundNanos += v
		}
		a.noteLockTaker(stack)
		if a.growthOnly {
			continue
		}
		if at := mapCaller(stack); at >= 0 {
			a.noteMapCaller(stack, at, v)
		}
		var rlock int64
		if inReaderCount(stack) {
			rlock = v
		}
		a.tally(stack, float64(v), cpuWork, rlock)
		switch site, lock := syncSite(stack); lock {
		case lockUser:
			out.SyncNanos += v
			c := a.component(stack[site].Component)
			c.SyncCPUNanos += v
			if c.SyncCPUKinds == nil {
				c.SyncCPUKinds = map[Kind]int64{}
			}
			prims := stack[:site]
			if stack[site].Machinery {
				prims = stack[:site+1]
			}
			c.SyncCPUKinds[KindOf(prims)] += v
		case lockRuntime:
			out.RuntimeLockNanos += v
		}
	}
	return out
}

// noteMapCaller charges a CPU sample's map work to the user frame at at,
// and records which operation that frame's method did.
func (a *attributor) noteMapCaller(stack []*Frame, at int, v int64) {
	f := stack[at]
	c := a.component(f.Component)
	c.MapCPUNanos += v
	var bits uint8
	for _, below := range stack[:at] {
		if below.Op != OpNone && below.Prim != PrimRWRead && below.Prim != PrimRWWrite {
			bits |= 1 << below.Op
			if below.libDelete {
				bits |= 1 << OpDelete
			}
			break
		}
	}
	if bits == 0 {
		return
	}
	if c.MapOpsByMethod == nil {
		c.MapOpsByMethod = map[string]uint8{}
	}
	c.MapOpsByMethod[f.Method] |= bits
}

// mapCaller is the index of the first user frame above a map operation in
// a leaf-first stack, or -1 when the stack below its first user frame does
// no map work.
func mapCaller(stack []*Frame) int {
	inMap := false
	for i, f := range stack {
		if f.User {
			if inMap {
				return i
			}
			return -1
		}
		// RWMutex sides are lock work (SyncCPUNanos), not map work.
		lockSide := f.Prim == PrimRWRead || f.Prim == PrimRWWrite
		inMap = inMap || (f.Op != OpNone && !lockSide) || f.Prim == PrimSyncMap || f.Prim == PrimHashTrieMap
	}
	return -1
}

// inReaderCount tells a CPU sample inside RWMutex.RLock or RUnlock
// themselves (their reader-count atomics, inlined atomics included), not in
// a slow path below them.
func inReaderCount(stack []*Frame) bool {
	for _, f := range stack {
		switch {
		case f.Prim == PrimRWRead:
			return strings.HasPrefix(f.Func, "RLock") || strings.HasPrefix(f.Func, "RUnlock")
		case f.Pkg != "sync/atomic" && f.Pkg != "internal/runtime/atomic":
			return false
		}
	}
	return false
}

type lockClass uint8

const (
	lockNone lockClass = iota
	lockUser
	lockRuntime
)

// syncSite tells whether a CPU sample ran inside a lock primitive: a lock
// frame among the machinery frames between the leaf and the first frame
// outside it (the site, whose component the CPU is charged to). The
// runtime's own locks count only when no user lock is there: the futex of
// a contended sync.Mutex is the Mutex's cost.
func syncSite(stack []*Frame) (site int, class lockClass) {
	if len(stack) == 0 {
		return -1, lockNone
	}
	site, _ = Locate(stack)
	below := stack[:site]
	if stack[site].Machinery {
		below = stack[:site+1]
	}
	class = lockNone
	for _, f := range below {
		switch {
		case f.Prim.IsLock():
			return site, lockUser
		case f.RuntimeLock || f.Prim == PrimRuntimeLock:
			class = lockRuntime
		}
	}
	return site, class
}

type cpuClass uint8

const (
	cpuUser cpuClass = iota
	cpuGC
	cpuBackground
)

// cpuClassOf tells GC mark work (what /cpu/classes/gc counts: background
// mark workers, assists, root marking, the stop-the-world phases, and the
// runtime._GC pseudo-frame of GC work with no goroutine stack) and the
// background sweeper and scavenger from the rest.
func cpuClassOf(stack []*Frame) cpuClass {
	class := cpuUser
	for _, f := range stack {
		if f.Pkg != "runtime" {
			continue
		}
		switch fn := f.Func; {
		case strings.HasPrefix(fn, "gcBgMarkWorker"), strings.HasPrefix(fn, "gcAssistAlloc"),
			strings.HasPrefix(fn, "markroot"), strings.HasPrefix(fn, "gcDrain"),
			strings.HasPrefix(fn, "gcMarkDone"), strings.HasPrefix(fn, "gcMarkTermination"),
			strings.HasPrefix(fn, "gcStart"), fn == "_GC":
			return cpuGC
		case fn == "bgsweep", fn == "bgscavenge":
			class = cpuBackground
		}
	}
	return class
}

// growth attributes allocation (nil allocs: absent) to map growth. Rule 5
// (a lock taker's own allocation) needs every profile's lock takers, so its
// candidates wait in pending until the walks are done.
func (a *attributor) growth(allocs, heap *profile.Profile) Growth {
	g := Growth{
		Bytes: map[GrowthKey]int64{}, Objects: map[GrowthKey]int64{},
		InUse: map[GrowthKey]int64{}, MakesMaps: map[string]bool{},
	}
	pending := map[*Frame]*[2]int64{} // alloc space, objects
	pendingInUse := map[*Frame]int64{}
	walk := func(p *profile.Profile, fromAllocs, inUse bool) error {
		idx := allocIndices{
			space: ValueIndex(p, "alloc_space"), objects: ValueIndex(p, "alloc_objects"),
			inuse: ValueIndex(p, "inuse_space"),
		}
		if idx.space < 0 || idx.objects < 0 {
			return fmt.Errorf("the %s profile lacks alloc_space/alloc_objects sample types", map[bool]string{true: "allocs", false: "heap"}[fromAllocs])
		}
		if inUse && idx.inuse < 0 {
			g.InUseErr = fmt.Errorf("the profile lacks inuse_space")
			inUse = false
		}
		a.reader.ForProfile(p)
		var frames stackBuf
		for _, s := range p.Sample {
			stack := a.reader.Frames(s, frames[:0])
			if fromAllocs {
				g.AllocBytes += s.Value[idx.space]
				a.eachAllocComponent(stack)
			}
			a.noteLockTaker(stack)
			key, makesMap, ok := classifyGrowth(stack, nil)
			if !ok {
				if len(stack) > 0 && stack[0].User {
					if fromAllocs {
						v := pending[stack[0]]
						if v == nil {
							v = new([2]int64)
							pending[stack[0]] = v
						}
						v[0] += s.Value[idx.space]
						v[1] += s.Value[idx.objects]
					}
					if inUse {
						pendingInUse[stack[0]] += s.Value[idx.inuse]
					}
				}
				continue
			}
			if fromAllocs {
				g.Bytes[key] += s.Value[idx.space]
				g.Objects[key] += s.Value[idx.objects]
				if makesMap {
					g.MakesMaps[key.Function] = true
				}
			}
			if inUse {
				g.InUse[key] += s.Value[idx.inuse]
			}
		}
		return nil
	}
	if allocs != nil {
		g.Present = true
		if err := walk(allocs, true, heap == nil); err != nil {
			g.Err = err
			return g
		}
	} else if heap == nil {
		g.InUseErr = fmt.Errorf("the window has no heap or allocs profile")
	}
	if heap != nil {
		if err := walk(heap, false, true); err != nil {
			g.InUseErr = err
		}
	}
	for f, v := range pending {
		if a.lockTakers[f] {
			key := GrowthKey{Function: f.Name, Kind: GrowthGoMap, Inferred: true}
			g.Bytes[key] += v[0]
			g.Objects[key] += v[1]
		}
	}
	for f, v := range pendingInUse {
		if a.lockTakers[f] {
			g.InUse[GrowthKey{Function: f.Name, Kind: GrowthGoMap, Inferred: true}] += v
		}
	}
	return g
}

// eachAllocComponent marks the components of an allocation stack that
// passes through sync.(*Map).
func (a *attributor) eachAllocComponent(stack []*Frame) {
	if !slices.ContainsFunc(stack, func(f *Frame) bool { return f.Prim == PrimSyncMap }) {
		return
	}
	a.eachComponent(stack, func(c *Component, _ componentKey, _ int) { c.SyncMapAllocs = true })
}

// allocIndices are the positions of the sample types growth reads.
type allocIndices struct{ space, objects, inuse int }
