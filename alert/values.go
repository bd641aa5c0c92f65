package alert

import (
	"math"
	"slices"
	"strings"

	"github.com/contendr/contendr/collectors/gc"
	"github.com/contendr/contendr/collectors/mutex"
)

// ValuesFrom picks the figures the rules watch out of the collectors'
// results for one window; either may be nil. Figures a result lacks are
// unknown (NaN), so that they neither fire nor resolve anything.
func ValuesFrom(lock *mutex.Result, gcr *gc.Result) Values {
	v := Unknown()
	if lock != nil && lock.Cost.Known {
		v.ContentionCost = lock.Cost.Value
		v.ComponentCosts = make(map[string]float64, len(lock.Components))
		for _, c := range lock.Components {
			v.ComponentCosts[c.Name] = c.Cost
		}
	}
	if lock != nil && lock.LockFraction.Known {
		v.LockFraction = lock.LockFraction.Value
		v.SiteFractions = make(map[string]float64, len(lock.Components))
		for _, c := range lock.Components {
			v.SiteFractions[c.Name] = c.Fraction
		}
	}
	if gcr == nil {
		return v
	}
	missing := func(field string) bool {
		return slices.ContainsFunc(gcr.Pressure.Missing, func(m string) bool { return strings.HasPrefix(m, field+":") })
	}
	if gcr.Pressure.Source != "" && !missing("cpu_fraction") {
		v.GCCPUFraction = gcr.Pressure.CPUFraction
	}
	if gcr.Pressure.Source != "" && !missing("pause_p99_seconds") {
		v.GCPauseP99Seconds = gcr.Pressure.PauseP99Seconds
	}
	if gcr.TotalAllocBytes > 0 {
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
