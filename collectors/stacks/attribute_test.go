package stacks

import (
	"testing"

	"github.com/google/pprof/profile"

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
