// Package alert turns the figures of consecutive windows into alerts: a rule
// fires after N windows over its threshold, resolves after M under, and waits
// out a cooldown before firing again. Alerts go to a callback, the log, an
// optional Alertmanager-compatible webhook and an optional profile dump.
//
// The agent calls (*Evaluator).Observe once per closed window; the CLI's
// watch command does the same for each window it fetches.
package alert

import (
	"fmt"
	"math"

	"github.com/contendr/contendr/limits"
)

// Metric names a figure a rule watches. The names are those of the analyze
// package's thresholds, so one set of numbers configures both.
type Metric string

// Metrics a rule can watch.
const (
	// ContentionCost is the process-wide contention cost (DESIGN.md): the
	// share of GOMAXPROCS × window that locks cost in CPU and idle Ps.
	ContentionCost Metric = "contention_cost"
	// ComponentCost is one component's part of the contention cost; the
	// rule fires per component.
	ComponentCost Metric = "component_cost"
	// LockFraction is the process-wide lock wait share (DESIGN.md). It
	// counts waits that cost no throughput: no default rule watches it.
	LockFraction Metric = "lock_fraction"
	// SiteFraction is one component's part of the lock wait share; the
	// rule fires per component.
	SiteFraction Metric = "site_fraction"
	// GCCPUFraction is the window's GC CPU fraction.
	GCCPUFraction Metric = "gc_cpu_fraction"
	// GCPauseP99 is the 99th percentile GC pause, in seconds.
	GCPauseP99 Metric = "gc_pause_p99"
	// MapGrowthShare is the share of the window's allocation that maps
	// spent growing or copying themselves.
	MapGrowthShare Metric = "map_growth_share"
)

// Severity of a rule, as Alertmanager routes it.
type Severity string

// Severities, in increasing order.
const (
	Warn Severity = "warn"
	Crit Severity = "crit"
)

// Rule fires when Metric reaches Threshold.
type Rule struct {
	// Name identifies the rule in metrics, events and file names; empty
	// means "<metric>_<severity>", e.g. "contention_cost_crit".
	Name      string
	Metric    Metric
	Severity  Severity
	Threshold float64
	// Clear, when below Threshold, is the value a firing rule must fall
	// under to count a window toward resolution (hysteresis): values
	// between Clear and Threshold neither fire nor resolve. Zero means
	// Threshold.
	Clear float64
}

// DefaultRules are the rules RulesFrom makes of the default limits
// (limits.Defaults, the table analyze.DefaultThresholds is built from), so
// that the agent alerts on what `contendr analyze` calls warn and crit.
func DefaultRules() []Rule { return RulesFrom(limits.Defaults()) }

// RulesFrom makes the warn and crit rules on the contention cost, process
// and per component, then on GC pressure and map growth, at the limits of
// t. A zero limit is "always", not a rule, and is left out.
//
// The lock wait share (LockFraction, SiteFraction) has no rule: it counts
// waits that cost no throughput, and reads highest for the faster maps
// contendr recommends (maplab write-heavy: mutex 0.57, xsync 0.96 at 4×
// the ops/s), so a rule on it would page for the fix. Rules on it can
// still be configured.
func RulesFrom(t limits.Table) []Rule {
	var rules []Rule
	for _, l := range []struct {
		metric Metric
		level  limits.Level
	}{
		{ContentionCost, t.ContentionCost},
		{ComponentCost, t.ComponentCost},
		{GCCPUFraction, t.GCCPUFraction},
		{GCPauseP99, t.GCPauseP99},
		{MapGrowthShare, t.MapGrowthShare},
	} {
		for _, r := range Pair(l.metric, l.level.Warn, l.level.Crit) {
			if r.Threshold > 0 {
				rules = append(rules, r)
			}
		}
	}
	return rules
}

// withDefaults names r and checks it.
func (r Rule) withDefaults() (Rule, error) {
	switch r.Metric {
	case ContentionCost, ComponentCost, LockFraction, SiteFraction, GCCPUFraction, GCPauseP99, MapGrowthShare:
	default:
		return r, fmt.Errorf("alert rule %q: unknown metric %q", r.Name, r.Metric)
	}
	switch r.Severity {
	case "":
		r.Severity = Warn
	case Warn, Crit:
	default:
		return r, fmt.Errorf("alert rule %q: severity %q, want %q or %q", r.Name, r.Severity, Warn, Crit)
	}
	if r.Name == "" {
		r.Name = string(r.Metric) + "_" + string(r.Severity)
	}
	if math.IsNaN(r.Threshold) || math.IsInf(r.Threshold, 0) || r.Threshold <= 0 {
		return r, fmt.Errorf("alert rule %q: threshold %v, want a positive number", r.Name, r.Threshold)
	}
	if r.Clear <= 0 || r.Clear > r.Threshold {
		r.Clear = r.Threshold
	}
	return r, nil
}

// Values are the figures of one window. NaN marks a figure the window could
// not provide: rules on it neither advance nor reset.
type Values struct {
	ContentionCost float64
	// ComponentCosts maps a component to its part of the contention cost;
	// a component missing from the map counts as 0, a nil map as a window
	// that could not measure any (no component rule moves).
	ComponentCosts map[string]float64
	LockFraction   float64
	// SiteFractions maps a component (e.g. "main.(*Cache)") to its lock
	// fraction. A component missing from the map counts as 0; a nil map
	// is unknown, as ComponentCosts.
	SiteFractions     map[string]float64
	GCCPUFraction     float64
	GCPauseP99Seconds float64
	MapGrowthShare    float64
}

// Unknown returns Values with every figure unknown, to fill in what a window
// has.
func Unknown() Values {
	nan := math.NaN()
	return Values{ContentionCost: nan, LockFraction: nan, GCCPUFraction: nan, GCPauseP99Seconds: nan, MapGrowthShare: nan}
}

// perComponent returns the figures of a per-component metric, and false
// for a process-wide one.
func (v Values) perComponent(m Metric) (map[string]float64, bool) {
	switch m {
	case ComponentCost:
		return v.ComponentCosts, true
	case SiteFraction:
		return v.SiteFractions, true
	}
	return nil, false
}

// value returns the figure a process-wide metric names.
func (v Values) value(m Metric) float64 {
	switch m {
	case ContentionCost:
		return v.ContentionCost
	case LockFraction:
		return v.LockFraction
	case GCCPUFraction:
		return v.GCCPUFraction
	case GCPauseP99:
		return v.GCPauseP99Seconds
	case MapGrowthShare:
		return v.MapGrowthShare
	}
	return math.NaN()
}

// ClearRatio places a paired rule's Clear under its Threshold: a firing
// alert resolves only when the figure falls a fifth under the limit it
// crossed. Two identical maplab builds' contention costs spread ±20%
// between 1s windows (docs/canary.md), so a figure hovering at its limit
// would otherwise fire and resolve with the noise.
const ClearRatio = 0.8

// Pair returns the warn and crit rules on m, the shape of one of analyze's
// threshold levels: Pair(alert.ContentionCost, th.ContentionCost.Warn,
// th.ContentionCost.Crit). Each clears at ClearRatio of its threshold.
func Pair(m Metric, warn, crit float64) []Rule {
	return []Rule{
		{Metric: m, Severity: Warn, Threshold: warn, Clear: ClearRatio * warn},
		{Metric: m, Severity: Crit, Threshold: crit, Clear: ClearRatio * crit},
	}
}
