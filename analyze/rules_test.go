package analyze

import (
	"slices"
	"strings"
	"testing"

	"github.com/contendr/contendr/collectors/gc"
	"github.com/contendr/contendr/collectors/mutex"
	"github.com/contendr/contendr/window"
)

// baseFacts is a contended, write-heavy Mutex+map on go1.26, 2 cores.
func baseFacts() facts {
	return facts{
		Component: "main.(*Cache)", Current: StrategyMutex, Go: goVersion{Minor: 26, Known: true},
		Mix: "write-heavy", ReadShare: 0.1, MixSource: "cpu-profile",
		Contention: SeverityCrit, Fraction: 0.3, Growth: SeverityOK,
		Goroutines: 64, Procs: 2, SyncMapFrames: false,
	}
}

func TestRules(t *testing.T) {
	many := func(f *facts) { f.Procs = 16 }
	tests := []struct {
		name     string
		edit     func(f *facts)
		wantRule string
		want     Strategy
	}{
		// Many cores: the issue tracker's rules, unmeasured here.
		{"16 Ps: mutex write-heavy contended → sharded", many, "locked-map-writes-contended", StrategySharded},
		{"16 Ps: rwmutex balanced contended → sharded", func(f *facts) { many(f); f.Current, f.Mix, f.ReadShare = StrategyRWMutex, "balanced", 0.5 }, "locked-map-writes-contended", StrategySharded},
		{"16 Ps: mutex read-mostly contended on go1.26 → syncmap", func(f *facts) { many(f); f.Mix, f.ReadShare = "read-mostly", 0.99 }, "mutex-map-read-heavy-contended", StrategySyncMap},
		{"16 Ps: mutex read-mostly on go1.22 with churn → sharded", func(f *facts) {
			many(f)
			f.Mix, f.ReadShare, f.Go, f.Growth = "read-mostly", 0.99, goVersion{Minor: 22, Known: true}, SeverityWarn
		}, "mutex-map-read-heavy-contended", StrategySharded},
		{"16 Ps: rwmutex read-heavy, RLock burns CPU, go1.26 → syncmap", func(f *facts) {
			many(f)
			f.Current, f.Mix, f.ReadShare, f.Contention, f.RLockCPUShare = StrategyRWMutex, "read-mostly", 0.99, SeverityOK, 0.3
		}, "rwmutex-readers-many-cores", StrategySyncMap},
		{"16 Ps: rwmutex read-heavy on go1.21 → sharded", func(f *facts) {
			many(f)
			f.Current, f.Mix, f.ReadShare, f.Go = StrategyRWMutex, "read-mostly", 0.99, goVersion{Minor: 21, Known: true}
		}, "rwmutex-readers-many-cores", StrategySharded},
		{"16 Ps: legacy sync.Map on go1.23 with dirty copies → syncmap (upgrade Go)", func(f *facts) {
			many(f)
			f.Current, f.SyncMapFrames, f.Go, f.Growth, f.GrowthKinds = StrategySyncMapLegacy, true, goVersion{Minor: 23, Known: true}, SeverityCrit, []gc.GrowthKind{gc.GrowthSyncMapDirty}
		}, "legacy-syncmap-on-old-go", StrategySyncMap},
		{"16 Ps: legacy sync.Map, Range only, unknown Go → syncmap", func(f *facts) {
			many(f)
			f.Current, f.SyncMapFrames, f.Go, f.Contention, f.Range = StrategySyncMapLegacy, true, goVersion{}, SeverityOK, true
		}, "legacy-syncmap-on-old-go", StrategySyncMap},
		{"16 Ps: legacy sync.Map on go1.25 → drop nosynchashtriemap", func(f *facts) {
			many(f)
			f.Current, f.SyncMapFrames, f.Go = StrategySyncMapLegacy, true, goVersion{Minor: 25, Known: true}
		}, "legacy-syncmap-experiment-off", StrategySyncMap},
		{"16 Ps: hand-written read/dirty map, write-heavy → sharded", func(f *facts) {
			many(f)
			f.Current, f.Growth = StrategySyncMapLegacy, SeverityCrit
		}, "handwritten-read-dirty-map", StrategySharded},
		{"16 Ps: hand-written read/dirty map, read-mostly on go1.26 → syncmap", func(f *facts) {
			many(f)
			f.Current, f.Growth, f.Mix, f.ReadShare = StrategySyncMapLegacy, SeverityCrit, "read-mostly", 0.99
		}, "handwritten-read-dirty-map", StrategySyncMap},
		{"16 Ps: cow with heavy clones, write-heavy → sharded", func(f *facts) {
			many(f)
			f.Current, f.Growth, f.GrowthShare, f.Contention = StrategyCOW, SeverityCrit, 0.7, SeverityOK
		}, "cow-heavy-clones", StrategySharded},
		{"16 Ps: cow with heavy clones, read-mostly on go1.26 → syncmap", func(f *facts) {
			many(f)
			f.Current, f.Growth, f.Mix, f.ReadShare = StrategyCOW, SeverityWarn, "read-mostly", 0.99
		}, "cow-heavy-clones", StrategySyncMap},
		{"16 Ps: sync.Map overwrite-heavy allocation → sharded", func(f *facts) {
			many(f)
			f.Current, f.Growth, f.GrowthKinds, f.Contention = StrategySyncMap, SeverityCrit, []gc.GrowthKind{gc.GrowthHashTrieMap}, SeverityOK
		}, "syncmap-overwrite-allocation", StrategySharded},
		{"16 Ps: sync.Map contended on hot keys → keep", func(f *facts) { many(f); f.Current = StrategySyncMap }, "syncmap-contended-hot-keys", StrategyKeep},

		// Either regime.
		{"go map growth without contention → keep (presize)", func(f *facts) {
			many(f)
			f.Contention, f.Growth, f.GrowthKinds = SeverityOK, SeverityCrit, []gc.GrowthKind{gc.GrowthGoMap}
		}, "gomap-growth-churn", StrategyKeep},
		{"sharded still contended → keep", func(f *facts) { many(f); f.Current = StrategySharded }, "sharded-still-contended", StrategyKeep},
		{"thin evidence → keep", func(f *facts) { f.Contention, f.Fraction = SeverityOK, 0.01 }, "keep-thin-evidence", StrategyKeep},
		{"quiet legacy sync.Map → keep", func(f *facts) {
			f.Current, f.SyncMapFrames, f.Contention, f.Go = StrategySyncMapLegacy, true, SeverityOK, goVersion{Minor: 20, Known: true}
		}, "keep-thin-evidence", StrategyKeep},
		{"unknown strategy contended → keep", func(f *facts) { f.Current = StrategyUnknown }, "keep-thin-evidence", StrategyKeep},
		{"2 Ps, not hot → keep", func(f *facts) { f.Contention = SeverityOK }, "keep-thin-evidence", StrategyKeep},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := baseFacts()
			tt.edit(&f)
			r := decide(&f)
			if r.ID != tt.wantRule {
				t.Errorf("rule = %s, want %s", r.ID, tt.wantRule)
			}
			if got := r.Recommend(&f); got != tt.want {
				t.Errorf("recommended = %s, want %s", got, tt.want)
			}
			if r.Source == "" || r.Reason(&f) == "" {
				t.Errorf("rule %s lacks a source or a reason", r.ID)
			}
		})
	}
}

func TestEveryRuleHasSourceAndUniqueID(t *testing.T) {
	seen := map[string]bool{thinRule.ID: true}
	for _, r := range rules {
		if r.Source == "" || r.When == nil || r.Recommend == nil || r.Reason == nil {
			t.Errorf("rule %q is incomplete", r.ID)
		}
		if seen[r.ID] {
			t.Errorf("rule ID %q repeats", r.ID)
		}
		seen[r.ID] = true
	}
}

// handTruth is a made-up ground truth for the regime rule: in the tight
// 32-per-P regime xsync is best on read-heavy rows and mutex within 5% of
// the best on write-heavy; in the 1-per-P io regime everything ties.
func handTruth() groundTruth {
	row := func(mix string, perP int, between string, ops map[Strategy]float64) maplabRow {
		return maplabRow{Workload: mix + "@x", Mix: mix, GoroutinesPerP: perP, Between: between, KeyType: "int", OpsPerSec: ops}
	}
	return groundTruth{GOMAXPROCS: 2, Keys: 1000, Date: "hand", Rows: []maplabRow{
		row("read-heavy", 32, "none", map[Strategy]float64{StrategyMutex: 2, StrategyRWMutex: 5, StrategyXsync: 10, StrategyCOW: 0.1}),
		row("hotkey", 32, "none", map[Strategy]float64{StrategyMutex: 3, StrategyRWMutex: 6, StrategyXsync: 9, StrategyCOW: 0.1}),
		row("write-heavy", 32, "none", map[Strategy]float64{StrategyMutex: 9.5, StrategyRWMutex: 7, StrategyXsync: 10, StrategyCOW: 0.01}),
		row("read-heavy", 1, "io", map[Strategy]float64{StrategyMutex: 1, StrategyRWMutex: 1, StrategyXsync: 1.02, StrategyCOW: 0.5}),
	}}
}

// TestRegimeRule: on few cores the rule looks the regime and mix up and
// picks the best geometric mean, keeping a current strategy within 10% of
// it, with the numbers in its reason.
func TestRegimeRule(t *testing.T) {
	saved := regimeEvidence
	regimeEvidence = handTruth()
	defer func() { regimeEvidence = saved }()
	tight := regimeClass{PerP: 32, Between: "none", Measured: true, Why: "hand"}
	io := regimeClass{PerP: 1, Between: "io", Measured: true, Why: "hand"}
	for _, tc := range []struct {
		name    string
		current Strategy
		mix     string
		class   regimeClass
		want    Strategy
	}{
		{"read-heavy tight: mutex → xsync (read-heavy and hotkey rows)", StrategyMutex, "read-heavy", tight, StrategyXsync},
		{"write-heavy tight: mutex within 5% → keep", StrategyMutex, "write-heavy", tight, StrategyKeep},
		{"write-heavy tight: rwmutex 30% behind → xsync", StrategyRWMutex, "write-heavy", tight, StrategyXsync},
		{"io: every lock ties → keep", StrategyRWMutex, "read-heavy", io, StrategyKeep},
		{"io: cow at half the best → xsync", StrategyCOW, "read-heavy", io, StrategyXsync},
		// A current strategy the frames did not tell is weighed against the
		// median strategy behind the pick.
		{"read-heavy tight, current unknown: median mutex at a quarter → xsync", StrategyUnknown, "read-heavy", tight, StrategyXsync},
		{"io, current unknown: the median ties the pick → keep", StrategyUnknown, "read-heavy", io, StrategyKeep},
	} {
		f := baseFacts()
		f.Current, f.Mix, f.Class = tc.current, tc.mix, tc.class
		r := decide(&f)
		if r.ID != "maplab-regime" || r.Recommend(&f) != tc.want {
			t.Errorf("%s: %s → %s, want maplab-regime → %s", tc.name, r.ID, r.Recommend(&f), tc.want)
		}
		if why := r.Reason(&f); !strings.Contains(why, "geometric mean") || !strings.Contains(why, tc.class.String()) {
			t.Errorf("%s: reason lacks the regime or its numbers: %s", tc.name, why)
		}
		if why := r.Reason(&f); tc.current == StrategyUnknown && !strings.Contains(why, "median strategy") {
			t.Errorf("%s: the reason does not say what an unknown strategy was weighed against: %s", tc.name, why)
		}
	}
	// A regime maplab did not measure: no regime advice.
	f := baseFacts()
	f.Class = regimeClass{PerP: 4, Between: "cpu"}
	if r := decide(&f); r.ID == "maplab-regime" {
		t.Errorf("an unmeasured regime got regime advice")
	}
}

// TestRegimeRuleNeverAdvisesTheReadDirtyMap: maplab runs the read/dirty
// map to measure code built on it; where it measures fastest, the advice is
// the best of the others.
func TestRegimeRuleNeverAdvisesTheReadDirtyMap(t *testing.T) {
	saved := regimeEvidence
	defer func() { regimeEvidence = saved }()
	regimeEvidence = groundTruth{GOMAXPROCS: 2, Keys: 1000, Date: "hand", Rows: []maplabRow{{
		Workload: "read-heavy@x", Mix: "read-heavy", GoroutinesPerP: 4, Between: "cpu", KeyType: "int",
		OpsPerSec: map[Strategy]float64{StrategyMutex: 5, StrategySyncMapLegacy: 12, StrategyXsync: 10, StrategySharded: 9},
	}}}
	f := baseFacts()
	f.Mix, f.Class = "read-heavy", regimeClass{PerP: 4, Between: "cpu", Measured: true, Why: "hand"}
	for _, current := range []Strategy{StrategyMutex, StrategyUnknown} {
		f.Current, f.choice = current, nil
		r := decide(&f)
		if got := r.Recommend(&f); r.ID != "maplab-regime" || got != StrategyXsync {
			t.Errorf("current %s: %s → %s, want maplab-regime → xsync, the best but the read/dirty map", current, r.ID, got)
		}
	}
}

// TestClassifyRegime places windows among maplab's regimes.
func TestClassifyRegime(t *testing.T) {
	for _, tc := range []struct {
		name  string
		rg    Regime
		procs int
		want  regimeClass
	}{
		{"one per P, busy, map-bound", Regime{BusyKnown: true, Busy: 0.98, RunnableKnown: true, Runnable: 0.1, Saturated: true, CPUKnown: true, ComponentCPUShare: 0.8}, 2, regimeClass{PerP: 1, Between: "none"}},
		{"32 per P by lock waiters", Regime{BusyKnown: true, Busy: 0.9, RunnableKnown: true, Runnable: 4, LockWaiters: 58, Saturated: true, CPUKnown: true, ComponentCPUShare: 0.7}, 2, regimeClass{PerP: 32, Between: "none"}},
		{"4 per P, CPU outside the map", Regime{BusyKnown: true, Busy: 1, RunnableKnown: true, Runnable: 6, Saturated: true, CPUKnown: true, ComponentCPUShare: 0.1}, 2, regimeClass{PerP: 4, Between: "cpu"}},
		{"idle Ps: io", Regime{BusyKnown: true, Busy: 0.2, RunnableKnown: true, Runnable: 0, CPUKnown: true, ComponentCPUShare: 0.6}, 2, regimeClass{PerP: 1, Between: "io"}},
	} {
		got := classifyRegime(tc.rg, tc.procs, 0)
		if got.PerP != tc.want.PerP || got.Between != tc.want.Between || !got.Measured || got.Why == "" {
			t.Errorf("%s: %+v, want %d per P, %s", tc.name, got, tc.want.PerP, tc.want.Between)
		}
	}
	if got := classifyRegime(Regime{}, 0, 0); got.Measured || got.PerP != 32 || got.Between != "none" {
		t.Errorf("nothing measured: %+v, want maplab's original regime, unmeasured", got)
	}
}

func TestParseGoVersion(t *testing.T) {
	tests := []struct {
		in       string
		want     goVersion
		hashTrie bool
	}{
		{"go1.26.8", goVersion{26, true}, true},
		{"go1.24", goVersion{24, true}, true},
		{"go1.23.4", goVersion{23, true}, false},
		{"devel go1.27-abcdef Tue", goVersion{27, true}, true},
		{"go1.9", goVersion{9, true}, false},
		{"", goVersion{}, false},
		{"unknown", goVersion{}, false},
	}
	for _, tt := range tests {
		got := parseGoVersion(tt.in)
		if got != tt.want || got.hashTrieSyncMap() != tt.hashTrie {
			t.Errorf("parseGoVersion(%q) = %+v (hashtrie %v), want %+v (%v)", tt.in, got, got.hashTrieSyncMap(), tt.want, tt.hashTrie)
		}
	}
}

func TestCurrentStrategy(t *testing.T) {
	growth := func(k gc.GrowthKind) []*gc.MapGrowth { return []*gc.MapGrowth{{Kind: k}} }
	lockOf := func(kinds ...mutex.Kind) *mutex.Component { return &mutex.Component{Kinds: kinds} }
	tests := []struct {
		name      string
		component string
		lock      *mutex.Component
		growth    []*gc.MapGrowth
		want      Strategy
	}{
		{"mutex", "main.(*Cache)", lockOf(mutex.KindMutex), nil, StrategyMutex},
		{"rwmutex read side only", "main.(*Cache)", lockOf(mutex.KindRWMutexRead), nil, StrategyRWMutex},
		{"rwmutex beats mutex", "main.(*Cache)", lockOf(mutex.KindMutex, mutex.KindRWMutexWrite), nil, StrategyRWMutex},
		{"syncmap by kind", "main.(*Store)", lockOf(mutex.KindSyncMap), nil, StrategySyncMap},
		{"syncmap by growth", "main.(*Store)", nil, growth(gc.GrowthHashTrieMap), StrategySyncMap},
		{"legacy by kind", "main.(*Store)", lockOf(mutex.KindSyncMapLegacy), nil, StrategySyncMapLegacy},
		{"hand-written read/dirty by growth", "main.(*RD)", lockOf(mutex.KindMutex), growth(gc.GrowthSyncMapDirty), StrategySyncMapLegacy},
		{"cow by clone growth", "main.(*Config)", lockOf(mutex.KindMutex), growth(gc.GrowthCOWClone), StrategyCOW},
		{"sharded by name", "main.(*shard)", lockOf(mutex.KindMutex), nil, StrategySharded},
		{"shard name without locks is not sharded", "main.(*ShardedMap)", nil, growth(gc.GrowthGoMap), StrategyUnknown},
		{"go map growth alone", "main.(*Index)", nil, growth(gc.GrowthGoMap), StrategyUnknown},
		{"channel contention", "main.worker", lockOf(mutex.KindChan), nil, StrategyUnknown},
		// Names and frames disagree: the frames win.
		{"sync.Map in a package named for xsync", "github.com/acme/puzpuzpuz/xsync-compat/cache.(*Map)", lockOf(mutex.KindSyncMap), nil, StrategySyncMap},
		{"sync.Map in a package named for xsync, by growth", "github.com/puzpuzpuz/xsync/v4/compat.(*Map[...])", nil, growth(gc.GrowthHashTrieMap), StrategySyncMap},
		{"a shard-named type over a sync.Map", "main.(*ShardCache)", lockOf(mutex.KindSyncMap), nil, StrategySyncMap},
		{"xsync's own Map by its frames' package", "github.com/puzpuzpuz/xsync/v4.(*Map[...])", lockOf(mutex.KindMutex), nil, StrategyXsync},
		{"a user type named Map in a path mentioning xsync", "github.com/acme/xsync.(*Map)", lockOf(mutex.KindMutex), nil, StrategyMutex},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := identity{name: tt.component, growth: tt.growth}
			if tt.lock != nil {
				id.kinds = tt.lock.Kinds
			}
			got, why := currentStrategy(id)
			if got != tt.want || why == "" {
				t.Errorf("currentStrategy = %s (%q), want %s", got, why, tt.want)
			}
		})
	}
}

// TestSaturationTrustsTheRuntimesIdle holds measureRegime to the runtime's
// own idle accounting: a window whose Ps /cpu/classes/idle shows idle is
// not saturated however many goroutines the sampler saw runnable (it wakes
// with the goroutines sleeping between operations), while with sampled or
// derived idle the runnable gauge still marks a saturated window.
func TestSaturationTrustsTheRuntimesIdle(t *testing.T) {
	w := &window.Window{Meta: window.Meta{GOMAXPROCS: 2, Goroutines: 4}}
	for _, tc := range []struct {
		source    mutex.IdleSource
		idle      float64
		saturated bool
	}{
		{mutex.IdleRuntime, 5.9, false},
		{mutex.IdleRuntime, 0.3, true},
		{mutex.IdleSampled, 5.9, true},
		{mutex.IdleOS, 5.9, true},
	} {
		lock := &mutex.Result{
			Cost:    mutex.Cost{CapacitySeconds: 6, IdleSeconds: tc.idle, IdleSource: tc.source},
			Waiters: mutex.Waiters{Runnable: 1.05, RunnableKnown: true, Known: true},
		}
		if got := measureRegime(w, lock, nil).Saturated; got != tc.saturated {
			t.Errorf("idle %.1fs of 6 from %s, 1.05 runnable: saturated %v, want %v", tc.idle, tc.source, got, tc.saturated)
		}
	}
}

// TestSaturationTrustsTheOSAccount: a process the OS saw use under a
// quarter of its capacity, on a machine with the rest free, was not held
// back by its Ps, whatever the timer-woken sampler read (maplab's I/O
// window at 32 goroutines per P: 44% busy and 5.2 runnable by the samples,
// 0.38s of process CPU in 4s of capacity, the machine 90% idle). Where
// other processes took the cores, or the process used them, the sampler's
// reading stands.
func TestSaturationTrustsTheOSAccount(t *testing.T) {
	for _, tc := range []struct {
		name              string
		used, machineIdle float64
		saturated         bool
		source            mutex.IdleSource
	}{
		{"waiting between operations", 0.38, 3.6, false, mutex.IdleOS},
		{"kept off the cores by other processes", 0.38, 0.2, true, mutex.IdleSampled},
		{"lock-bound tight loops", 2.6, 1.3, true, mutex.IdleSampled},
	} {
		w := &window.Window{Meta: window.Meta{GOMAXPROCS: 2, Goroutines: 70}, Metrics: &window.SamplePair{}}
		w.Metrics.Start.ProcessCPUSeconds, w.Metrics.End.ProcessCPUSeconds = 11.4, 11.4+tc.used
		w.Metrics.Start.MachineIdleSeconds, w.Metrics.End.MachineIdleSeconds = 500, 500+tc.machineIdle
		lock := &mutex.Result{
			Cost:    mutex.Cost{CapacitySeconds: 4, IdleSeconds: 2.25, IdleSource: mutex.IdleSampled},
			Waiters: mutex.Waiters{Runnable: 5.17, RunnableKnown: true, Known: true},
		}
		rg := measureRegime(w, lock, nil)
		if rg.Saturated != tc.saturated || rg.BusySource != string(tc.source) {
			t.Errorf("%s: saturated %v (busy %.3g from %s), want %v from %s", tc.name, rg.Saturated, rg.Busy, rg.BusySource, tc.saturated, tc.source)
		}
		if got := classifyRegime(rg, 2, 70).Between; (got == "io") == tc.saturated {
			t.Errorf("%s: classified %q", tc.name, got)
		}
	}
}

// TestRegimeRuleWidensUnsettledScopes: a regime whose runs cannot tell the
// current strategy from the pick does not decide; the rule takes the
// choice from the widest scope whose runs do, and says so. A regime whose
// runs do tell decides on its own, even against the wider rows.
func TestRegimeRuleWidensUnsettledScopes(t *testing.T) {
	saved := regimeEvidence
	defer func() { regimeEvidence = saved }()
	row := func(perP int, between string, runs map[Strategy][]float64) maplabRow {
		r := maplabRow{Workload: "read-heavy@x", Mix: "read-heavy", GoroutinesPerP: perP, Between: between, KeyType: "int",
			OpsPerSec: map[Strategy]float64{}, Runs: runs}
		for s, v := range runs {
			r.OpsPerSec[s] = slices.Sorted(slices.Values(v))[len(v)/2] // 3 runs: the middle one
		}
		return r
	}
	noisy := map[Strategy][]float64{StrategyMutex: {5, 11, 8}, StrategyXsync: {6, 12, 7}}
	clearXsync := map[Strategy][]float64{StrategyMutex: {4, 4.2, 4.1}, StrategyXsync: {10, 10.3, 9.9}}
	clearMutex := map[Strategy][]float64{StrategyMutex: {10, 10.2, 9.8}, StrategyXsync: {5, 5.1, 4.9}}
	f := baseFacts()
	f.Current, f.Mix = StrategyMutex, "read-heavy"
	f.Class = regimeClass{PerP: 1, Between: "none", Measured: true, Why: "hand"}

	// g1 noisy; the other tight-loop rows clearly favour xsync.
	regimeEvidence = groundTruth{GOMAXPROCS: 2, Keys: 1000, Date: "hand", Rows: []maplabRow{
		row(1, "none", noisy), row(4, "none", clearXsync), row(32, "none", clearXsync), row(4, "cpu", clearMutex),
	}}
	c, ok := chooseForRegime(&f)
	if !ok || c.keep || c.pick.Strategy != StrategyXsync || !c.settled || len(c.unsettled) != 1 || len(c.rows) != 3 {
		t.Fatalf("noisy regime: keep=%v pick=%s settled=%v unsettled=%q rows=%d, want xsync settled over the 3 tight-loop rows",
			c.keep, c.pick.Strategy, c.settled, c.unsettled, len(c.rows))
	}
	if why := c.reason(&f); !strings.Contains(why, "could not tell") || !strings.Contains(why, "every goroutines-per-P level") || !strings.Contains(why, "U test p =") {
		t.Errorf("the reason does not say which rows decided and why: %s", why)
	}

	// g1 clearly favours mutex (2×, 6 runs apart): it decides alone.
	regimeEvidence.Rows = []maplabRow{row(1, "none", clearMutex), row(1, "none", clearMutex), row(4, "none", clearXsync), row(32, "none", clearXsync)}
	if c, _ := chooseForRegime(&f); !c.keep || !c.settled || len(c.unsettled) != 0 {
		t.Errorf("a settled regime: keep=%v settled=%v unsettled=%q, want keep, settled in the regime", c.keep, c.settled, c.unsettled)
	}

	// Nothing settles anywhere: the widest scope's point estimate, said to be one.
	regimeEvidence.Rows = []maplabRow{row(1, "none", noisy), row(4, "cpu", noisy)}
	c, _ = chooseForRegime(&f)
	if c.settled || c.scope != "every regime" || !strings.Contains(c.reason(&f), "point estimate") {
		t.Errorf("nothing settles: settled=%v scope=%q reason %q", c.settled, c.scope, c.reason(&f))
	}
}
