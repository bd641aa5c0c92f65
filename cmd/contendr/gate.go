package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/contendr/contendr/analyze"
	"github.com/contendr/contendr/canary"
	"github.com/contendr/contendr/collectors/figure"
	"github.com/contendr/contendr/internal/cliflags"
	"github.com/contendr/contendr/source"
	"github.com/contendr/contendr/window"
)

// gateOptions are the flags of `contendr gate`.
type gateOptions struct {
	baseline, canary string
	target           *cliflags.TargetFlags
	windows          int
	alpha            float64
	components       int
	failOnUndecided  bool
	format           string

	maxRatio float64
	// Flags in the same notation as analyze's limits (0.02, 2%; 1ms).
	maxCost, maxGC, minCost, minGC cliflags.Fraction
	minPause                       cliflags.Duration
}

// Defaults of the gate.
const (
	defaultGateSeconds  = 60 * time.Second
	defaultGateWindows  = 6
	defaultGateMaxRatio = 1.5
	// 2 points of CPU capacity: below analyze's component warn limit (5%),
	// where a cost is noise from the CPU profile's sampling.
	defaultGateMinCost  = 0.02
	defaultGateMinGC    = 0.05
	defaultGateMinPause = time.Millisecond
	defaultGateComps    = 3
)

// gateLoad loads one window; tests replace it.
var gateLoad = source.Load

func newCmdGate() *cobra.Command {
	o := &gateOptions{}
	need := canary.WindowsNeeded(canary.DefaultAlpha)
	cmd := &cobra.Command{
		Use:   "gate --baseline TARGET --canary TARGET",
		Short: "Fail when locks or garbage collection cost a canary more than its baseline",
		Long: fmt.Sprintf(`gate measures the baseline and the canary over --windows short windows each,
taken in turn (baseline, canary, canary, baseline, …) so that both sides see
the same stretch of time, and judges each figure — the contention cost (the
share of CPU capacity spent inside lock primitives or idle while goroutines
waited on locks), the GC CPU fraction, the GC pause p99, and the cost of the
--components heaviest lock components — from the two sets of windows:

  - FAIL when the canary is worse by a Mann-Whitney U rank test at --alpha
    and its median exceeds the baseline's by more than the minimum effect:
    more than --min-cost (--min-gc-cpu, --min-pause) and more than
    --max-ratio times the baseline's, so noise and negligible differences
    pass; or when its median's whole 95%% interval is above an absolute limit
    (--max-cost, --max-gc-cpu; off unless given).
  - CANNOT TELL when the windows are too few for the test to decide, or the
    medians differ by more than the minimum effect but the windows overlap.
  - PASS otherwise.

How many windows: with n windows a side the smallest p-value the test can
give is 2 ÷ C(2n, n) — 0.1 for 3, 0.029 for 4, 0.0022 for 6 — so a decision
at α=0.05 needs at least %d windows a side, and 6 give a 95%% interval around
each median. --seconds bounds the whole measurement: each of the 2×--windows
windows lasts --seconds ÷ (2×--windows), in whole seconds (at least 1s), plus
well under a second each to fetch. The default, 6 windows of 5s a side, takes
about a minute.

Targets are agent URLs or plain net/http/pprof servers, measured live from
their pprof endpoints (an agent's own windows are not used: they are too long
and too few). A bundle or profile files give one window, which cannot decide.

The lock wait share (the old lock fraction) is shown for context only.
--max-lock-fraction and --min-lock-fraction are deprecated aliases of
--max-cost and --min-cost.

Exit codes: 0 the canary passed (or the gate cannot tell: a warning on
stderr; --fail-on-undecided makes that exit 3), 1 error, 2 usage, 3 the
canary failed.`, need),
		Example: `  contendr gate --baseline http://stable:6061 --canary http://canary:6061
  contendr gate --baseline $B --canary $C --seconds 2m --windows 8 --format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			warnDeprecated(cmd, map[string]string{"max-lock-fraction": "max-cost", "min-lock-fraction": "min-cost"})
			return o.run(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.baseline, "baseline", "", "the baseline `TARGET` (required)")
	f.StringVar(&o.canary, "canary", "", "the canary `TARGET` (required)")
	o.target = cliflags.Target(cmd)
	o.target.DescribeSeconds(defaultGateSeconds, "the whole measurement, both sides")
	f.IntVar(&o.windows, "windows", defaultGateWindows, fmt.Sprintf("windows per side (at least %d to decide)", need))
	f.Float64Var(&o.alpha, "alpha", canary.DefaultAlpha, "level of the rank test")
	f.IntVar(&o.components, "components", defaultGateComps, "judge the cost of this many of the heaviest lock components")
	f.BoolVar(&o.failOnUndecided, "fail-on-undecided", false, "exit 3 when the gate cannot tell")
	f.StringVar(&o.format, "format", "text", "output format: text or json")
	f.Float64Var(&o.maxRatio, "max-ratio", defaultGateMaxRatio, "minimum effect, relative: a canary median up to this many times the baseline's passes")
	cliflags.FractionVar(cmd, &o.minCost, "min-cost", defaultGateMinCost, "minimum effect on the contention cost and component costs: a rise up to this passes")
	cliflags.FractionVar(cmd, &o.minGC, "min-gc-cpu", defaultGateMinGC, "minimum effect on the GC CPU fraction")
	cliflags.DurationVar(cmd, &o.minPause, "min-pause", defaultGateMinPause, "minimum effect on the GC pause p99")
	cliflags.FractionVar(cmd, &o.maxCost, "max-cost", 0, "fail when the canary's contention cost is surely above this (10%, 0.1)")
	cliflags.FractionVar(cmd, &o.maxGC, "max-gc-cpu", 0, "fail when the canary's GC CPU fraction is surely above this")
	// The old names set the cost's limits: the lock fraction no longer
	// gates (it read the fastest maps as the most contended).
	f.Var(&o.maxCost, "max-lock-fraction", "deprecated alias of --max-cost")
	f.Var(&o.minCost, "min-lock-fraction", "deprecated alias of --min-cost")
	_ = f.MarkHidden("max-lock-fraction")
	_ = f.MarkHidden("min-lock-fraction")
	return cmd
}

func (o *gateOptions) run(ctx context.Context, stdout, stderr io.Writer) error {
	if o.baseline == "" || o.canary == "" {
		return usageError("gate needs both --baseline and --canary")
	}
	if o.format != "text" && o.format != "json" {
		return usageError("--format %q: want text or json", o.format)
	}
	if !(o.maxRatio >= 1) {
		return usageError("--max-ratio %v: want a number of at least 1", o.maxRatio)
	}
	if !(o.alpha > 0 && o.alpha < 1) {
		return usageError("--alpha %v: want a level between 0 and 1, e.g. 0.05", o.alpha)
	}
	if o.windows < 1 {
		return usageError("--windows %d: want at least %d", o.windows, canary.WindowsNeeded(o.alpha))
	}
	seconds := time.Duration(o.target.Seconds)
	window := (seconds / time.Duration(2*o.windows)).Truncate(time.Second)
	if window < time.Second {
		return usageError("--seconds %v is too short for %d windows a side of at least 1s each: give --seconds %d or more, or fewer --windows",
			seconds, o.windows, 2*o.windows)
	}
	opts, err := o.target.Options(false)
	if err != nil {
		return err
	}
	opts.Seconds, opts.Live = window, true

	baseline, canarySide, err := o.measure(ctx, opts, stderr)
	if err != nil {
		return err
	}
	cfg := gateConfig{
		Alpha: o.alpha, MaxRatio: o.maxRatio, Components: o.components,
		MinCost: o.minCost.Value, MinGCCPU: o.minGC.Value, MinPause: time.Duration(o.minPause).Seconds(),
		MaxCost: o.maxCost.Value, MaxGCCPU: o.maxGC.Value,
	}
	result := judgeGate(baseline, canarySide, cfg)
	if o.format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(result); err != nil {
			return fmt.Errorf("writing the gate's result: %w", err)
		}
	} else if err := result.writeText(stdout); err != nil {
		return fmt.Errorf("writing the gate's result: %w", err)
	}
	switch result.Verdict {
	case canary.Fail:
		return withCode(exitThreshold, errors.New("the canary failed the gate: "+strings.Join(result.Reasons, "; ")))
	case canary.CannotTell:
		msg := "the gate cannot tell: " + strings.Join(result.Reasons, "; ")
		if o.failOnUndecided {
			return withCode(exitThreshold, errors.New(msg+" (--fail-on-undecided)"))
		}
		fmt.Fprintln(stderr, "warning: "+msg)
	case canary.Skipped:
		return errors.New("nothing to compare: " + strings.Join(result.Reasons, "; "))
	}
	return nil
}

// gateWindow is the figures of one window of one side; nil was not
// measured.
type gateWindow struct {
	Start          time.Time          `json:"start"`
	Seconds        float64            `json:"seconds"`
	ContentionCost *float64           `json:"contention_cost"`
	CostLowerBound bool               `json:"cost_lower_bound,omitempty"`
	LockWaitShare  *float64           `json:"lock_wait_share"`
	GCCPUFraction  *float64           `json:"gc_cpu_fraction"`
	GCPauseP99     *float64           `json:"gc_pause_p99_seconds"`
	Components     map[string]float64 `json:"component_costs,omitempty"`
}

// gateSide is one target's windows.
type gateSide struct {
	Target  string       `json:"target"`
	Windows []gateWindow `json:"windows"`
	// Notes say what qualifies the figures (lower bounds, one window only).
	Notes []string `json:"notes,omitempty"`
}

// measure takes o.windows windows of each side in turn, ABBA, so that a
// drift over the measurement weighs on both sides alike. A target that
// serves the same window again (a bundle, profile files) gives one.
func (o *gateOptions) measure(ctx context.Context, opts source.Options, stderr io.Writer) (baseline, canarySide gateSide, err error) {
	baseline.Target, canarySide.Target = o.baseline, o.canary
	sides := [2]*gateSide{&baseline, &canarySide}
	names := [2]string{"baseline", "canary"}
	seen := [2]map[string]bool{{}, {}}
	done := [2]bool{}
	progress := newProgressLine(stderr, "")
	// Windows measured from pprof endpoints carry no GOMAXPROCS, which the
	// contention cost needs: an agent's latest window says it.
	var sideOpts [2]source.Options
	for s := range sides {
		sideOpts[s] = opts
		probe := opts
		probe.Live = false
		progress.say(fmt.Sprintf("gate: reading the %s's GOMAXPROCS", names[s]))
		if w, err := gateLoad(ctx, sides[s].Target, probe); err == nil && w.Meta.GOMAXPROCS > 0 {
			sideOpts[s].GOMAXPROCS, sideOpts[s].GoVersion = w.Meta.GOMAXPROCS, w.Meta.GoVersion
		} else {
			sides[s].Notes = append(sides[s].Notes, "GOMAXPROCS unknown (not a contendr agent with a closed window): the contention cost cannot be measured")
		}
	}
	total := 2 * o.windows
	for i := range o.windows {
		order := [2]int{0, 1}
		if i%2 == 1 {
			order = [2]int{1, 0}
		}
		for k, s := range order {
			if done[s] {
				continue
			}
			n := 2*i + k + 1
			progress.say(fmt.Sprintf("gate: window %d of %d (%s, %v)", n, total, names[s], opts.Seconds))
			w, err := gateLoad(ctx, sides[s].Target, sideOpts[s])
			if err != nil {
				progress.clear()
				return baseline, canarySide, fmt.Errorf("%s: %w", names[s], err)
			}
			key := w.ID + "@" + w.Start.String()
			if seen[s][key] {
				done[s] = true
				sides[s].Notes = append(sides[s].Notes, "the target serves one window only (a bundle or profile files): it cannot decide")
				continue
			}
			seen[s][key] = true
			gw, err := figuresOf(sides[s].Target, w)
			if err != nil {
				progress.clear()
				return baseline, canarySide, fmt.Errorf("%s: %w", names[s], err)
			}
			sides[s].Windows = append(sides[s].Windows, gw)
		}
	}
	progress.clear()
	for _, s := range sides {
		lower := 0
		for _, w := range s.Windows {
			if w.CostLowerBound {
				lower++
			}
		}
		if lower > 0 {
			s.Notes = append(s.Notes, fmt.Sprintf("the contention cost of %d of %d windows is a lower bound (no CPU profile)", lower, len(s.Windows)))
		}
	}
	return baseline, canarySide, nil
}

func figuresOf(target string, w *window.Window) (gateWindow, error) {
	r, err := analyze.Analyze(analyze.Input{Window: w, Target: target}, analyze.DefaultThresholds())
	if err != nil {
		return gateWindow{}, err
	}
	gw := gateWindow{Start: w.Start, Seconds: r.Window.Seconds}
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
	return gw, nil
}

func ptr(f float64) *float64 { return &f }

// gateConfig is what the canary is held to.
type gateConfig struct {
	Alpha      float64 `json:"alpha"`
	MaxRatio   float64 `json:"max_ratio"`
	MinCost    float64 `json:"min_cost"`
	MinGCCPU   float64 `json:"min_gc_cpu"`
	MinPause   float64 `json:"min_pause_seconds"`
	MaxCost    float64 `json:"max_cost,omitempty"`
	MaxGCCPU   float64 `json:"max_gc_cpu,omitempty"`
	Components int     `json:"components"`
}

// gateResult is the gate's whole answer, as JSON (contendr.gate/v2) and as
// the table.
type gateResult struct {
	canary.Decision
	Limits   gateConfig `json:"limits"`
	Baseline gateSide   `json:"baseline"`
	Canary   gateSide   `json:"canary"`
}

// judgeGate turns both sides' windows into figures and judges them. It is
// a pure function of the windows.
func judgeGate(baseline, canarySide gateSide, cfg gateConfig) gateResult {
	rel := cfg.MaxRatio - 1
	values := func(s gateSide, get func(gateWindow) *float64) []float64 {
		var out []float64
		for _, w := range s.Windows {
			if v := get(w); v != nil {
				out = append(out, *v)
			}
		}
		return out
	}
	figure := func(name, unit string, get func(gateWindow) *float64, abs, limit float64) canary.Figure {
		return canary.Figure{Name: name, Unit: unit, Baseline: values(baseline, get), Canary: values(canarySide, get),
			MinEffect: canary.Effect{Abs: abs, Rel: rel}, Max: limit}
	}
	figures := []canary.Figure{
		figure("contention_cost", "fraction", func(w gateWindow) *float64 { return w.ContentionCost }, cfg.MinCost, cfg.MaxCost),
		figure("gc_cpu_fraction", "fraction", func(w gateWindow) *float64 { return w.GCCPUFraction }, cfg.MinGCCPU, cfg.MaxGCCPU),
		figure("gc_pause_p99_seconds", "seconds", func(w gateWindow) *float64 { return w.GCPauseP99 }, cfg.MinPause, 0),
	}
	for _, name := range heaviestComponents(baseline, canarySide, cfg.Components) {
		f := figure("component_cost", "fraction", func(w gateWindow) *float64 {
			if w.ContentionCost == nil {
				return nil
			}
			return ptr(w.Components[name]) // absent from a measured window: 0
		}, cfg.MinCost, 0)
		f.Component = name
		figures = append(figures, f)
	}
	return gateResult{Decision: canary.JudgeAll(figures, canary.Config{Alpha: cfg.Alpha}), Limits: cfg, Baseline: baseline, Canary: canarySide}
}

// heaviestComponents names the n components with the highest median cost
// on either side, among those both sides have: a component of one side
// only (a map strategy swapped for another) is new code, which the
// process-wide contention cost judges.
func heaviestComponents(baseline, canarySide gateSide, n int) []string {
	heaviest := map[string]float64{}
	sides := map[string]int{}
	for _, s := range []gateSide{baseline, canarySide} {
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
			sort.Float64s(costs)
			m := costs[len(costs)/2]
			if len(costs)%2 == 0 {
				m = (costs[len(costs)/2-1] + m) / 2
			}
			heaviest[name] = max(heaviest[name], m)
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

// writeText prints one row per figure and the verdict.
func (r gateResult) writeText(w io.Writer) error {
	seconds := func(s gateSide) string {
		if len(s.Windows) == 0 {
			return "no windows"
		}
		return fmt.Sprintf("%d windows of %.0fs", len(s.Windows), s.Windows[0].Seconds)
	}
	fmt.Fprintf(w, "baseline  %s  (%s)\ncanary    %s  (%s)\n\n", r.Baseline.Target, seconds(r.Baseline), r.Canary.Target, seconds(r.Canary))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "figure\tbaseline median [95%% CI]\tcanary median [95%% CI]\teffect\tp\tresult\n")
	for _, f := range r.Figures {
		label := f.Label()
		if f.Component != "" {
			label = "component " + shortComponent(f.Component)
		}
		if f.Verdict == canary.Skipped {
			fmt.Fprintf(tw, "%s\t—\t—\t\t\tSKIPPED (%s)\n", label, f.Reason)
			continue
		}
		effect := canary.Format(f.Delta, f.Unit)
		if f.Delta >= 0 {
			effect = "+" + effect
		}
		if f.Ratio != nil {
			effect += fmt.Sprintf(" (%.2f×)", *f.Ratio)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%.3g\t%s\n", label, summaryText(f.Baseline, f.Unit), summaryText(f.Canary, f.Unit),
			effect, f.P, strings.ToUpper(strings.ReplaceAll(string(f.Verdict), "-", " ")))
	}
	wait := func(s gateSide) string {
		var v []float64
		for _, win := range s.Windows {
			if win.LockWaitShare != nil {
				v = append(v, *win.LockWaitShare)
			}
		}
		if len(v) == 0 {
			return "—"
		}
		sort.Float64s(v)
		return canary.Format(v[len(v)/2], "fraction")
	}
	fmt.Fprintf(tw, "lock wait share (context)\t%s\t%s\t\t\t\n", wait(r.Baseline), wait(r.Canary))
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, s := range []struct {
		name string
		side gateSide
	}{{"baseline", r.Baseline}, {"canary", r.Canary}} {
		for _, n := range s.side.Notes {
			fmt.Fprintf(w, "note: %s: %s\n", s.name, n)
		}
	}
	var err error
	switch r.Verdict {
	case canary.Fail:
		_, err = fmt.Fprintf(w, "FAIL: %s\n", strings.Join(r.Reasons, "; "))
	case canary.CannotTell:
		_, err = fmt.Fprintf(w, "CANNOT TELL: %s\n", strings.Join(r.Reasons, "; "))
	case canary.Skipped:
		_, err = fmt.Fprintf(w, "NO DATA: %s\n", strings.Join(r.Reasons, "; "))
	default:
		_, err = fmt.Fprintf(w, "PASS: no figure of the canary is worse than the baseline's beyond the minimum effect (p < %g)\n", r.Config.Alpha)
	}
	return err
}

// summaryText prints a median with its interval, or with the range of the
// windows when they are too few for an interval.
func summaryText(s canary.Summary, unit string) string {
	if s.Lo != nil && s.Hi != nil {
		return fmt.Sprintf("%s [%s, %s]", canary.Format(s.Median, unit), canary.Format(*s.Lo, unit), canary.Format(*s.Hi, unit))
	}
	return fmt.Sprintf("%s (range %s–%s)", canary.Format(s.Median, unit), canary.Format(s.Min, unit), canary.Format(s.Max, unit))
}

// shortComponent drops the import path before a component's package name,
// which the table has no room for: example.com/app/cache.(*LRU) →
// cache.(*LRU). JSON keeps the full name.
func shortComponent(name string) string {
	paren := strings.Index(name, "(")
	if paren < 0 {
		paren = len(name)
	}
	if slash := strings.LastIndex(name[:paren], "/"); slash >= 0 {
		return name[slash+1:]
	}
	return name
}

// percent prints a fraction as a percentage with enough digits for small
// values: 0.3 → "30.0%", 0.00047 → "0.047%".
func percent(f float64) string { return canary.Format(f, "fraction") }

func percentOrDash(f *float64) string {
	if f == nil {
		return "—"
	}
	return percent(*f)
}
