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
// What the ground truth says, on GOMAXPROCS=2 (the only machine measured),
// 64 goroutines, 100,000 int keys: maplab.json, embedded from the committed
// matrix run, which was taken on a quiet machine (load average under 1,
// other processes held back by the matrix's gate). Earlier runs on the same
// machine under heavy load (load 10–35, maplab's threads waiting for a CPU
// most of the time) crowned 32 RWMutex shards on most mixes; with the cores
// to itself the order is:
//   - xsync's Map (lock-free reads, a lock per bucket for writes) is the
//     best on seven workloads of eight, from read-mostly to overwrite
//     (likely because its writers lock one bucket only, so a writer
//     preempted while holding it stalls few others). 32 RWMutex shards trail it on all
//     seven (the rules quote by how much, from maplab.json).
//   - On range (reads plus a periodic full iteration) 32 shards are the
//     best: ranging over xsync's Map is the slower walk.
//   - A single Mutex is far behind on every mix, a single RWMutex on most
//     (within the noise only on balanced and write-heavy); sync.Map, COW
//     and the read/dirty map are each far behind on some mix (their rules
//     quote by how much).
//   - So: xsync, unless the component ranges over the map, then shards.
// The runs are noisy even when quiet (a row's runs can differ by 2× when
// a neighbour of the virtual machine wakes): medians and ties are what the
// rules and accuracy use. The Go issue tracker's claims (sharding,
// HashTrieMap, RWMutex reader contention) concern many cores; they are kept
// for GOMAXPROCS ≥ 8, with lower confidence and said to be unmeasured here.

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

// fewCoresFor is the strategy maplab measured fastest for the component
// on 2 Ps: 32 RWMutex shards when it ranges over the map, xsync's Map
// otherwise, the mix unknown included (best on seven workloads of eight).
func fewCoresFor(f *facts) Strategy {
	if f.Range {
		return StrategySharded
	}
	return StrategyXsync
}

// fewCoresWhy says why fewCoresFor chose as it did, with maplab's numbers.
func fewCoresWhy(f *facts) string {
	if fewCoresFor(f) == StrategySharded {
		return fmt.Sprintf("the component ranges over its map: on %s 32 RWMutex shards were the fastest in maplab on the range workload, "+
			"xsync's Map, whose full walk is the slower one, %s behind them", procsText(f), maplab.behindBest(StrategyXsync, "range"))
	}
	mix := pct(f.ReadShare) + " of the map work reads"
	if f.Mix == "unknown" {
		mix = "the window did not measure the read/write mix"
	}
	return fmt.Sprintf("%s: on %s xsync's Map, whose reads take no lock and whose writes lock one bucket, was the fastest in maplab "+
		"on every mix but range, 32 RWMutex shards %s behind it; a single RWMutex was %s behind it and a single Mutex %s, "+
		"both leaving the Ps idle while their waiters are parked", mix, procsText(f), maplab.behindBest(StrategySharded, nonRangeWorkloads...),
		maplab.behindBest(StrategyRWMutex, nonRangeWorkloads...), maplab.behindBest(StrategyMutex, nonRangeWorkloads...))
}

// nonRangeWorkloads are maplab's workloads where no one ranges over the map.
var nonRangeWorkloads = []string{"read-mostly", "read-heavy", "balanced", "write-heavy", "churn", "hotkey", "overwrite"}

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
	// ── sync.Map, legacy read/dirty design ──────────────────────────────
	{
		ID: "legacy-syncmap-few-cores",
		Source: maplabSource + ": the read/dirty map " + maplab.behindBest(StrategySyncMapLegacy, "write-heavy", "churn", "range", "overwrite") +
			" behind the best on write-heavy, churn, range and overwrite, " + maplab.behindBest(StrategySyncMapLegacy, "read-mostly", "read-heavy", "balanced", "hotkey") +
			" on the read-dominated mixes, where it seldom takes its lock; " +
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
				"%s; the Go ≥1.24 HashTrieMap was no way out on 2 Ps (%s behind the best)", what, fewCoresWhy(f), maplab.behindBest(StrategySyncMap))
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
		Source: maplabSource + ": COW " + maplab.behindBest(StrategyCOW) + " behind the best on every workload, read-mostly (1% writes) included; " +
			"xsync the best on every mix but range; DESIGN.md known fact: COW makes every write O(n)",
		When: func(f *facts) bool {
			return f.Current == StrategyCOW && (f.growing() || f.contended())
		},
		Recommend: func(f *facts) Strategy {
			switch {
			case f.fewCores():
				// The clones' CPU makes any COW map look write-heavy; on 2 Ps
				// the mix does not change the pick, only ranging does.
				return fewCoresFor(f)
			case f.readMostly() && f.Go.hashTrieSyncMap():
				return StrategySyncMap
			}
			return StrategySharded
		},
		Confidence: 0.75,
		Reason: func(f *facts) string {
			why := ""
			if f.fewCores() {
				why = "; " + fewCoresWhy(f)
			}
			return fmt.Sprintf("each write clones the whole map: clones are %s of all allocation; "+
				"copy on write only pays off when writes are so rare that no window sees them%s", pct(f.GrowthShare), why)
		},
		FixesLock: true, FixesGrowth: true,
	},

	// ── sync.Map, HashTrieMap (Go ≥1.24) ────────────────────────────────
	{
		ID: "syncmap-few-cores",
		Source: maplabSource + ": sync.Map (HashTrieMap) " + maplab.behindBest(StrategySyncMap) + " behind the best on every workload; " +
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
		Source: maplabSource + ": xsync best on every workload but range, 32 RWMutex shards " + maplab.behindBest(StrategySharded, nonRangeWorkloads...) +
			" behind it there and best on range; a single Mutex " + maplab.behindBest(StrategyMutex) + " and a single RWMutex " + maplab.behindBest(StrategyRWMutex) + " behind the best",
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

// maplabWorkload is the ground-truth row closest to f: range when the
// component ranges, else its mix.
func maplabWorkload(f *facts) string {
	if f.Range {
		return "range"
	}
	return f.Mix
}

// measured quotes maplab's comparison of two strategies on f's workload,
// or "" when the ground truth has no such row (many cores, unknown mix).
func measured(from, to Strategy, f *facts) string {
	if !f.fewCores() {
		return ""
	}
	row := maplab.row(maplabWorkload(f))
	if row == nil {
		return ""
	}
	a, b := row.OpsPerSec[from], row.OpsPerSec[to]
	ac, bc := row.OpsPerCPU[from], row.OpsPerCPU[to]
	if a == 0 || b == 0 || ac == 0 || bc == 0 {
		return ""
	}
	return fmt.Sprintf("maplab %s on %d Ps, %s vs %s: %+.0f%% ops/s, %+.0f%% per CPU-second (medians of the run of %s)",
		row.Workload, maplab.GOMAXPROCS, to, from, (b/a-1)*100, (bc/ac-1)*100, maplab.Date)
}
