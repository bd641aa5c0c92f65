// Package gate is the canary gate: it measures a baseline and a canary over
// several short windows each, taken in turn, reads from every window the
// figures a canary is held to (contention cost, GC CPU fraction, GC pause
// p99, the heaviest components' costs), and judges each figure's two
// distributions with package canary.
//
// Measure takes the windows; Judge is a pure function of them; Result
// renders as a table (WriteText) or as JSON (schema canary.Schema).
package gate

import (
	"fmt"
	"sort"
	"time"

	"github.com/contendr/contendr/analyze"
	"github.com/contendr/contendr/canary"
	"github.com/contendr/contendr/collectors/figure"
	"github.com/contendr/contendr/window"
)

// Limits are what the canary is held to.
type Limits struct {
	Alpha float64 `json:"alpha"`
	// MaxRatio is the relative minimum effect: a canary median up to this
	// many times the baseline's passes.
	MaxRatio float64 `json:"max_ratio"`
	// Absolute minimum effects: a rise up to these passes.
	MinCost  float64 `json:"min_cost"`
	MinGCCPU float64 `json:"min_gc_cpu"`
	MinPause float64 `json:"min_pause_seconds"`
	// Absolute ceilings (0: none): a canary whose whole interval is above
	// one fails whatever the baseline.
	MaxCost  float64 `json:"max_cost,omitempty"`
	MaxGCCPU float64 `json:"max_gc_cpu,omitempty"`
	// Components is how many of the heaviest lock components are judged.
	Components int `json:"components"`
	// Floors are the levels under which a figure is healthy and passes
	// whatever the baseline's (zero: judged at every level).
	Floors Floors `json:"floors"`
}

// Floors are per-figure healthy levels, by default the warn limits of
// `contendr analyze`: the gate fails no canary on a figure analyze calls
// ok, so a change that trades a healthy figure for a better one passes.
type Floors struct {
	ContentionCost float64 `json:"contention_cost"`
	ComponentCost  float64 `json:"component_cost"`
	GCCPUFraction  float64 `json:"gc_cpu_fraction"`
	GCPauseP99     float64 `json:"gc_pause_p99_seconds"`
}

// WarnFloors are analyze's default warn limits as floors.
func WarnFloors() Floors {
	th := analyze.DefaultThresholds()
	return Floors{ContentionCost: th.ContentionCost.Warn, ComponentCost: th.ComponentCost.Warn,
		GCCPUFraction: th.GCCPUFraction.Warn, GCPauseP99: th.GCPauseP99.Warn}
}

// Default limits. The minimum effects keep noise and negligible rises from
// failing a build.
const (
	DefaultMaxRatio = 1.5
	// 2 points of CPU capacity: below analyze's component warn limit (5%),
	// where a cost is noise from the CPU profile's sampling.
	DefaultMinCost    = 0.02
	DefaultMinGCCPU   = 0.05
	DefaultMinPause   = 0.001
	DefaultComponents = 3
)

// DefaultLimits are the limits with every default.
func DefaultLimits() Limits {
	return Limits{Alpha: canary.DefaultAlpha, MaxRatio: DefaultMaxRatio, MinCost: DefaultMinCost,
		MinGCCPU: DefaultMinGCCPU, MinPause: DefaultMinPause, Components: DefaultComponents, Floors: WarnFloors()}
}

// Window is the figures of one window of one side; nil was not measured.
type Window struct {
	Start          time.Time          `json:"start"`
	Seconds        float64            `json:"seconds"`
	ContentionCost *float64           `json:"contention_cost"`
	CostLowerBound bool               `json:"cost_lower_bound,omitempty"`
	LockWaitShare  *float64           `json:"lock_wait_share"`
	GCCPUFraction  *float64           `json:"gc_cpu_fraction"`
	GCPauseP99     *float64           `json:"gc_pause_p99_seconds"`
	Components     map[string]float64 `json:"component_costs,omitempty"`
	// HostWait is the share of the process's running P-time during which
	// the OS gave it no CPU (nil unless an agent's scheduler sampler and
	// the OS's CPU account both cover the window).
	HostWait *float64 `json:"host_wait,omitempty"`
}

// Side is one target's windows.
type Side struct {
	Target  string   `json:"target"`
	Windows []Window `json:"windows"`
	// Notes say what qualifies the figures (lower bounds, one window only).
	Notes []string `json:"notes,omitempty"`
}

// Result is the gate's whole answer.
type Result struct {
	canary.Decision
	Limits   Limits `json:"limits"`
	Baseline Side   `json:"baseline"`
	Canary   Side   `json:"canary"`
}

// FiguresOf reads the gate's figures from one window, through the same
// analysis `contendr analyze` runs.
func FiguresOf(target string, w *window.Window) (Window, error) {
	r, err := analyze.Analyze(analyze.Input{Window: w, Target: target}, analyze.DefaultThresholds())
	if err != nil {
		return Window{}, err
	}
	gw := Window{Start: w.Start, Seconds: r.Window.Seconds}
	if r.Measured.Has(figure.ContentionCost) {
		gw.ContentionCost = ptr(r.Lock.Cost)
		gw.CostLowerBound = r.Lock.CostLowerBound
		gw.Components = map[string]float64{}
		for _, c := range r.Lock.Components {
			gw.Components[c.Name] += c.Cost
		}
	}
	if r.Measured.Has(figure.LockFraction) {
		gw.LockWaitShare = ptr(r.Lock.Fraction)
	}
	if r.Measured.Has(figure.GCCPUFraction) {
		gw.GCCPUFraction = ptr(r.GC.CPUFraction)
	}
	// A window in which no GC ended has no pause to compare.
	if r.Measured.Has(figure.GCPauseP99) && r.GC.Cycles > 0 {
		gw.GCPauseP99 = ptr(r.GC.PauseP99Seconds)
	}
	gw.HostWait = hostWait(w)
	return gw, nil
}

// hostWait is the share of the process's running P-time the OS ran no
// thread of it: P-seconds with a goroutine running (the agent's scheduler
// sampler, which the OS's scheduling cannot see) minus the CPU the OS
// accounted to the process, over the former. The runtime's own threads
// off the Ps (sysmon, idle GC marking) make it read a little low.
func hostWait(w *window.Window) *float64 {
	sched, ok := w.Metrics.SchedDelta()
	cpu, okCPU := w.Metrics.ProcessCPUDelta()
	if !ok || !okCPU || w.Meta.GOMAXPROCS <= 0 {
		return nil
	}
	running := float64(w.Meta.GOMAXPROCS)*sched.CoveredSeconds - sched.IdlePSeconds
	if running <= 0 {
		return nil
	}
	return ptr(max(0, running-cpu) / running)
}

// StarvedHostWait is the host wait above which a side's GC pauses are not
// judged: a pause is wall time from stop to start of the world, and when
// the OS leaves the process's running Ps without a CPU a quarter of the
// time or more, the pause's length is the host's scheduling more than the
// build's collector. Two identical xsync maplab builds sharing 2 cores at
// load 25–35 read pause p99s of 15 ms against 92 ms (p = 0.026).
const StarvedHostWait = 0.25

func ptr(f float64) *float64 { return &f }

// Judge turns both sides' windows into figures and judges them.
func Judge(baseline, canarySide Side, l Limits) Result {
	rel := l.MaxRatio - 1
	values := func(s Side, get func(Window) *float64) []float64 {
		var out []float64
		for _, w := range s.Windows {
			if v := get(w); v != nil {
				out = append(out, *v)
			}
		}
		return out
	}
	figure := func(name, unit string, get func(Window) *float64, abs, limit, floor float64) canary.Figure {
		return canary.Figure{Name: name, Unit: unit, Baseline: values(baseline, get), Canary: values(canarySide, get),
			MinEffect: canary.Effect{Abs: abs, Rel: rel}, Max: limit, Floor: floor}
	}
	fl := l.Floors
	figures := []canary.Figure{
		figure("contention_cost", "fraction", func(w Window) *float64 { return w.ContentionCost }, l.MinCost, l.MaxCost, fl.ContentionCost),
		figure("gc_cpu_fraction", "fraction", func(w Window) *float64 { return w.GCCPUFraction }, l.MinGCCPU, l.MaxGCCPU, fl.GCCPUFraction),
		figure("gc_pause_p99_seconds", "seconds", func(w Window) *float64 { return w.GCPauseP99 }, l.MinPause, 0, fl.GCPauseP99),
	}
	if why := starved(baseline, canarySide); why != "" {
		figures[2].Baseline, figures[2].Canary = nil, nil
		figures[2].SkipReason = why
	}
	for _, name := range heaviestComponents(baseline, canarySide, l.Components) {
		f := figure("component_cost", "fraction", func(w Window) *float64 {
			if w.ContentionCost == nil {
				return nil
			}
			return ptr(w.Components[name]) // absent from a measured window: 0
		}, l.MinCost, 0, fl.ComponentCost)
		f.Component = name
		figures = append(figures, f)
	}
	return Result{Decision: canary.JudgeAll(figures, canary.Config{Alpha: l.Alpha}), Limits: l, Baseline: baseline, Canary: canarySide}
}

// starved says why GC pauses cannot be judged when either side's median
// host wait is at or above StarvedHostWait, or "".
func starved(sides ...Side) string {
	for _, s := range sides {
		var waits []float64
		for _, w := range s.Windows {
			if w.HostWait != nil {
				waits = append(waits, *w.HostWait)
			}
		}
		if len(waits) > 0 {
			if m := median(waits); m >= StarvedHostWait {
				return fmt.Sprintf("the host left %s's running Ps without a CPU %.0f%% of the time (median of %d windows): its GC pauses time the host's scheduling, not the build; measure on hosts with CPU to spare", s.Target, 100*m, len(waits))
			}
		}
	}
	return ""
}

// heaviestComponents names the n components with the highest median cost
// on either side, among those both sides have: a component of one side
// only (a map strategy swapped for another) is new code, which the
// process-wide contention cost judges.
func heaviestComponents(baseline, canarySide Side, n int) []string {
	heaviest := map[string]float64{}
	sides := map[string]int{}
	for _, s := range []Side{baseline, canarySide} {
		per := map[string][]float64{}
		measured := 0
		for _, w := range s.Windows {
			if w.ContentionCost == nil {
				continue
			}
			measured++
			for name, c := range w.Components {
				per[name] = append(per[name], c)
			}
		}
		for name, costs := range per {
			for len(costs) < measured {
				costs = append(costs, 0)
			}
			heaviest[name] = max(heaviest[name], median(costs))
			sides[name]++
		}
	}
	var names []string
	for name, m := range heaviest {
		if m > 0 && sides[name] == 2 {
			names = append(names, name)
		}
	}
	sort.Slice(names, func(i, j int) bool {
		if heaviest[names[i]] != heaviest[names[j]] {
			return heaviest[names[i]] > heaviest[names[j]]
		}
		return names[i] < names[j]
	})
	return names[:min(n, len(names))]
}

// median of a non-empty slice, which it sorts.
func median(v []float64) float64 {
	sort.Float64s(v)
	m := v[len(v)/2]
	if len(v)%2 == 0 {
		m = (v[len(v)/2-1] + m) / 2
	}
	return m
}
