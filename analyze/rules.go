package analyze

import (
	"fmt"
	"slices"

	"github.com/contendr/contendr/collectors/gc"
)

// This file holds the whole map-strategy rule table: one place to read,
// change and check against the ground truth measured by testapps/maplab
// (testapps/maplab/results/results.md; TestRulesAgainstMaplab holds the
// table to it). Rules are tried in order; the first whose When holds
// decides. Each rule names its source.
//
// What the ground truth says: maplab.json, embedded from the committed
// matrix run (testapps/maplab/results/results.md), measured on GOMAXPROCS=2
// across regimes — 1, 4 and 32 goroutines per P; tight loops, about 2 µs
// of CPU work outside the lock between operations, or a sleep every few
// operations; int or string keys; plain or 1 KiB values — sampled by an
// L9 orthogonal array (every pair of levels of any two axes), every mix in
// each. On two cores the answer depends on the regime, so the few-core rule
// (maplab-regime) does not hard-code a strategy: it places the window among
// maplab's regimes from what the window measured (classifyRegime), takes
// the rows of that regime and the measured mix, and picks the strategy
// with the best geometric mean of throughput relative to each row's best,
// keeping the current one when it is within Tolerance of the pick. The
// runs are noisy (a row's runs can differ by 2×; one regime has one or two
// rows of a mix, 3 runs each), so the choice is a test, not a ratio: the
// rows settle it only when their runs tell the change (or the keep) apart
// by a U test, and a choice they do not settle is taken from a wider scope
// — the same work between operations at every goroutines-per-P level,
// then every regime (evidenceScopes). Every recommendation quotes the
// scope, the numbers and the p-value. The Go issue tracker's claims
// (sharding, HashTrieMap, RWMutex reader contention) concern many cores;
// they are kept for GOMAXPROCS ≥ 8, with lower confidence and said to be
// unmeasured here.

// facts is what the rules see about one component.
type facts struct {
	Component string
	Current   Strategy
	Go        goVersion

	// Mix and ReadShare from Workload; MixSource says how it was measured.
	Mix       string
	ReadShare float64
	MixSource string
	MixNote   string
	// Regime is what the window measured of how the goroutines ran;
	// MultiOp the component's methods that both read and write its map.
	Regime  Regime
	MultiOp []string
	// Class is the maplab regime the window is closest to; CPUShare the
	// candidate's CPU in lock primitives and map operations (0 below
	// MinCandidateCPUShare).
	Class    regimeClass
	CPUShare float64

	// Contention is the component cost against ComponentCost when the cost
	// was measured, else its lock wait share against SiteFraction.
	Contention     Severity
	Cost           float64
	CostKnown      bool
	CostLowerBound bool
	Fraction       float64

	Growth      Severity // component growth share against MapGrowthShare
	GrowthShare float64
	GrowthKinds []gc.GrowthKind

	Range bool
	// RLockCPUShare is the part of the component's CPU samples spent in
	// RWMutex.RLock/RUnlock themselves: reader cache-line contention,
	// which the mutex profile never shows.
	RLockCPUShare float64

	Goroutines int
	Procs      int // GOMAXPROCS; 0 when unknown
	// SyncMapFrames is true when sync.(*Map) frames were seen (as opposed to
	// a hand-written read/dirty map).
	SyncMapFrames bool

	// choice caches chooseForRegime for the facts it was made from: the
	// rule's When, Recommend and Reason, the gain's source and the
	// confidence all ask, and each answer runs U tests.
	choice *cachedChoice
}

type cachedChoice struct {
	key regimeKey
	c   regimeChoice
	ok  bool
}

// regimeKey is what chooseForRegime reads of the facts.
type regimeKey struct {
	class   regimeClass
	mix     string
	rng     bool
	current Strategy
}

// regimeChoice is chooseForRegime(f), computed once per set of inputs.
func (f *facts) regimeChoice() (regimeChoice, bool) {
	key := regimeKey{f.Class, f.Mix, f.Range, f.Current}
	if f.choice == nil || f.choice.key != key {
		c, ok := chooseForRegime(f)
		f.choice = &cachedChoice{key, c, ok}
	}
	return f.choice.c, f.choice.ok
}

func (f *facts) contended() bool { return f.Contention.AtLeast(SeverityWarn) }

// hot tells a component worth a strategy change: contended, growing its
// map, or spending MinCandidateCPUShare of the CPU in its map and locks.
func (f *facts) hot() bool        { return f.contended() || f.growing() || f.CPUShare >= MinCandidateCPUShare }
func (f *facts) growing() bool    { return f.Growth.AtLeast(SeverityWarn) }
func (f *facts) readMostly() bool { return f.Mix == "read-only" || f.Mix == "read-mostly" }
func (f *facts) readHeavy() bool  { return f.readMostly() || f.Mix == "read-heavy" }
func (f *facts) writesMatter() bool {
	return f.Mix == "write-heavy" || f.Mix == "balanced"
}
func (f *facts) hasGrowth(k gc.GrowthKind) bool { return slices.Contains(f.GrowthKinds, k) }

// manyCores is where the many-core rules take over: RWMutex reader-count
// contention grows from 4 Ps upward (golang/go#17973: 8x at 64), and
// HashTrieMap and sharding are built for parallelism that two Ps lack.
const manyCores = 8

// fewCores is the regime maplab measured (GOMAXPROCS=2), extended to an
// unknown GOMAXPROCS and to 3–7 Ps with less confidence (see confidence).
func (f *facts) fewCores() bool { return f.Procs < manyCores }

// rule is one row of the table.
type rule struct {
	ID string
	// Source is where the rule comes from: an issue, a release note, a
	// maplab measurement.
	Source     string
	When       func(f *facts) bool
	Recommend  func(f *facts) Strategy
	Confidence float64
	// Reason explains the choice in one sentence, with the facts' numbers.
	Reason func(f *facts) string
	// Fixes says what the change removes: lock waiting, growth allocation
	// or both; it sizes the expected gain.
	FixesLock, FixesGrowth bool
}

func always(s Strategy) func(*facts) Strategy { return func(*facts) Strategy { return s } }

// rules is the table, most specific first.
var rules = []rule{
	// ── few cores: the strategy measured fastest in the regime (maplab's
	// matrix and mapbench's cases) ───
	{
		ID: "maplab-regime",
		Source: maplabSource + " and " + mapbenchSource + ": the rows of the window's regime (goroutines per P, work between operations) and mix, " +
			"every key type and value size measured there, each row counted once whichever harness measured it; the strategy with the best geometric mean of ops/s over each row's best, " +
			"when a U test over the rows' runs tells it apart, else from the same work between operations at every goroutines-per-P level, then every regime",
		When: func(f *facts) bool {
			if !f.fewCores() || !f.hot() {
				return false
			}
			_, ok := f.regimeChoice()
			return ok
		},
		Recommend: func(f *facts) Strategy {
			c, _ := f.regimeChoice()
			if c.keep {
				return StrategyKeep
			}
			return c.pick.Strategy
		},
		Confidence: 0.6,
		Reason: func(f *facts) string {
			c, _ := f.regimeChoice()
			return c.reason(f)
		},
		FixesLock: true, FixesGrowth: true,
	},

	// ── sync.Map, legacy read/dirty design ──────────────────────────────
	{
		ID: "legacy-syncmap-on-old-go",
		Source: "golang/go#21035 (legacy sync.Map: one Mutex guards new keys; every promotion copies the map), " +
			"golang/go#70683 and the Go 1.24 release notes (HashTrieMap replaces it, scales for disjoint-key writes); " +
			"testdata/profiles/go1.25-legacy-syncmap (99.7% of allocation in dirtyLocked, ~50x slower per op than go1.26); not measured on many cores here",
		When: func(f *facts) bool {
			return f.Current == StrategySyncMapLegacy && f.SyncMapFrames && !f.Go.hashTrieSyncMap() &&
				(f.contended() || f.growing() || f.Range)
		},
		Recommend:  always(StrategySyncMap),
		Confidence: 0.6,
		Reason: func(f *facts) string {
			who := f.Go.String() + " runs"
			if !f.Go.Known {
				who = "the binary runs (Go ≤1.23, or GOEXPERIMENT=nosynchashtriemap)"
			}
			return fmt.Sprintf("%s the read/dirty sync.Map, whose new-key stores take one Mutex and whose promotions copy the whole map; "+
				"build with Go ≥1.24 (without nosynchashtriemap), where sync.Map is a HashTrieMap without either cost: keep the code, upgrade the toolchain", who)
		},
		FixesLock: true, FixesGrowth: true,
	},
	{
		ID:     "legacy-syncmap-experiment-off",
		Source: "golang/go#70683 (GOEXPERIMENT=nosynchashtriemap restores the legacy sync.Map on Go ≥1.24); not measured on many cores here",
		When: func(f *facts) bool {
			return f.Current == StrategySyncMapLegacy && f.SyncMapFrames && f.Go.hashTrieSyncMap() &&
				(f.contended() || f.growing() || f.Range)
		},
		Recommend:  always(StrategySyncMap),
		Confidence: 0.6,
		Reason: func(f *facts) string {
			return fmt.Sprintf("the binary is %s yet its sync.Map is the legacy read/dirty one: it was built with GOEXPERIMENT=nosynchashtriemap; "+
				"drop the experiment to get the HashTrieMap", f.Go)
		},
		FixesLock: true, FixesGrowth: true,
	},
	{
		ID: "handwritten-read-dirty-map",
		Source: "golang/go#21035 (the read/dirty design's O(n) copy on promotion and single write lock); " +
			"golang/go#70683 (HashTrieMap scales for disjoint-key writes); not measured on many cores here",
		When: func(f *facts) bool {
			return f.Current == StrategySyncMapLegacy && !f.SyncMapFrames && (f.contended() || f.growing())
		},
		Recommend: func(f *facts) Strategy {
			if f.Go.hashTrieSyncMap() && !f.writesMatter() {
				return StrategySyncMap
			}
			return StrategySharded
		},
		Confidence: 0.5,
		Reason: func(f *facts) string {
			return "the component copies its whole map when it promotes writes (a hand-written read/dirty map); " +
				"every new key pays O(n) — on many cores sharding (or sync.Map on Go ≥1.24 for read-heavy use) removes the copy"
		},
		FixesLock: true, FixesGrowth: true,
	},

	// ── copy on write ───────────────────────────────────────────────────
	{
		ID: "cow-heavy-clones",
		Source: maplabSource + ": COW " + maplab.behindBest(StrategyCOW) + " behind the best across the matrix; " +
			"DESIGN.md known fact: COW makes every write O(n); not measured on many cores here",
		When: func(f *facts) bool {
			return f.Current == StrategyCOW && (f.growing() || f.contended())
		},
		Recommend: func(f *facts) Strategy {
			if f.readMostly() && f.Go.hashTrieSyncMap() {
				return StrategySyncMap
			}
			return StrategySharded
		},
		Confidence: 0.6,
		Reason: func(f *facts) string {
			return fmt.Sprintf("each write clones the whole map: clones are %s of all allocation; "+
				"copy on write only pays off when writes are so rare that no window sees them", pct(f.GrowthShare))
		},
		FixesLock: true, FixesGrowth: true,
	},

	// ── sync.Map, HashTrieMap (Go ≥1.24) ────────────────────────────────
	{
		ID: "syncmap-overwrite-allocation",
		Source: "DESIGN.md known fact: overwriting a key allocates nothing in a Go map but a node per write in HashTrieMap; " +
			"testdata/profiles/go1.26-hashtriemap/syncmap (95% of allocation in newEntryNode); not measured on many cores here",
		When: func(f *facts) bool {
			return f.Current == StrategySyncMap && f.growing() && f.hasGrowth(gc.GrowthHashTrieMap) && f.writesMatter()
		},
		Recommend:  always(StrategySharded),
		Confidence: 0.45,
		Reason: func(f *facts) string {
			return fmt.Sprintf("sync.Map allocates an entry node on every store, overwrite included (%s of all allocation here); "+
				"a sharded Go map overwrites in place and takes that load off the GC", pct(f.GrowthShare))
		},
		FixesGrowth: true,
	},

	// ── Mutex / RWMutex + map ───────────────────────────────────────────
	{
		ID: "rwmutex-readers-many-cores",
		Source: "golang/go#17973 (RWMutex RLock/RUnlock contend on one reader-count cache line; " +
			"8x slower at 64 Ps with no writer), golang/go#70683 (HashTrieMap Loads scale to 24 cores); not measured on many cores here",
		When: func(f *facts) bool {
			return f.Current == StrategyRWMutex && f.readHeavy() && !f.fewCores() &&
				(f.contended() || f.RLockCPUShare >= 0.10)
		},
		Recommend: func(f *facts) Strategy {
			if f.Go.hashTrieSyncMap() {
				return StrategySyncMap
			}
			return StrategySharded
		},
		Confidence: 0.5,
		Reason: func(f *facts) string {
			return fmt.Sprintf("%s of the work reads, on %d Ps: every RLock writes the same reader counter, "+
				"so readers contend with each other even without a writer", pct(f.ReadShare), f.Procs)
		},
		FixesLock: true,
	},
	{
		ID: "locked-map-writes-contended",
		Source: "golang/go#20360 and #21035 (sharding splits one lock's contention N ways); " +
			"golang/go#76808 (RWMutex is no better than Mutex when writes are common); not measured on many cores here",
		When: func(f *facts) bool {
			return (f.Current == StrategyMutex || f.Current == StrategyRWMutex) && f.contended() &&
				(f.writesMatter() || f.Mix == "unknown")
		},
		Recommend:  always(StrategySharded),
		Confidence: 0.55,
		Reason: func(f *facts) string {
			mix := "writes are common (" + pct(1-f.ReadShare) + " of map work)"
			if f.Mix == "unknown" {
				mix = "the read/write mix is not measured"
			}
			return fmt.Sprintf("one lock serialises every operation on %d Ps and %s: N shards keyed by hash let disjoint keys proceed in parallel", f.Procs, mix)
		},
		FixesLock: true,
	},
	{
		ID: "mutex-map-read-heavy-contended",
		Source: "sync.Map doc (\"entry written once but read many times\") and golang/go#70683 (HashTrieMap Loads take no lock); " +
			"golang/go#28938 (legacy sync.Map is slower than a locked map once writes are ~1 in 8); not measured on many cores here",
		When: func(f *facts) bool {
			return (f.Current == StrategyMutex || f.Current == StrategyRWMutex) && f.contended() && f.readHeavy()
		},
		Recommend: func(f *facts) Strategy {
			if f.readMostly() && (f.Go.hashTrieSyncMap() || !f.growing()) {
				return StrategySyncMap
			}
			return StrategySharded
		},
		Confidence: 0.5,
		Reason: func(f *facts) string {
			return fmt.Sprintf("%s of the map work reads, yet readers queue behind one lock on %d Ps: lock-free reads (sync.Map) "+
				"or per-shard locks take them out of the queue", pct(f.ReadShare), f.Procs)
		},
		FixesLock: true,
	},

	// ── growth, and what no strategy fixes ──────────────────────────────
	{
		ID: "gomap-growth-churn",
		Source: "Go maps grow by doubling and copying (runtime map growth); every strategy that stores keys in Go maps pays it, " +
			"and make(map[K]V, n) removes it when n is known",
		When: func(f *facts) bool {
			return (f.Current == StrategyMutex || f.Current == StrategyRWMutex || f.Current == StrategySharded || f.Current == StrategyUnknown) &&
				f.growing() && f.hasGrowth(gc.GrowthGoMap)
		},
		Recommend:  always(StrategyKeep),
		Confidence: 0.5,
		Reason: func(f *facts) string {
			return fmt.Sprintf("the map's own growth is %s of all allocation: new keys keep arriving (churn) and the map "+
				"doubles to hold them; switching strategy does not remove that — presize it with make(map[K]V, n) "+
				"or delete keys that are no longer needed", pct(f.GrowthShare))
		},
	},
	{
		ID:     "sharded-still-contended",
		Source: "sharding only splits contention between keys; a hot key stays on one shard",
		When: func(f *facts) bool {
			return f.Current == StrategySharded && f.contended()
		},
		Recommend:  always(StrategyKeep),
		Confidence: 0.4,
		Reason: func(f *facts) string {
			return "already sharded and still contended: raise the shard count if it is below GOMAXPROCS×4, " +
				"or look for a few hot keys that all land on one shard"
		},
	},
	{
		ID:     "syncmap-contended-hot-keys",
		Source: "golang/go#70683 (HashTrieMap contends only on the same trie node: hot keys)",
		When: func(f *facts) bool {
			return f.Current == StrategySyncMap && f.contended()
		},
		Recommend:  always(StrategyKeep),
		Confidence: 0.4,
		Reason: func(f *facts) string {
			return "a HashTrieMap only contends where goroutines write the same keys; no map strategy spreads one hot key — " +
				"batch or partition those writes instead"
		},
	},
}

// thinRule is the fallback when no rule holds: keep, and say what data
// would decide.
var thinRule = rule{
	ID:         "keep-thin-evidence",
	Source:     "no rule holds: nothing in this window calls for a different strategy",
	Recommend:  always(StrategyKeep),
	Confidence: 0.5,
	Reason: func(f *facts) string {
		lock := fmt.Sprintf("lock wait share %s", pct(f.Fraction))
		if f.CostKnown {
			lock = fmt.Sprintf("contention cost %s", pct(f.Cost))
		}
		return fmt.Sprintf("no rule calls for a change: %s (%s), map growth %s of allocation (%s); "+
			"a different strategy would not pay for itself on this window", lock, f.Contention, pct(f.GrowthShare), f.Growth)
	},
}

// decide picks the rule for f.
func decide(f *facts) rule {
	for _, r := range rules {
		if r.When(f) {
			return r
		}
	}
	return thinRule
}

func procsText(f *facts) string {
	if f.Procs <= 0 {
		return "few cores (GOMAXPROCS unknown; maplab measured 2)"
	}
	return fmt.Sprintf("GOMAXPROCS %d", f.Procs)
}

// measured quotes the ground truth's comparison of two strategies in f's
// regime and mix, or "" when it has no such rows (many cores).
func measured(from, to Strategy, f *facts) string {
	c, ok := f.regimeChoice()
	if !ok || !f.fewCores() {
		return ""
	}
	a, okA := standingOf(c.standings, from)
	b, okB := standingOf(c.standings, to)
	if !okA || !okB || a.Mean <= 0 {
		return ""
	}
	both := slices.DeleteFunc(slices.Clone(c.rows), func(r *maplabRow) bool { return r.OpsPerSec[from] <= 0 || r.OpsPerSec[to] <= 0 })
	return fmt.Sprintf("%s, %s, %s on %d Ps: %s vs %s %+.0f%% ops/s (geometric mean over %d rows)",
		harnessesText(both), c.scope, c.mix, maplab.GOMAXPROCS, to, from, (b.Mean/a.Mean-1)*100, min(a.Rows, b.Rows))
}

// harnessesText names the measurements rows come from: maplab's matrix
// run, mapbench's cases, or both.
func harnessesText(rows []*maplabRow) string {
	bench := 0
	for _, r := range rows {
		if r.Harness == harnessMapbench {
			bench++
		}
	}
	matrix := fmt.Sprintf("maplab's matrix of %s", maplab.Date)
	switch bench {
	case 0:
		return matrix
	case len(rows):
		return fmt.Sprintf("mapbench's %s", plural(bench, "case"))
	}
	return fmt.Sprintf("%s and mapbench's %s", matrix, plural(bench, "case"))
}
