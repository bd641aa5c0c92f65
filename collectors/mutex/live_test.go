package mutex

import (
	"bytes"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/pprof/profile"

	"github.com/contendr/contendr/window"
)

// The live tests run contended workloads in this process and build windows
// the way the agent does: delta mutex and block profiles from runtime/pprof
// and two runtime/metrics readings. They check the figures a user would act
// on rather than exact values, which depend on the machine.

const (
	liveGoroutines       = 64
	liveKeysPerGoroutine = 256
	liveKeys             = liveGoroutines * liveKeysPerGoroutine
	liveDuration         = time.Second
)

// liveValue is what the maps hold: a write allocates one, as a service
// storing request data would, so that GC cycles run during the window and
// refresh runtime/metrics' CPU time.
type liveValue struct{ n, key int }

// liveRWStore is one RWMutex over one map: the contended strategy.
type liveRWStore struct {
	mu sync.RWMutex
	m  map[int]*liveValue
}

func (s *liveRWStore) op(key int, write bool) {
	if write {
		v := &liveValue{key: key}
		s.mu.Lock()
		if old := s.m[key]; old != nil {
			v.n = old.n + 1
		}
		s.m[key] = v
		s.mu.Unlock()
		return
	}
	s.mu.RLock()
	_ = s.m[key]
	s.mu.RUnlock()
}

// liveShardedStore spreads the same map over 64 independently locked
// shards.
type liveShardedStore struct {
	shards [64]struct {
		mu sync.RWMutex
		m  map[int]*liveValue
		_  [64]byte // keep shard locks on separate cache lines
	}
}

func (s *liveShardedStore) op(key int, write bool) {
	sh := &s.shards[key%len(s.shards)]
	if write {
		v := &liveValue{key: key}
		sh.mu.Lock()
		if old := sh.m[key]; old != nil {
			v.n = old.n + 1
		}
		sh.m[key] = v
		sh.mu.Unlock()
		return
	}
	sh.mu.RLock()
	_ = sh.m[key]
	sh.mu.RUnlock()
}

// runWriteHeavy runs op from liveGoroutines CPU-bound goroutines for d:
// 70% writes. Each goroutine works on its own keys (key % liveGoroutines
// is the goroutine's number), as per-connection or per-tenant state would:
// one RWMutex then makes all 64 goroutines share a lock, while 64 shards
// picked by key % 64 give each its own.
//
// Disjoint keys are what makes the comparison hold on two cores. With
// random keys and far more runnable goroutines than Ps, a goroutine
// preempted inside a shard's critical section convoys every goroutine
// that touches that shard, and the sharded store waits as long as the
// single lock does: a scheduling effect, not a measurement one.
func runWriteHeavy(d time.Duration, op func(key int, write bool)) {
	var stop atomic.Bool
	var wg sync.WaitGroup
	for g := range liveGoroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			x := uint64(g)*0x9E3779B97F4A7C15 + 1
			for !stop.Load() {
				x ^= x << 13
				x ^= x >> 7
				x ^= x << 17
				op(g+liveGoroutines*int(x%liveKeysPerGoroutine), x%100 < 70)
			}
		}()
	}
	time.Sleep(d)
	stop.Store(true)
	wg.Wait()
}

// measure returns the window of what happens during run, with mutex and
// block profiling at rate 1 (restored afterwards; the block rate has no
// getter, so it goes back to the runtime's default of 0).
func measure(t *testing.T, debug int, run func()) *window.Window {
	t.Helper()
	prevFraction := runtime.SetMutexProfileFraction(1)
	runtime.SetBlockProfileRate(1)
	defer func() {
		runtime.SetMutexProfileFraction(prevFraction)
		runtime.SetBlockProfileRate(0)
	}()

	w := &window.Window{ID: t.Name(), Meta: window.Meta{
		Source: "in-process", GoVersion: runtime.Version(), GOMAXPROCS: runtime.GOMAXPROCS(0), NumCPU: runtime.NumCPU(),
		MutexProfileFraction: 1, BlockProfileRate: 1, MemProfileRate: runtime.MemProfileRate,
	}}
	mutexStart, blockStart := snapshot(t, "mutex", debug), snapshot(t, "block", debug)
	w.Start = time.Now()
	metricsStart := readMetrics()
	run()
	metricsEnd := readMetrics()
	w.End = time.Now()
	mutexEnd, blockEnd := snapshot(t, "mutex", debug), snapshot(t, "block", debug)

	w.Metrics = &window.SamplePair{Start: metricsStart, End: metricsEnd}
	for kind, pair := range map[window.ProfileKind][2]*profile.Profile{
		window.Mutex: {mutexStart, mutexEnd},
		window.Block: {blockStart, blockEnd},
	} {
		delta, restarted, err := window.Delta(pair[0], pair[1])
		if err != nil || restarted {
			t.Fatalf("delta of the %s profile: restarted=%v err=%v", kind, restarted, err)
		}
		w.SetProfile(kind, delta)
	}
	return w
}

func snapshot(t *testing.T, name string, debug int) *profile.Profile {
	t.Helper()
	var buf bytes.Buffer
	if err := pprof.Lookup(name).WriteTo(&buf, debug); err != nil {
		t.Fatalf("writing the %s profile: %v", name, err)
	}
	p, err := window.ParseProfile(buf.Bytes(), 0)
	if err != nil {
		t.Fatalf("parsing the %s profile (debug=%d): %v", name, debug, err)
	}
	return p
}

func readMetrics() window.Sample {
	samples := make([]metrics.Sample, len(window.MetricNames))
	for i, name := range window.MetricNames {
		samples[i].Name = name
	}
	metrics.Read(samples)
	out := window.Sample{Time: time.Now(), Values: map[string]float64{}}
	for _, s := range samples {
		switch s.Value.Kind() {
		case metrics.KindFloat64:
			out.Values[s.Name] = s.Value.Float64()
		case metrics.KindUint64:
			out.Values[s.Name] = float64(s.Value.Uint64())
		}
	}
	return out
}

func TestLiveRWMutexVersusSharded(t *testing.T) {
	if testing.Short() {
		t.Skip("runs contended workloads for about 2s")
	}
	t.Logf("GOMAXPROCS=%d NumCPU=%d %s", runtime.GOMAXPROCS(0), runtime.NumCPU(), runtime.Version())

	rw := &liveRWStore{m: make(map[int]*liveValue, liveKeys)}
	rwRes, err := Collect(measure(t, 0, func() { runWriteHeavy(liveDuration, rw.op) }), Options{})
	if err != nil {
		t.Fatal(err)
	}
	sharded := &liveShardedStore{}
	for i := range sharded.shards {
		sharded.shards[i].m = make(map[int]*liveValue, liveKeys/len(sharded.shards))
	}
	shardedRes, err := Collect(measure(t, 0, func() { runWriteHeavy(liveDuration, sharded.op) }), Options{})
	if err != nil {
		t.Fatal(err)
	}

	rwFraction, shardedFraction := rwRes.LockFraction, shardedRes.LockFraction
	t.Logf("rwmutex: lock fraction %.3f (wait %.2fs, user CPU %.2fs); sharded: %.3f (wait %.2fs, user CPU %.2fs)",
		rwFraction.Value, rwFraction.WaitSeconds, rwFraction.UserCPUSeconds,
		shardedFraction.Value, shardedFraction.WaitSeconds, shardedFraction.UserCPUSeconds)
	for name, f := range map[string]LockFraction{"rwmutex": rwFraction, "sharded": shardedFraction} {
		if !f.Known {
			t.Fatalf("%s lock fraction unknown: %s", name, f.Reason)
		}
		if f.Estimated {
			t.Logf("%s lock fraction estimated: %s", name, f.Reason)
		}
	}
	if rwFraction.Value <= 0.05 {
		t.Errorf("rwmutex lock fraction %.3f, want well above 0.05", rwFraction.Value)
	}
	if shardedFraction.Value >= rwFraction.Value/2 {
		t.Errorf("sharded lock fraction %.3f, want under half of rwmutex's %.3f", shardedFraction.Value, rwFraction.Value)
	}

	const rwComponent = "github.com/contendr/contendr/collectors/mutex.(*liveRWStore)"
	if len(rwRes.Components) == 0 || rwRes.Components[0].Name != rwComponent {
		t.Fatalf("top component %v, want %s", componentNames(rwRes.Components), rwComponent)
	}
	top := rwRes.Components[0]
	t.Logf("top component %s: %.3f delay s/s, fraction %.3f, %d holder and %d waiter sites, kinds %v, read/write wait %.3fs/%.3fs",
		top.Name, top.DelaySecondsPerSecond, top.Fraction, len(top.Holders), len(top.Waiters), top.Kinds, top.ReadDelaySeconds, top.WriteDelaySeconds)
	if len(top.Holders) == 0 || len(top.Waiters) == 0 {
		t.Errorf("component %s has %d holder and %d waiter sites, want both sides", top.Name, len(top.Holders), len(top.Waiters))
	}
	for _, s := range append(top.Holders, top.Waiters...) {
		if s.Kind != KindRWMutexWrite && s.Kind != KindRWMutexRead {
			t.Errorf("site %s %s has kind %s, want an rwmutex kind", s.Side, s.Function, s.Kind)
		}
	}
	if top.Fraction <= 0 || top.Fraction >= 1 {
		t.Errorf("component fraction %v, want in (0, 1)", top.Fraction)
	}
}

// liveSyncMapStore is a sync.Map, whose Go ≥1.24 frames are generic. It
// folds keys onto 16, which share the HashTrieMap's top nodes and their
// locks, so that a short run records contention.
type liveSyncMapStore struct{ m sync.Map }

func (s *liveSyncMapStore) op(key int, write bool) {
	key %= 16
	if write {
		s.m.Store(key, key)
		return
	}
	s.m.Load(key)
}

// TestLiveSyncMapTextProfiles reads the runtime's ?debug=1 text profiles,
// whose generic frames are spelled HashTrieMap[...], and expects the same
// classification as from protos.
func TestLiveSyncMapTextProfiles(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a contended workload")
	}
	store := &liveSyncMapStore{}
	w := measure(t, 1, func() { runWriteHeavy(liveDuration/2, store.op) })
	res, err := Collect(w, Options{})
	if err != nil {
		t.Fatal(err)
	}
	const component = "github.com/contendr/contendr/collectors/mutex.(*liveSyncMapStore)"
	var found bool
	for _, s := range res.Sites {
		if s.Component != component {
			continue
		}
		if !found {
			t.Logf("heaviest site: %s %s %s via %s, stack %q", s.Side, s.Kind, s.Function, s.Primitive, s.Stacks[0].Frames)
		}
		found = true
		if classOf(s.Kind) == classLock && s.Kind != KindSyncMap {
			t.Errorf("%s site %s via %s has kind %s, want syncmap (stack %q)", s.Side, s.Function, s.Primitive, s.Kind, s.Stacks[0].Frames)
		}
	}
	if !found {
		t.Skipf("no contention recorded on the sync.Map in this run (GOMAXPROCS=%d); nothing to classify", runtime.GOMAXPROCS(0))
	}
}
