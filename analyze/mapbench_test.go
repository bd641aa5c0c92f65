package analyze

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var updateMapbench = flag.Bool("update-mapbench", false, "rewrite analyze/mapbench.json from the mapbench results it lists")

// mapbenchResults is the part of a mapbench accuracy.json the evidence is
// made from.
type mapbenchResults struct {
	Cases []struct {
		Case     string `json:"case"`
		Measured []struct {
			Strategy  string    `json:"strategy"`
			OpsPerSec float64   `json:"ops_per_sec"`
			Runs      []float64 `json:"runs"`
		} `json:"measured"`
		Advice *struct {
			Workload *struct {
				Mix         string `json:"mix"`
				Range       bool   `json:"range"`
				RegimeClass string `json:"regime_class"`
			} `json:"workload"`
		} `json:"advice"`
	} `json:"cases"`
}

// TestMapbenchEvidence holds the embedded mapbench rows to the results
// files they list: one row per case contendr advised on, labelled with
// the mix and regime class contendr read from the case's window — the
// keys the regime rule looks rows up by.
func TestMapbenchEvidence(t *testing.T) {
	want := benchEvidence{Results: mapbench.Results}
	seen := map[string]string{}
	for _, path := range mapbench.Results {
		data, err := os.ReadFile(filepath.Join("..", filepath.FromSlash(path)))
		if err != nil {
			t.Fatal(err)
		}
		var res mapbenchResults
		if err := json.Unmarshal(data, &res); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		for _, c := range res.Cases {
			if c.Advice == nil || c.Advice.Workload == nil || c.Advice.Workload.RegimeClass == "" {
				continue // no advice: the rule looked nothing up
			}
			if earlier, dup := seen[c.Case]; dup {
				t.Fatalf("case %s is in %s and %s: list each square once", c.Case, earlier, path)
			}
			seen[c.Case] = path
			wl := c.Advice.Workload
			row := maplabRow{Workload: c.Case, Mix: wl.Mix, Harness: harnessMapbench,
				OpsPerSec: map[Strategy]float64{}, Runs: map[Strategy][]float64{}}
			if wl.Range {
				row.Mix = "range"
			}
			if _, err := fmt.Sscanf(wl.RegimeClass, "g%d-%s", &row.GoroutinesPerP, &row.Between); err != nil {
				t.Fatalf("%s: regime class %q: %v", c.Case, wl.RegimeClass, err)
			}
			for _, m := range c.Measured {
				s, ok := maplabStrategies[m.Strategy]
				if !ok {
					t.Fatalf("%s: mapbench strategy %q has no Strategy here", c.Case, m.Strategy)
				}
				row.OpsPerSec[s], row.Runs[s] = m.OpsPerSec, m.Runs
			}
			want.Rows = append(want.Rows, row)
		}
	}
	if *updateMapbench {
		out, err := json.MarshalIndent(want, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile("mapbench.json", append(out, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote mapbench.json: %d rows from %d results files; rebuild to embed it", len(want.Rows), len(want.Results))
		return
	}
	if !reflect.DeepEqual(mapbench, want) {
		t.Errorf("analyze/mapbench.json is not the results it lists: run go test ./analyze -run TestMapbenchEvidence -update-mapbench")
	}
	if len(mapbench.Rows) == 0 {
		t.Error("the embedded mapbench evidence has no rows")
	}
}

// TestRegimeRulePoolsHarnesses: the regime rule reads maplab's rows and
// mapbench's cases together, each row once, and its reason and expected
// gain say which harness measured what.
func TestRegimeRulePoolsHarnesses(t *testing.T) {
	if got, want := len(regimeEvidence.Rows), len(maplab.Rows)+len(mapbench.Rows); got != want {
		t.Fatalf("regime evidence has %d rows, want maplab's and mapbench's %d", got, want)
	}
	saved := regimeEvidence
	defer func() { regimeEvidence = saved }()
	row := func(harness string, ops map[Strategy]float64) maplabRow {
		return maplabRow{Workload: "w", Mix: "write-heavy", GoroutinesPerP: 4, Between: "none", KeyType: "int", Harness: harness, OpsPerSec: ops}
	}
	shardsAhead := map[Strategy]float64{StrategyMutex: 3, StrategySharded: 10, StrategyXsync: 9}
	xsyncAhead := map[Strategy]float64{StrategyMutex: 5, StrategySharded: 6, StrategyXsync: 10}
	// Two maplab rows put the shards 10% ahead; three mapbench cases put
	// xsync 1.7× ahead: counted once each, xsync leads.
	regimeEvidence = groundTruth{Rows: []maplabRow{
		row("", shardsAhead), row("", shardsAhead),
		row(harnessMapbench, xsyncAhead), row(harnessMapbench, xsyncAhead), row(harnessMapbench, xsyncAhead),
	}}
	f := baseFacts()
	f.Class = regimeClass{PerP: 4, Between: "none", Measured: true, Why: "hand"}
	c, ok := chooseForRegime(&f)
	if !ok || c.keep || c.pick.Strategy != StrategyXsync {
		t.Fatalf("pooled rows: keep=%v pick=%s, want xsync", c.keep, c.pick.Strategy)
	}
	if why := c.reason(&f); !strings.Contains(why, "maplab's 2 rows") || !strings.Contains(why, "mapbench's 3 cases") {
		t.Errorf("the reason does not say which harness measured what: %s", why)
	}
	if gain := measured(StrategyMutex, StrategyXsync, &f); !strings.Contains(gain, "maplab's matrix of") || !strings.Contains(gain, "mapbench's 3 cases") {
		t.Errorf("the expected gain does not name both harnesses: %s", gain)
	}
	// maplab alone: the shards.
	regimeEvidence.Rows = regimeEvidence.Rows[:2]
	f.choice = nil
	if c, _ := chooseForRegime(&f); c.pick.Strategy != StrategySharded {
		t.Errorf("maplab's rows alone: pick %s, want sharded", c.pick.Strategy)
	}
}
