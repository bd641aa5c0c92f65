package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/contendr/contendr/analyze"
	"github.com/contendr/contendr/internal/cliflags"
	"github.com/contendr/contendr/source"
	"github.com/contendr/contendr/verify"
	"github.com/contendr/contendr/window"
)

// analyzeOptions are the flags of `contendr analyze`.
type analyzeOptions struct {
	target     *cliflags.TargetFlags
	output     *cliflags.Output
	format     string
	failOn     string
	thresholds string
	noCPU      bool
	profiles   []string
	verbose    bool
	// verify replays the advice on this machine (contendr verify) for
	// verifySeconds and makes the measurement the expected gain's source.
	verify        bool
	verifySeconds cliflags.Duration

	// Threshold overrides; a flag left unset keeps the file's or the
	// default limit.
	costWarn, costCrit     cliflags.Fraction
	compWarn, compCrit     cliflags.Fraction
	gcWarn, gcCrit         cliflags.Fraction
	pauseWarn, pauseCrit   cliflags.Duration
	growthWarn, growthCrit cliflags.Fraction
}

func newCmdAnalyze() *cobra.Command {
	o := &analyzeOptions{}
	cmd := &cobra.Command{
		Use:   "analyze TARGET...",
		Short: "Report lock contention, GC pressure and map-strategy advice for a target",
		Long: `analyze measures one window of each TARGET and reports where the process
loses time to lock contention and GC pressure, and which concurrent-map
strategy each contended component should switch to.

A TARGET is:
  - a contendr agent's URL: its latest window is taken (waiting up to
    --seconds for the first one);
  - any net/http/pprof server (http://host:port or .../debug/pprof/): a
    window of --seconds is measured live with the runtime's own ?seconds=
    deltas of the mutex, block and allocs profiles, a CPU profile and two
    MemStats readings;
  - profile files written by go test -mutexprofile/-blockprofile/
    -cpuprofile/-memprofile, or a directory of them: consecutive files make
    one window until a profile kind repeats;
  - a window bundle (.zip) saved from an agent (with its trace, if it
    has one);
  - an execution trace (runtime/trace, go test -trace, the agent's
    POST /debug/contendr/trace): every lock wait, its holder, the P-time
    lost and the chains of waits, exact from the trace's events.

The headline is the contention cost: the share of the CPU capacity
(GOMAXPROCS × window) spent inside lock primitives or left idle while
goroutines waited on locks. The verdict, the findings and --fail-on judge it
(--cost-warn/--cost-crit, --component-warn/--component-crit). Without a CPU
profile it is a lower bound, and every output says why. The lock wait share
(the old lock fraction) is shown as context only: with more runnable
goroutines than Ps a lock wait often replaces a wait for a CPU, so it costs
latency, not throughput.

Several targets give one report each, in order (a JSON array with
--format json).

Exit codes: 0 ok, 1 error, 2 usage, 3 a finding reached --fail-on (the
contention cost crossing its limit among them).`,
		Example: `  # A service importing net/http/pprof, measured for 10 seconds:
  contendr analyze http://127.0.0.1:6060 --seconds 10

  # An agent behind a token, as JSON for a script:
  contendr analyze https://canary:6061 --header "Authorization: Bearer $TOKEN" --format json

  # Profiles from a benchmark run (the CPU profile gives the window's length):
  go test -bench . -mutexprofile m.out -blockprofile b.out -cpuprofile c.out -memprofile mem.out
  contendr analyze m.out b.out c.out mem.out --go-version go1.26.8

  # A gate in CI: exit 3 when the contention cost crosses 10%:
  contendr analyze ./profiles/ --seconds 30 --cost-crit 10% --fail-on crit -o report.md --format markdown`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.run(cmd.Context(), cmd, args)
		},
	}
	f := cmd.Flags()
	o.target = cliflags.Target(cmd)
	o.output = cliflags.OutputFlag(cmd, "write the report to `FILE` instead of stdout, atomically (only when every target succeeds)")
	f.StringVar(&o.format, "format", "text", "report format: text, json, markdown or html")
	f.BoolVarP(&o.verbose, "verbose", "v", false, "text: the whole report — each finding against its limit, holders and waiters, evidence, notes")
	f.StringVar(&o.failOn, "fail-on", "", "exit 3 when a finding reaches this severity: warn or crit")
	f.StringVar(&o.thresholds, "thresholds", "", "read limits from a YAML or JSON `FILE` (flags below override it)")
	f.BoolVar(&o.noCPU, "no-cpu", false, "do not take a CPU profile from a plain pprof server (the contention cost is then a lower bound: CPU in lock primitives unknown)")
	f.StringSliceVar(&o.profiles, "profiles", nil, "extra profiles to record live: cpu, fgprof, goroutine")
	f.BoolVar(&o.verify, "verify", false, "replay each recommendation's workload on this machine (as contendr verify does) and quote the measurement as its expected gain")
	cliflags.DurationVar(cmd, &o.verifySeconds, "verify-seconds", verify.DefaultBudget, "with --verify: the whole replay, per target")
	for _, l := range []struct {
		v     pflag.Value
		name  string
		usage string
	}{
		{&o.costWarn, "cost-warn", "warn when the contention cost (share of GOMAXPROCS × window lost to locks) reaches this (10%, 0.1)"},
		{&o.costCrit, "cost-crit", "crit when the contention cost reaches this"},
		{&o.compWarn, "component-warn", "warn when one component's contention cost reaches this"},
		{&o.compCrit, "component-crit", "crit when one component's contention cost reaches this"},
		{&o.gcWarn, "gc-warn", "warn when GC CPU reaches this fraction of all CPU"},
		{&o.gcCrit, "gc-crit", "crit when GC CPU reaches this fraction of all CPU"},
		{&o.pauseWarn, "pause-warn", "warn when the p99 GC pause reaches this (1ms)"},
		{&o.pauseCrit, "pause-crit", "crit when the p99 GC pause reaches this"},
		{&o.growthWarn, "growth-warn", "warn when one component's map growth reaches this share of allocation"},
		{&o.growthCrit, "growth-crit", "crit when one component's map growth reaches this share of allocation"},
	} {
		f.Var(l.v, l.name, l.usage)
	}
	// The lock fraction's flags now set the cost's limits: the lock wait
	// share is no longer judged (it read the fastest maps as the most
	// contended), and a script passing --lock-crit means "fail on lock
	// contention".
	for _, alias := range []struct {
		v         *cliflags.Fraction
		old, name string
	}{
		{&o.costWarn, "lock-warn", "cost-warn"}, {&o.costCrit, "lock-crit", "cost-crit"},
		{&o.compWarn, "site-warn", "component-warn"}, {&o.compCrit, "site-crit", "component-crit"},
	} {
		f.Var(alias.v, alias.old, "deprecated alias of --"+alias.name)
		_ = f.MarkHidden(alias.old)
	}
	return cmd
}

// run loads, analyzes and renders each target in turn. A target that fails
// gets one line on stderr and no report; the others still get theirs.
func (o *analyzeOptions) run(ctx context.Context, cmd *cobra.Command, args []string) error {
	warnDeprecated(cmd, map[string]string{"lock-warn": "cost-warn", "lock-crit": "cost-crit", "site-warn": "component-warn", "site-crit": "component-crit"})
	render, err := rendererFor(o.format, o.verbose)
	if err != nil {
		return err
	}
	var failOn analyze.Severity
	if o.failOn != "" {
		if failOn, err = analyze.ParseSeverity(o.failOn); err != nil || failOn == analyze.SeverityOK {
			return usageError("--fail-on %q: want warn or crit", o.failOn)
		}
	}
	th, err := o.loadThresholds(cmd.Flags())
	if err != nil {
		return err
	}
	opts, err := o.sourceOptions()
	if err != nil {
		return err
	}

	groups := source.Group(args)
	// JSON for several targets is one array, so it is written at the end;
	// so is everything bound for -o, which must not hold a partial run.
	var (
		stdout    = cmd.OutOrStdout()
		stderr    = cmd.ErrOrStderr()
		deferred  bytes.Buffer
		jsonArray = o.format == "json" && len(groups) > 1
		reports   []*analyze.Report
		failures  []error
		crossed   []string
	)
	for _, group := range groups {
		target := strings.Join(group, " + ")
		report, err := o.analyzeOne(ctx, group, target, opts, th, stderr)
		if err != nil {
			failures = append(failures, err)
			if ctx.Err() != nil {
				break // interrupted: the remaining targets would fail the same way
			}
			continue
		}
		reports = append(reports, report)
		if failOn != "" && report.Worst().AtLeast(failOn) {
			crossed = append(crossed, fmt.Sprintf("%s: findings reached %s (--fail-on %s)", target, report.Worst(), failOn))
		}
		if jsonArray {
			continue
		}
		var buf bytes.Buffer
		if len(reports) > 1 {
			buf.WriteString(separator(o.format))
		}
		if err := render(report, &buf); err != nil {
			failures = append(failures, fmt.Errorf("%s: %w", target, err))
			continue
		}
		if !o.output.ToStdout() {
			deferred.Write(buf.Bytes())
		} else if _, err := stdout.Write(buf.Bytes()); err != nil {
			return fmt.Errorf("writing the report: %w", err)
		}
	}
	if jsonArray && len(reports) > 0 {
		data, err := json.MarshalIndent(reports, "", "  ")
		if err != nil {
			return fmt.Errorf("writing the reports as JSON: %w", err)
		}
		data = append(data, '\n')
		if !o.output.ToStdout() {
			deferred.Write(data)
		} else if _, err := stdout.Write(data); err != nil {
			return fmt.Errorf("writing the reports: %w", err)
		}
	}

	if len(failures) > 0 {
		if !o.output.ToStdout() {
			failures = append(failures, fmt.Errorf("%s: not written, since %d of %d targets failed; fix them and run again", o.output.Path, len(failures), len(groups)))
		}
		return errors.Join(failures...)
	}
	if !o.output.ToStdout() {
		if err := o.output.Write(stdout, func(w io.Writer) error { _, err := w.Write(deferred.Bytes()); return err }); err != nil {
			return err
		}
	}
	if len(crossed) > 0 {
		return withCode(exitThreshold, errors.New(strings.Join(crossed, "\n")))
	}
	return nil
}

// analyzeOne loads one target, with a progress line on a terminal, and
// analyzes its window.
func (o *analyzeOptions) analyzeOne(ctx context.Context, group []string, target string, opts source.Options, th analyze.Thresholds, stderr io.Writer) (*analyze.Report, error) {
	progress := newProgressLine(stderr, target)
	opts.Progress = progress.update
	var (
		w, previous *window.Window
		err         error
	)
	if len(group) > 1 {
		w, err = source.LoadFiles(ctx, group, opts)
	} else {
		w, previous, err = source.LoadWithPrevious(ctx, group[0], opts)
	}
	progress.clear()
	if err != nil {
		return nil, err // a *source.Error already names the target and what to do
	}
	report, err := analyze.Analyze(analyze.Input{Window: w, Previous: previous, Target: target}, th)
	if err != nil && w.Trace != nil && len(w.Profiles) == 0 {
		return nil, fmt.Errorf("%s: %w", target, err) // a trace file's error says what to do
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %s; the window holds nothing contendr can analyze", target, err)
	}
	if o.verify {
		return verifyReport(ctx, report, target, time.Duration(o.verifySeconds), stderr)
	}
	return report, nil
}

// sourceOptions turns the flags into source.Options. An explicit
// --seconds only: profile files ignore the default.
func (o *analyzeOptions) sourceOptions() (source.Options, error) {
	opts, err := o.target.Options(false)
	if err != nil {
		return opts, err
	}
	opts.DisableCPU = o.noCPU
	for _, p := range o.profiles {
		switch k := window.ProfileKind(strings.ToLower(strings.TrimSpace(p))); k {
		case window.CPU, window.Fgprof, window.Goroutine:
			opts.Profiles = append(opts.Profiles, k)
		default:
			return opts, usageError("--profiles %q: want cpu, fgprof or goroutine", p)
		}
	}
	return opts, nil
}

// loadThresholds starts from the defaults or --thresholds and applies the
// limit flags over them.
func (o *analyzeOptions) loadThresholds(flags *pflag.FlagSet) (analyze.Thresholds, error) {
	th := analyze.DefaultThresholds()
	if o.thresholds != "" {
		var err error
		if th, err = analyze.LoadThresholds(o.thresholds); err != nil {
			return th, usageError("--thresholds %s: %s; fix the file (limits are written like contention_cost: {warn: 10%%, crit: 30%%})", o.thresholds, err)
		}
	}
	for _, l := range []struct {
		flag  *cliflags.Fraction
		limit *float64
	}{
		{&o.costWarn, &th.ContentionCost.Warn}, {&o.costCrit, &th.ContentionCost.Crit},
		{&o.compWarn, &th.ComponentCost.Warn}, {&o.compCrit, &th.ComponentCost.Crit},
		{&o.gcWarn, &th.GCCPUFraction.Warn}, {&o.gcCrit, &th.GCCPUFraction.Crit},
		{&o.growthWarn, &th.MapGrowthShare.Warn}, {&o.growthCrit, &th.MapGrowthShare.Crit},
	} {
		if l.flag.Given {
			*l.limit = l.flag.Value
		}
	}
	if flags.Changed("pause-warn") {
		th.GCPauseP99.Warn = time.Duration(o.pauseWarn).Seconds()
	}
	if flags.Changed("pause-crit") {
		th.GCPauseP99.Crit = time.Duration(o.pauseCrit).Seconds()
	}
	if err := th.Validate(); err != nil {
		return th, usageError("thresholds: %s", err)
	}
	return th, nil
}

type renderFunc func(*analyze.Report, io.Writer) error

func rendererFor(format string, verbose bool) (renderFunc, error) {
	render, err := analyze.Renderer(format, verbose)
	if err != nil {
		return nil, usageError("%v", err)
	}
	return render, nil
}

// separator goes between consecutive reports of one run.
func separator(format string) string {
	switch format {
	case "markdown", "md":
		return "\n---\n\n"
	case "html":
		return "\n"
	}
	return "\n" + strings.Repeat("═", 72) + "\n\n"
}

// progressLine shows "collecting 3s/10s from http://…" on one updating
// terminal line while a live window is measured; elsewhere it stays silent.
type progressLine struct {
	mu     sync.Mutex
	w      io.Writer
	target string
	last   string // the line on screen, "" when none
}

func newProgressLine(w io.Writer, target string) *progressLine {
	if !isTerminal(w) {
		return &progressLine{}
	}
	return &progressLine{w: w, target: target}
}

func (p *progressLine) update(elapsed, total time.Duration) {
	if p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	line := fmt.Sprintf("collecting %ds/%ds from %s", int(elapsed.Seconds()), int(total.Seconds()), p.target)
	if line == p.last {
		return
	}
	fmt.Fprint(p.w, "\r\033[K"+line)
	p.last = line
}

// say puts line on the terminal in place of the last one.
func (p *progressLine) say(line string) {
	if p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if line != p.last {
		fmt.Fprint(p.w, "\r\033[K"+line)
		p.last = line
	}
}

func (p *progressLine) clear() {
	if p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.last != "" {
		fmt.Fprint(p.w, "\r\033[K")
		p.last = ""
	}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}

// warnDeprecated says on stderr (never stdout, which may carry JSON) that
// an old flag name was used and what it now sets.
func warnDeprecated(cmd *cobra.Command, renamed map[string]string) {
	for _, old := range slices.Sorted(maps.Keys(renamed)) {
		if cmd.Flags().Changed(old) {
			fmt.Fprintf(cmd.ErrOrStderr(), "contendr: --%s is deprecated, use --%s: it sets the contention cost's limit (the lock wait share is context only, never judged)\n", old, renamed[old])
		}
	}
}
