package analyze

import (
	"cmp"
	"encoding/json"
	"errors"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/contendr/contendr/collectors/gc"
)

// maplabResults is the part of testapps/maplab/results/results.json the
// rules are checked against and the embedded ground truth is made from.
type maplabResults struct {
	Meta struct {
		Command    string `json:"command"`
		Date       string `json:"date"`
		GoVersion  string `json:"go_version"`
		GOMAXPROCS int    `json:"gomaxprocs"`
	} `json:"meta"`
	Workloads []struct {
		Name           string `json:"name"`
		Mix            string `json:"mix"`
		Keys           int    `json:"keys"`
		Goroutines     int    `json:"goroutines"`
		GoroutinesPerP int    `json:"goroutines_per_p"`
		Between        string `json:"between"`
		KeyType        string `json:"key_type"`
		ValueSize      int    `json:"value_size"`
	} `json:"workloads"`
	Cells []struct {
		Workload        string    `json:"workload"`
		Strategy        string    `json:"strategy"`
		OpsPerSec       float64   `json:"median_ops_per_sec"`
		OpsPerCPUSecond float64   `json:"median_ops_per_cpu_second"`
		Runs            []float64 `json:"runs_ops_per_sec"`
	} `json:"cells"`
}

var updateMaplab = flag.Bool("update-maplab", false, "rewrite analyze/maplab.json from testapps/maplab/results/results.json")

// TestMaplabGroundTruth holds the embedded ground truth (maplab.json) to
// the committed matrix run it is made from.
func TestMaplabGroundTruth(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "testapps", "maplab", "results", "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	var res maplabResults
	if err := json.Unmarshal(data, &res); err != nil {
		t.Fatal(err)
	}
	want := groundTruth{Command: res.Meta.Command, Date: res.Meta.Date, GoVersion: res.Meta.GoVersion, GOMAXPROCS: res.Meta.GOMAXPROCS}
	for _, w := range res.Workloads {
		if want.Keys != 0 && w.Keys != want.Keys {
			t.Fatalf("workload %s has %d keys, others %d: the ground truth quotes one", w.Name, w.Keys, want.Keys)
		}
		want.Keys = w.Keys
		row := maplabRow{Workload: w.Name, Mix: cmp.Or(w.Mix, w.Name), GoroutinesPerP: w.GoroutinesPerP, Between: cmp.Or(w.Between, "none"),
			KeyType: cmp.Or(w.KeyType, "int"), ValueSize: w.ValueSize,
			OpsPerSec: map[Strategy]float64{}, OpsPerCPU: map[Strategy]float64{}, Runs: map[Strategy][]float64{}}
		if row.GoroutinesPerP == 0 && res.Meta.GOMAXPROCS > 0 {
			row.GoroutinesPerP = w.Goroutines / res.Meta.GOMAXPROCS
		}
		for _, c := range res.Cells {
			if c.Workload == w.Name {
				s, ok := maplabStrategies[c.Strategy]
				if !ok {
					t.Fatalf("maplab strategy %q has no Strategy here: add it to maplabStrategies", c.Strategy)
				}
				row.OpsPerSec[s], row.OpsPerCPU[s], row.Runs[s] = c.OpsPerSec, c.OpsPerCPUSecond, c.Runs
			}
		}
		want.Rows = append(want.Rows, row)
	}
	if *updateMaplab {
		out, err := json.MarshalIndent(want, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile("maplab.json", append(out, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote maplab.json from the matrix run of %s; rebuild to embed it", want.Date)
		return
	}
	if !reflect.DeepEqual(maplab, want) {
		t.Errorf("analyze/maplab.json (run of %s) is not testapps/maplab/results/results.json (run of %s): "+
			"run go test ./analyze -run TestMaplabGroundTruth -update-maplab", maplab.Date, want.Date)
	}
	if len(maplab.Rows) == 0 {
		t.Error("the embedded ground truth has no rows")
	}
}

// maplabStrategies maps maplab's strategy names to ours; maplab's
// "legacy" is a hand-written read/dirty map.
var maplabStrategies = map[string]Strategy{
	"mutex": StrategyMutex, "rwmutex": StrategyRWMutex, "syncmap": StrategySyncMap, "sharded": StrategySharded,
	"cow": StrategyCOW, "xsync": StrategyXsync, "legacy": StrategySyncMapLegacy,
}

// maplabMixes gives each maplab workload the facts a profile of it shows.
var maplabMixes = map[string]func(f *facts){
	"read-only":   func(f *facts) { f.Mix, f.ReadShare = "read-only", 0.9999 },
	"read-mostly": func(f *facts) { f.Mix, f.ReadShare = "read-mostly", 0.99 },
	"read-heavy":  func(f *facts) { f.Mix, f.ReadShare = "read-heavy", 0.9 },
	"hotkey":      func(f *facts) { f.Mix, f.ReadShare = "read-heavy", 0.9 },
	"balanced":    func(f *facts) { f.Mix, f.ReadShare = "balanced", 0.5 },
	"churn":       func(f *facts) { f.Mix, f.ReadShare = "balanced", 0.5 },
	"write-heavy": func(f *facts) { f.Mix, f.ReadShare = "write-heavy", 0.1 },
	"overwrite":   func(f *facts) { f.Mix, f.ReadShare = "write-heavy", 0 },
	"range":       func(f *facts) { f.Mix, f.ReadShare, f.Range = "read-heavy", 0.9, true },
}

// TestRulesAgainstMaplab holds the rule table to the ground truth: for
// every measured row (a mix in a regime) and every strategy a user may run
// today, as a hot profile of it would look in that regime, the advice must
// not be measurably slower than what the user has (10% margin on both
// wall-clock and per-CPU-second throughput) in nine cases of ten, and
// sync.Map, COW or a read/dirty map that maplab found far slower than the
// best (below half of it on both) must not be kept in nine of ten. The
// rule picks one strategy per regime and mix over several rows (key types,
// value sizes, neighbouring mixes), so a row may disagree with its pick;
// the accuracy run (testapps/maplab accuracy) lists those.
func TestRulesAgainstMaplab(t *testing.T) {
	// MAPLAB_RESULTS checks the rules against another run of the matrix.
	path := filepath.Join("..", "testapps", "maplab", "results", "results.json")
	if p := os.Getenv("MAPLAB_RESULTS"); p != "" {
		path = p
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		t.Skip("testapps/maplab/results/results.json not present: run the maplab matrix")
	}
	if err != nil {
		t.Fatal(err)
	}
	var res maplabResults
	if err := json.Unmarshal(data, &res); err != nil {
		t.Fatal(err)
	}
	type cell struct{ wall, cpu float64 }
	table := map[string]map[Strategy]cell{}
	for _, c := range res.Cells {
		if table[c.Workload] == nil {
			table[c.Workload] = map[Strategy]cell{}
		}
		table[c.Workload][maplabStrategies[c.Strategy]] = cell{c.OpsPerSec, c.OpsPerCPUSecond}
	}
	growthOf := map[Strategy]gc.GrowthKind{StrategySyncMap: gc.GrowthHashTrieMap, StrategyCOW: gc.GrowthCOWClone, StrategySyncMapLegacy: gc.GrowthSyncMapDirty}
	var cases, slower, keptSlow int
	for _, w := range res.Workloads {
		row := table[w.Name]
		mix, ok := maplabMixes[cmp.Or(w.Mix, w.Name)]
		if !ok {
			t.Errorf("maplab workload %q has no facts here: add it to maplabMixes", w.Name)
			continue
		}
		var best cell
		for _, c := range row {
			best = cell{max(best.wall, c.wall), max(best.cpu, c.cpu)}
		}
		class := regimeClass{PerP: cmp.Or(w.GoroutinesPerP, 32), Between: cmp.Or(w.Between, "none"), Measured: true}
		for _, current := range []Strategy{StrategyMutex, StrategyRWMutex, StrategySyncMap, StrategyCOW, StrategySyncMapLegacy} {
			have, ok := row[current]
			if !ok {
				continue
			}
			f := facts{
				Component: "strategy.(*Map)", Current: current, Go: goVersion{Minor: 26, Known: true}, MixSource: "cpu-profile",
				Contention: SeverityCrit, Fraction: 0.5, Growth: SeverityOK, Goroutines: 64, Procs: res.Meta.GOMAXPROCS, Class: class,
			}
			if k, ok := growthOf[current]; ok {
				f.Growth, f.GrowthShare, f.GrowthKinds = SeverityCrit, 0.8, []gc.GrowthKind{k}
			}
			mix(&f)
			r := decide(&f)
			advice := r.Recommend(&f)
			cases++
			if advice != StrategyKeep {
				got, ok := row[advice]
				if ok && got.wall < 0.9*have.wall && got.cpu < 0.9*have.cpu {
					slower++
					t.Logf("%s, %s: rule %s advises %s, which maplab measured slower here (%.3g vs %.3g ops/s)", w.Name, current, r.ID, advice, got.wall, have.wall)
				}
				continue
			}
			if current != StrategyMutex && current != StrategyRWMutex && have.wall < 0.5*best.wall && have.cpu < 0.5*best.cpu {
				keptSlow++
				t.Logf("%s, %s: rule %s keeps a strategy maplab measured at under half the best (%.3g vs %.3g ops/s)", w.Name, current, r.ID, have.wall, best.wall)
			}
		}
	}
	if cases == 0 {
		t.Fatal("no case was checked")
	}
	if float64(slower) > 0.1*float64(cases) || float64(keptSlow) > 0.1*float64(cases) {
		t.Errorf("of %d cases, %d advised a measurably slower strategy and %d kept one at under half the best: more than one in ten", cases, slower, keptSlow)
	}
}
