package analyze

import (
	"testing"
	"time"

	"github.com/contendr/contendr/collectors/figure"
	"github.com/contendr/contendr/collectors/gc"
	"github.com/contendr/contendr/collectors/mutex"
	"github.com/contendr/contendr/window"
)

// Hand-built collector results: the cases the committed profiles do not
// cover (an RWMutex cache with named Get/Set, a Go 1.23 binary, a quiet
// service, profiling switched off).

func handWindow(goVersion string, procs, goroutines int) *window.Window {
	return &window.Window{
		ID: "w1", Start: windowStart, End: windowStart.Add(10 * time.Second),
		Meta: window.Meta{
			Source: "http://127.0.0.1:6061", GoVersion: goVersion, GOMAXPROCS: procs, NumCPU: procs, Goroutines: goroutines,
			MutexProfileFraction: 5, BlockProfileRate: 10000, MemProfileRate: 524288,
			Labels: map[string]string{"service": "api", "role": "canary", "version": "v2.3.1"},
		},
		Metrics: &window.SamplePair{},
	}
}

func site(fn, comp string, kind mutex.Kind, side mutex.Side, prim string, delay, contentions, fraction, share float64, stack ...string) *mutex.Site {
	return &mutex.Site{
		Function: fn, Component: comp, Kind: kind, Side: side, Primitive: prim,
		DelaySeconds: delay * 10, Contentions: int64(contentions * 10),
		DelaySecondsPerSecond: delay, ContentionsPerSecond: contentions, Fraction: fraction, Share: share,
		Stacks: []mutex.Stack{{Frames: stack, DelaySeconds: delay * 10, Contentions: int64(contentions * 10)}},
	}
}

func handRWMutexWriteHeavy(*testing.T) (Input, *mutex.Result, *gc.Result) {
	const comp = "github.com/acme/api/cache.(*Cache)"
	set := site(comp+".Set", comp, mutex.KindRWMutexWrite, mutex.Holder, "sync.(*RWMutex).Unlock", 2.95, 1200, 0.29, 0.92,
		"sync.(*RWMutex).Unlock", comp+".Set", "github.com/acme/api/handler.(*Server).put", "net/http.HandlerFunc.ServeHTTP")
	get := site(comp+".Get", comp, mutex.KindRWMutexRead, mutex.Waiter, "sync.(*RWMutex).RLock", 1.1, 900, 0.11, 0.35,
		"sync.(*RWMutex).RLock", comp+".Get", "github.com/acme/api/handler.(*Server).get")
	setW := site(comp+".Set", comp, mutex.KindRWMutexWrite, mutex.Waiter, "sync.(*RWMutex).Lock", 1.9, 700, 0.19, 0.6,
		"sync.(*RWMutex).Lock", comp+".Set", "github.com/acme/api/handler.(*Server).put")
	logger := site("github.com/acme/api/log.(*Logger).Write", "github.com/acme/api/log.(*Logger)", mutex.KindMutex, mutex.Holder, "sync.(*Mutex).Unlock", 0.2, 300, 0.02, 0.06,
		"sync.(*Mutex).Unlock", "github.com/acme/api/log.(*Logger).Write")
	sched := site("runtime.unlock", "runtime", mutex.KindRuntime, mutex.Holder, "runtime.unlock", 0.05, 80, 0.005, 1, "runtime.unlock", "runtime.findRunnable")
	lock := &mutex.Result{
		WindowSeconds: 10,
		LockFraction:  mutex.LockFraction{Value: 0.31, Known: true, WaitSeconds: 31, UserCPUSeconds: 69},
		Cost: mutex.Cost{Value: 0.4, Known: true, CapacitySeconds: 20, SyncCPUSeconds: 5, SyncCPUKnown: true, CPUProfileSeconds: 10,
			RuntimeLockCPUSeconds: 0.1, IdleSeconds: 3, IdleSource: mutex.IdleRuntime, WaitSeconds: 31, IdleLostSeconds: 3},
		Waiters: mutex.Waiters{Average: 3.1, Known: true, Runnable: 0.2, RunnableKnown: true},
		Sites:   []*mutex.Site{set, setW, get, logger},
		Components: []*mutex.Component{
			{Name: comp, Kinds: []mutex.Kind{mutex.KindRWMutexWrite, mutex.KindRWMutexRead}, Holders: []*mutex.Site{set}, Waiters: []*mutex.Site{setW, get},
				DelaySecondsPerSecond: 3.0, Fraction: 0.30, Share: 0.94, ReadDelaySeconds: 11, WriteDelaySeconds: 19,
				Cost: 0.371, SyncCPUSeconds: 4.6, IdleLostSeconds: 2.82},
			{Name: "github.com/acme/api/log.(*Logger)", Kinds: []mutex.Kind{mutex.KindMutex}, Holders: []*mutex.Site{logger},
				DelaySecondsPerSecond: 0.2, Fraction: 0.02, Share: 0.06, Cost: 0.014, SyncCPUSeconds: 0.1, IdleLostSeconds: 0.18},
		},
		Runtime:             []*mutex.Site{sched},
		MutexProfileEnabled: true, BlockProfileEnabled: true,
	}
	gcr := &gc.Result{
		WindowSeconds: 10,
		Measured:      figure.KnownSet(figure.All...),
		Pressure: gc.Pressure{
			CPUFraction: 0.12, AssistShare: 0.2, PauseP50Seconds: 0.00012, PauseP99Seconds: 0.00085, PauseMaxSeconds: 0.0012,
			Cycles: 32, CyclesPerSecond: 3.2, AllocBytesPerSecond: 410 << 20, AllocObjectsPerSecond: 1.2e6,
			HeapLiveBytes: 120 << 20, HeapGoalBytes: 240 << 20, GOGC: 100, GOMEMLIMIT: float64(1<<63 - 1), Source: "runtime/metrics",
		},
		MapGrowth: []*gc.MapGrowth{{Component: comp, Function: comp + ".Set", Kind: gc.GrowthGoMap, Bytes: 40 << 20,
			BytesPerSecond: 4 << 20, ObjectsPerSecond: 900, ShareOfAlloc: 0.01}},
		TotalAllocBytes: 4100 << 20,
	}
	return Input{Window: handWindow("go1.26.8", 2, 512)}, lock, gcr
}

func handLegacyGo123(*testing.T) (Input, *mutex.Result, *gc.Result) {
	const comp = "main.(*Registry)"
	store := site(comp+".Register", comp, mutex.KindSyncMapLegacy, mutex.Holder, "sync.(*Mutex).Unlock", 0.9, 400, 0.09, 0.9,
		"sync.(*Mutex).Unlock", "sync.(*Map).Store", comp+".Register")
	load := site(comp+".Lookup", comp, mutex.KindSyncMapLegacy, mutex.Waiter, "sync.(*Mutex).Lock", 0.8, 350, 0.08, 0.85,
		"sync.(*Mutex).Lock", "sync.(*Map).Load", comp+".Lookup")
	rng := site(comp+".Snapshot", comp, mutex.KindSyncMapLegacy, mutex.Waiter, "sync.(*Mutex).Lock", 0.1, 20, 0.01, 0.1,
		"sync.(*Mutex).Lock", "sync.(*Map).Range", comp+".Snapshot")
	lock := &mutex.Result{
		WindowSeconds: 10,
		LockFraction:  mutex.LockFraction{Value: 0.1, Known: true, WaitSeconds: 10, UserCPUSeconds: 90},
		Cost: mutex.Cost{Value: 0.1, Known: true, CapacitySeconds: 80, SyncCPUSeconds: 6, SyncCPUKnown: true, CPUProfileSeconds: 10,
			IdleSeconds: 2, IdleSource: mutex.IdleRuntime, WaitSeconds: 10, IdleLostSeconds: 2},
		Waiters: mutex.Waiters{Average: 1, Known: true},
		Sites:   []*mutex.Site{store, load, rng},
		Components: []*mutex.Component{{Name: comp, Kinds: []mutex.Kind{mutex.KindSyncMapLegacy}, Holders: []*mutex.Site{store},
			Waiters: []*mutex.Site{load, rng}, DelaySecondsPerSecond: 0.9, Fraction: 0.09, Share: 0.9,
			Cost: 0.095, SyncCPUSeconds: 5.8, IdleLostSeconds: 1.8}},
		MutexProfileEnabled: true, BlockProfileEnabled: true,
	}
	gcr := &gc.Result{
		WindowSeconds: 10,
		Measured:      figure.KnownSet(figure.All...),
		Pressure: gc.Pressure{CPUFraction: 0.27, AssistShare: 0.45, PauseP50Seconds: 0.0003, PauseP99Seconds: 0.004, PauseMaxSeconds: 0.006,
			Cycles: 120, CyclesPerSecond: 12, AllocBytesPerSecond: 1.2e9, AllocObjectsPerSecond: 3e6, HeapLiveBytes: 300 << 20,
			HeapGoalBytes: 600 << 20, GOGC: 100, GOMEMLIMIT: 2 << 30, Source: "runtime/metrics"},
		MapGrowth: []*gc.MapGrowth{{Component: comp, Function: comp + ".Register", Kind: gc.GrowthSyncMapDirty, Bytes: 11e9,
			BytesPerSecond: 1.1e9, ObjectsPerSecond: 200, ShareOfAlloc: 0.92}},
	}
	return Input{Window: handWindow("go1.23.4", 8, 300), Target: "registry.prod:6060"}, lock, gcr
}

func handQuiet(*testing.T) (Input, *mutex.Result, *gc.Result) {
	const comp = "main.(*Sessions)"
	get := site(comp+".Get", comp, mutex.KindMutex, mutex.Holder, "sync.(*Mutex).Unlock", 0.004, 10, 0.002, 1,
		"sync.(*Mutex).Unlock", comp+".Get")
	lock := &mutex.Result{
		WindowSeconds: 10,
		LockFraction:  mutex.LockFraction{Value: 0.004, Known: true, WaitSeconds: 0.04, UserCPUSeconds: 9.96},
		Cost: mutex.Cost{Value: 0.0035, Known: true, CapacitySeconds: 40, SyncCPUSeconds: 0.1, SyncCPUKnown: true, CPUProfileSeconds: 10,
			IdleSeconds: 30, IdleSource: mutex.IdleRuntime, WaitSeconds: 0.04, IdleLostSeconds: 0.04},
		Waiters: mutex.Waiters{Average: 0.004, Known: true, Runnable: 0, RunnableKnown: true},
		Sites:   []*mutex.Site{get},
		Components: []*mutex.Component{{Name: comp, Kinds: []mutex.Kind{mutex.KindMutex}, Holders: []*mutex.Site{get},
			DelaySecondsPerSecond: 0.004, Fraction: 0.002, Share: 1, Cost: 0.0035, SyncCPUSeconds: 0.1, IdleLostSeconds: 0.04}},
		MutexProfileEnabled: true, BlockProfileEnabled: true,
	}
	gcr := &gc.Result{WindowSeconds: 10, Measured: figure.KnownSet(figure.All...), Pressure: gc.Pressure{CPUFraction: 0.02, PauseP50Seconds: 5e-5, PauseP99Seconds: 0.0002,
		PauseMaxSeconds: 0.0002, Cycles: 3, CyclesPerSecond: 0.3, AllocBytesPerSecond: 2 << 20, AllocObjectsPerSecond: 3e4,
		HeapLiveBytes: 20 << 20, HeapGoalBytes: 40 << 20, GOGC: 100, GOMEMLIMIT: float64(1<<63 - 1), Source: "runtime/metrics"}}
	return Input{Window: handWindow("go1.26.8", 4, 40)}, lock, gcr
}

// handProfilingOff is a plain net/http/pprof target that never enabled
// mutex or block profiling: with no runtime/metrics there is no lock wait,
// so the cost is a lower bound (CPU in lock primitives from the CPU
// profile only) and the lock wait share unknown; GC comes from MemStats.
func handProfilingOff(*testing.T) (Input, *mutex.Result, *gc.Result) {
	w := handWindow("go1.22.1", 2, 90)
	w.Metrics = nil
	w.Meta.MutexProfileFraction, w.Meta.BlockProfileRate = 0, 0
	w.Notes = []string{"fgprof skipped: the target is a plain net/http/pprof server"}
	lock := &mutex.Result{
		WindowSeconds: 10,
		Cost: mutex.Cost{Value: 0.02, Known: true, Estimated: true, LowerBound: true, CapacitySeconds: 20, SyncCPUSeconds: 0.4, SyncCPUKnown: true,
			CPUProfileSeconds: 10, IdleSeconds: 3, IdleSource: mutex.IdleCPUProfile,
			Reason: "idle time is GOMAXPROCS × window minus the CPU profile's total, which also counts CPU taken by other processes or a cgroup quota as idle; " +
				"no lock wait (no runtime/metrics, mutex and block profiling off), so no idle time is blamed on locks"},
		Notes: []string{"mutex profiling is off on the target (runtime.SetMutexProfileFraction is 0)"},
	}
	gcr := &gc.Result{WindowSeconds: 10, Pressure: gc.Pressure{PauseP50Seconds: 0.0004, PauseP99Seconds: 0.012, PauseMaxSeconds: 0.012,
		Cycles: 9, CyclesPerSecond: 0.9, AllocBytesPerSecond: 50 << 20, HeapLiveBytes: 80 << 20, HeapGoalBytes: 160 << 20,
		Source: "memstats"}, Measured: memStatsOnly()}
	return Input{Window: w}, lock, gcr
}

// memStatsOnly is what two MemStats readings without a CPU profile measure.
func memStatsOnly() figure.Set {
	got := figure.KnownSet(figure.GCPauseP50, figure.GCPauseP99, figure.GCPauseMax, figure.GCCycles, figure.AllocRate, figure.HeapGoal, figure.MapGrowth)
	got.Estimate(figure.HeapLive, "MemStats.HeapAlloc, which still counts dead objects not yet swept")
	got.Miss("no runtime/metrics and no CPU profile in the window", figure.GCCPUFraction)
	got.Miss("MemStats has no mark-assist time", figure.GCAssistShare)
	got.Miss("not in MemStats", figure.GOGC, figure.GOMEMLIMIT)
	return got
}
