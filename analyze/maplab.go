package analyze

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
)

// maplabJSON is the first of the two ground truths the few-core rules
// follow (mapbench.go holds the second): the medians of
// testapps/maplab/results/results.json, the strategy × workload × regime
// matrix measured on this project's 2-core machine. TestMaplabGroundTruth
// fails when the two differ; `go test ./analyze -run TestMaplabGroundTruth
// -update-maplab` rewrites this copy after a new matrix run.
//
//go:embed maplab.json
var maplabJSON []byte

// groundTruth is one run of the maplab matrix, reduced to what the rules
// quote.
type groundTruth struct {
	Command    string      `json:"command"`
	Date       string      `json:"date"`
	GoVersion  string      `json:"go_version"`
	GOMAXPROCS int         `json:"gomaxprocs"`
	Keys       int         `json:"keys"`
	Rows       []maplabRow `json:"rows"`
}

// maplabRow is one workload in one regime: median operations per second
// of wall time and per CPU-second, by strategy.
type maplabRow struct {
	Workload string `json:"workload"`
	// Mix is maplab's named mix (read-mostly … overwrite); the regime is
	// goroutines per P, the work between operations (none, cpu, io), the
	// key type and the value size.
	Mix            string               `json:"mix"`
	GoroutinesPerP int                  `json:"goroutines_per_p"`
	Between        string               `json:"between"`
	KeyType        string               `json:"key_type"`
	ValueSize      int                  `json:"value_size"`
	OpsPerSec      map[Strategy]float64 `json:"ops_per_sec"`
	OpsPerCPU      map[Strategy]float64 `json:"ops_per_cpu_second"`
	// Runs are each cell's runs (ops/s), whose spread says how far a
	// difference between two medians can be trusted; a matrix written
	// before runs were kept has none, and its medians then stand alone.
	Runs map[Strategy][]float64 `json:"runs_ops_per_sec,omitempty"`
	// Harness is the harness that measured the row: "" for maplab's
	// matrix, "mapbench" for a case of the second harness (mapbench.go).
	Harness string `json:"harness,omitempty"`
}

func (r *maplabRow) hasRuns() bool { return len(r.Runs) > 0 }

// best is the row's highest median.
func (r *maplabRow) best() float64 {
	var best float64
	for _, v := range r.OpsPerSec {
		best = max(best, v)
	}
	return best
}

// maplab is the embedded ground truth, read once at start-up; a broken
// copy is a build defect that every test of this package reports.
var maplab = func() groundTruth {
	var g groundTruth
	if err := json.Unmarshal(maplabJSON, &g); err != nil {
		panic("analyze: the embedded maplab.json does not parse: " + err.Error())
	}
	return g
}()

// maplabSource names maplab's matrix in the few-core rules' sources.
var maplabSource = fmt.Sprintf("testapps/maplab/results/results.md (GOMAXPROCS=%d, %d int or string keys, %d workloads × regimes, %s, %s)",
	maplab.GOMAXPROCS, maplab.Keys, len(maplab.Rows), maplab.GoVersion, maplab.Date)

// MaplabMixClass is the measured mix a maplab mix reads as in a profile:
// what a window of that workload is judged by (hotkey reads as
// read-heavy, churn as balanced, overwrite as write-heavy; range by its
// Range frames).
func MaplabMixClass(mix string) string {
	switch mix {
	case "hotkey":
		return "read-heavy"
	case "churn":
		return "balanced"
	case "overwrite":
		return "write-heavy"
	}
	return mix
}

// rowsFor are the ground-truth rows of a measured mix ("range" for
// components that range; "unknown" takes every mix) that in accepts.
func (g groundTruth) rowsFor(mix string, in func(*maplabRow) bool) []*maplabRow {
	out := g.rowsOf(mix, in)
	if len(out) == 0 && mix == "read-only" {
		// A matrix measured before maplab had the read-only mix: its
		// nearest rows.
		out = g.rowsOf("read-mostly", in)
	}
	return out
}

func (g groundTruth) rowsOf(mix string, in func(*maplabRow) bool) []*maplabRow {
	var out []*maplabRow
	for i := range g.Rows {
		r := &g.Rows[i]
		if in(r) && (mix == "unknown" || MaplabMixClass(r.Mix) == mix) {
			out = append(out, r)
		}
	}
	return out
}

// standing is a strategy's throughput over a set of rows: the geometric
// mean of its median over each row's best (1 = the best everywhere), and
// the worst of those ratios.
type standing struct {
	Strategy Strategy
	Mean     float64
	Worst    float64
	Rows     int
}

// standings ranks the strategies measured on rows, best first.
// Strategies missing from a row (the read/dirty map on string keys) are
// ranked over the rows they ran, after every strategy that ran on all.
func standings(rows []*maplabRow) []standing {
	sum := map[Strategy]float64{}
	worst := map[Strategy]float64{}
	count := map[Strategy]int{}
	for _, r := range rows {
		best := r.best()
		if best <= 0 {
			continue
		}
		for s, v := range r.OpsPerSec {
			if v <= 0 {
				continue
			}
			ratio := v / best
			sum[s] += math.Log(ratio)
			if count[s] == 0 || ratio < worst[s] {
				worst[s] = ratio
			}
			count[s]++
		}
	}
	var out []standing
	for s, n := range count {
		out = append(out, standing{Strategy: s, Mean: math.Exp(sum[s] / float64(n)), Worst: worst[s], Rows: n})
	}
	// A strategy that ran on fewer rows (the read/dirty map has no
	// string-key rows) ranks after those that ran on all: its mean skips
	// the rows that might have put it behind.
	full := 0
	for _, n := range count {
		full = max(full, n)
	}
	slices.SortFunc(out, func(a, b standing) int {
		if (a.Rows == full) != (b.Rows == full) {
			return map[bool]int{true: -1, false: 1}[a.Rows == full]
		}
		if a.Mean != b.Mean {
			return map[bool]int{true: -1, false: 1}[a.Mean > b.Mean]
		}
		return strings.Compare(string(a.Strategy), string(b.Strategy))
	})
	return out
}

// relativeRuns are s's runs over rows, each divided by its row's best
// median: the sample two strategies are compared by. A row without runs
// gives its median once.
func relativeRuns(rows []*maplabRow, s Strategy) []float64 {
	var out []float64
	for _, r := range rows {
		best := r.best()
		if best <= 0 || r.OpsPerSec[s] <= 0 {
			continue
		}
		runs := r.Runs[s]
		if len(runs) == 0 {
			runs = []float64{r.OpsPerSec[s]}
		}
		for _, v := range runs {
			out = append(out, v/best)
		}
	}
	return out
}

func standingOf(st []standing, s Strategy) (standing, bool) {
	for _, x := range st {
		if x.Strategy == s {
			return x, true
		}
	}
	return standing{}, false
}

// behindBest says how far s's median fell behind each workload's best, as
// "54–87%", over the rows given (all rows when none are).
func (g groundTruth) behindBest(s Strategy, rows ...*maplabRow) string {
	if len(rows) == 0 {
		for i := range g.Rows {
			rows = append(rows, &g.Rows[i])
		}
	}
	lo, hi := 1.0, 0.0
	for _, r := range rows {
		best := r.best()
		if best == 0 || r.OpsPerSec[s] == 0 {
			continue
		}
		behind := 1 - r.OpsPerSec[s]/best
		lo, hi = min(lo, behind), max(hi, behind)
	}
	if lo > hi {
		return "unmeasured"
	}
	return percentRange(lo, hi)
}

func percentRange(lo, hi float64) string {
	if fmt.Sprintf("%.0f", 100*lo) == fmt.Sprintf("%.0f", 100*hi) {
		return fmt.Sprintf("%.0f%%", 100*lo)
	}
	return fmt.Sprintf("%.0f–%.0f%%", 100*lo, 100*hi)
}
