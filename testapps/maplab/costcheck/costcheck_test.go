package costcheck

import (
	"testing"
)

func TestInversions(t *testing.T) {
	cell := func(s string, ops, cost float64) Cell {
		return Cell{Strategy: s, Workload: "write-heavy", Goroutines: 64, OpsPerSec: ops, Cost: cost}
	}
	cells := []Cell{
		cell("xsync", 6e6, 0.12),
		cell("sharded", 5e6, 0.08),   // not 1.5× slower than xsync: no constraint
		cell("rwmutex", 3.9e6, 0.16), // xsync is 1.54× faster and cheaper: fine
		cell("mutex", 2e6, 0.15),     // 3× slower than xsync, yet cheaper than rwmutex within tolerance
		{Strategy: "xsync", Workload: "read-mostly", Goroutines: 64, OpsPerSec: 1e6, Cost: 0.9}, // another row
	}
	got := inversions(cells, 1.5, 0.05, func(c Cell) float64 { return c.Cost })
	if len(got) != 0 {
		t.Errorf("inversions %+v, want none", got)
	}
	cells[0].Cost = 0.30 // xsync reads costlier than rwmutex and mutex by more than the tolerance
	got = inversions(cells, 1.5, 0.05, func(c Cell) float64 { return c.Cost })
	if len(got) != 2 || got[0].Faster != "xsync" || got[0].Slower != "rwmutex" || got[1].Slower != "mutex" {
		t.Errorf("inversions %+v, want xsync over rwmutex and mutex", got)
	}
}

func TestCellsTakeMedians(t *testing.T) {
	runs := []Run{
		{Strategy: "mutex", Workload: "w", Goroutines: 2, OpsPerSec: 3, Cost: 0.5},
		{Strategy: "mutex", Workload: "w", Goroutines: 2, OpsPerSec: 1, Cost: 0.1},
		{Strategy: "mutex", Workload: "w", Goroutines: 2, OpsPerSec: 2, Cost: 0.3},
	}
	c := cells(runs)
	if len(c) != 1 || c[0].OpsPerSec != 2 || c[0].OpsMin != 1 || c[0].OpsMax != 3 || c[0].Cost != 0.3 {
		t.Errorf("cells %+v", c)
	}
}
