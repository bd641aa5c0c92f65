package verify

import (
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"github.com/contendr/contendr/analyze"
	"github.com/contendr/contendr/internal/maplab/strategy"
	"github.com/contendr/contendr/internal/maplab/workload"
)

// Defaults for what a report does not measure. Each one used is listed in
// the result's assumptions, so a reader knows which part of the replay is
// the window's and which is ours.
const (
	// DefaultReads stands in for an unmeasured read/write mix: balanced, the
	// middle of maplab's mixes.
	DefaultReads = 0.5
	// DefaultKeys is the key count (no profile measures it): maplab's.
	DefaultKeys = workload.DefaultKeys
	// MaxGoroutinesPerP caps the replayed goroutines per P at maplab's
	// largest regime: a report's goroutine count is every goroutine of the
	// process, most of which may be parked on I/O, not working the map.
	MaxGoroutinesPerP = 32
	// churnOfWrites is the share of writes that insert or delete (half
	// each) when the window saw the map grow: maplab write-heavy's
	// proportion, 40 of its 90 writes.
	churnOfWrites = 4.0 / 9
	// rangeEvery is the range interval when the window saw Range frames:
	// maplab's range workload's.
	rangeEvery = 10_000
)

// SpecFor turns a recommendation's measured workload into a workload to
// replay on a machine with procs Ps, and lists the defaults it assumed.
//
// It reads every Workload field the report has and nothing else; a field
// the report gains (goroutines per P, work between operations, key type,
// value size) maps here, one stanza each, with its default for reports
// that lack it.
func SpecFor(rec analyze.Recommendation, procs int) (workload.Spec, []string) {
	wl := rec.Workload
	spec := workload.Spec{Name: "replay", Keys: DefaultKeys}
	var assumed []string

	// Read/write mix.
	if wl.ReadShareSource != "" {
		spec.Reads = clamp01(wl.ReadShare)
		if wl.Mix != "" && wl.Mix != "unknown" {
			spec.Name = wl.Mix
		}
	} else {
		spec.Reads = DefaultReads
		assumed = append(assumed, fmt.Sprintf("reads %.0f%%: the window did not measure the read/write mix", 100*DefaultReads))
	}

	// New keys and deletes: a measured delete share (CPU in the map's
	// delete) sets both, as a map of steady size inserts about what it
	// deletes; otherwise map growth (a Go map growing, legacy sync.Map's
	// dirty copies) means keys arrive, and they take maplab write-heavy's
	// proportion. Clones and trie nodes come from any write, so they say
	// nothing about inserts.
	switch {
	case wl.DeleteShare > 0 && wl.ReadShareSource != "":
		spec.Deletes = clamp01(wl.DeleteShare)
		spec.Inserts = min(spec.Deletes, max(0, 1-spec.Reads-spec.Deletes))
		assumed = append(assumed, fmt.Sprintf("inserts %.1f%% as many as the deletes measured (%.1f%%): a profile does not tell an insert from an overwrite",
			100*spec.Inserts, 100*spec.Deletes))
	case growsByInserts(wl.GrowthKinds):
		churn := (1 - spec.Reads) * churnOfWrites
		spec.Inserts, spec.Deletes = churn/2, churn/2
		assumed = append(assumed, fmt.Sprintf("inserts %.0f%% and deletes %.0f%% (%.0f%% of writes, maplab write-heavy's proportion): the window saw the map grow but does not count new keys",
			100*spec.Inserts, 100*spec.Deletes, 100*churnOfWrites))
	}

	// Range.
	if wl.Range {
		spec.RangeEvery = rangeEvery
		assumed = append(assumed, fmt.Sprintf("a full Range every %d operations per goroutine: the window saw Range frames, not how often", rangeEvery))
	}

	// Keys: no profile measures them.
	assumed = append(assumed, fmt.Sprintf("%d int keys: a profile does not measure the key count or type", DefaultKeys))

	// Goroutines and the work between operations: the regime class analyze
	// placed the window in (goroutines running, runnable or waiting on a
	// lock per P; CPU inside or outside the component; parked goroutines)
	// when it has one, else every goroutine of the window per P, each in a
	// tight loop on the map.
	if perP, between, ok := parseRegimeClass(wl.RegimeClass); ok {
		spec.GoroutinesPerP, spec.Between = perP, between
		spec.Goroutines = perP * procs
		assumed = append(assumed, fmt.Sprintf("%d goroutines per P with %s between operations: maplab's stand-in for the window's regime (%s)",
			perP, betweenWords(between), wl.RegimeClass))
	} else {
		spec.Goroutines = goroutinesFromCount(wl, procs, &assumed)
		assumed = append(assumed, "no work between operations: the report does not say how the goroutines ran")
	}

	// Values: the map stores ints; no window measures value size.
	assumed = append(assumed, "int values: the report does not measure value sizes")
	return spec, assumed
}

// goroutinesFromCount replays the window's goroutines per P on procs Ps,
// capped at maplab's largest regime, and says what it assumed.
func goroutinesFromCount(wl analyze.Workload, procs int, assumed *[]string) int {
	perP := 0.0
	if wl.Goroutines > 0 && wl.GOMAXPROCS > 0 {
		perP = float64(wl.Goroutines) / float64(wl.GOMAXPROCS)
	}
	switch {
	case perP <= 0:
		perP = MaxGoroutinesPerP
		*assumed = append(*assumed, fmt.Sprintf("%d goroutines per P (maplab's regime): the window did not count goroutines", MaxGoroutinesPerP))
	case perP > MaxGoroutinesPerP:
		*assumed = append(*assumed, fmt.Sprintf("%d goroutines per P, not the window's %.0f: the count is every goroutine of the process, and more than %d per P working one map changes nothing maplab measured",
			MaxGoroutinesPerP, perP, MaxGoroutinesPerP))
		perP = MaxGoroutinesPerP
	default:
		*assumed = append(*assumed, fmt.Sprintf("%.1f goroutines per P as in the window (%d on %d Ps), every one working the map: the count includes goroutines that wait elsewhere",
			perP, wl.Goroutines, wl.GOMAXPROCS))
	}
	return max(1, int(perP*float64(procs)+0.5))
}

// parseRegimeClass reads a report's regime class, "g4-cpu": goroutines per
// P and the work between operations.
func parseRegimeClass(class string) (perP int, between workload.Between, ok bool) {
	g, b, found := strings.Cut(class, "-")
	if !found || !strings.HasPrefix(g, "g") {
		return 0, "", false
	}
	n, err := strconv.Atoi(g[1:])
	if err != nil || n < 1 {
		return 0, "", false
	}
	if between = workload.Between(b); between == "" || !between.Valid() {
		return 0, "", false
	}
	return n, between, true
}

func betweenWords(b workload.Between) string {
	switch b {
	case workload.BetweenCPU:
		return "CPU work (about 2 µs)"
	case workload.BetweenIO:
		return "an I/O wait"
	}
	return "nothing"
}

func growsByInserts(kinds []string) bool {
	for _, k := range kinds {
		switch k {
		case "gomap-grow", "syncmap-dirty-copy":
			return true
		}
	}
	return false
}

func clamp01(f float64) float64 { return min(1, max(0, f)) }

// strategyFor names the maplab strategy that stands for a report's.
func strategyFor(s analyze.Strategy) (string, bool) {
	switch s {
	case analyze.StrategyMutex:
		return strategy.NameMutex, true
	case analyze.StrategyRWMutex:
		return strategy.NameRWMutex, true
	case analyze.StrategySyncMap:
		return strategy.NameSyncMap, true
	case analyze.StrategySyncMapLegacy:
		// The read/dirty design, written from its description: this
		// binary's own sync.Map is the HashTrieMap when built with Go ≥1.24.
		return strategy.NameLegacy, true
	case analyze.StrategySharded:
		return strategy.NameSharded, true
	case analyze.StrategyCOW:
		return strategy.NameCOW, true
	case analyze.StrategyXsync:
		return strategy.NameXSync, true
	}
	return "", false
}

// reportStrategy is strategyFor's inverse.
func reportStrategy(name string) analyze.Strategy {
	if name == strategy.NameLegacy {
		return analyze.StrategySyncMapLegacy
	}
	return analyze.Strategy(name)
}

// ParseStrategies reads strategy names in maplab's spelling or the
// report's (syncmap-legacy for legacy); "all" stands for every strategy.
func ParseStrategies(names []string) ([]string, error) {
	var out []string
	for _, n := range names {
		n = strings.TrimSpace(n)
		switch {
		case n == "":
			continue
		case n == "all":
			return strategy.Names(), nil
		case n == string(analyze.StrategySyncMapLegacy):
			n = strategy.NameLegacy
		case !strategy.Valid(n):
			return nil, fmt.Errorf("unknown strategy %q: want all or some of %s", n, strings.Join(strategy.Names(), ", "))
		}
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out, nil
}

// gomaxprocs is this process's GOMAXPROCS, the Ps a replay runs on.
func gomaxprocs() int { return runtime.GOMAXPROCS(0) }
