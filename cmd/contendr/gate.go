package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/contendr/contendr/canary"
	"github.com/contendr/contendr/gate"
	"github.com/contendr/contendr/internal/cliflags"
	"github.com/contendr/contendr/source"
)

// gateOptions are the flags of `contendr gate`.
type gateOptions struct {
	baseline, canary string
	target           *cliflags.TargetFlags
	windows          int
	alpha            float64
	components       int
	failOnUndecided  bool
	strict           bool
	format           string

	maxRatio float64
	// Flags in the same notation as analyze's limits (0.02, 2%; 1ms).
	maxCost, maxGC, minCost, minGC cliflags.Fraction
	minPause                       cliflags.Duration
}

// Defaults of the gate command; the limits' defaults are package gate's.
const (
	defaultGateSeconds = 60 * time.Second
	defaultGateWindows = 6
)

// gateLoad loads one window; tests replace it.
var gateLoad gate.Loader = source.Load

func newCmdGate() *cobra.Command {
	o := &gateOptions{}
	need := canary.WindowsNeeded(canary.DefaultAlpha)
	cmd := &cobra.Command{
		Use:   "gate --baseline TARGET --canary TARGET",
		Short: "Fail when locks or garbage collection cost a canary more than its baseline",
		Long: fmt.Sprintf(`gate measures the baseline and the canary over --windows short windows each,
a window of each side at the same time, so that both sides see the same
stretch of traffic and machine load, and judges each figure — the contention cost (the
share of CPU capacity spent inside lock primitives or idle while goroutines
waited on locks), the GC CPU fraction, the GC pause p99, and the cost of the
--components heaviest lock components — from the two sets of windows:

  - FAIL when the canary is worse by a Mann-Whitney U rank test at --alpha
    and its median exceeds the baseline's by more than the minimum effect:
    more than --min-cost (--min-gc-cpu, --min-pause) and more than
    --max-ratio times the baseline's, so noise and negligible differences
    pass; or when its median's whole 95%% interval is above an absolute limit
    (--max-cost, --max-gc-cpu; off unless given).
  - PASS whatever the baseline when the canary's median is under the level
    at which contendr analyze warns (contention cost 10%%, component cost 5%%,
    GC CPU 10%%, pause p99 1ms) and another figure of the canary improved
    beyond its minimum effect: a change may trade a healthy figure for a
    better one (a lock-free map: more GC, far less contention). When nothing
    improved every figure is judged. --strict judges every level.
  - CANNOT TELL when the windows are too few for the test to decide, or the
    medians differ by more than the minimum effect but the windows overlap.
  - PASS otherwise.

How many windows: with n windows a side the smallest p-value the test can
give is 2 ÷ C(2n, n) — 0.1 for 3, 0.029 for 4, 0.0022 for 6 — so a decision
at α=0.05 needs at least %d windows a side, and 6 give a 95%% interval around
each median. --seconds bounds the whole measurement: each of the --windows
rounds gets --seconds ÷ --windows, of which the window takes the whole
seconds left after half a second for fetching its profiles (at least 1s).
A round whose fetches run long (a busy target answers its pprof endpoints
slowly: 1s windows took 2s a round on a saturated 2-core host) leaves fewer
windows within the bound, and the result says how many it took. The
default, 6 windows of 9s a side, takes about a minute.

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
	f.IntVar(&o.components, "components", gate.DefaultComponents, "judge the cost of this many of the heaviest lock components")
	f.BoolVar(&o.failOnUndecided, "fail-on-undecided", false, "exit 3 when the gate cannot tell")
	f.BoolVar(&o.strict, "strict", false, "judge figures under analyze's warn limits too (by default a canary figure analyze calls ok passes)")
	f.StringVar(&o.format, "format", "text", "output format: text or json")
	f.Float64Var(&o.maxRatio, "max-ratio", gate.DefaultMaxRatio, "minimum effect, relative: a canary median up to this many times the baseline's passes")
	cliflags.FractionVar(cmd, &o.minCost, "min-cost", gate.DefaultMinCost, "minimum effect on the contention cost and component costs: a rise up to this passes")
	cliflags.FractionVar(cmd, &o.minGC, "min-gc-cpu", gate.DefaultMinGCCPU, "minimum effect on the GC CPU fraction")
	cliflags.DurationVar(cmd, &o.minPause, "min-pause", time.Duration(gate.DefaultMinPause*float64(time.Second)), "minimum effect on the GC pause p99")
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
	window := gate.WindowLength(time.Duration(o.target.Seconds), o.windows)
	if window == 0 {
		return usageError("--seconds %v is too short for %d windows a side of at least 1s each: give --seconds %d or more, or fewer --windows",
			time.Duration(o.target.Seconds), o.windows, o.windows)
	}
	opts, err := o.target.Options(false)
	if err != nil {
		return err
	}
	opts.Seconds, opts.Live = window, true

	progress := newProgressLine(stderr, "")
	baseline, canarySide, err := gate.Measure(ctx, gateLoad, gate.Plan{
		Baseline: o.baseline, Canary: o.canary, Windows: o.windows, Options: opts, Progress: progress.say,
		Deadline: time.Now().Add(time.Duration(o.target.Seconds)),
	})
	progress.clear()
	if err != nil {
		return err
	}
	limits := gate.Limits{
		Alpha: o.alpha, MaxRatio: o.maxRatio, Components: o.components,
		MinCost: o.minCost.Value, MinGCCPU: o.minGC.Value, MinPause: time.Duration(o.minPause).Seconds(),
		MaxCost: o.maxCost.Value, MaxGCCPU: o.maxGC.Value,
	}
	if !o.strict {
		limits.Floors = gate.WarnFloors()
	}
	result := gate.Judge(baseline, canarySide, limits)
	if o.format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(result); err != nil {
			return fmt.Errorf("writing the gate's result: %w", err)
		}
	} else if err := result.WriteText(stdout); err != nil {
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

// percent prints a fraction as a percentage with enough digits for small
// values: 0.3 → "30.0%", 0.00047 → "0.047%".
func percent(f float64) string { return canary.Format(f, "fraction") }

func percentOrDash(f *float64) string {
	if f == nil {
		return "—"
	}
	return percent(*f)
}
