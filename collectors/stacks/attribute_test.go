package stacks

import (
	"cmp"
	"math"
	"reflect"
	"slices"
	"testing"

	"github.com/google/pprof/profile"

	"github.com/contendr/contendr/internal/profilegen"
	"github.com/contendr/contendr/window"
)

// cpuProfile builds a CPU profile from leaf-first stacks and their CPU
// nanoseconds, one location per frame as runtime/pprof writes them.
func cpuProfile(samples map[int64][]string) *profile.Profile {
	p := &profile.Profile{
		SampleType:    []*profile.ValueType{{Type: "samples", Unit: "count"}, {Type: "cpu", Unit: "nanoseconds"}},
		PeriodType:    &profile.ValueType{Type: "cpu", Unit: "nanoseconds"},
		Period:        10_000_000,
		DurationNanos: 10e9,
	}
	funcs := map[string]*profile.Function{}
	locs := map[string]*profile.Location{}
	for ns, stack := range samples {
		s := &profile.Sample{Value: []int64{ns / 10_000_000, ns}}
		for _, name := range stack {
			loc := locs[name]
			if loc == nil {
				fn := &profile.Function{ID: uint64(len(funcs) + 1), Name: name}
				funcs[name] = fn
				p.Function = append(p.Function, fn)
				loc = &profile.Location{ID: uint64(len(p.Location) + 1), Line: []profile.Line{{Function: fn}}}
				locs[name] = loc
				p.Location = append(p.Location, loc)
			}
			s.Location = append(s.Location, loc)
		}
		p.Sample = append(p.Sample, s)
	}
	return p
}

// TestCPUAttribution: CPU under a lock primitive is sync CPU, charged to
// the first frame above the primitive; the reader-count atomics of RLock
// count though no mutex profile would show them; the runtime's own locks
// and GC work are counted apart.
func TestCPUAttribution(t *testing.T) {
	const cache = "main.(*Cache)"
	w := &window.Window{}
	w.SetProfile(window.CPU, cpuProfile(map[int64][]string{
		// 2s: contended Mutex, slow path and futex under it.
		2e9: {"runtime.futex", "runtime.futexsleep", "runtime.semasleep", "runtime.semacquire1", "internal/sync.runtime_SemacquireMutex",
			"internal/sync.(*Mutex).lockSlow", "internal/sync.(*Mutex).Lock", "sync.(*Mutex).Lock", cache + ".Set", "main.handler"},
		// 1s: the reader count's atomics, no contention at all.
		1e9: {"sync/atomic.(*Int32).Add", "sync.(*RWMutex).RLock", cache + ".Get", "main.handler"},
		// 3s: map work under the lock.
		3e9: {"internal/runtime/maps.runtime_mapaccess2_fast64", cache + ".Get", "main.handler"},
		// 0.5s: a channel's runtime lock: apart, never the user's.
		5e8: {"runtime.lock2", "runtime.lockWithRank", "runtime.lock", "runtime.chansend", "main.producer"},
		// 1.5s: GC mark work.
		15e8: {"runtime.scanobject", "runtime.gcDrain", "runtime.gcBgMarkWorker.func2", "runtime.systemstack", "runtime.gcBgMarkWorker"},
		// 2.01s: the scheduler looking for work: not a lock.
		201e7: {"runtime.futex", "runtime.futexsleep", "runtime.notesleep", "runtime.stopm", "runtime.findRunnable", "runtime.schedule", "runtime.park_m", "runtime.mcall"},
	}))
	a := Attribute(w)
	cpu := a.CPU
	if cpu.Err != nil || !cpu.Present {
		t.Fatalf("CPU account %+v", cpu)
	}
	if cpu.TotalNanos != 1001e7 || cpu.SyncNanos != 3e9 || cpu.RuntimeLockNanos != 5e8 || cpu.GCNanos != 15e8 {
		t.Errorf("total %d sync %d runtime-lock %d gc %d; want 10.01s, 3s, 0.5s, 1.5s", cpu.TotalNanos, cpu.SyncNanos, cpu.RuntimeLockNanos, cpu.GCNanos)
	}
	c := a.Component(cache)
	if c.SyncCPUNanos != 3e9 || c.RLockCPUNanos != 1e9 {
		t.Errorf("%s: sync CPU %d, RLock CPU %d; want 3s and 1s", cache, c.SyncCPUNanos, c.RLockCPUNanos)
	}
	if c.SyncCPUKinds[KindMutex] != 2e9 || c.SyncCPUKinds[KindRWMutexRead] != 1e9 {
		t.Errorf("%s: sync CPU by kind %v", cache, c.SyncCPUKinds)
	}
	if got, ok := c.CPUWork.ReadShare(); !ok || got != 4.0/6 {
		t.Errorf("%s: read share %v (%v), want 4s of 6s classified (RLock and mapaccess read, the Set writes)", cache, got, ok)
	}
	if p := a.Component("main"); p.CPUWork.All != 65e8 {
		t.Errorf("package main saw %gs of CPU, want every stack through a main frame (6.5s)", p.CPUWork.All/1e9)
	}
}

// TestReaderRoundTrip: a function name is parsed once however many
// locations and profiles repeat it.
func TestReaderParsesOnce(t *testing.T) {
	r := NewReader()
	a, b := r.Frame("main.(*Cache).Get"), r.Frame("main.(*Cache).Get")
	if a != b || a.Component != "main.(*Cache)" || a.Method != "Get" || !a.User || a.Machinery {
		t.Errorf("frames %p %p: %+v", a, b, a)
	}
	if f := r.Frame("sync.(*RWMutex).RUnlock"); f.Prim != PrimRWRead || !f.Machinery || f.Op != OpRead {
		t.Errorf("RUnlock frame %+v", f)
	}
}

// TestTallyMatchesPerComponentClassify: the one-walk tally gives every
// component the map work that classifying each stack for that component
// alone (MapWorkOf, ClassifyMapOp's rules) adds up to: on generated CPU
// and contention profiles with thousands of stacks, and on stacks made for
// the rarer rules (a library component doing map work, a writer ranging
// over its map, the reader count).
func TestTallyMatchesPerComponentClassify(t *testing.T) {
	for _, kind := range []profilegen.Kind{profilegen.CPU, profilegen.Mutex} {
		t.Run(string(kind), func(t *testing.T) {
			wk := window.CPU
			if kind == profilegen.Mutex {
				wk = window.Mutex
			}
			checkTally(t, wk, profilegen.MustGenerate(profilegen.Options{Kind: kind, Stacks: 3000, Seed: 9}))
		})
	}
	t.Run("rules", func(t *testing.T) {
		checkTally(t, window.CPU, cpuProfile(map[int64][]string{
			1e9: {"runtime.mapclone", "maps.Clone[...]", "main.(*COW).Set", "main.handler"},
			2e9: {"runtime.mapiternext", "main.(*Store).copyAll", "main.(*Store).Update", "main.(*Store).Get", "main.handler"},
			3e9: {"runtime.mapiternext", "main.(*Store).Snapshot", "main.handler"},
			4e9: {"sync/atomic.(*Int32).Add", "sync.(*RWMutex).RLock", "main.(*Cache).Get", "main.handler"},
			5e9: {"runtime.mapassign_fast64", "main.(*Cache).Set.func1", "main.(*Cache).Set", "github.com/x/y.(*Pool).run"},
		}))
	})
}

// checkTally compares Attribute's tally of p, a profile of kind wk, with
// MapWorkOf summed over p's stacks per component.
func checkTally(t *testing.T, wk window.ProfileKind, p *profile.Profile) {
	t.Helper()
	w := &window.Window{}
	w.SetProfile(wk, p)
	attr := Attribute(w)
	r := NewReader()
	r.ForProfile(p)
	want := map[string]MapWork{}
	rlock := map[string]int64{}
	vi := len(p.SampleType) - 1 // cpu or delay nanoseconds
	for _, s := range p.Sample {
		stack := r.Frames(s, nil)
		v := s.Value[vi]
		for name := range attr.Components {
			mw := want[name]
			mw.Add(MapWorkOf(stack, name, float64(v)))
			want[name] = mw
			if wk == window.CPU && inReaderCount(stack) && slices.ContainsFunc(stack, func(f *Frame) bool {
				return !f.Machinery && f.InComponent(name)
			}) {
				rlock[name] += v
			}
		}
	}
	if len(attr.Components) < 4 {
		t.Fatalf("%d components: the profile is too plain to test with", len(attr.Components))
	}
	for name, c := range attr.Components {
		got := c.CPUWork
		if wk != window.CPU {
			got = c.ContentionWork
		}
		if !closeWork(got, want[name]) {
			t.Errorf("%s: tally %+v, per-component classification %+v", name, got, want[name])
		}
		if c.RLockCPUNanos != rlock[name] {
			t.Errorf("%s: RLock CPU %d, want %d", name, c.RLockCPUNanos, rlock[name])
		}
	}
}

func closeWork(a, b MapWork) bool {
	near := func(x, y float64) bool { return math.Abs(x-y) <= 1e-9*math.Max(math.Abs(x), math.Abs(y)) }
	return near(a.Read, b.Read) && near(a.Write, b.Write) && near(a.Range, b.Range) && near(a.MapFrames, b.MapFrames) && near(a.All, b.All)
}

// TestSiteTopMatchesSort: Top selects what sorting every stack of the site
// (by delay, contentions, then frame names) puts first.
func TestSiteTopMatchesSort(t *testing.T) {
	p := profilegen.MustGenerate(profilegen.Options{Kind: profilegen.Mutex, Stacks: 3000, Seed: 3})
	// Ties on delay and contentions, decided by the frames' names.
	for i, s := range p.Sample {
		if i%3 == 0 {
			s.Value[0], s.Value[1] = 5, 5000
		}
	}
	w := &window.Window{}
	w.SetProfile(window.Mutex, p)
	attr := Attribute(w)
	names := func(st *Stack) []string {
		var out []string
		for _, f := range st.Frames() {
			out = append(out, f.Name)
		}
		return out
	}
	checked := 0
	for _, site := range attr.Holders.Sites {
		sorted := slices.Clone(site.Stacks)
		slices.SortFunc(sorted, func(a, b *Stack) int {
			return cmp.Or(cmp.Compare(b.Delay, a.Delay), cmp.Compare(b.Contentions, a.Contentions), slices.Compare(names(a), names(b)))
		})
		for _, n := range []int{0, 1, 3, len(sorted) + 2} {
			if got, want := site.Top(n), sorted[:min(n, len(sorted))]; !slices.Equal(got, want) {
				t.Errorf("site %s, Top(%d): %d stacks, not the sort's first %d", site.Key.Function, n, len(got), len(want))
			}
		}
		checked += len(sorted)
	}
	if checked < 3000 {
		t.Fatalf("%d stacks in the sites, want 3000", checked)
	}
}

// AttributeGrowth gives the growth Attribute gives, lock takers from every
// profile included, without the rest.
func TestAttributeGrowthMatchesAttribute(t *testing.T) {
	w := &window.Window{}
	for i, kind := range profilegen.Kinds {
		w.SetProfile(window.ProfileKind(kind), profilegen.MustGenerate(profilegen.Options{Kind: kind, Stacks: 2000, Seed: uint64(20 + i)}))
	}
	// Growth rule 5: main.(*Cache).Set allocates on its own and takes a
	// Mutex, seen only in the CPU profile.
	w.SetProfile(window.CPU, cpuProfile(map[int64][]string{
		1e9: {"sync.(*Mutex).Lock", "main.(*Cache).Set", "main.handler"},
		2e9: {"main.work", "main.main"},
	}))
	allocs := w.Profile(window.Allocs)
	fn := &profile.Function{ID: uint64(len(allocs.Function) + 1), Name: "main.(*Cache).Set"}
	loc := &profile.Location{ID: uint64(len(allocs.Location) + 1), Line: []profile.Line{{Function: fn}}}
	allocs.Function, allocs.Location = append(allocs.Function, fn), append(allocs.Location, loc)
	allocs.Sample = append(allocs.Sample, &profile.Sample{Location: []*profile.Location{loc, allocs.Sample[0].Location[len(allocs.Sample[0].Location)-1]},
		Value: []int64{10, 4096, 2, 1024}})
	full, growth := Attribute(w).Growth, AttributeGrowth(w).Growth
	if !reflect.DeepEqual(full, growth) {
		t.Errorf("AttributeGrowth's growth differs from Attribute's:\n%+v\n%+v", growth, full)
	}
	inferred := 0
	for k := range full.Bytes {
		if k.Inferred {
			inferred++
		}
	}
	if len(full.InUse) == 0 || inferred == 0 {
		t.Fatalf("the generated window has %d in-use keys, %d inferred from lock takers: too little compared", len(full.InUse), inferred)
	}
}
