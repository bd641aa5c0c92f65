package analyze

import (
	"fmt"
	"slices"
	"strings"

	"github.com/contendr/contendr/collectors/gc"
)

// This file holds the whole map-strategy rule table: one place to read,
// change and check against the ground truth measured by testapps/maplab
// (testapps/maplab/results/results.md; TestRulesAgainstMaplab holds the
// table to it). Rules are tried in order; the first whose When holds
// decides. Each rule names its source.
//
// What the ground truth says, on GOMAXPROCS=2 (the only machine measured),
// 64 goroutines, 100,000 int keys. The machine is shared and busy (load
// 10–35). Three matrix runs were taken on 2026-11-25; the first two while
// other processes held the cores (maplab's threads waited in the run queue
// for ~90% of their time) and they contradict each other on most cells.
// The third, the committed results.json, was run with the CPU given to it
// (autogroup at high priority, run-queue share under 10% on most cells),
// and the few-core rules follow it; testapps/maplab/accuracy scores the
// whole table against it on live windows. It says:
//   - 32 RWMutex shards are the best, or tied with it, on every workload
//     where writes are more than a few percent (read-heavy, balanced,
//     write-heavy, churn, range, overwrite); a single Mutex or RWMutex is
//     32–62% behind them on write-heavy, churn, range and overwrite. The
//     CPU figures show why: a single lock leaves the Ps idle while its
//     waiters are parked (RWMutex keeps 0.50 of GOMAXPROCS busy on seven
//     workloads of eight, Mutex 0.64–0.88), shards keep 0.82–0.95 busy
//     (0.53 on hotkey: one hot shard) and xsync 0.93–0.97.
//   - xsync's Map (lock-free reads) is the best on read-mostly (+30% over
//     shards) and hotkey (+99% over shards: a Zipf-hot key keeps one shard
//     locked), and within 10% of the best on read-heavy, churn and range;
//     it trails shards by 22–46% when most operations write.
//   - So: xsync when reads dominate (≥70% of map work), shards otherwise.
//     Mutex, RWMutex, sync.Map, COW and the read/dirty map are each far
//     behind on some mix (sync.Map 54–87%, COW ~100%, the read/dirty map
//     up to 89% on range).
// The earlier runs are quoted in expected gains (maplabRuns) so that a
// reader sees how far a loaded machine moves these numbers.
// The Go issue tracker's claims (sharding, HashTrieMap, RWMutex reader
// contention) concern many cores; they are kept for GOMAXPROCS ≥ 8, with
// lower confidence and said to be unmeasured here.

// facts is what the rules see about one component.
type facts struct {
	Component string
	Current   Strategy
	Go        goVersion

	// Mix and ReadShare from Workload; MixSource says how it was measured.
	Mix       string
	ReadShare float64
	MixSource string

	Contention Severity // component lock fraction against SiteFraction
	Fraction   float64

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
}

func (f *facts) contended() bool  { return f.Contention.AtLeast(SeverityWarn) }
func (f *facts) growing() bool    { return f.Growth.AtLeast(SeverityWarn) }
func (f *facts) readMostly() bool { return f.Mix == "read-mostly" }
func (f *facts) readHeavy() bool  { return f.Mix == "read-mostly" || f.Mix == "read-heavy" }
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

// fewCoresFor is the strategy maplab measured fastest for the mix on 2 Ps,
// or within 10% / the noise of the fastest: xsync's Map when reads dominate,
// 32 RWMutex shards otherwise, and when the mix is unknown (shards were the
// best or tied on six workloads of eight).
func fewCoresFor(f *facts) Strategy {
	if f.readHeavy() {
		return StrategyXsync
	}
	return StrategySharded
}

// fewCoresWhy says why fewCoresFor chose as it did, with maplab's numbers.
func fewCoresWhy(f *facts) string {
	if fewCoresFor(f) == StrategyXsync {
		return fmt.Sprintf("%s of the map work reads: on %s xsync's Map, whose reads take no lock, was the fastest in maplab "+
			"for read-mostly and hot-key mixes and within 10%% of the fastest on read-heavy ones", pct(f.ReadShare), procsText(f))
	}
	mix, unknown := pct(1-f.ReadShare)+" of the map work writes", ""
	if f.Mix == "unknown" {
		mix, unknown = "the window did not measure the read/write mix", " (if reads dominate, xsync's Map was faster still)"
	}
	return fmt.Sprintf("%s: on %s 32 RWMutex shards were the fastest in maplab whenever writes were more than a few percent, "+
		"while a single lock, which leaves the Ps idle while its waiters are parked, was 32–62%% behind them%s", mix, procsText(f), unknown)
}

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

// maplabSource names the ground truth the few-core rules rest on.
const maplabSource = "testapps/maplab/results/results.md (GOMAXPROCS=2, 64 goroutines, 100k int keys, go1.26.8, third run on a shared machine with the CPU given to it, 2026-11-25T21:56Z)"

// rules is the table, most specific first.
var rules = []rule{
	// ── sync.Map, legacy read/dirty design ──────────────────────────────
	{
		ID: "legacy-syncmap-few-cores",
		Source: maplabSource + ": read/dirty map 59–89% behind the best on write-heavy, churn, range and overwrite, 23% on read-mostly; tied only where it seldom takes its lock (read-heavy, balanced, hotkey); " +
			"golang/go#21035 (one Mutex for new keys, O(n) copy per promotion)",
		When: func(f *facts) bool {
			return f.Current == StrategySyncMapLegacy && f.fewCores() && (f.contended() || f.growing() || f.Range)
		},
		Recommend:  fewCoresFor,
		Confidence: 0.7,
		Reason: func(f *facts) string {
			what := "the read/dirty sync.Map"
			if !f.SyncMapFrames {
				what = "a hand-written read/dirty map"
			}
			return fmt.Sprintf("%s takes one Mutex for new keys and copies the whole map on each promotion (Range forces one); "+
				"%s; the Go ≥1.24 HashTrieMap was slower still", what, fewCoresWhy(f))
		},
		FixesLock: true, FixesGrowth: true,
	},
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
		Source: maplabSource + ": COW ~100% slower than the best on every workload that writes, read-mostly (1% writes) included; " +
			"xsync best or within 10% of it on the read-dominated mixes COW is chosen for; DESIGN.md known fact: COW makes every write O(n)",
		When: func(f *facts) bool {
			return f.Current == StrategyCOW && (f.growing() || f.contended())
		},
		Recommend: func(f *facts) Strategy {
			switch {
			case f.fewCores():
				// The clones' CPU makes any COW map look write-heavy, so the
				// measured mix cannot pick; a map someone made COW is read
				// far more than written, and xsync keeps its lock-free reads.
				return StrategyXsync
			case f.readMostly() && f.Go.hashTrieSyncMap():
				return StrategySyncMap
			}
			return StrategySharded
		},
		Confidence: 0.75,
		Reason: func(f *facts) string {
			why := ""
			if f.fewCores() {
				why = fmt.Sprintf("; on %s xsync's Map keeps lock-free reads without the clone and was the fastest in maplab for read-mostly and hot-key mixes "+
					"(if writes are in fact common, 32 RWMutex shards were faster still)", procsText(f))
			}
			return fmt.Sprintf("each write clones the whole map: clones are %s of all allocation; "+
				"copy on write only pays off when writes are so rare that no window sees them%s", pct(f.GrowthShare), why)
		},
		FixesLock: true, FixesGrowth: true,
	},

	// ── sync.Map, HashTrieMap (Go ≥1.24) ────────────────────────────────
	{
		ID: "syncmap-few-cores",
		Source: maplabSource + ": sync.Map (HashTrieMap) 54–87% slower than the best on every workload (65–97% in the earlier runs); " +
			"DESIGN.md known fact: a node allocation per store, overwrites included",
		When: func(f *facts) bool {
			return f.Current == StrategySyncMap && f.fewCores() && (f.contended() || f.growing())
		},
		Recommend:  fewCoresFor,
		Confidence: 0.6,
		Reason: func(f *facts) string {
			return fmt.Sprintf("sync.Map boxes keys and values into interfaces and allocates an entry node on every store "+
				"(here %s of all allocation), costs that only many cores' parallel reads repay; %s",
				pct(f.GrowthShare), fewCoresWhy(f))
		},
		FixesLock: true, FixesGrowth: true,
	},
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
		ID: "locked-map-few-cores",
		Source: maplabSource + ": shards best or tied whenever writes are more than a few percent, a single Mutex or RWMutex 32–62% behind them on write-heavy, churn, range and overwrite; " +
			"xsync best on read-mostly and hotkey, within 10% on read-heavy; a single lock keeps 0.50–0.88 of GOMAXPROCS busy, shards and xsync 0.82–0.97",
		When: func(f *facts) bool {
			return (f.Current == StrategyMutex || f.Current == StrategyRWMutex || f.Current == StrategySharded || f.Current == StrategyXsync) &&
				f.fewCores() && f.contended()
		},
		Recommend: func(f *facts) Strategy {
			if s := fewCoresFor(f); s != f.Current {
				return s
			}
			return StrategyKeep
		},
		Confidence: 0.55,
		Reason: func(f *facts) string {
			if fewCoresFor(f) == f.Current {
				return fmt.Sprintf("already the fastest strategy maplab measured for this mix: %s; what waiting remains is %d goroutines "+
					"queueing for %d Ps: shorten the critical section or bound the goroutines that touch the map", fewCoresWhy(f), f.Goroutines, f.Procs)
			}
			return fewCoresWhy(f)
		},
		FixesLock: true,
	},
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
		return fmt.Sprintf("no rule calls for a change: lock fraction %s (%s), map growth %s of allocation (%s); "+
			"a different strategy would not pay for itself on this window", pct(f.Fraction), f.Contention, pct(f.GrowthShare), f.Growth)
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

// maplabRow is one workload row of the ground truth: median operations
// per second of wall time and per CPU-second, by strategy.
type maplabRow struct {
	Workload  string
	OpsPerSec map[Strategy]float64
	OpsPerCPU map[Strategy]float64
}

// maplabRun is one run of the matrix (testapps/maplab/results/results.json
// as it stood after each of the three runs of 2026-11-25). Expected gains
// quote every run, so that a reader sees how far the shared machine let
// them agree;
// TestRulesAgainstMaplab checks the rules against whatever results.json
// holds now (and MAPLAB_RESULTS against any other run).
type maplabRun struct {
	Date string
	Rows []maplabRow
}

var maplabRuns = []maplabRun{
	{"2026-11-25T21:12:27Z", []maplabRow{
		{"read-mostly",
			map[Strategy]float64{StrategyMutex: 4.138e+06, StrategyRWMutex: 6.552e+06, StrategySyncMap: 3.945e+05, StrategySharded: 4.505e+06, StrategyCOW: 2.906e+04, StrategyXsync: 1.772e+06, StrategySyncMapLegacy: 8.451e+05},
			map[Strategy]float64{StrategyMutex: 8.822e+06, StrategyRWMutex: 8.223e+06, StrategySyncMap: 1.408e+06, StrategySharded: 1.025e+07, StrategyCOW: 5.611e+04, StrategyXsync: 7.418e+06, StrategySyncMapLegacy: 3.702e+06}},
		{"read-heavy",
			map[Strategy]float64{StrategyMutex: 3.374e+06, StrategyRWMutex: 5.903e+06, StrategySyncMap: 3.174e+05, StrategySharded: 3.481e+06, StrategyCOW: 2500, StrategyXsync: 1.401e+06, StrategySyncMapLegacy: 9.689e+05},
			map[Strategy]float64{StrategyMutex: 7.456e+06, StrategyRWMutex: 1.107e+07, StrategySyncMap: 1.186e+06, StrategySharded: 1.05e+07, StrategyCOW: 4682, StrategyXsync: 5.652e+06, StrategySyncMapLegacy: 3.978e+06}},
		{"balanced",
			map[Strategy]float64{StrategyMutex: 3.986e+06, StrategyRWMutex: 2.29e+06, StrategySyncMap: 1.608e+05, StrategySharded: 3.685e+06, StrategyCOW: 341.4, StrategyXsync: 6.52e+05, StrategySyncMapLegacy: 6.15e+05},
			map[Strategy]float64{StrategyMutex: 1.079e+07, StrategyRWMutex: 1.06e+07, StrategySyncMap: 6.787e+05, StrategySharded: 7.435e+06, StrategyCOW: 972.3, StrategyXsync: 3.261e+06, StrategySyncMapLegacy: 2.162e+06}},
		{"write-heavy",
			map[Strategy]float64{StrategyMutex: 2.529e+06, StrategyRWMutex: 2.731e+06, StrategySyncMap: 1.547e+05, StrategySharded: 2.083e+06, StrategyCOW: 222.6, StrategyXsync: 6.948e+05, StrategySyncMapLegacy: 6.259e+05},
			map[Strategy]float64{StrategyMutex: 6.734e+06, StrategyRWMutex: 4.545e+06, StrategySyncMap: 6.004e+05, StrategySharded: 5.01e+06, StrategyCOW: 475.5, StrategyXsync: 2.746e+06, StrategySyncMapLegacy: 1.704e+06}},
		{"range",
			map[Strategy]float64{StrategyMutex: 2.114e+06, StrategyRWMutex: 1.759e+06, StrategySyncMap: 1.663e+05, StrategySharded: 1.626e+06, StrategyCOW: 1601, StrategyXsync: 3.738e+05, StrategySyncMapLegacy: 8.462e+04},
			map[Strategy]float64{StrategyMutex: 4.08e+06, StrategyRWMutex: 3.671e+06, StrategySyncMap: 5.374e+05, StrategySharded: 3.323e+06, StrategyCOW: 3910, StrategyXsync: 1.61e+06, StrategySyncMapLegacy: 3.13e+05}},
	}},
	{"2026-11-25T21:27:51Z", []maplabRow{
		{"read-mostly",
			map[Strategy]float64{StrategyMutex: 1.116e+07, StrategyRWMutex: 1.936e+07, StrategySyncMap: 4.797e+06, StrategySharded: 1.436e+07, StrategyCOW: 5.355e+04, StrategyXsync: 3.873e+07, StrategySyncMapLegacy: 2.621e+07},
			map[Strategy]float64{StrategyMutex: 6.434e+06, StrategyRWMutex: 1.836e+07, StrategySyncMap: 2.646e+06, StrategySharded: 7.746e+06, StrategyCOW: 4.325e+04, StrategyXsync: 2.063e+07, StrategySyncMapLegacy: 1.371e+07}},
		{"read-heavy",
			map[Strategy]float64{StrategyMutex: 4.443e+06, StrategyRWMutex: 1.937e+07, StrategySyncMap: 3.331e+06, StrategySharded: 9.386e+06, StrategyCOW: 4993, StrategyXsync: 1.563e+07, StrategySyncMapLegacy: 1.268e+07},
			map[Strategy]float64{StrategyMutex: 2.454e+06, StrategyRWMutex: 1.915e+07, StrategySyncMap: 1.77e+06, StrategySharded: 5.339e+06, StrategyCOW: 4081, StrategyXsync: 8.316e+06, StrategySyncMapLegacy: 6.848e+06}},
		{"balanced",
			map[Strategy]float64{StrategyMutex: 8.197e+06, StrategyRWMutex: 1.644e+07, StrategySyncMap: 2.319e+06, StrategySharded: 6.793e+06, StrategyCOW: 1193, StrategyXsync: 9.174e+06, StrategySyncMapLegacy: 9.692e+06},
			map[Strategy]float64{StrategyMutex: 5.113e+06, StrategyRWMutex: 1.63e+07, StrategySyncMap: 1.312e+06, StrategySharded: 3.829e+06, StrategyCOW: 940.6, StrategyXsync: 5.058e+06, StrategySyncMapLegacy: 5.288e+06}},
		{"write-heavy",
			map[Strategy]float64{StrategyMutex: 5.682e+06, StrategyRWMutex: 8.444e+06, StrategySyncMap: 1.949e+06, StrategySharded: 5.049e+06, StrategyCOW: 546.5, StrategyXsync: 6.112e+06, StrategySyncMapLegacy: 3.568e+06},
			map[Strategy]float64{StrategyMutex: 3.757e+06, StrategyRWMutex: 8.312e+06, StrategySyncMap: 1.064e+06, StrategySharded: 2.812e+06, StrategyCOW: 443.5, StrategyXsync: 3.34e+06, StrategySyncMapLegacy: 2.126e+06}},
		{"range",
			map[Strategy]float64{StrategyMutex: 4.12e+06, StrategyRWMutex: 4.476e+06, StrategySyncMap: 9.539e+05, StrategySharded: 5.695e+06, StrategyCOW: 4209, StrategyXsync: 4.031e+06, StrategySyncMapLegacy: 6.831e+05},
			map[Strategy]float64{StrategyMutex: 3.131e+06, StrategyRWMutex: 4.46e+06, StrategySyncMap: 5.105e+05, StrategySharded: 3.239e+06, StrategyCOW: 3326, StrategyXsync: 2.233e+06, StrategySyncMapLegacy: 4.189e+05}},
	}},
	{"2026-11-25T21:56:27Z", []maplabRow{
		{"read-mostly",
			map[Strategy]float64{StrategyMutex: 7.358e+06, StrategyRWMutex: 1.303e+07, StrategySyncMap: 4.225e+06, StrategySharded: 2.263e+07, StrategyCOW: 6.264e+04, StrategyXsync: 2.935e+07, StrategySyncMapLegacy: 2.272e+07},
			map[Strategy]float64{StrategyMutex: 4.303e+06, StrategyRWMutex: 1.263e+07, StrategySyncMap: 2.198e+06, StrategySharded: 1.22e+07, StrategyCOW: 4.47e+04, StrategyXsync: 1.518e+07, StrategySyncMapLegacy: 1.171e+07}},
		{"read-heavy",
			map[Strategy]float64{StrategyMutex: 7.696e+06, StrategyRWMutex: 1.914e+07, StrategySyncMap: 3.542e+06, StrategySharded: 2.014e+07, StrategyCOW: 6849, StrategyXsync: 1.826e+07, StrategySyncMapLegacy: 1.719e+07},
			map[Strategy]float64{StrategyMutex: 4.974e+06, StrategyRWMutex: 1.913e+07, StrategySyncMap: 1.816e+06, StrategySharded: 1.11e+07, StrategyCOW: 4687, StrategyXsync: 9.538e+06, StrategySyncMapLegacy: 8.948e+06}},
		{"balanced",
			map[Strategy]float64{StrategyMutex: 7.402e+06, StrategyRWMutex: 1.454e+07, StrategySyncMap: 2.85e+06, StrategySharded: 1.544e+07, StrategyCOW: 1248, StrategyXsync: 1.412e+07, StrategySyncMapLegacy: 1.534e+07},
			map[Strategy]float64{StrategyMutex: 4.64e+06, StrategyRWMutex: 1.442e+07, StrategySyncMap: 1.448e+06, StrategySharded: 9.12e+06, StrategyCOW: 911.1, StrategyXsync: 7.323e+06, StrategySyncMapLegacy: 8.028e+06}},
		{"write-heavy",
			map[Strategy]float64{StrategyMutex: 5.11e+06, StrategyRWMutex: 6.407e+06, StrategySyncMap: 2.288e+06, StrategySharded: 9.436e+06, StrategyCOW: 520, StrategyXsync: 7.401e+06, StrategySyncMapLegacy: 3.825e+06},
			map[Strategy]float64{StrategyMutex: 3.345e+06, StrategyRWMutex: 6.322e+06, StrategySyncMap: 1.195e+06, StrategySharded: 5.453e+06, StrategyCOW: 432.9, StrategyXsync: 3.756e+06, StrategySyncMapLegacy: 2.546e+06}},
		{"range",
			map[Strategy]float64{StrategyMutex: 3.019e+06, StrategyRWMutex: 3.128e+06, StrategySyncMap: 6.991e+05, StrategySharded: 5.481e+06, StrategyCOW: 3864, StrategyXsync: 4.97e+06, StrategySyncMapLegacy: 6.069e+05},
			map[Strategy]float64{StrategyMutex: 2.374e+06, StrategyRWMutex: 3.103e+06, StrategySyncMap: 3.573e+05, StrategySharded: 2.905e+06, StrategyCOW: 3036, StrategyXsync: 2.55e+06, StrategySyncMapLegacy: 4.099e+05}},
	}},
}

// maplabWorkload is the ground-truth row closest to f: range when the
// component ranges, else its mix.
func maplabWorkload(f *facts) string {
	if f.Range {
		return "range"
	}
	return f.Mix
}

// measured quotes maplab's comparison of two strategies on f's workload in
// every run, or "" when no run has the row (many cores, unknown mix).
func measured(from, to Strategy, f *facts) string {
	if !f.fewCores() {
		return ""
	}
	var wall, cpu []string
	for _, run := range maplabRuns {
		for _, row := range run.Rows {
			if row.Workload != maplabWorkload(f) {
				continue
			}
			a, b := row.OpsPerSec[from], row.OpsPerSec[to]
			ac, bc := row.OpsPerCPU[from], row.OpsPerCPU[to]
			if a == 0 || b == 0 || ac == 0 || bc == 0 {
				continue
			}
			wall = append(wall, fmt.Sprintf("%+.0f%%", (b/a-1)*100))
			cpu = append(cpu, fmt.Sprintf("%+.0f%%", (bc/ac-1)*100))
		}
	}
	if len(wall) == 0 {
		return ""
	}
	return fmt.Sprintf("maplab %s on 2 Ps, %s vs %s: %s ops/s, %s per CPU-second (%d runs on a shared machine)",
		maplabWorkload(f), to, from, strings.Join(wall, " / "), strings.Join(cpu, " / "), len(wall))
}
