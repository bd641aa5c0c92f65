package stacks

import (
	"encoding/binary"
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
	// Stacks merge by function names (not addresses).
	Stacks map[string]*Stack
}

// Stack is one distinct stack of a site.
type Stack struct {
	// key is the frames' ids, four bytes each, leaf first; reader turns
	// them back into frames for the few stacks a result keeps.
	key         string
	reader      *Reader
	Delay       int64
	Contentions int64
}

// Frames returns the stack's frames, leaf first.
func (s *Stack) Frames() []*Frame {
	out := make([]*Frame, len(s.key)/4)
	for i := range out {
		k := s.key[4*i:]
		id := uint32(k[0]) | uint32(k[1])<<8 | uint32(k[2])<<16 | uint32(k[3])<<24 // little-endian, as contention keys it
		out[i] = s.reader.frames[id]
	}
	return out
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
	buf    []*Frame
	// seenIn[id] == stamp marks a component already visited in the stack
	// being walked; stamp advances per stack.
	seenIn []uint32
	stamp  uint32
	// byID caches out.Components by Reader number.
	byID []*Component
	// lockTakers are user frames seen directly above a sync.Mutex or
	// RWMutex in any profile (growth rule 5).
	lockTakers map[*Frame]bool
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
	for int(id) >= len(a.byID) {
		a.byID = append(a.byID, nil)
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
			for int(k.id) >= len(a.seenIn) {
				a.seenIn = append(a.seenIn, 0)
			}
			if a.seenIn[k.id] == a.stamp {
				continue
			}
			a.seenIn[k.id] = a.stamp
			fn(a.componentByID(k.id, k.name), k, i)
		}
	}
}

// tally adds a stack's weight to the map work of every component it passes
// through.
func (a *attributor) tally(stack []*Frame, weight float64, work func(*Component) *MapWork) {
	a.eachComponent(stack, func(c *Component, key componentKey, at int) {
		op, fromMap, deletes := classifyAt(stack, at, key)
		work(c).add(op, weight, fromMap, deletes)
	})
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
	c.Present = true
	delayIdx, contIdx, delayNanos, err := contentionIndexes(p)
	if err != nil {
		c.Err = err
		return c
	}
	a.reader.ForProfile(p)
	var key []byte
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
		stack := a.reader.Frames(sample, a.buf)
		a.buf = stack
		if len(stack) == 0 {
			continue
		}
		c.Samples++
		a.noteLockTaker(stack)
		a.tally(stack, float64(delay), func(comp *Component) *MapWork { return &comp.ContentionWork })
		site := c.site(stack)
		site.Delay += delay
		site.Contentions += contentions
		c.Totals[ClassOf(site.Key.Kind)] += delay

		// Stacks merge by function names, keyed by the frames' ids: four
		// bytes a frame, no allocation to look up.
		key = key[:0]
		for _, f := range stack {
			key = binary.LittleEndian.AppendUint32(key, f.id)
		}
		st := site.Stacks[string(key)]
		if st == nil {
			st = &Stack{key: string(key), reader: a.reader}
			site.Stacks[st.key] = st
		}
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
		s = &Site{Key: key, Component: component, Stacks: map[string]*Stack{}}
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
	for _, s := range p.Sample {
		if idx >= len(s.Value) || s.Value[idx] <= 0 {
			continue
		}
		v := s.Value[idx] * nanos
		stack := a.reader.Frames(s, a.buf)
		a.buf = stack
		out.TotalNanos += v
		switch cpuClassOf(stack) {
		case cpuGC:
			out.GCNanos += v
		case cpuBackground:
			out.BackgroundNanos += v
		}
		a.noteLockTaker(stack)
		a.tally(stack, float64(v), func(c *Component) *MapWork { return &c.CPUWork })
		if at := mapCaller(stack); at >= 0 {
			a.noteMapCaller(stack, at, v)
		}
		if inReaderCount(stack) {
			a.eachComponent(stack, func(c *Component, _ componentKey, _ int) { c.RLockCPUNanos += v })
		}
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
		for _, s := range p.Sample {
			stack := a.reader.Frames(s, a.buf)
			a.buf = stack
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
