// Package limits is the one table of default warn and crit limits for every
// figure contendr judges, with where each comes from. analyze's
// DefaultThresholds and the alert package's DefaultRules are both built
// from it, so that the agent alerts on what `contendr analyze` calls warn
// and crit. deploy/prometheus's rules quote the same numbers.
package limits

// Level is a pair of limits: at or above Warn is a warning, at or above
// Crit is critical.
type Level struct {
	Warn float64 `json:"warn"`
	Crit float64 `json:"crit"`
}

// Table holds one Level per judged figure, named as the alert metrics and
// the thresholds file spell them.
type Table struct {
	ContentionCost Level `json:"contention_cost"`
	ComponentCost  Level `json:"component_cost"`
	LockFraction   Level `json:"lock_fraction"`
	SiteFraction   Level `json:"site_fraction"`
	GCCPUFraction  Level `json:"gc_cpu_fraction"`
	GCPauseP99     Level `json:"gc_pause_p99"` // seconds
	MapGrowthShare Level `json:"map_growth_share"`
}

// Defaults returns the built-in limits: starting points to tune per
// service with a thresholds file.
func Defaults() Table {
	return Table{
		// Source: testapps/maplab/results/cost.md (`go run
		// ./testapps/maplab cost`, quiet machine, GOMAXPROCS 2, medians of
		// 5 interleaved runs): write-heavy at 64 goroutines, the single
		// Mutex map cost 56.6% (53.5–62.1) at 1.32M ops/s, xsync's 19.3%
		// (18.7–22.7) at 5.04M; at one goroutine per P every locked map
		// cost 17–23%. Warn at 10%, a lock that visibly caps throughput;
		// crit at 30%, above every strategy but the convoys.
		ContentionCost: Level{Warn: 0.10, Crit: 0.30},
		// One component alone: half the process-wide limits, so that a
		// single hot lock is named before the process as a whole crosses
		// its limit.
		ComponentCost: Level{Warn: 0.05, Crit: 0.15},
		// A service whose goroutines spend 5% of their wait+run time blocked
		// on locks has a visible, fixable hot spot; at 20% a lock is a
		// throughput ceiling. Reference points measured with contendr
		// analyze against testapps/maplab (64 goroutines, 2 Ps): 94–98%
		// for every locked map under load, ~0% for sync.Map read-mostly.
		// No default alert rule watches it (it counts waits that cost no
		// throughput); analyze's strategy rules fall back to it when a
		// window has no measured cost.
		LockFraction: Level{Warn: 0.05, Crit: 0.20},
		// One component alone: half the process-wide limits.
		SiteFraction: Level{Warn: 0.025, Crit: 0.10},
		// The GC pacer budgets 25% of GOMAXPROCS for background marking
		// (runtime/mgcpacer.go, gcBackgroundUtilization = 0.25; explained
		// in the Go GC guide, https://go.dev/doc/gc-guide). Averaged
		// over a whole window, GC at 25% means the collector runs all the
		// time; 10% means it is a cost worth tuning (GOGC, GOMEMLIMIT,
		// fewer allocations).
		GCCPUFraction: Level{Warn: 0.10, Crit: 0.25},
		// Since Go 1.8 stop-the-world pauses are "usually under 100
		// microseconds" (Go 1.8 release notes): warn at ten times that.
		// Crit at 10ms, the pause goal the concurrent collector was built
		// to stay under (go.dev/blog/go15gc), where pauses show in
		// request-latency SLOs.
		GCPauseP99: Level{Warn: 0.001, Crit: 0.010},
		// The legacy sync.Map fixture (testdata/profiles/go1.25-legacy-
		// syncmap) spends 99.7% of its allocation in dirtyLocked copies;
		// a healthy map write path is a small part of a service's
		// allocation. Above 30% the map's growth is the main GC driver,
		// above 60% it is nearly all of it.
		MapGrowthShare: Level{Warn: 0.30, Crit: 0.60},
	}
}
