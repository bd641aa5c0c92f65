package alert

import (
	"math"

	"github.com/contendr/contendr/collectors/figure"
	"github.com/contendr/contendr/collectors/gc"
	"github.com/contendr/contendr/collectors/mutex"
)

// ValuesFrom picks the figures the rules watch out of the collectors'
// results for one window; either may be nil. It is the one place that does
// (the agent and `contendr watch` both call it). Figures the window did not
// measure (figure.Set) are unknown (NaN), so that they neither fire nor
// resolve anything.
func ValuesFrom(lock *mutex.Result, gcr *gc.Result) Values {
	v := Unknown()
	got := lock.Measured()
	if gcr != nil {
		got = figure.Merge(got, gcr.Measured)
	}
	if got.Has(figure.ContentionCost) {
		v.ContentionCost = lock.Cost.Value
		v.ComponentCosts = make(map[string]float64, len(lock.Components))
		for _, c := range lock.Components {
			v.ComponentCosts[c.Name] = c.Cost
		}
	}
	if got.Has(figure.LockFraction) {
		v.LockFraction = lock.LockFraction.Value
		v.SiteFractions = make(map[string]float64, len(lock.Components))
		for _, c := range lock.Components {
			v.SiteFractions[c.Name] = c.Fraction
		}
	}
	if gcr == nil {
		return v
	}
	if got.Has(figure.GCCPUFraction) {
		v.GCCPUFraction = gcr.Pressure.CPUFraction
	}
	if got.Has(figure.GCPauseP99) {
		v.GCPauseP99Seconds = gcr.Pressure.PauseP99Seconds
	}
	if got.Has(figure.MapGrowth) {
		// analyze judges a component's growth of every kind together
		perComponent := make(map[string]float64)
		v.MapGrowthShare = 0
		for _, g := range gcr.MapGrowth {
			perComponent[g.Component] += g.ShareOfAlloc
			v.MapGrowthShare = math.Max(v.MapGrowthShare, perComponent[g.Component])
		}
	}
	return v
}
