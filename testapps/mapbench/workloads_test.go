package main

import (
	"fmt"
	"testing"
)

// TestSquaresPartitionTheProduct: the fifteen squares are disjoint Latin
// squares whose union is every workload × regime of each square set — so a held-out square shares no case with the one the
// rules were first scored on.
func TestSquaresPartitionTheProduct(t *testing.T) {
	seen := map[string]int{}
	for k := range squares {
		perWorkload := map[string]map[string]bool{}
		for _, c := range Square(k) {
			if prev, ok := seen[c.Name()]; ok {
				t.Errorf("%s is in square %d and square %d", c.Name(), prev, k)
			}
			seen[c.Name()] = k
			m := perWorkload[c.Workload.Name]
			if m == nil {
				m = map[string]bool{}
				perWorkload[c.Workload.Name] = m
			}
			for _, axis := range []string{"work=" + string(c.Regime.Work), fmt.Sprint("p=", c.Regime.PerP)} {
				if m[axis] {
					t.Errorf("square %d runs %s twice with %s", k, c.Workload.Name, axis)
				}
				m[axis] = true
			}
		}
	}
	want := 0
	for _, set := range squareSets {
		want += len(set.workloads) * len(set.levels) * len(works)
	}
	if len(seen) != want {
		t.Errorf("the squares cover %d cases, want the full product of %d", len(seen), want)
	}
	if Cases()[5].Name() != Square(0)[5].Name() {
		t.Error("Cases is not square 0")
	}
}
