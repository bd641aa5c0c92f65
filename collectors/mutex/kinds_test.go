package mutex

import (
	"strings"
	"testing"

	"github.com/google/pprof/profile"

	"github.com/contendr/contendr/window"
)

// stack is a leaf-first list of locations; each location lists its
// functions innermost first, as Location.Line does for inlined calls.
type stack [][]string

// contentionProfile builds a mutex/block profile the way runtime/pprof
// does: contentions first, delay second. Each stack gets delay 1000·(i+1)
// ns and i+1 contentions.
func contentionProfile(stacks ...stack) *profile.Profile {
	p := &profile.Profile{
		SampleType: []*profile.ValueType{{Type: "contentions", Unit: "count"}, {Type: "delay", Unit: "nanoseconds"}},
		PeriodType: &profile.ValueType{Type: "contentions", Unit: "count"},
		Period:     1,
	}
	funcs := map[string]*profile.Function{}
	// Like the runtime, one location per distinct frame, shared by every
	// stack through it.
	locs := map[string]*profile.Location{}
	for i, st := range stacks {
		s := &profile.Sample{Value: []int64{int64(i + 1), int64(1000 * (i + 1))}}
		for _, names := range st {
			locKey := strings.Join(names, "\n")
			loc := locs[locKey]
			if loc == nil {
				loc = &profile.Location{ID: uint64(len(p.Location) + 1), Address: uint64(0x1000 + len(p.Location))}
				for _, name := range names {
					fn := funcs[name]
					if fn == nil {
						fn = &profile.Function{ID: uint64(len(p.Function) + 1), Name: name, SystemName: name}
						funcs[name] = fn
						p.Function = append(p.Function, fn)
					}
					loc.Line = append(loc.Line, profile.Line{Function: fn})
				}
				locs[locKey] = loc
				p.Location = append(p.Location, loc)
			}
			s.Location = append(s.Location, loc)
		}
		p.Sample = append(p.Sample, s)
	}
	return p
}

const (
	trieProto = "internal/sync.(*HashTrieMap[go.shape.interface {},go.shape.interface {}])"
	trieText  = "internal/sync.(*HashTrieMap[...])" // ?debug=1 spelling
)

func TestClassifyStacks(t *testing.T) {
	tests := []struct {
		name      string
		side      Side
		stack     stack
		kind      Kind
		function  string
		primitive string
		component string
	}{
		{"mutex inlined into caller", Waiter,
			stack{{"sync.(*Mutex).Lock", "main.(*Cache).Get"}, {"main.main.func1"}},
			KindMutex, "main.(*Cache).Get", "sync.(*Mutex).Lock", "main.(*Cache)"},
		{"mutex holder through internal/sync", Holder,
			stack{{"internal/sync.(*Mutex).Unlock", "sync.(*Mutex).Unlock", "main.worker"}},
			KindMutex, "main.worker", "sync.(*Mutex).Unlock", "main"},
		{"rwmutex writer waits on the inner mutex", Waiter,
			stack{{"sync.(*Mutex).Lock", "sync.(*RWMutex).Lock"}, {"main.(*Cache).Set"}},
			KindRWMutexWrite, "main.(*Cache).Set", "sync.(*RWMutex).Lock", "main.(*Cache)"},
		{"rwmutex writer waits for readers", Waiter,
			stack{{"sync.(*RWMutex).Lock"}, {"main.(*Cache).Set"}},
			KindRWMutexWrite, "main.(*Cache).Set", "sync.(*RWMutex).Lock", "main.(*Cache)"},
		{"rwmutex reader waits, semacquire leaf", Waiter,
			stack{{"runtime.semacquire1"}, {"sync.runtime_SemacquireRWMutexR"}, {"sync.(*RWMutex).RLock", "main.(*Cache).Get"}},
			KindRWMutexRead, "main.(*Cache).Get", "sync.(*RWMutex).RLock", "main.(*Cache)"},
		{"last reader wakes the writer", Holder,
			stack{{"sync.(*RWMutex).rUnlockSlow"}, {"sync.(*RWMutex).RUnlock", "main.(*Cache).Get"}},
			KindRWMutexRead, "main.(*Cache).Get", "sync.(*RWMutex).RUnlock", "main.(*Cache)"},
		{"rwmutex writer unlock", Holder,
			stack{{"sync.(*Mutex).Unlock", "sync.(*RWMutex).Unlock"}, {"main.(*Cache).Set"}},
			KindRWMutexWrite, "main.(*Cache).Set", "sync.(*RWMutex).Unlock", "main.(*Cache)"},
		{"RLocker", Waiter,
			stack{{"sync.(*RWMutex).RLock", "sync.(*rlocker).Lock"}, {"main.read"}},
			KindRWMutexRead, "main.read", "sync.(*rlocker).Lock", "main"},
		{"syncmap proto spelling, inlined map frames", Holder,
			stack{{trieProto + ".Swap"}, {trieProto + ".Store", "sync.(*Map).Store", "main.(*S).op"}, {"main.main.func1"}},
			KindSyncMap, "main.(*S).op", "sync.(*Map).Store", "main.(*S)"},
		{"syncmap debug=1 spelling, one frame per location", Holder,
			stack{{trieText + ".Swap"}, {trieText + ".Store"}, {"sync.(*Map).Store"}, {"main.(*S).op"}},
			KindSyncMap, "main.(*S).op", "sync.(*Map).Store", "main.(*S)"},
		{"syncmap internal mutex", Waiter,
			stack{{"internal/sync.(*Mutex).Lock", trieProto + ".LoadOrStore", "sync.(*Map).LoadOrStore"}, {"main.(*S).op"}},
			KindSyncMap, "main.(*S).op", "sync.(*Map).LoadOrStore", "main.(*S)"},
		{"unique.Make is not a sync.Map", Waiter,
			stack{{"internal/sync.(*HashTrieMap[go.shape.string,go.shape.struct {}]).LoadOrStore"}, {"unique.Make[go.shape.string]"}, {"main.intern"}},
			KindOther, "unique.Make[go.shape.string]", "internal/sync.(*HashTrieMap[go.shape.string,go.shape.struct {}]).LoadOrStore", "unique"},
		{"legacy syncmap holder", Holder,
			stack{{"sync.(*Mutex).Unlock", "sync.(*Map).LoadOrStore"}, {"main.(*S).op"}},
			KindSyncMapLegacy, "main.(*S).op", "sync.(*Map).LoadOrStore", "main.(*S)"},
		{"legacy syncmap waiter, Store inlined over Swap", Waiter,
			stack{{"sync.(*Mutex).Lock"}, {"sync.(*Map).Swap"}, {"sync.(*Map).Store", "main.(*S).op"}},
			KindSyncMapLegacy, "main.(*S).op", "sync.(*Map).Store", "main.(*S)"},
		{"legacy syncmap text spelling through internal/sync", Holder,
			stack{{"internal/sync.(*Mutex).Unlock"}, {"sync.(*Mutex).Unlock"}, {"sync.(*Map).Range"}, {"main.(*S).op"}},
			KindSyncMapLegacy, "main.(*S).op", "sync.(*Map).Range", "main.(*S)"},
		{"a GC's channel wait under sync.Map stays a channel wait", Waiter,
			stack{{"runtime.chanrecv1"}, {"runtime.gcStart"}, {"runtime.mallocgc"}, {"sync.(*Map).dirtyLocked"}, {"sync.(*Map).LoadOrStore"}, {"main.(*S).op"}},
			KindChan, "main.(*S).op", "sync.(*Map).LoadOrStore", "main.(*S)"},
		{"select", Waiter, stack{{"runtime.selectgo"}, {"main.loop"}}, KindSelect, "main.loop", "runtime.selectgo", "main"},
		{"empty select", Waiter, stack{{"runtime.block"}, {"main.main"}}, KindSelect, "main.main", "runtime.block", "main"},
		{"chan send", Waiter, stack{{"runtime.chansend1"}, {"main.(*Pool).Put"}}, KindChan, "main.(*Pool).Put", "runtime.chansend1", "main.(*Pool)"},
		{"waitgroup", Waiter, stack{{"sync.(*WaitGroup).Wait"}, {"main.main"}}, KindWaitGroup, "main.main", "sync.(*WaitGroup).Wait", "main"},
		{"cond", Waiter, stack{{"sync.(*Cond).Wait"}, {"main.(*Q).Pop"}}, KindCond, "main.(*Q).Pop", "sync.(*Cond).Wait", "main.(*Q)"},
		{"cond relock is a mutex wait", Waiter,
			stack{{"sync.(*Mutex).Lock"}, {"sync.(*Cond).Wait"}, {"main.(*Q).Pop"}},
			KindMutex, "main.(*Q).Pop", "sync.(*Cond).Wait", "main.(*Q)"},
		{"Once is a mutex", Waiter,
			stack{{"sync.(*Mutex).Lock"}, {"sync.(*Once).doSlow"}, {"sync.(*Once).Do", "main.setup"}},
			KindMutex, "main.setup", "sync.(*Once).Do", "main"},
		{"generic user receiver", Waiter,
			stack{{"sync.(*RWMutex).Lock"}, {"example.com/cache.(*Map[go.shape.int,go.shape.int]).Store"}},
			KindRWMutexWrite, "example.com/cache.(*Map[go.shape.int,go.shape.int]).Store", "sync.(*RWMutex).Lock", "example.com/cache.(*Map[...])"},
		{"closure in a method", Holder,
			stack{{"sync.(*Mutex).Unlock", "main.(*Cache).Get.func1"}, {"main.(*Cache).Get"}},
			KindMutex, "main.(*Cache).Get.func1", "sync.(*Mutex).Unlock", "main.(*Cache)"},
		{"file descriptor lock", Waiter,
			stack{{"internal/poll.(*fdMutex).rwlock"}, {"internal/poll.(*FD).writeLock", "internal/poll.(*FD).Write"}, {"os.(*File).Write"}, {"main.log"}},
			KindMutex, "os.(*File).Write", "internal/poll.(*FD).Write", "os.(*File)"},
		{"no frame outside the machinery", Waiter,
			stack{{"sync.(*Mutex).Lock"}, {"runtime.main"}},
			KindMutex, "runtime.main", "sync.(*Mutex).Lock", "runtime"},
		{"runtime lock, inlined unlock", Holder,
			stack{{"runtime.unlock", "runtime.semrelease1"}, {"internal/sync.runtime_Semrelease"}, {"internal/sync.(*Mutex).Unlock", "sync.(*Mutex).Unlock", "main.(*C).Get"}},
			KindRuntime, "runtime.semrelease1", "runtime.unlock", "runtime"},
		{"runtime lock, unlock2 under unlockWithRank", Holder,
			stack{{"runtime.unlock2"}, {"runtime.unlockWithRank", "runtime.unlock", "runtime.stopTheWorldWithSema"}, {"main.f"}},
			KindRuntime, "runtime.stopTheWorldWithSema", "runtime.unlock", "runtime"},
		{"runtime lock with no stack", Holder,
			stack{{"runtime._LostContendedRuntimeLock"}},
			KindRuntime, "runtime._LostContendedRuntimeLock", "runtime._LostContendedRuntimeLock", "runtime"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &window.Window{Meta: window.Meta{MutexProfileFraction: 1, BlockProfileRate: 1}}
			kind := window.Block
			if tt.side == Holder {
				kind = window.Mutex
			}
			w.SetProfile(kind, contentionProfile(tt.stack))
			res, err := Collect(w, Options{})
			if err != nil {
				t.Fatal(err)
			}
			sites := res.Sites
			if tt.kind == KindRuntime {
				sites = res.Runtime
				if len(res.Sites) != 0 {
					t.Errorf("runtime lock blamed on user site %s", res.Sites[0].Function)
				}
			}
			if len(sites) != 1 {
				t.Fatalf("got %d sites, want 1", len(sites))
			}
			s := sites[0]
			if s.Kind != tt.kind || s.Function != tt.function || s.Primitive != tt.primitive || s.Component != tt.component || s.Side != tt.side {
				t.Errorf("site = %s %s %s via %s in %s, want %s %s %s via %s in %s",
					s.Side, s.Kind, s.Function, s.Primitive, s.Component, tt.side, tt.kind, tt.function, tt.primitive, tt.component)
			}
			if s.DelaySeconds != 1e-6 || s.Contentions != 1 {
				t.Errorf("delay %v s in %d contentions, want 1µs in 1", s.DelaySeconds, s.Contentions)
			}
		})
	}
}

// TestSampleTypesByName checks that the delay is found by its type name,
// not its position: a converted profile may list delay first.
func TestSampleTypesByName(t *testing.T) {
	p := contentionProfile(stack{{"sync.(*Mutex).Lock", "main.f"}})
	p.SampleType[0], p.SampleType[1] = p.SampleType[1], p.SampleType[0]
	for _, s := range p.Sample {
		s.Value[0], s.Value[1] = s.Value[1], s.Value[0]
	}
	w := &window.Window{Meta: window.Meta{BlockProfileRate: 1}}
	w.SetProfile(window.Block, p)
	res, err := Collect(w, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Sites) != 1 || res.Sites[0].DelaySeconds != 1e-6 || res.Sites[0].Contentions != 1 {
		t.Fatalf("sites %+v, want one with 1µs in 1 contention", res.Sites)
	}

	p.SampleType = []*profile.ValueType{{Type: "samples", Unit: "count"}, {Type: "cpu", Unit: "nanoseconds"}}
	if _, err := Collect(w, Options{}); err == nil {
		t.Error("Collect accepted a block profile without a delay sample type")
	}
}

// TestStandardLibraryWaitsAreNoSite: net/http's connection plumbing waits
// on a sync.Cond in every HTTP server (the agent's own included); that is no
// site anyone can change, so it is never listed, while a user's Cond wait
// is.
func TestStandardLibraryWaitsAreNoSite(t *testing.T) {
	w := &window.Window{Meta: window.Meta{MutexProfileFraction: 1, BlockProfileRate: 1}}
	w.SetProfile(window.Block, contentionProfile(
		stack{{"sync.(*Cond).Wait"}, {"net/http.(*connReader).abortPendingRead"}, {"net/http.(*response).finishRequest"}, {"net/http.(*conn).serve"}},
		stack{{"sync.(*Cond).Wait"}, {"main.(*Queue).Pop"}, {"main.worker"}},
	))
	res, err := Collect(w, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Sites) != 1 || res.Sites[0].Function != "main.(*Queue).Pop" {
		var names []string
		for _, s := range res.Sites {
			names = append(names, s.Function)
		}
		t.Errorf("sites %v, want main.(*Queue).Pop only", names)
	}
}
