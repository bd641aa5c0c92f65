package analyze

import (
	"math"
	"testing"
)

// FuzzParseThresholds feeds thresholds files as a user (or a config
// system) might write them. ParseThresholds must return an error or limits
// that every finding can be judged against: finite, not negative, and warn
// at most crit — a NaN limit would make every comparison false and silently
// turn a finding off.
func FuzzParseThresholds(f *testing.F) {
	for _, seed := range []string{
		"",
		"lock_fraction: {warn: 0.05, crit: 0.2}\n",
		"contention_cost: {warn: 10%, crit: 30%}\ncomponent_cost: {crit: 0.2}\n",
		"gc_pause_p99: {crit: 5ms}\nsite_fraction: {warn: 2.5%, crit: 10%}\n",
		`{"lock_fraction": {"warn": 0.1, "crit": 0.3}, "map_growth_share": {"warn": "30%"}}`,
		"lock_fraction: {warn: .nan}\n",
		"lock_fraction: {warn: NaN, crit: NaN}\n",
		"lock_fraction: {crit: Inf}\n",
		"gc_cpu_fraction: {warn: 1e400, crit: -Inf}\n",
		"lock_fraction: [1, 2]\n",
		"lock_fraction: &a {warn: 0.1}\nsite_fraction: *a\n",
		"nope: {warn: 1}\n",
		"---\n---\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		th, err := ParseThresholds(data)
		if err != nil {
			return
		}
		for name, l := range map[string]Level{
			"contention_cost": th.ContentionCost, "component_cost": th.ComponentCost,
			"lock_fraction": th.LockFraction, "site_fraction": th.SiteFraction, "gc_cpu_fraction": th.GCCPUFraction,
			"gc_pause_p99": th.GCPauseP99, "map_growth_share": th.MapGrowthShare,
		} {
			for _, v := range []float64{l.Warn, l.Crit} {
				if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
					t.Fatalf("%q parsed into %s %+v: a limit must be finite and ≥ 0", data, name, l)
				}
			}
			if l.Warn > l.Crit {
				t.Fatalf("%q parsed into %s %+v: warn above crit", data, name, l)
			}
		}
	})
}
