package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/contendr/contendr/analyze"
	"github.com/contendr/contendr/source"
)

// gateOptions are the flags of `contendr gate`.
type gateOptions struct {
	baseline, canary string
	seconds          secondsValue
	timeout          time.Duration
	headers          []string
	format           string

	limits gateLimits
	// Flags in the same notation as analyze's limits (0.02, 2%).
	maxCost, maxGC, minCost, minGC limitValue
}

// gateLimits are what the canary is held to.
type gateLimits struct {
	// MaxContentionCost and MaxGCCPU are absolute limits on the canary;
	// zero means none.
	MaxContentionCost float64 `json:"max_contention_cost,omitempty"`
	MaxGCCPU          float64 `json:"max_gc_cpu,omitempty"`
	// MaxRatio is how many times the baseline's figure the canary may
	// reach.
	MaxRatio float64 `json:"max_ratio"`
	// MinContentionCost and MinGCCPU are the floors under which the ratio
	// is not judged: 0.2% against 0.1% is a doubling of nothing.
	MinContentionCost float64 `json:"min_contention_cost"`
	MinGCCPU          float64 `json:"min_gc_cpu"`
}

// Defaults of the gate's limits.
const (
	defaultGateMaxRatio = 1.5
	// 2% of the CPU capacity: below analyze's component warn limit (5%),
	// where a cost is noise from the CPU profile's sampling.
	defaultGateMinCost = 0.02
	defaultGateMinGC   = 0.05
)

func newCmdGate() *cobra.Command {
	o := &gateOptions{seconds: secondsValue(source.DefaultSeconds)}
	o.limits.MaxRatio = defaultGateMaxRatio
	o.minCost = limitValue{v: defaultGateMinCost, set: true}
	o.minGC = limitValue{v: defaultGateMinGC, set: true}
	cmd := &cobra.Command{
		Use:   "gate --baseline TARGET --canary TARGET",
		Short: "Fail when locks or garbage collection cost a canary more than its baseline",
		Long: `gate measures the baseline and the canary over the same window, at the same
time, and fails when the canary's contention cost (the share of its CPU
capacity spent inside lock primitives or idle while goroutines waited on
locks) or GC CPU fraction

  - is above an absolute limit (--max-cost, --max-gc-cpu; off unless given),
    or
  - is more than --max-ratio times the baseline's, and above a floor
    (--min-cost, --min-gc-cpu) so that 0.2% against 0.1% passes.

The lock wait share (the old lock fraction) is shown for context only: it
counts waits that cost no throughput, so a faster map can read higher.
--max-lock-fraction and --min-lock-fraction are deprecated aliases of
--max-cost and --min-cost.

Targets are what analyze takes: agent URLs (their latest windows), plain
net/http/pprof servers (measured live for --seconds), bundles or profiles.
A figure one side cannot provide skips its check and says so; a gate with
every check skipped is an error.

Exit codes: 0 the canary passed, 1 error, 2 usage, 3 the canary failed.`,
		Example: `  contendr gate --baseline http://stable:6061 --canary http://canary:6061 --seconds 30
  contendr gate --baseline $B --canary $C --max-ratio 1.2 --max-cost 10% --format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			warnDeprecated(cmd, map[string]string{"max-lock-fraction": "max-cost", "min-lock-fraction": "min-cost"})
			return o.run(cmd.Context(), cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.baseline, "baseline", "", "the baseline `TARGET` (required)")
	f.StringVar(&o.canary, "canary", "", "the canary `TARGET` (required)")
	f.Var(&o.seconds, "seconds", "window length for live targets, in seconds or as a duration")
	f.DurationVar(&o.timeout, "timeout", source.DefaultTimeout, "how long each HTTP request may take beyond --seconds")
	f.StringArrayVar(&o.headers, "header", nil, "add an HTTP header to every request, as 'Name: value' (repeatable)")
	f.StringVar(&o.format, "format", "text", "output format: text or json")
	f.Float64Var(&o.limits.MaxRatio, "max-ratio", defaultGateMaxRatio, "fail when the canary's figure is more than this many times the baseline's")
	f.Var(&o.maxCost, "max-cost", "fail when the canary's contention cost is above this (10%, 0.1)")
	f.Var(&o.maxGC, "max-gc-cpu", "fail when the canary's GC CPU fraction is above this")
	f.Var(&o.minCost, "min-cost", "judge the cost ratio only when the canary's contention cost is at least this")
	// The old names set the cost's limits: the lock fraction no longer
	// gates (it read the fastest maps as the most contended).
	f.Var(&o.maxCost, "max-lock-fraction", "deprecated alias of --max-cost")
	f.Var(&o.minCost, "min-lock-fraction", "deprecated alias of --min-cost")
	_ = f.MarkHidden("max-lock-fraction")
	_ = f.MarkHidden("min-lock-fraction")
	f.Var(&o.minGC, "min-gc-cpu", "judge the GC ratio only when the canary's GC CPU fraction is at least this")
	return cmd
}

func (o *gateOptions) run(ctx context.Context, stdout io.Writer) error {
	if o.baseline == "" || o.canary == "" {
		return usageError("gate needs both --baseline and --canary")
	}
	if o.format != "text" && o.format != "json" {
		return usageError("--format %q: want text or json", o.format)
	}
	if !(o.limits.MaxRatio > 1) {
		return usageError("--max-ratio %v: want a number above 1", o.limits.MaxRatio)
	}
	o.limits.MaxContentionCost, o.limits.MaxGCCPU = o.maxCost.v, o.maxGC.v
	o.limits.MinContentionCost, o.limits.MinGCCPU = o.minCost.v, o.minGC.v
	headers, err := parseHeaders(o.headers)
	if err != nil {
		return err
	}
	opts := source.Options{Seconds: time.Duration(o.seconds), Timeout: o.timeout, Headers: headers}

	baseline, canary, err := measureBoth(ctx, o.baseline, o.canary, opts)
	if err != nil {
		return err
	}
	result := judgeGate(baseline, canary, o.limits)
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
	case verdictFail:
		return withCode(exitThreshold, errors.New("the canary failed the gate: "+strings.Join(result.Reasons, "; ")))
	case verdictNoData:
		return errors.New("nothing to compare: " + strings.Join(result.Reasons, "; "))
	}
	return nil
}

// parseHeaders reads --header flags, "Name: value" each.
func parseHeaders(raw []string) (http.Header, error) {
	h := make(http.Header)
	for _, r := range raw {
		name, value, ok := strings.Cut(r, ":")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		if !ok || name == "" || strings.ContainsAny(name, " \t") {
			return nil, usageError("--header %q: want 'Name: value', e.g. 'Authorization: Bearer <token>'", r)
		}
		h.Add(name, value)
	}
	return h, nil
}

// gateSide is one target's figures; a nil figure was not measurable.
type gateSide struct {
	Target string `json:"target"`
	// ContentionCost is the judged lock figure; CostEstimated and
	// CostLowerBound qualify it, CostReason says why.
	ContentionCost *float64 `json:"contention_cost"`
	CostEstimated  bool     `json:"cost_estimated,omitempty"`
	CostLowerBound bool     `json:"cost_lower_bound,omitempty"`
	CostReason     string   `json:"cost_reason,omitempty"`
	// LockFraction is the lock wait share, context only.
	LockFraction    *float64 `json:"lock_fraction"`
	LockEstimated   bool     `json:"lock_estimated,omitempty"`
	GCCPUFraction   *float64 `json:"gc_cpu_fraction"`
	TopSite         string   `json:"top_site,omitempty"`
	TopSiteCost     float64  `json:"top_site_cost,omitempty"`
	TopSiteFraction float64  `json:"top_site_fraction,omitempty"`
	WindowSeconds   float64  `json:"window_seconds"`
}

// measureBoth loads and analyzes both targets at the same time, so that
// they are measured over the same stretch of wall-clock time.
func measureBoth(ctx context.Context, baselineTarget, canaryTarget string, opts source.Options) (baseline, canary gateSide, err error) {
	var wg sync.WaitGroup
	var baselineErr, canaryErr error
	wg.Go(func() { baseline, baselineErr = measure(ctx, baselineTarget, opts) })
	wg.Go(func() { canary, canaryErr = measure(ctx, canaryTarget, opts) })
	wg.Wait()
	if baselineErr != nil {
		baselineErr = fmt.Errorf("baseline: %w", baselineErr)
	}
	if canaryErr != nil {
		canaryErr = fmt.Errorf("canary: %w", canaryErr)
	}
	return baseline, canary, errors.Join(baselineErr, canaryErr)
}

func measure(ctx context.Context, target string, opts source.Options) (gateSide, error) {
	w, err := source.Load(ctx, target, opts)
	if err != nil {
		return gateSide{}, err
	}
	report, err := analyze.Analyze(analyze.Input{Window: w, Target: target}, analyze.DefaultThresholds())
	if err != nil {
		return gateSide{}, err
	}
	return sideOf(target, report), nil
}

func sideOf(target string, r *analyze.Report) gateSide {
	side := gateSide{Target: target, WindowSeconds: r.Window.Seconds}
	if r.Lock.CostKnown {
		side.ContentionCost = ptr(r.Lock.Cost)
		side.CostEstimated, side.CostLowerBound, side.CostReason = r.Lock.CostEstimated, r.Lock.CostLowerBound, r.Lock.CostReason
	}
	if r.Lock.Known {
		side.LockFraction = ptr(r.Lock.Fraction)
		side.LockEstimated = r.Lock.Estimated
	}
	if r.GC.Known {
		side.GCCPUFraction = ptr(r.GC.CPUFraction)
	}
	if len(r.Lock.Components) > 0 {
		top := r.Lock.Components[0]
		side.TopSite, side.TopSiteCost, side.TopSiteFraction = top.Name, top.Cost, top.Fraction
	}
	return side
}

func ptr(f float64) *float64 { return &f }

// Check statuses and verdicts.
const (
	statusPass    = "pass"
	statusFail    = "fail"
	statusSkipped = "skipped"

	verdictPass   = "pass"
	verdictFail   = "fail"
	verdictNoData = "no-data"
)

// gateCheck is one comparison the gate made.
type gateCheck struct {
	Name     string   `json:"name"`
	Baseline *float64 `json:"baseline,omitempty"`
	Canary   *float64 `json:"canary"`
	// Ratio is canary ÷ baseline; absent when the baseline is zero or
	// unknown.
	Ratio  *float64 `json:"ratio,omitempty"`
	Limit  string   `json:"limit"`
	Status string   `json:"status"`
	Reason string   `json:"reason"`
}

// gateResult is the gate's whole answer, as JSON and as the table.
type gateResult struct {
	Schema   string      `json:"schema"`
	Verdict  string      `json:"verdict"`
	Reasons  []string    `json:"reasons"`
	Limits   gateLimits  `json:"limits"`
	Baseline gateSide    `json:"baseline"`
	Canary   gateSide    `json:"canary"`
	Checks   []gateCheck `json:"checks"`
}

const gateSchema = "contendr.gate/v1"

// judgeGate holds the canary to the limits. It is a pure function of the
// two sides' figures.
func judgeGate(baseline, canary gateSide, limits gateLimits) gateResult {
	res := gateResult{Schema: gateSchema, Limits: limits, Baseline: baseline, Canary: canary}
	if limits.MaxContentionCost > 0 {
		res.Checks = append(res.Checks, absoluteCheck("contention cost", canary.ContentionCost, limits.MaxContentionCost))
	}
	if limits.MaxGCCPU > 0 {
		res.Checks = append(res.Checks, absoluteCheck("GC CPU fraction", canary.GCCPUFraction, limits.MaxGCCPU))
	}
	res.Checks = append(res.Checks,
		ratioCheck("contention cost vs baseline", baseline.ContentionCost, canary.ContentionCost, limits.MaxRatio, limits.MinContentionCost),
		ratioCheck("GC CPU fraction vs baseline", baseline.GCCPUFraction, canary.GCCPUFraction, limits.MaxRatio, limits.MinGCCPU))

	judged := false
	for _, c := range res.Checks {
		switch c.Status {
		case statusFail:
			res.Reasons = append(res.Reasons, c.Reason)
			judged = true
		case statusPass:
			judged = true
		}
	}
	switch {
	case len(res.Reasons) > 0:
		res.Verdict = verdictFail
	case judged:
		res.Verdict = verdictPass
	default:
		res.Verdict = verdictNoData
		for _, c := range res.Checks {
			res.Reasons = append(res.Reasons, c.Name+": "+c.Reason)
		}
	}
	return res
}

func absoluteCheck(name string, canary *float64, limit float64) gateCheck {
	c := gateCheck{Name: name + " limit", Canary: canary, Limit: "≤ " + percent(limit)}
	switch {
	case canary == nil:
		c.Status, c.Reason = statusSkipped, "the canary's "+name+" is unknown"
	case *canary > limit:
		c.Status = statusFail
		c.Reason = fmt.Sprintf("canary %s %s is above the limit of %s", name, percent(*canary), percent(limit))
	default:
		c.Status = statusPass
		c.Reason = fmt.Sprintf("canary %s %s is within %s", name, percent(*canary), percent(limit))
	}
	return c
}

func ratioCheck(name string, baseline, canary *float64, maxRatio, floor float64) gateCheck {
	figure := strings.TrimSuffix(name, " vs baseline")
	c := gateCheck{Name: name, Baseline: baseline, Canary: canary,
		Limit: fmt.Sprintf("≤ %g× (from %s)", maxRatio, percent(floor))}
	if baseline != nil && *baseline > 0 && canary != nil {
		c.Ratio = ptr(*canary / *baseline)
	}
	switch {
	case canary == nil:
		c.Status, c.Reason = statusSkipped, "the canary's "+figure+" is unknown"
	case baseline == nil:
		c.Status, c.Reason = statusSkipped, "the baseline's "+figure+" is unknown"
	case *canary < floor:
		c.Status = statusPass
		c.Reason = fmt.Sprintf("canary %s %s is under the %s floor", figure, percent(*canary), percent(floor))
	case *canary > maxRatio**baseline:
		c.Status = statusFail
		times := "∞"
		if c.Ratio != nil {
			times = fmt.Sprintf("%.1f", *c.Ratio)
		}
		c.Reason = fmt.Sprintf("canary %s %s is %s× the baseline's %s (limit %g×)",
			figure, percent(*canary), times, percent(*baseline), maxRatio)
	default:
		c.Status = statusPass
		c.Reason = fmt.Sprintf("canary %s %s is within %g× the baseline's %s", figure, percent(*canary), maxRatio, percent(*baseline))
	}
	return c
}

// percent prints a fraction as a percentage with enough digits for small
// values: 0.3 → "30.0%", 0.00047 → "0.047%".
func percent(f float64) string {
	switch p := f * 100; {
	case math.IsInf(p, 0) || math.IsNaN(p):
		return fmt.Sprint(p)
	case p == 0 || math.Abs(p) >= 1:
		return fmt.Sprintf("%.1f%%", p)
	default:
		return fmt.Sprintf("%.2g%%", p)
	}
}

func percentOrDash(f *float64) string {
	if f == nil {
		return "—"
	}
	return percent(*f)
}

// writeText prints the side-by-side table and the verdict.
func (r gateResult) writeText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "\tbaseline\tcanary\tratio\tlimit\tresult\n")
	fmt.Fprintf(tw, "target\t%s\t%s\t\t\t\n", r.Baseline.Target, r.Canary.Target)
	for _, c := range r.Checks {
		ratio := ""
		if c.Ratio != nil {
			ratio = fmt.Sprintf("%.2f×", *c.Ratio)
		}
		base := percentOrDash(c.Baseline)
		if strings.HasSuffix(c.Name, " limit") {
			base = ""
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", c.Name, base, percentOrDash(c.Canary), ratio, c.Limit, strings.ToUpper(c.Status))
	}
	site := func(s gateSide) string {
		if s.TopSite == "" {
			return "—"
		}
		return fmt.Sprintf("%s %s", shortComponent(s.TopSite), percent(s.TopSiteCost))
	}
	fmt.Fprintf(tw, "top lock site (cost)\t%s\t%s\t\t\t\n", site(r.Baseline), site(r.Canary))
	fmt.Fprintf(tw, "lock wait share (context)\t%s\t%s\t\t\t\n", percentOrDash(r.Baseline.LockFraction), percentOrDash(r.Canary.LockFraction))
	fmt.Fprintf(tw, "window\t%.0fs\t%.0fs\t\t\t\n", r.Baseline.WindowSeconds, r.Canary.WindowSeconds)
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, s := range []struct {
		name string
		side gateSide
	}{{"baseline", r.Baseline}, {"canary", r.Canary}} {
		switch {
		case s.side.CostLowerBound:
			fmt.Fprintf(w, "note: the %s's contention cost is a lower bound: %s\n", s.name, s.side.CostReason)
		case s.side.CostEstimated:
			fmt.Fprintf(w, "note: the %s's contention cost is an estimate: %s\n", s.name, s.side.CostReason)
		}
	}
	switch r.Verdict {
	case verdictFail:
		_, err := fmt.Fprintf(w, "FAIL: %s\n", strings.Join(r.Reasons, "; "))
		return err
	case verdictNoData:
		_, err := fmt.Fprintf(w, "NO DATA: %s\n", strings.Join(r.Reasons, "; "))
		return err
	}
	_, err := fmt.Fprintln(w, "PASS: the canary is within its limits")
	return err
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
