package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/contendr/contendr/analyze"
	"github.com/contendr/contendr/internal/cliflags"
	"github.com/contendr/contendr/internal/maplab/replay"
	"github.com/contendr/contendr/source"
	"github.com/contendr/contendr/verify"
)

// verifyOptions are the flags of `contendr verify`.
type verifyOptions struct {
	repeat     int
	format     string
	output     *cliflags.Output
	strategies []string
	minGain    cliflags.Fraction
	alpha      float64
	// window and the target flags are analyze's, for a TARGET; --seconds
	// is the replay's whole budget.
	window cliflags.Duration
	target analyzeOptions
}

func newCmdVerify() *cobra.Command {
	o := &verifyOptions{}
	cmd := &cobra.Command{
		Use:   "verify REPORT.json | TARGET...",
		Short: "Replay each recommended component's workload on this machine and confirm or refute the advice",
		Long: fmt.Sprintf(`verify checks contendr's map-strategy advice on the hardware it is for. For
each recommendation that advises a change, it replays the workload the window
measured — the component's read/write mix, its new-key churn, its ranges and
its goroutines per P — on this machine for the current strategy and the
recommended one (and any --strategies more), in interleaved runs (AB BA AB …)
so that a shared machine's drift lands on both, and prints each strategy's
median ops/s with its 95%% interval and spread. The verdict, from a
Mann-Whitney U test at --alpha:

  - CONFIRMED: the recommended strategy is measurably faster, by at least
    --min-gain;
  - REFUTED: it is measurably slower, faster by less than --min-gain, or no
    faster than --min-gain even at the edge of the intervals;
  - CANNOT TELL: the runs spread wider than the difference, or the machine
    was too busy to judge (the replay's threads waited for a CPU more than
    half the time: a loaded machine changes which strategy wins); it says
    what more to measure (more --repeat, a larger --seconds, a quieter
    machine).

A "keep" is checked only against --strategies: confirmed when none of them
beats the current strategy by --min-gain, refuted when one does.

The argument is a report written by 'contendr analyze --format json' (or a
verify result, whose report is inside it), or any TARGET analyze accepts —
an agent or net/http/pprof URL, profile files, a bundle — which is analyzed
first (--window, --header, --timeout, --go-version). A target on this
machine keeps running during the replay and shares its cores: for clean
figures save the report, stop the load, then verify the file.

--seconds is the whole replay, split evenly into --repeat runs of each
strategy of each component (a run needs at least %s). With n runs a side
the test's smallest p-value is 2 ÷ C(2n, n): %d runs a side are needed to
decide at all, %d give a 95%% interval around each median.

What a profile does not measure (key count and type, value size, work
between operations, how many goroutines really work the map) is filled with
stated defaults, listed under "assumed" — a replay is the window's mix on
maplab's map, not the service itself. The result's JSON (schema %s)
carries the report with each measurement as its expected gain's source;
'contendr analyze --verify' does both steps in one.

Exit codes: 0 verified (whatever the verdicts), 1 error (a report with no
recommendation to check among them), 2 usage.`, replay.MinRunDuration, replay.MinRunsToCompare, replay.MinRunsForInterval, verify.Schema),
		Example: `  # Analyze a running service, then verify the advice on this machine:
  contendr verify http://127.0.0.1:6060 --window 10 --seconds 60

  # Verify a saved report, and every strategy beside the advised one:
  contendr analyze http://canary:6061 --format json -o report.json
  contendr verify report.json --strategies all --seconds 2m

  # As JSON for a script; the report inside quotes the measured gain:
  contendr verify report.json --format json -o verified.json
  jq '.components[] | {component, verdict, reason}' verified.json`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.run(cmd.Context(), cmd, args)
		},
	}
	f := cmd.Flags()
	o.target.target = cliflags.Target(cmd)
	o.target.target.DescribeSeconds(verify.DefaultBudget, "the whole replay, every run of every strategy, in seconds or as a duration (60, 2m)")
	f.IntVar(&o.repeat, "repeat", verify.DefaultRepeat, fmt.Sprintf("runs of each strategy (%d to decide, %d for intervals)", replay.MinRunsToCompare, replay.MinRunsForInterval))
	f.StringVar(&o.format, "format", "text", "output format: text or json")
	o.output = cliflags.OutputFlag(cmd, "write the result to `FILE` (atomically) instead of stdout")
	f.StringSliceVar(&o.strategies, "strategies", nil, "more strategies to measure beside the current and advised ones, or all")
	cliflags.FractionVar(cmd, &o.minGain, "min-gain", verify.DefaultMinGain, "smallest gain in ops/s that confirms the advice (5%, 0.05)")
	f.Float64Var(&o.alpha, "alpha", replay.DefaultAlpha, "level of the Mann-Whitney U test")
	cliflags.DurationVar(cmd, &o.window, "window", source.DefaultSeconds, "for a live TARGET: the window analyze measures first")
	return cmd
}

func (o *verifyOptions) run(ctx context.Context, cmd *cobra.Command, args []string) error {
	if o.format != "text" && o.format != "json" {
		return usageError("--format %q: want text or json", o.format)
	}
	extra, err := verify.ParseStrategies(o.strategies)
	if err != nil {
		return usageError("--strategies: %v", err)
	}
	if o.repeat < 1 {
		return usageError("--repeat %d: want at least %d (%d for intervals)", o.repeat, replay.MinRunsToCompare, replay.MinRunsForInterval)
	}
	if o.alpha <= 0 || o.alpha >= 1 {
		return usageError("--alpha %g: want a level in (0, 1), such as 0.05", o.alpha)
	}
	stderr := cmd.ErrOrStderr()

	rep, src, err := o.loadReport(ctx, cmd, args, stderr)
	if err != nil {
		return err
	}
	res, err := verify.Verify(ctx, rep, src, o.verifyOptions(extra, stderr))
	if err != nil {
		return fmt.Errorf("%s: %w", src, err)
	}
	return o.output.Write(cmd.OutOrStdout(), func(w io.Writer) error {
		if o.format == "json" {
			return res.WriteJSON(w)
		}
		return res.WriteText(w)
	})
}

// loadReport reads REPORT.json, or analyzes the TARGET the arguments name.
func (o *verifyOptions) loadReport(ctx context.Context, cmd *cobra.Command, args []string, stderr io.Writer) (*analyze.Report, string, error) {
	if len(args) == 1 && (strings.HasSuffix(strings.ToLower(args[0]), ".json") || verify.IsJSONFile(args[0])) {
		rep, err := verify.ReadReport(args[0])
		return rep, args[0], err
	}
	groups := source.Group(args)
	if len(groups) != 1 {
		return nil, "", usageError("verify takes one target, got %d (%s); verify them one at a time", len(groups), strings.Join(args, " "))
	}
	opts, err := o.target.target.Options(false)
	if err != nil {
		return nil, "", err
	}
	if cmd.Flags().Changed("window") {
		opts.Seconds = time.Duration(o.window)
	}
	target := strings.Join(groups[0], " + ")
	rep, err := o.target.analyzeOne(ctx, groups[0], target, opts, analyze.DefaultThresholds(), stderr)
	if err == nil && isLocalURL(target) {
		fmt.Fprintf(stderr, "contendr: note: %s runs on this machine and keeps running during the replay, sharing its cores; for clean figures save the report (analyze --format json -o FILE), stop the load, then verify the file\n", target)
	}
	return rep, target, err
}

// isLocalURL reports whether target is an HTTP URL on a loopback host.
func isLocalURL(target string) bool {
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return false
	}
	host := u.Hostname()
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (o *verifyOptions) verifyOptions(extra []string, stderr io.Writer) verify.Options {
	return verify.Options{
		Budget: time.Duration(o.target.target.Seconds), Repeat: o.repeat, Extra: extra, MinGain: o.minGain.Value, Alpha: o.alpha,
		Progress: verifyProgress(stderr),
	}
}

// verifyProgress shows "verifying strategy.(*MutexMap): run 3/12, xsync
// 6.1M ops/s" on one terminal line; elsewhere it stays silent.
func verifyProgress(stderr io.Writer) func(string, replay.Progress) {
	line := newProgressLine(stderr, "")
	return func(component string, p replay.Progress) {
		if p.Run == p.Runs {
			line.clear()
			return
		}
		line.say(fmt.Sprintf("verifying %s: run %d/%d done (%s %s ops/s), %s left", path.Base(component), p.Run, p.Runs,
			p.Strategy, analyze.FormatOps(p.OpsPerSec), p.Left.Round(time.Second)))
	}
}

// verifyReport replays rep's recommendations (analyze --verify) and
// returns the report with the measurements attached; the verdicts go to
// stderr, one line each.
func verifyReport(ctx context.Context, rep *analyze.Report, target string, budget time.Duration, stderr io.Writer) (*analyze.Report, error) {
	res, err := verify.Verify(ctx, rep, target, verify.Options{Budget: budget, Progress: verifyProgress(stderr)})
	if errors.Is(err, verify.ErrNothingToVerify) {
		fmt.Fprintf(stderr, "contendr: --verify: %s: %v\n", target, err)
		return rep, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: --verify: %w", target, err)
	}
	for _, c := range res.Components {
		fmt.Fprintf(stderr, "contendr: verified %s %s → %s: %s: %s\n", c.Component, c.Current, c.Recommended, c.Verdict, c.Reason)
	}
	return res.Report, nil
}
