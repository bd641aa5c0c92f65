package matrix

import (
	"fmt"
	"strings"

	"github.com/contendr/contendr/internal/maplab/strategy"
	"github.com/contendr/contendr/internal/maplab/workload"
)

// Regime is how a workload's goroutines use the map, apart from the mix:
// the axes that change which strategy is fastest.
type Regime struct {
	GoroutinesPerP int
	Between        workload.Between
	KeyType        strategy.KeyType
	ValueSize      int
}

// Name is the regime as workload names carry it: g1-cpu-string-v1024.
func (r Regime) Name() string {
	return fmt.Sprintf("g%d-%s-%s-v%d", r.GoroutinesPerP, r.Between, r.KeyType, r.ValueSize)
}

// Apply gives spec the regime, naming it mix@regime.
func (r Regime) Apply(spec workload.Spec) workload.Spec {
	spec.Name = spec.Mix + "@" + r.Name()
	spec.GoroutinesPerP, spec.Between, spec.KeyType, spec.ValueSize = r.GoroutinesPerP, r.Between, r.KeyType, r.ValueSize
	return spec
}

// Levels of the regime axes the matrix samples.
var (
	goroutinesPerP = []int{1, 4, 32}
	betweenLevels  = []workload.Between{workload.BetweenNone, workload.BetweenCPU, workload.BetweenIO}
	keyLevels      = []strategy.KeyType{strategy.KeyInt, strategy.KeyString}
	valueLevels    = []int{0, 1024}
)

// l9 is the L9(3⁴) orthogonal array: nine runs over four three-level
// factors in which every pair of levels of every two factors occurs
// exactly once. Columns: goroutines per P, work between operations, key
// type, value size (levels 0, 1, 2).
var l9 = [9][4]int{
	{0, 0, 0, 0}, {0, 1, 1, 1}, {0, 2, 2, 2},
	{1, 0, 1, 2}, {1, 1, 2, 0}, {1, 2, 0, 1},
	{2, 0, 2, 1}, {2, 1, 0, 2}, {2, 2, 1, 0},
}

// PairwiseRegimes is the sampled design of the regime axes: the full
// product (3 goroutines-per-P × 3 kinds of work between operations × 2 key
// types × 2 value sizes = 36 regimes, × 8 mixes × 7 strategies = 2,016
// cells) does not fit a run of the matrix on two cores, so the matrix runs
// the L9 orthogonal array over them — nine regimes in which every pair of
// levels of any two axes occurs (the two-level axes take their first level
// again in the array's third: "dummy level" assignment, so int keys and
// plain values occur six times, string keys and 1 KiB values three) — plus
// maplab's original regime (32 per P, tight loop, int keys, plain values),
// so that runs before and after the design compare. Every mix runs in
// every regime.
func PairwiseRegimes() []Regime {
	out := make([]Regime, 0, len(l9)+1)
	for _, row := range l9 {
		out = append(out, Regime{
			GoroutinesPerP: goroutinesPerP[row[0]],
			Between:        betweenLevels[row[1]],
			KeyType:        keyLevels[row[2]%len(keyLevels)],
			ValueSize:      valueLevels[row[3]%len(valueLevels)],
		})
	}
	base := Regime{GoroutinesPerP: 32, Between: workload.BetweenNone, KeyType: strategy.KeyInt}
	for _, r := range out {
		if r == base {
			return out
		}
	}
	return append(out, base)
}

// ParseRegimes reads the -regimes flag: "pairwise" (PairwiseRegimes), or a
// comma-separated list of regime names as Name writes them.
func ParseRegimes(value string) ([]Regime, error) {
	if value == "" || value == "pairwise" {
		return PairwiseRegimes(), nil
	}
	var out []Regime
	for _, name := range strings.Split(value, ",") {
		var r Regime
		var between, keys string
		name = strings.TrimSpace(name)
		if _, err := fmt.Sscanf(strings.NewReplacer("-", " ").Replace(name), "g%d %s %s v%d", &r.GoroutinesPerP, &between, &keys, &r.ValueSize); err != nil {
			return nil, fmt.Errorf("regime %q: want g<goroutines per P>-<none|cpu|io>-<int|string>-v<value bytes>, e.g. g4-cpu-int-v0", name)
		}
		r.Between, r.KeyType = workload.Between(between), strategy.KeyType(keys)
		if r.GoroutinesPerP < 1 || !r.Between.Valid() || r.Between == "" || !r.KeyType.Valid() || r.ValueSize < 0 {
			return nil, fmt.Errorf("regime %q: want g<goroutines per P ≥ 1>-<none|cpu|io>-<int|string>-v<value bytes ≥ 0>", name)
		}
		out = append(out, r)
	}
	return out, nil
}
