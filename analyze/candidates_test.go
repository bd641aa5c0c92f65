package analyze

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/contendr/contendr/collectors/gc"
	"github.com/contendr/contendr/collectors/mutex"
	"github.com/contendr/contendr/window"
)

// maplabWindow is a window of real profiles taken from a running maplab
// (testdata/profiles/maplab, see its README) through plain net/http/pprof,
// as `contendr analyze http://…` would see it: no runtime/metrics, and
// GOMAXPROCS only when procs > 0.
func maplabWindow(t *testing.T, dir string, procs int, kinds ...window.ProfileKind) *window.Window {
	t.Helper()
	w := fixtureWindow(t, "maplab/"+dir, "go1.26.8", 4)
	w.Meta.GOMAXPROCS, w.Meta.Goroutines = procs, 0
	for _, k := range kinds {
		data, err := os.ReadFile(filepath.Join("..", "testdata", "profiles", "maplab", dir, string(k)+".pb.gz"))
		if err != nil {
			t.Fatal(err)
		}
		p, err := window.ParseProfile(data, 0)
		if err != nil {
			t.Fatal(err)
		}
		w.SetProfile(k, p)
	}
	return w
}

func analyzeWindow(t *testing.T, w *window.Window) *Report {
	t.Helper()
	in, lock, gcr := collected(Input{Window: w})(t)
	return Build(in, lock, gcr, DefaultThresholds())
}

func recommendationNamed(r *Report, component string) *Recommendation {
	for i := range r.Recommendations {
		if strings.Contains(r.Recommendations[i].Component, component) {
			return &r.Recommendations[i]
		}
	}
	return nil
}

// TestReadOnlyRWMutexFromCPUAlone: two goroutines on two Ps only read a
// map behind one RWMutex. The mutex and block profiles are empty; the CPU
// profile shows a third of the CPU in RLock/RUnlock's reader count. The
// component must get a recommendation, the CPU evidence quoted and the
// regime rule deciding — with
// GOMAXPROCS unknown (a plain pprof target) and known.
func TestReadOnlyRWMutexFromCPUAlone(t *testing.T) {
	for _, procs := range []int{0, 2} {
		w := maplabWindow(t, "rwmutex-readonly-1pp", procs, window.CPU)
		r := analyzeWindow(t, w)
		rec := recommendationNamed(r, "strategy.(*RWMap)")
		if rec == nil {
			t.Fatalf("GOMAXPROCS %d: no recommendation for the RWMutex map; got %+v", procs, r.Recommendations)
		}
		// Which strategy is the ground truth's business (maplab's rows of
		// the regime); that it is judged by them is this test's.
		if rec.Current != StrategyRWMutex || rec.Rule != "maplab-regime" {
			t.Errorf("GOMAXPROCS %d: %s → %s by %s, want rwmutex judged by maplab's regime rows", procs, rec.Current, rec.Recommended, rec.Rule)
		}
		ev := strings.Join(rec.Evidence, "\n")
		if !strings.Contains(ev, "RLock/RUnlock themselves take") || !strings.Contains(ev, "show no contention") {
			t.Errorf("GOMAXPROCS %d: the evidence does not quote the RLock CPU share:\n%s", procs, ev)
		}
		if rg := rec.Workload.Regime; !rg.CPUKnown || rg.RLockCPUShare < 0.1 || rg.LockCPUShare < MinCandidateCPUShare {
			t.Errorf("GOMAXPROCS %d: regime %+v, want the RLock share measured (≥10%%)", procs, rg)
		}
		if rec.Workload.ReadShareSource != "cpu-profile" || !strings.HasPrefix(rec.Workload.Mix, "read-") || rec.Workload.ReadShare < 0.95 {
			t.Errorf("GOMAXPROCS %d: mix %s (%.1f%% reads) from %q, want read-only or read-mostly from the CPU profile", procs, rec.Workload.Mix, 100*rec.Workload.ReadShare, rec.Workload.ReadShareSource)
		}
	}
}

// TestXsyncMixFromCPU: xsync's Map under a 50/50 mix. Its reads take no
// lock, so the contention stacks hold only writes; the CPU profile sees
// both. With a CPU profile the mix must come from it; without one the
// report must say its mix came from contention and what that misses.
func TestXsyncMixFromCPU(t *testing.T) {
	rec := recommendationNamed(analyzeWindow(t, maplabWindow(t, "xsync-balanced", 2, window.CPU)), "puzpuzpuz/xsync")
	if rec == nil {
		t.Fatal("no recommendation for xsync's Map")
	}
	if rec.Current != StrategyXsync {
		t.Errorf("current %s, want xsync", rec.Current)
	}
	if wl := rec.Workload; wl.ReadShareSource != "cpu-profile" || wl.ReadShare < 0.2 || wl.Mix != "balanced" {
		t.Errorf("mix %s (%.0f%% reads) from %q, want balanced from the CPU profile", wl.Mix, 100*wl.ReadShare, wl.ReadShareSource)
	}

	rec = recommendationNamed(analyzeWindow(t, maplabWindow(t, "xsync-balanced", 2)), "puzpuzpuz/xsync")
	if rec == nil {
		t.Fatal("no recommendation for xsync's Map without a CPU profile")
	}
	if wl := rec.Workload; wl.ReadShareSource != "contention-stacks" || !strings.Contains(wl.MixNote, "no CPU profile") {
		t.Errorf("without a CPU profile: mix from %q, note %q", wl.ReadShareSource, wl.MixNote)
	}
	if !strings.Contains(strings.Join(rec.Reasons, "\n"), "never appear there") {
		t.Errorf("the reasons do not say the contention mix misses lock-free reads: %q", rec.Reasons)
	}
}

// TestCPUCandidateFloor: a component below MinCandidateCPUShare of the
// sampled CPU in locks and map operations, with no contention or growth,
// is not a candidate; above it, it is.
func TestCPUCandidateFloor(t *testing.T) {
	const comp = "main.(*Table)"
	for _, tc := range []struct {
		mapNanos int64
		want     bool
	}{{3e8, false}, {8e8, true}} {
		w := &window.Window{}
		w.SetProfile(window.CPU, cpuProfile(map[int64][]string{
			tc.mapNanos:         {"runtime.mapaccess2_fast64", comp + ".Get", "main.handler"},
			100e8 - tc.mapNanos: {"main.render", "main.handler"},
		}))
		lock, err := mutex.Collect(w, mutex.Options{})
		if err != nil {
			t.Fatal(err)
		}
		got := false
		for _, c := range candidates(lock, &gc.Result{}) {
			got = got || c.name == comp
		}
		if got != tc.want {
			t.Errorf("%.0f%% of the CPU in map reads: candidate %v, want %v", float64(tc.mapNanos)/1e8, got, tc.want)
		}
	}
}

// TestAtomicityWarning: a component whose method reads and writes its map
// (a read-modify-write under one lock) sent to a per-key strategy is told
// that atomicity changes, with a lower confidence.
func TestAtomicityWarning(t *testing.T) {
	const comp = "main.(*Counters)"
	w := &window.Window{Meta: window.Meta{GOMAXPROCS: 16, Goroutines: 400}}
	w.SetProfile(window.CPU, cpuProfile(map[int64][]string{
		3e9: {"runtime.mapaccess2_faststr", comp + ".Incr", "main.handler"},
		4e9: {"runtime.mapassign_faststr", comp + ".Incr", "main.handler"},
		2e9: {"sync.(*Mutex).lockSlow", "sync.(*Mutex).Lock", comp + ".Incr", "main.handler"},
		1e9: {"main.render", "main.handler"},
	}))
	lock, err := mutex.Collect(w, mutex.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := &candidate{name: comp, cpuShare: 0.9} // listed for its lock CPU
	rec, ok := recommendOne(w, lock, c, DefaultThresholds())
	if !ok || rec.Recommended != StrategySharded {
		t.Fatalf("recommendation %s → %s by %s, want sharded (16 Ps, write-heavy, contended): %+v %q", rec.Current, rec.Recommended, rec.Rule, rec.Workload, rec.Reasons)
	}
	if got := rec.Workload.MultiOpMethods; len(got) != 1 || got[0] != "Incr" {
		t.Errorf("read-modify-write methods %v, want [Incr]", got)
	}
	reasons := strings.Join(rec.Reasons, "\n")
	if !strings.Contains(reasons, "atomic on its own key only") {
		t.Errorf("the reasons do not say the change alters atomicity: %s", reasons)
	}
	base := confidence(decide(&facts{Current: StrategyMutex, Mix: rec.Workload.Mix, MixSource: "cpu-profile", Contention: SeverityCrit, Procs: 16}), &facts{MixSource: "cpu-profile", Procs: 16}, lock)
	if rec.Confidence >= base {
		t.Errorf("confidence %.2f, want below the rule's %.2f", rec.Confidence, base)
	}
}
