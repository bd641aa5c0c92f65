package matrix_test

import (
	"slices"
	"testing"

	"github.com/contendr/contendr/internal/maplab/strategy"
	"github.com/contendr/contendr/internal/maplab/workload"
	"github.com/contendr/contendr/testapps/maplab/matrix"
)

// TestPairwiseRegimesCoverEveryPair holds the sampled design to its claim:
// every pair of levels of any two regime axes occurs in some regime, and
// the original regime is among them.
func TestPairwiseRegimesCoverEveryPair(t *testing.T) {
	regimes := matrix.PairwiseRegimes()
	axes := []func(matrix.Regime) any{
		func(r matrix.Regime) any { return r.GoroutinesPerP },
		func(r matrix.Regime) any { return r.Between },
		func(r matrix.Regime) any { return r.KeyType },
		func(r matrix.Regime) any { return r.ValueSize },
	}
	levels := [][]any{
		{1, 4, 32},
		{workload.BetweenNone, workload.BetweenCPU, workload.BetweenIO},
		{strategy.KeyInt, strategy.KeyString},
		{0, 1024},
	}
	for i := range axes {
		for j := i + 1; j < len(axes); j++ {
			for _, a := range levels[i] {
				for _, b := range levels[j] {
					if !slices.ContainsFunc(regimes, func(r matrix.Regime) bool { return axes[i](r) == a && axes[j](r) == b }) {
						t.Errorf("no regime has axis %d = %v and axis %d = %v", i, a, j, b)
					}
				}
			}
		}
	}
	base := matrix.Regime{GoroutinesPerP: 32, Between: workload.BetweenNone, KeyType: strategy.KeyInt}
	if !slices.Contains(regimes, base) {
		t.Errorf("the original regime %s is not in the design", base.Name())
	}
	for _, r := range regimes {
		got, err := matrix.ParseRegimes(r.Name())
		if err != nil || len(got) != 1 || got[0] != r {
			t.Errorf("matrix.ParseRegimes(%q) = %v, %v", r.Name(), got, err)
		}
	}
	if _, err := matrix.ParseRegimes("g0-cpu-int-v0"); err == nil {
		t.Error("ParseRegimes accepted zero goroutines per P")
	}
}
