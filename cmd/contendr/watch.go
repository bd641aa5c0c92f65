package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/contendr/contendr/alert"
	"github.com/contendr/contendr/analyze"
	"github.com/contendr/contendr/collectors/figure"
	"github.com/contendr/contendr/gate"
	"github.com/contendr/contendr/internal/cliflags"
	"github.com/contendr/contendr/source"
	"github.com/contendr/contendr/window"
)

// watchOptions are the flags of `contendr watch`.
type watchOptions struct {
	target       *cliflags.TargetFlags
	interval     cliflags.Duration
	count        int
	exitOn       string
	forWindows   int
	resolveAfter int
	cooldown     time.Duration
	thresholds   string
	format       string
	dumpDir      string
	webhook      string
}

func newCmdWatch() *cobra.Command {
	o := &watchOptions{}
	cmd := &cobra.Command{
		Use:   "watch TARGET",
		Short: "Re-analyze a target every interval and print a line per window, and alerts as they fire",
		Long: `watch analyzes TARGET again every --interval and prints one line per window:
its end time, contention cost (the share of the CPU capacity spent inside
lock primitives or idle while goroutines waited on locks; "~" marks an
estimate, "≥" a lower bound), lock wait share (context, not time lost), GC
CPU fraction and the heaviest lock component by cost.
The agent's alert rules run over the windows — a rule fires after --for
windows over its limit and resolves after --resolve-after windows under —
and each firing and resolution is printed as it happens.

For a contendr agent, each new window the agent closes is analyzed (a
window already seen is skipped); a plain net/http/pprof server is measured
live for --seconds (default: --interval) each time.

Limits are analyze's (--thresholds FILE to change them): the alert rules
are contention_cost, component_cost, gc_cpu_fraction, gc_pause_p99 and
map_growth_share, warn and crit each. --exit-on crit
turns watch into a check for scripts: it exits 3 as soon as a crit alert
fires. --count stops after that many windows.

Exit codes: 0 stopped (--count reached, or interrupted), 1 error, 2 usage,
3 an alert reached --exit-on.`,
		Example: `  contendr watch http://127.0.0.1:6061
  contendr watch http://canary:6061 --interval 30s --exit-on crit --for 2
  contendr watch http://127.0.0.1:6060 --count 6 --format json | jq .contention_cost`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.run(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), args[0])
		},
	}
	f := cmd.Flags()
	o.target = cliflags.Target(cmd)
	o.target.DescribeSeconds(0, "window length for plain pprof targets (default: --interval)")
	cliflags.DurationVar(cmd, &o.interval, "interval", 10*time.Second, "how often to analyze the target")
	f.IntVar(&o.count, "count", 0, "stop after this many windows (0: run until interrupted)")
	f.StringVar(&o.exitOn, "exit-on", "", "exit 3 when an alert of this severity fires: warn or crit")
	// Two windows each way: one noisy window neither fires nor resolves.
	f.IntVar(&o.forWindows, "for", 2, "consecutive windows over a limit before an alert fires")
	f.IntVar(&o.resolveAfter, "resolve-after", 2, "consecutive windows under 80% of the limit before an alert resolves")
	f.DurationVar(&o.cooldown, "cooldown", 0, "how long a resolved alert waits before it may fire again")
	f.StringVar(&o.thresholds, "thresholds", "", "read limits from a YAML or JSON `FILE`")
	f.StringVar(&o.format, "format", "text", "output format: text, or json (one object per window)")
	f.StringVar(&o.dumpDir, "dump-dir", "", "save the window's profiles into `DIR` when an alert fires")
	f.StringVar(&o.webhook, "webhook", "", "post alerts to this Alertmanager-compatible `URL` (e.g. http://alertmanager:9093/api/v2/alerts)")
	return cmd
}

func (o *watchOptions) run(ctx context.Context, stdout, stderr io.Writer, target string) error {
	cfg, err := o.check()
	if err != nil {
		return err
	}
	th := analyze.DefaultThresholds()
	if o.thresholds != "" {
		if th, err = analyze.LoadThresholds(o.thresholds); err != nil {
			return usageError("--thresholds %s: %s", o.thresholds, err)
		}
	}
	var exitOn alert.Severity
	if o.exitOn != "" {
		sev, err := analyze.ParseSeverity(o.exitOn)
		if err != nil || sev == analyze.SeverityOK {
			return usageError("--exit-on %q: want warn or crit", o.exitOn)
		}
		exitOn = alert.Severity(sev)
	}
	cfg.Rules = rulesFromThresholds(th)
	evaluator, err := alert.NewEvaluator(cfg)
	if err != nil {
		return usageError("%s", err)
	}
	defer evaluator.Close()

	w := &watcher{o: o, target: target, th: th, evaluator: evaluator, exitOn: exitOn, stdout: stdout, stderr: stderr}
	w.opts, err = o.sourceOptions()
	if err != nil {
		return err
	}
	return w.loop(ctx)
}

// check validates the flags and returns the evaluator's configuration
// without its rules.
func (o *watchOptions) check() (alert.Config, error) {
	var cfg alert.Config
	switch {
	case o.count < 0:
		return cfg, usageError("--count %d: want 0 (no limit) or more", o.count)
	case o.forWindows < 1 || o.resolveAfter < 1:
		return cfg, usageError("--for and --resolve-after: want 1 or more windows")
	case o.cooldown < 0:
		return cfg, usageError("--cooldown %s: want 0 or more", o.cooldown)
	case o.format != "text" && o.format != "json":
		return cfg, usageError("--format %q: want text or json", o.format)
	}
	cfg = alert.Config{For: o.forWindows, ResolveAfter: o.resolveAfter, Cooldown: o.cooldown,
		DumpDir: o.dumpDir, Logger: slog.New(slog.DiscardHandler)} // watch prints events itself
	if o.webhook != "" {
		cfg.Webhook = &alert.WebhookConfig{URL: o.webhook}
	}
	return cfg, nil
}

// sourceOptions: a plain pprof target is measured for --seconds, or else
// for --interval.
func (o *watchOptions) sourceOptions() (source.Options, error) {
	opts, err := o.target.Options(false)
	if !o.target.SecondsGiven() {
		opts.Seconds = time.Duration(o.interval)
	}
	return opts, err
}

// rulesFromThresholds turns analyze's limits into the alert rules of the
// same names, as alert.DefaultRules does with the defaults.
func rulesFromThresholds(th analyze.Thresholds) []alert.Rule {
	return alert.RulesFrom(th.Limits())
}

// watcher is one run of watch.
type watcher struct {
	o         *watchOptions
	target    string
	opts      source.Options
	th        analyze.Thresholds
	evaluator *alert.Evaluator
	exitOn    alert.Severity
	stdout    io.Writer
	stderr    io.Writer

	previous *window.Window
	windows  int
	// costNote is the last estimate note printed, so that a reason is said
	// once, not on every line.
	costNote string
}

// loop loads, analyzes and prints a window every interval until --count,
// --exit-on or the context stops it. A failure after the first window is
// printed and the loop goes on: a target restarting should not end a watch.
func (w *watcher) loop(ctx context.Context) error {
	for {
		started := time.Now()
		win, err := source.Load(ctx, w.target, w.opts)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil && w.windows == 0:
			return err
		case err != nil:
			fmt.Fprintf(w.stderr, "%s  error: %s\n", time.Now().UTC().Format(time.RFC3339), err)
		case w.previous != nil && win.ID != "" && win.ID == w.previous.ID:
			// The agent has not closed a new window yet.
		default:
			if err := w.observe(win); err != nil {
				return err
			}
			if w.o.count > 0 && w.windows >= w.o.count {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Duration(w.o.interval) - time.Since(started)):
		}
	}
}

// watchLine is one window as printed (and, with --format json, encoded).
type watchLine struct {
	Time            time.Time     `json:"time"`
	WindowID        string        `json:"window_id,omitempty"`
	WindowSeconds   float64       `json:"window_seconds"`
	ContentionCost  *float64      `json:"contention_cost"`
	CostEstimated   bool          `json:"cost_estimated,omitempty"`
	CostLowerBound  bool          `json:"cost_lower_bound,omitempty"`
	CostReason      string        `json:"cost_reason,omitempty"`
	LockFraction    *float64      `json:"lock_fraction"`
	LockEstimated   bool          `json:"lock_estimated,omitempty"`
	GCCPUFraction   *float64      `json:"gc_cpu_fraction"`
	TopSite         string        `json:"top_site,omitempty"`
	TopSiteCost     float64       `json:"top_site_cost,omitempty"`
	TopSiteFraction float64       `json:"top_site_fraction,omitempty"`
	Worst           string        `json:"worst"`
	Events          []alert.Event `json:"events,omitempty"`
}

// observe analyzes one window, prints it and its alert events, and says
// whether an event calls for --exit-on.
func (w *watcher) observe(win *window.Window) error {
	in := analyze.Input{Window: win, Previous: w.previous, Target: w.target}
	collected, err := analyze.Collect(in)
	if err != nil {
		return err
	}
	report := collected.Report(in, w.th)
	w.previous = win
	w.windows++
	line := watchLine{Time: win.End.UTC(), WindowID: win.ID, WindowSeconds: report.Window.Seconds, Worst: string(report.Worst())}
	if l := report.Lock; l.CostKnown {
		line.ContentionCost = ptr(l.Cost)
		line.CostEstimated, line.CostLowerBound, line.CostReason = l.CostEstimated, l.CostLowerBound, l.CostReason
	}
	if l := report.Lock; l.Known {
		line.LockFraction, line.LockEstimated = ptr(l.Fraction), l.Estimated
	}
	if report.Measured.Has(figure.GCCPUFraction) {
		line.GCCPUFraction = ptr(report.GC.CPUFraction)
	}
	if len(report.Lock.Components) > 0 {
		top := report.Lock.Components[0]
		line.TopSite, line.TopSiteCost, line.TopSiteFraction = top.Name, top.Cost, top.Fraction
	}
	if line.Time.IsZero() {
		line.Time = time.Now().UTC()
	}
	line.Events = w.evaluator.Observe(win, alert.ValuesFrom(collected.Lock, collected.GC))
	if err := w.print(line); err != nil {
		return fmt.Errorf("writing output: %w", err)
	}
	for _, e := range line.Events {
		if e.State == alert.Firing && w.exitOn != "" && (e.Severity == alert.Crit || w.exitOn == alert.Warn) {
			return withCode(exitThreshold, fmt.Errorf("alert %s fired: %s", e.Rule, e))
		}
	}
	return nil
}

func (w *watcher) print(line watchLine) error {
	if w.o.format == "json" {
		return json.NewEncoder(w.stdout).Encode(line)
	}
	var b strings.Builder
	mark := " "
	switch {
	case line.CostLowerBound:
		mark = "≥"
	case line.CostEstimated:
		mark = "~"
	}
	fmt.Fprintf(&b, "%s  cost %s%6s  wait share %6s", line.Time.Format(time.RFC3339), mark, percentOrDash(line.ContentionCost), percentOrDash(line.LockFraction))
	fmt.Fprintf(&b, "  gc %6s", percentOrDash(line.GCCPUFraction))
	if line.TopSite != "" {
		fmt.Fprintf(&b, "  top %s %s", gate.ShortComponent(line.TopSite), percent(line.TopSiteCost))
	}
	fmt.Fprintf(&b, "  [%s]", line.Worst)
	if line.WindowID != "" {
		fmt.Fprintf(&b, "  window %s", line.WindowID)
	}
	b.WriteString("\n")
	note := ""
	switch {
	case line.CostLowerBound:
		note = "the contention cost is a lower bound: " + line.CostReason
	case line.CostEstimated:
		note = "the contention cost is an estimate: " + line.CostReason
	}
	if note != "" && note != w.costNote {
		fmt.Fprintf(&b, "%s  note: %s\n", line.Time.Format(time.RFC3339), note)
	}
	w.costNote = note
	for _, e := range line.Events {
		fmt.Fprintf(&b, "%s  ALERT %s\n", line.Time.Format(time.RFC3339), e)
		for _, d := range e.Dumps {
			fmt.Fprintf(&b, "%s    saved %s\n", line.Time.Format(time.RFC3339), d)
		}
	}
	_, err := io.WriteString(w.stdout, b.String())
	return err
}

func ptr(f float64) *float64 { return &f }
