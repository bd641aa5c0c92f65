package analyze

import (
	_ "embed"
	"encoding/json"
	"fmt"
)

// mapbenchJSON is the second harness's ground truth: every case of
// testapps/mapbench (a workload written outside maplab, in one regime,
// each map implementation measured 10 times interleaved) that contendr
// advised on, with the mix and regime class contendr read from the case's
// window. The regime rule pools these rows with maplab's: the two
// harnesses disagree where maplab's 100k-key uniform tight loops favour
// the sharded map, and a rule that follows one harness alone is right on
// its own cases and wrong on the other's (docs/DESIGN.md, "Map strategy
// recommendation").
// TestMapbenchEvidence fails when this copy and the results it lists
// differ; `go test ./analyze -run TestMapbenchEvidence -update-mapbench`
// rewrites it.
//
//go:embed mapbench.json
var mapbenchJSON []byte

// benchEvidence is mapbench's cases reduced to what the regime rule reads.
type benchEvidence struct {
	// Results are the accuracy.json files the rows come from, relative
	// to the module root: which squares the rules have seen.
	Results []string    `json:"results"`
	Rows    []maplabRow `json:"rows"`
}

var mapbench = func() benchEvidence {
	var e benchEvidence
	if err := json.Unmarshal(mapbenchJSON, &e); err != nil {
		panic("analyze: the embedded mapbench.json does not parse: " + err.Error())
	}
	return e
}()

const harnessMapbench = "mapbench"

// regimeEvidence is what the regime rule chooses from: maplab's matrix
// and mapbench's cases, each row counted once whichever harness measured it.
var regimeEvidence = groundTruth{Rows: append(append([]maplabRow(nil), maplab.Rows...), mapbench.Rows...)}

// mapbenchSource names the second harness's rows in a rule's source.
var mapbenchSource = fmt.Sprintf("testapps/mapbench's %d cases (%d result files, the squares the rules have seen)",
	len(mapbench.Rows), len(mapbench.Results))
