package analyze

import (
	"fmt"
	"slices"
	"strings"

	"golang.org/x/perf/benchmath"
)

// regimeClass is one of the regimes maplab's matrix measured, the one a
// window's measurements are closest to: goroutines per P (1, 4 or 32) and
// what the goroutines do between map operations (none, cpu, io).
type regimeClass struct {
	PerP    int
	Between string
	// Measured is false when the window could not tell and the class is
	// maplab's original regime (32 per P, tight loops) by default.
	Measured bool
	// Why says which measurements placed the window in the class.
	Why string
}

// Name is the class as maplab's workload names spell a regime's first two
// axes: g4-cpu.
func (rc regimeClass) Name() string { return fmt.Sprintf("g%d-%s", rc.PerP, rc.Between) }

func (rc regimeClass) String() string {
	return fmt.Sprintf("%d goroutine%s per P, %s", rc.PerP, map[bool]string{true: "", false: "s"}[rc.PerP == 1], rc.betweenText())
}

func (rc regimeClass) betweenText() string {
	return map[string]string{
		"none": "tight loops", "cpu": "CPU work outside the lock between operations", "io": "I/O waits between operations",
	}[rc.Between]
}

// Regime class boundaries: the geometric midpoints between the goroutines
// per P maplab measured (1, 4, 32), and the part of the sampled CPU a
// component must take for its goroutines to count as doing nothing else
// (maplab's tight loops put 70–90% of the CPU under the map, its 2 µs of
// CPU work between operations under 30%).
const (
	perPFew           = 2.0  // √(1·4)
	perPMany          = 11.3 // √(4·32)
	tightLoopCPUShare = 0.5
)

// classifyRegime places a window's regime among maplab's. Goroutines per
// P counts the goroutines that were running, runnable or blocked on a lock
// (busy Ps, run queue, lock waiters) when the scheduler samples say so —
// sleeping goroutines do not contend, lock waiters do — else all
// goroutines over GOMAXPROCS. Ps not saturated mean the goroutines waited
// elsewhere (io); saturated Ps whose CPU mostly ran outside the component
// mean work between operations (cpu).
func classifyRegime(rg Regime, procs, goroutines int) regimeClass {
	rc := regimeClass{PerP: 32, Between: "none"}
	perP, how := 0.0, ""
	switch {
	case rg.RunnableKnown && rg.BusyKnown && procs > 0:
		perP = (rg.Runnable + rg.Busy*float64(procs) + rg.LockWaiters) / float64(procs)
		how = fmt.Sprintf("%.3g goroutines running, runnable or waiting on a lock per P", perP)
	case procs > 0 && goroutines > 0:
		perP = float64(goroutines) / float64(procs)
		how = fmt.Sprintf("%.3g goroutines per P (all goroutines: the scheduler was not sampled)", perP)
	}
	if how != "" {
		rc.Measured = true
		switch {
		case perP <= perPFew:
			rc.PerP = 1
		case perP <= perPMany:
			rc.PerP = 4
		}
	} else {
		how = "goroutines per P unknown (maplab's original 32 assumed)"
	}
	switch {
	case (rg.BusyKnown || rg.RunnableKnown) && !rg.Saturated:
		rc.Between = "io"
		how += fmt.Sprintf("; Ps not saturated (%s busy, %.3g runnable): goroutines wait between operations", pct(rg.Busy), rg.Runnable)
	case rg.CPUKnown && rg.ComponentCPUShare < tightLoopCPUShare:
		rc.Between = "cpu"
		how += fmt.Sprintf("; %s of the sampled CPU runs outside the component: work between operations", pct(1-rg.ComponentCPUShare))
	case rg.CPUKnown:
		how += fmt.Sprintf("; %s of the sampled CPU runs through the component: tight loops", pct(rg.ComponentCPUShare))
	default:
		rc.Measured = false
		how += "; no CPU profile: tight loops assumed"
	}
	rc.Why = how
	return rc
}

// regimeTolerance is how close to the regime's best a current strategy
// must stand to be kept: the accuracy harness's "within 10%", so that
// advice is a change only where maplab measured one to pay.
const regimeTolerance = 0.10

// regimeAlpha is the significance a comparison of runs must reach for a
// scope of rows to settle a choice (two-sided Mann-Whitney U test).
const regimeAlpha = 0.05

// evidenceScope is a set of maplab rows a choice may rest on, given the
// window's regime class. The matrix runs each cell 3 times for 200 ms, so
// one regime's one or two rows of a mix often cannot tell two strategies
// apart (two runs of the same g1 rows named a different best strategy on 7
// of 9 workloads: results/g1-rerun-2026-12-02); a choice the regime's rows
// do not settle is taken from a wider scope that does.
type evidenceScope struct {
	In func(rc regimeClass, r *maplabRow) bool
	// Name says which rows the scope takes, for a window of class rc.
	Name func(rc regimeClass) string
}

// evidenceScopes widen from the window's regime to its kind of work
// between operations to the whole matrix, always on the window's mix.
var evidenceScopes = []evidenceScope{
	{
		In:   func(rc regimeClass, r *maplabRow) bool { return r.GoroutinesPerP == rc.PerP && r.Between == rc.Between },
		Name: func(rc regimeClass) string { return rc.String() },
	},
	{
		In:   func(rc regimeClass, r *maplabRow) bool { return r.Between == rc.Between },
		Name: func(rc regimeClass) string { return rc.betweenText() + ", every goroutines-per-P level" },
	},
	{
		In:   func(regimeClass, *maplabRow) bool { return true },
		Name: func(regimeClass) string { return "every regime" },
	},
}

// regimeChoice is what maplab measured for a component's regime and mix.
type regimeChoice struct {
	class     regimeClass
	mix       string
	scope     string // which evidenceScope the rows come from
	rows      []*maplabRow
	standings []standing
	// targets are the standings a component may be advised to switch to:
	// all but the read/dirty map, which maplab runs only to measure what
	// it costs code still built on it (Go ≤1.23's sync.Map design).
	targets []standing
	pick    standing
	current standing
	// currentMeasured is false when maplab did not run the current
	// strategy there (the read/dirty map has no string-key rows).
	currentMeasured bool
	// againstMedian is true when the frames did not tell the current
	// strategy: current is then the median of the strategies behind the
	// pick, which stands in for it.
	againstMedian bool
	keep          bool
	// settled is true when the runs of the rows told the choice apart at
	// regimeAlpha (p is that test's p-value); else the choice is the
	// widest scope's point estimate. unsettled names the narrower scopes
	// that could not tell, with their p-values.
	settled   bool
	p         float64
	unsettled []string
}

// chooseForRegime looks f's regime and mix up in the ground truth, from
// the narrowest scope of rows whose runs settle the choice; ok is false
// when maplab has no rows for the regime and mix.
func chooseForRegime(f *facts) (regimeChoice, bool) {
	mix := f.Mix
	if f.Range {
		mix = "range"
	}
	var c regimeChoice
	for i, sc := range evidenceScopes {
		rows := regimeEvidence.rowsFor(mix, func(r *maplabRow) bool { return sc.In(f.Class, r) })
		st := standings(rows)
		if len(st) == 0 {
			if i == 0 {
				return regimeChoice{}, false // a regime maplab did not measure
			}
			continue
		}
		if i > 0 {
			c.unsettled = append(c.unsettled, fmt.Sprintf("%s (%s, U test p = %.2f)", c.scope, rowsText(c.rows), c.p))
		}
		c = regimeChoice{class: f.Class, mix: mix, scope: sc.Name(f.Class), rows: rows, standings: st, unsettled: c.unsettled}
		c.targets = slices.DeleteFunc(slices.Clone(st), func(s standing) bool { return s.Strategy == StrategySyncMapLegacy })
		if len(c.targets) == 0 {
			continue
		}
		c.settle(f.Current)
		// Without runs nothing is ever told apart: the regime's own
		// medians decide, as they must for a matrix that kept none.
		if c.settled || !rows[0].hasRuns() {
			break
		}
	}
	return c, true
}

// settle picks the best-ranked strategy of c's rows and decides whether
// the current one stays: within regimeTolerance of the pick by the point
// estimates, overruled by the runs where they tell the difference.
//
// A component whose strategy the frames did not identify (a hand-written
// map read through an atomic pointer shows no lock frame) is weighed as
// if it ran the median strategy behind the pick: whatever it is, a change
// is then more likely than not to pay, and where the strategies stand
// within the tolerance of each other (maplab's I/O rows) nothing is sure
// to pay and the component stays as it is.
func (c *regimeChoice) settle(current Strategy) {
	c.pick = c.targets[0]
	if current == StrategyUnknown {
		if len(c.targets) < 2 {
			c.settled, c.keep = true, true
			return
		}
		c.current, c.currentMeasured, c.againstMedian = c.targets[1+(len(c.targets)-1)/2], true, true
		current = c.current.Strategy
	} else {
		c.current, c.currentMeasured = standingOf(c.standings, current)
	}
	if !c.currentMeasured {
		c.settled, c.p = true, 0 // nothing to weigh the pick against
		return
	}
	c.keep = c.current.Mean >= (1-regimeTolerance)*c.pick.Mean
	rival := c.pick
	if rival.Strategy == current {
		if len(c.targets) < 2 {
			c.settled, c.p = true, 0
			return
		}
		rival = c.targets[1]
	}
	cur, riv := relativeRuns(c.rows, current), relativeRuns(c.rows, rival.Strategy)
	// The change pays: the pick's runs beat the current's by more than the
	// tolerance. The current stays: its runs stand above the rival's less
	// the tolerance.
	pChange, pKeep := 1.0, 1.0
	if rival.Strategy == c.pick.Strategy && beats(riv, scaled(cur, 1/(1-regimeTolerance)), &pChange) {
		c.settled, c.keep, c.p = true, false, pChange
		return
	}
	if beats(cur, scaled(riv, 1-regimeTolerance), &pKeep) {
		c.settled, c.keep, c.p = true, true, pKeep
		return
	}
	c.p = min(pChange, pKeep)
}

// beats reports whether sample a is larger than b at regimeAlpha by the
// U test (benchmath's, which needs no assumption about the runs'
// distribution), storing the p-value.
func beats(a, b []float64, p *float64) bool {
	th := benchmath.DefaultThresholds
	sa, sb := benchmath.NewSample(a, &th), benchmath.NewSample(b, &th)
	*p = benchmath.AssumeNothing.Compare(sa, sb).P
	return *p < regimeAlpha && benchmath.AssumeNothing.Summary(sa, 0.95).Center > benchmath.AssumeNothing.Summary(sb, 0.95).Center
}

func scaled(v []float64, k float64) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = x * k
	}
	return out
}

// reason says what the choice rests on, with maplab's numbers.
func (c regimeChoice) reason(f *facts) string {
	where := fmt.Sprintf("in maplab's regime of %s (%s), on the %s mix, %s there",
		c.class, c.class.Why, c.mix, rowsText(c.rows))
	if c.mix == "unknown" {
		where = fmt.Sprintf("in maplab's regime of %s (%s), the mix unmeasured, %s there over every mix", c.class, c.class.Why, rowsText(c.rows))
	}
	if len(c.unsettled) > 0 {
		where = fmt.Sprintf("in maplab's regime of %s (%s), the runs of %s could not tell the strategies apart; over %s, on the %s mix, %s",
			c.class, c.class.Why, strings.Join(c.unsettled, " nor of "), c.scope, c.mix, rowsText(c.rows))
	}
	where += c.settledText()
	if c.againstMedian {
		return c.unknownReason(where)
	}
	if c.keep && c.pick.Strategy == f.Current {
		return fmt.Sprintf("%s measured %s itself the fastest there: %s of each row's best (geometric mean, worst row %s): a change would not pay here%s",
			where, f.Current, pct(c.pick.Mean), pct(c.pick.Worst), currentWeakness(f))
	}
	if c.keep {
		return fmt.Sprintf("%s put %s at %s of each row's best (geometric mean), within %.0f%% of the fastest, %s at %s: a change would not pay here%s",
			where, f.Current, pct(c.current.Mean), 100*regimeTolerance, c.pick.Strategy, pct(c.pick.Mean), currentWeakness(f))
	}
	cur := fmt.Sprintf("%s at %s (%s behind it; worst row %s of the best)", f.Current, pct(c.current.Mean), pct(1-c.current.Mean/c.pick.Mean), pct(c.current.Worst))
	if !c.currentMeasured {
		cur = fmt.Sprintf("%s not measured there", f.Current)
	}
	runnerUp := ""
	if len(c.targets) > 1 && c.targets[1].Strategy != f.Current {
		runnerUp = fmt.Sprintf("; next %s at %s", c.targets[1].Strategy, pct(c.targets[1].Mean))
	}
	return fmt.Sprintf("%s measured %s the fastest: %s of each row's best (geometric mean, worst row %s), %s%s%s",
		where, c.pick.Strategy, pct(c.pick.Mean), pct(c.pick.Worst), cur, runnerUp, currentWeakness(f))
}

// unknownReason is the reason for a component whose strategy the frames
// did not tell.
func (c regimeChoice) unknownReason(where string) string {
	const unknown = "the frames do not tell the current strategy (no lock or growth frame), so the pick is weighed against the median strategy there"
	if c.keep {
		return fmt.Sprintf("%s put %s at %s of each row's best (geometric mean) and the median strategy, %s, at %s, within %.0f%%: "+
			"%s, and no change is sure to pay", where, c.pick.Strategy, pct(c.pick.Mean), c.current.Strategy, pct(c.current.Mean), 100*regimeTolerance, unknown)
	}
	return fmt.Sprintf("%s measured %s the fastest: %s of each row's best (geometric mean, worst row %s), the median strategy, %s, at %s; %s",
		where, c.pick.Strategy, pct(c.pick.Mean), pct(c.pick.Worst), c.current.Strategy, pct(c.current.Mean), unknown)
}

// settledText says whether the runs told the choice apart.
func (c regimeChoice) settledText() string {
	switch {
	case !c.currentMeasured:
		return ""
	case c.settled:
		return fmt.Sprintf(" (runs told apart: U test p = %.3f)", c.p)
	case !c.rows[0].hasRuns():
		return " (medians only: the matrix kept no runs)"
	}
	return fmt.Sprintf(" (not told apart even here, U test p = %.2f: the point estimate decides)", c.p)
}

// currentWeakness names what makes the current design slow, for the
// designs whose cost is structural.
func currentWeakness(f *facts) string {
	switch f.Current {
	case StrategyCOW:
		return fmt.Sprintf("; each COW write clones the whole map (clones: %s of all allocation)", pct(f.GrowthShare))
	case StrategySyncMapLegacy:
		return "; the read/dirty design takes one Mutex for new keys and copies the whole map on each promotion (Range forces one)"
	case StrategySyncMap:
		return "; sync.Map boxes keys and values into interfaces and allocates an entry node on every store"
	}
	return ""
}

// rowsText says how many rows a choice rests on, from which harness, and
// which key types and value sizes maplab's rows ran: "maplab's 2 rows (int
// keys, 0 and 1024-byte values) and mapbench's 3 cases (dedup/p4-none, …)".
func rowsText(rows []*maplabRow) string {
	keys, values := map[string]bool{}, map[int]bool{}
	var keyList, valueList, cases []string
	n := 0
	for _, r := range rows {
		if r.Harness == harnessMapbench {
			cases = append(cases, r.Workload)
			continue
		}
		n++
		if !keys[r.KeyType] {
			keys[r.KeyType] = true
			keyList = append(keyList, r.KeyType)
		}
		if !values[r.ValueSize] {
			values[r.ValueSize] = true
			valueList = append(valueList, fmt.Sprint(r.ValueSize))
		}
	}
	slices.Sort(keyList)
	slices.Sort(valueList)
	var parts []string
	if n > 0 {
		parts = append(parts, fmt.Sprintf("maplab's %s (%s keys, %s-byte values)", plural(n, "row"), strings.Join(keyList, " and "), strings.Join(valueList, " and ")))
	}
	if len(cases) > 0 {
		const named = 3
		list := cases
		if len(list) > named {
			list = append(slices.Clone(list[:named]), "…")
		}
		parts = append(parts, fmt.Sprintf("mapbench's %s (%s)", plural(len(cases), "case"), strings.Join(list, ", ")))
	}
	return strings.Join(parts, " and ")
}
