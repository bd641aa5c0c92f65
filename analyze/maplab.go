package analyze

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"slices"
)

// maplabJSON is the ground truth the few-core rules follow: the medians of
// testapps/maplab/results/results.json, the strategy × workload matrix
// measured on this project's 2-core machine. TestMaplabGroundTruth fails
// when the two differ; `go test ./analyze -run TestMaplabGroundTruth
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
	Goroutines int         `json:"goroutines"`
	Keys       int         `json:"keys"`
	Rows       []maplabRow `json:"rows"`
}

// maplabRow is one workload: median operations per second of wall time and
// per CPU-second, by strategy.
type maplabRow struct {
	Workload  string               `json:"workload"`
	OpsPerSec map[Strategy]float64 `json:"ops_per_sec"`
	OpsPerCPU map[Strategy]float64 `json:"ops_per_cpu_second"`
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

// maplabSource names the ground truth the few-core rules rest on.
var maplabSource = fmt.Sprintf("testapps/maplab/results/results.md (GOMAXPROCS=%d, %d goroutines, %d int keys, %s, %s)",
	maplab.GOMAXPROCS, maplab.Goroutines, maplab.Keys, maplab.GoVersion, maplab.Date)

// row is the ground truth's row for a workload, or nil.
func (g groundTruth) row(workload string) *maplabRow {
	for i := range g.Rows {
		if g.Rows[i].Workload == workload {
			return &g.Rows[i]
		}
	}
	return nil
}

// behindBest says how far s's median fell behind each workload's best, as
// "54–87%" over the workloads named (all when none are).
func (g groundTruth) behindBest(s Strategy, workloads ...string) string {
	lo, hi := 1.0, 0.0
	for _, r := range g.Rows {
		if len(workloads) > 0 && !slices.Contains(workloads, r.Workload) {
			continue
		}
		var best float64
		for _, v := range r.OpsPerSec {
			best = max(best, v)
		}
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
