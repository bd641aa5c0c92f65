package gc

import (
	"bytes"
	"maps"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/contendr/contendr/collectors/figure"
	"github.com/contendr/contendr/window"
	"github.com/google/pprof/profile"
)

func TestMain(m *testing.M) {
	// The allocs profile samples at the rate in force when each allocation
	// happens: set it before the tests allocate anything worth sampling.
	runtime.MemProfileRate = 4096
	os.Exit(m.Run())
}

// The live workloads: the same write-heavy mix on a map of liveKeys
// entries, guarded two ways.
const (
	liveKeys       = 4096
	liveGoroutines = 4
	liveWriteShare = 0.5
	liveDuration   = time.Second
)

// mapStore is what a workload does per operation.
type mapStore interface {
	get(k int) int
	set(k, v int)
}

// cowStore copies the whole map on every write: atomic.Pointer to an
// immutable map.
type cowStore struct{ m atomic.Pointer[map[int]int] }

func newCOWStore() *cowStore {
	s := &cowStore{}
	m := make(map[int]int, liveKeys)
	for k := range liveKeys {
		m[k] = k
	}
	s.m.Store(&m)
	return s
}

func (s *cowStore) get(k int) int { return (*s.m.Load())[k] }

func (s *cowStore) set(k, v int) {
	for {
		old := s.m.Load()
		next := maps.Clone(*old)
		next[k] = v
		if s.m.CompareAndSwap(old, &next) {
			return
		}
	}
}

// mutexStore is a Mutex and a plain map.
type mutexStore struct {
	mu sync.Mutex
	m  map[int]int
}

func newMutexStore() *mutexStore {
	s := &mutexStore{m: make(map[int]int, liveKeys)}
	for k := range liveKeys {
		s.m[k] = k
	}
	return s
}

func (s *mutexStore) get(k int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[k]
}

func (s *mutexStore) set(k, v int) {
	s.mu.Lock()
	s.m[k] = v
	s.mu.Unlock()
}

// runWorkload runs the mix on s from liveGoroutines goroutines for d.
func runWorkload(s mapStore, d time.Duration) {
	var wg sync.WaitGroup
	deadline := time.Now().Add(d)
	for g := range liveGoroutines {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(g), 1))
			for i := 0; ; i++ {
				if i%256 == 0 && time.Now().After(deadline) {
					return
				}
				k := r.IntN(liveKeys)
				if r.Float64() < liveWriteShare {
					s.set(k, i)
				} else {
					_ = s.get(k)
				}
			}
		})
	}
	wg.Wait()
}

// readMetrics samples every runtime/metrics name a window carries.
func readMetrics(t *testing.T) window.Sample {
	t.Helper()
	samples := make([]metrics.Sample, len(window.MetricNames))
	for i, name := range window.MetricNames {
		samples[i].Name = name
	}
	metrics.Read(samples)
	out := window.Sample{Time: time.Now(), Values: map[string]float64{}, Histograms: map[string]window.Histogram{}}
	for _, s := range samples {
		switch s.Value.Kind() {
		case metrics.KindUint64:
			out.Values[s.Name] = float64(s.Value.Uint64())
		case metrics.KindFloat64:
			out.Values[s.Name] = s.Value.Float64()
		case metrics.KindFloat64Histogram:
			h := s.Value.Float64Histogram()
			out.Histograms[s.Name] = window.Histogram{Counts: append([]uint64(nil), h.Counts...), Buckets: append([]float64(nil), h.Buckets...)}
		case metrics.KindBad:
			t.Fatalf("runtime/metrics has no %s", s.Name)
		}
	}
	return out
}

// snapshot writes a cumulative profile the way net/http/pprof serves it.
func snapshot(t *testing.T, name string) *profile.Profile {
	t.Helper()
	var buf bytes.Buffer
	if err := pprof.Lookup(name).WriteTo(&buf, 0); err != nil {
		t.Fatal(err)
	}
	p, err := window.ParseProfile(buf.Bytes(), 0)
	if err != nil {
		t.Fatalf("%s profile: %v", name, err)
	}
	return p
}

// readHeapDebug1 reads MemStats the way a plain pprof target serves them:
// the text of /debug/pprof/heap?debug=1.
func readHeapDebug1(t *testing.T) window.MemStats {
	t.Helper()
	var buf bytes.Buffer
	if err := pprof.Lookup("heap").WriteTo(&buf, 1); err != nil {
		t.Fatal(err)
	}
	ms, err := window.ParseMemStats(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	ms.Time = time.Now()
	return ms
}

// completedCycles reads the runtime's count of completed GC cycles, the
// counter both MemStats.NumGC and /gc/cycles/total:gc-cycles follow.
func completedCycles() uint64 {
	s := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// measuredWindow is a window plus the GC cycles that completed between the two
// MemStats readings' outer edges, so that a test can bound what the MemStats
// path may count without guessing how many cycles fall in the gaps.
type measuredWindow struct {
	*window.Window
	outerCycles uint64
}

// measure builds a window around fn the way the agent does — runtime/metrics
// at both ends, allocs and mutex profile deltas — plus what a plain pprof
// target gives: heap?debug=1 MemStats at both ends and a CPU profile.
func measure(t *testing.T, id string, fn func()) measuredWindow {
	t.Helper()
	kinds := map[window.ProfileKind]string{window.Allocs: "allocs", window.Mutex: "mutex"}
	// The allocs profile only shows allocation up to the last completed GC
	// cycle: close one before each snapshot, outside the metrics readings.
	runtime.GC()
	before := map[window.ProfileKind]*profile.Profile{}
	for k, name := range kinds {
		before[k] = snapshot(t, name)
	}
	outerStart := completedCycles()
	memStatsStart := readHeapDebug1(t)
	// Writing the snapshots allocated: start the window with a fresh heap
	// goal, so that their garbage does not trigger a cycle inside it. The
	// MemStats readings see this one forced cycle more.
	runtime.GC()
	var cpu bytes.Buffer
	if err := pprof.StartCPUProfile(&cpu); err != nil {
		t.Fatal(err)
	}
	w := &window.Window{ID: id, Metrics: &window.SamplePair{Start: readMetrics(t)}}
	w.Start = time.Now()
	fn()
	w.End = time.Now()
	w.Metrics.End = readMetrics(t)
	w.MemStats = &window.MemStatsPair{Start: memStatsStart, End: readHeapDebug1(t)}
	outerCycles := completedCycles() - outerStart
	pprof.StopCPUProfile()
	cpuProfile, err := window.ParseProfile(cpu.Bytes(), 0)
	if err != nil {
		t.Fatalf("cpu profile: %v", err)
	}
	w.SetProfile(window.CPU, cpuProfile)
	runtime.GC()
	for k, name := range kinds {
		delta, restarted, err := window.Delta(before[k], snapshot(t, name))
		if err != nil {
			t.Fatal(err)
		}
		if restarted {
			t.Fatalf("%s profile delta reported a restart within one process", name)
		}
		w.SetProfile(k, delta)
	}
	return measuredWindow{Window: w, outerCycles: outerCycles}
}

func TestLiveCOWVersusMutex(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two 1 s workloads")
	}
	t.Logf("GOMAXPROCS=%d NumCPU=%d", runtime.GOMAXPROCS(0), runtime.NumCPU())
	prevFraction := runtime.SetMutexProfileFraction(5)
	defer runtime.SetMutexProfileFraction(prevFraction)

	results := map[string]*Result{}
	var cowWindow measuredWindow
	for _, tc := range []struct {
		name  string
		store mapStore
	}{
		{"cow", newCOWStore()},
		{"mutex", newMutexStore()},
	} {
		w := measure(t, tc.name, func() { runWorkload(tc.store, liveDuration) })
		r, err := Collect(w.Window, nil)
		if err != nil {
			t.Fatal(err)
		}
		results[tc.name] = r
		if tc.name == "cow" {
			cowWindow = w
		}
		p := r.Pressure
		t.Logf("%s: gc cpu %.3f assist %.2f cycles %d (%.1f/s) alloc %.1f MB/s pause p99 %.2gs; sampled alloc %d B",
			tc.name, p.CPUFraction, p.AssistShare, p.Cycles, p.CyclesPerSecond, p.AllocBytesPerSecond/1e6, p.PauseP99Seconds, r.TotalAllocBytes)
		for _, g := range r.MapGrowth[:min(3, len(r.MapGrowth))] {
			t.Logf("  %s %s %s %.1f%% %.1f MB/s inferred=%v", g.Kind, g.Component, g.Function, 100*g.ShareOfAlloc, g.BytesPerSecond/1e6, g.Inferred)
		}
	}

	cow, mu := results["cow"], results["mutex"]
	checkMemStatsAgree(t, cowWindow, cow)
	if len(cow.MapGrowth) == 0 || cow.MapGrowth[0].Kind != GrowthCOWClone || cow.MapGrowth[0].Component != "github.com/contendr/contendr/collectors/gc.(*cowStore)" {
		t.Fatalf("cow: largest growth %+v, want cow-clone in (*cowStore)", cow.MapGrowth)
	}
	if share := shareByKind(cow)[GrowthCOWClone]; share < 0.5 {
		t.Errorf("cow: clones are %.1f%% of allocation, want the majority", 100*share)
	}
	if shareByKind(mu)[GrowthCOWClone] > 0 {
		t.Errorf("mutex: reported copy-on-write growth %+v", mu.MapGrowth)
	}
	// Cloning a 4096-entry map on half the operations keeps the GC busy;
	// overwriting keys of a plain map allocates next to nothing.
	// The margin is loose: on a shared 2-core machine a single cycle's idle
	// mark workers can lift the mutex side to a few percent.
	if cow.Pressure.CPUFraction < mu.Pressure.CPUFraction+0.02 || cow.Pressure.CPUFraction < 2*mu.Pressure.CPUFraction {
		t.Errorf("GC CPU fraction cow %.4f vs mutex %.4f: want cow above mutex by ≥ 0.02 and ≥ 2×", cow.Pressure.CPUFraction, mu.Pressure.CPUFraction)
	}
	if cow.Pressure.Cycles <= mu.Pressure.Cycles {
		t.Errorf("GC cycles cow %d ≤ mutex %d", cow.Pressure.Cycles, mu.Pressure.Cycles)
	}
}

// checkMemStatsAgree reads the same window as a plain pprof target would
// (MemStats and a CPU profile, no runtime/metrics) and compares.
func checkMemStatsAgree(t *testing.T, w measuredWindow, fromMetrics *Result) {
	t.Helper()
	plain := *w.Window
	plain.Metrics = nil
	r, err := Collect(&plain, nil)
	if err != nil {
		t.Fatal(err)
	}
	p, m := r.Pressure, fromMetrics.Pressure
	t.Logf("memstats path: gc cpu %.3f (cpu profile, busy share) vs %.3f; cycles %d vs %d; alloc %.1f vs %.1f MB/s; pause max %.2g vs ≤ %.2g s",
		p.CPUFraction, m.CPUFraction, p.Cycles, m.Cycles, p.AllocBytesPerSecond/1e6, m.AllocBytesPerSecond/1e6, p.PauseMaxSeconds, m.PauseMaxSeconds)
	if p.Source != "memstats" || !r.Measured.Estimated(figure.GCCPUFraction) {
		t.Errorf("source %q GC CPU %+v, want memstats and estimated", p.Source, r.Measured.Get(figure.GCCPUFraction))
	}
	// The MemStats readings bracket the metrics ones and the forced cycle
	// that starts the window, and lie inside the outer cycle counts; at
	// 50 cycles/s more cycles can end in the gaps under -race.
	if lo, hi := m.Cycles+1, int64(w.outerCycles); p.Cycles < lo || p.Cycles > hi {
		t.Errorf("cycles: memstats %d, want %d..%d (runtime/metrics %d plus the forced cycle, up to the outer count)", p.Cycles, lo, hi, m.Cycles)
	}
	if p.CPUFraction <= 0.01 {
		t.Errorf("GC CPU share from the CPU profile %.4f: want the COW workload's GC work visible", p.CPUFraction)
	}
}
