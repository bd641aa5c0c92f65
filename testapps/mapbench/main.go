// Command mapbench is an out-of-sample check of contendr's map advice:
// map workloads written as an outside Go developer would benchmark them
// (b.RunParallel over the package's own map implementations), each
// measured with every implementation, its usual implementation profiled
// under contendr's agent and the advice contendr gives scored against the
// measured throughputs.
//
//	go run ./testapps/mapbench                      # every case; writes testapps/mapbench/results/accuracy.{json,md}
//	go run ./testapps/mapbench -cases 'session|memo' -rounds 3
//	go run ./testapps/mapbench -reanalyze testapps/mapbench/results/accuracy.json -out /tmp/rescored
//	                                                # the same windows and ops/s, advice from this checkout's rules
//	go test -bench . ./testapps/mapbench            # the workloads as plain Go benchmarks
//
// None of its workloads was used to write contendr's rules; see README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "mapbench:", err)
		os.Exit(1)
	}
}

// options are the command's flags.
type options struct {
	Settings
	cases     string
	out       string
	windows   string
	contendr  string
	reanalyze string
	remeasure string
	square    int
}

func run(ctx context.Context, args []string, log io.Writer) error {
	var o options
	fs := flag.NewFlagSet("mapbench", flag.ContinueOnError)
	fs.SetOutput(log)
	fs.IntVar(&o.Rounds, "rounds", 10, "measured runs of every implementation per case, interleaved")
	fs.DurationVar(&o.Benchtime, "benchtime", 300*time.Millisecond, "length of one measured run")
	fs.DurationVar(&o.Profile, "profile", 3*time.Second, "how long the current implementation runs under the agent for contendr's window")
	fs.StringVar(&o.cases, "cases", "", "only the cases whose name (workload/regime, e.g. session/p4-cpu) matches this regexp")
	fs.StringVar(&o.out, "out", filepath.Join("testapps", "mapbench", "results"), "directory for accuracy.json and accuracy.md")
	fs.StringVar(&o.windows, "windows", "", "directory for the analyzed window bundles (default: OUT/windows)")
	fs.StringVar(&o.contendr, "contendr", "", "the contendr CLI to judge (default: built from this checkout)")
	fs.StringVar(&o.reanalyze, "reanalyze", "", "re-score the windows and ops/s of an earlier `accuracy.json` with this checkout's CLI, measuring nothing")
	fs.StringVar(&o.remeasure, "remeasure", "", "with -reanalyze: measure anew the cases whose name matches this regexp (their workload changed), re-score the rest")
	fs.IntVar(&o.square, "square", 0, "which of the fifteen disjoint 24-case Latin squares to run: 0 (the first measured); 1 or 2 at maplab's 1, 4 and 32 goroutines per P; 3, 4 or 5 at 2, 8 and 16, levels between them; 6, 7 or 8 the fresh workloads at 1, 6 and 24; 9, 10 or 11 the hold-out workloads at 1, 3 and 12; 12, 13 or 14 (held out) the confirmation workloads at 2, 5 and 20")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.Rounds < 1 || o.Benchtime <= 0 || o.Profile <= 0 {
		return fmt.Errorf("-rounds, -benchtime and -profile must be positive")
	}
	match, err := regexp.Compile(o.cases)
	if err != nil {
		return fmt.Errorf("-cases: %w", err)
	}
	remeasure, err := regexp.Compile(o.remeasure)
	if err != nil {
		return fmt.Errorf("-remeasure: %w", err)
	}
	if o.remeasure != "" && o.reanalyze == "" {
		return fmt.Errorf("-remeasure needs -reanalyze: the earlier results whose other cases are re-scored")
	}
	var earlier *Results
	if o.reanalyze != "" {
		if earlier, err = readResults(o.reanalyze); err != nil {
			return err
		}
	}
	if o.square < 0 || o.square >= squares {
		return fmt.Errorf("-square %d: there are %d squares, 0 to %d", o.square, squares, squares-1)
	}
	pool := Square(o.square)
	if earlier != nil {
		// Re-scoring takes the earlier run's cases, from whichever square.
		pool = allSquares()
	}
	var cases []Case
	for _, c := range pool {
		if match.MatchString(c.Name()) && (earlier == nil || earlier.has(c.Name())) {
			cases = append(cases, c)
		}
	}
	if len(cases) == 0 {
		return fmt.Errorf("-cases %q matches none of the %d cases", o.cases, len(pool))
	}
	if o.windows == "" {
		o.windows = filepath.Join(o.out, "windows")
	}
	if err := os.MkdirAll(o.windows, 0o755); err != nil {
		return err
	}
	// The advice comes from the CLI judged: this checkout's when the
	// harness builds it, else whichever commit -contendr was built from.
	adviceFrom := commitStamp("")
	if o.contendr != "" {
		adviceFrom = cliStamp(o.contendr)
	} else {
		tmp, err := os.MkdirTemp("", "mapbench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		fmt.Fprintln(log, "mapbench: building the contendr CLI")
		if o.contendr, err = buildCLI(ctx, tmp); err != nil {
			return err
		}
	}
	results := &Results{
		Schema:   Schema,
		Command:  strings.TrimSpace("go run ./testapps/mapbench " + strings.Join(args, " ")),
		Machine:  machine(time.Now()),
		Settings: o.Settings,
	}
	if adviceFrom != results.Machine.Commit {
		results.Machine.Commit += ", advice from " + adviceFrom
	}
	if earlier != nil {
		// The measurements are the earlier run's: so are the machine and
		// the settings they were made with.
		results.Machine, results.Settings = earlier.Machine, earlier.Settings
		measuredAt, _, _ := strings.Cut(results.Machine.Commit, ", advice from ")
		results.Machine.Commit = measuredAt + ", advice from " + adviceFrom
		results.Reanalyzed, results.MeasuredBy = o.reanalyze, earlier.Command
		if earlier.MeasuredBy != "" {
			results.MeasuredBy = earlier.MeasuredBy
			// Cases an earlier -remeasure measured keep saying so.
			results.Remeasured, results.RemeasuredOn = earlier.Remeasured, earlier.RemeasuredOn
		}
	}
	remeasuring := false
	for i, c := range cases {
		if err := ctx.Err(); err != nil {
			return err
		}
		fmt.Fprintf(log, "mapbench: [%d/%d] %s\n", i+1, len(cases), c.Name())
		var res CaseResult
		if earlier != nil && !(o.remeasure != "" && remeasure.MatchString(c.Name())) {
			res, err = rescoreCase(ctx, earlier, c, o.contendr)
		} else {
			res, err = runCase(ctx, c, results.Settings, o.contendr, o.windows)
			if earlier != nil {
				if !remeasuring {
					// This run's machine, and only the cases it measures.
					m := machine(time.Now())
					results.Remeasured, results.RemeasuredOn, remeasuring = nil, &m, true
				}
				results.Remeasured = append(results.Remeasured, c.Name())
				results.RemeasuredOn.LoadAfter = loadAverage()
			}
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(log, "mapbench:   %s\n", caseLine(res))
		results.Cases = append(results.Cases, res)
		results.Summary = summarize(results.Cases)
		if earlier == nil {
			results.Machine.LoadAfter = loadAverage()
		}
		if err := results.write(o.out); err != nil {
			return fmt.Errorf("writing results: %w", err)
		}
	}
	s := results.Summary
	fmt.Fprintf(log, "mapbench: accuracy %.0f%% (%d/%d), mean regret %.2f; results in %s\n",
		100*s.Accuracy, s.Correct, s.Cases, s.MeanRegret, filepath.Join(o.out, "accuracy.md"))
	return nil
}

// runCase measures, profiles, analyzes and scores one case.
func runCase(ctx context.Context, c Case, s Settings, contendr, windows string) (CaseResult, error) {
	res := CaseResult{Case: c.Name(), Workload: c.Workload.Name, About: c.Workload.Description, Regime: c.Regime, Current: c.Workload.Current}
	measured, err := measure(c, s)
	if err != nil {
		return res, err
	}
	res.Measured = measured
	bundle := filepath.Join(windows, strings.ReplaceAll(c.Name(), "/", "_")+".zip")
	if err := profileWindow(ctx, c, c.Workload.Current, opsOf(measured, c.Workload.Current), s, bundle); err != nil {
		return res, fmt.Errorf("%s: %w", c.Name(), err)
	}
	res.Window = bundle
	return adviseAndScore(ctx, res, contendr)
}

// rescoreCase re-analyzes an earlier run's window of case c and scores
// the advice against the ops/s measured then.
func rescoreCase(ctx context.Context, earlier *Results, c Case, contendr string) (CaseResult, error) {
	for _, old := range earlier.Cases {
		if old.Case == c.Name() {
			res := CaseResult{Case: old.Case, Workload: old.Workload, About: old.About, Regime: old.Regime,
				Current: old.Current, Measured: old.Measured, Window: old.Window}
			return adviseAndScore(ctx, res, contendr)
		}
	}
	return CaseResult{}, fmt.Errorf("%s: not in the results given to -reanalyze", c.Name())
}

// adviseAndScore runs contendr on res.Window and scores its advice about
// res.Current against res.Measured.
func adviseAndScore(ctx context.Context, res CaseResult, contendr string) (CaseResult, error) {
	report, err := analyzeBundle(ctx, contendr, res.Window)
	if err != nil {
		return res, err
	}
	res.Cost, res.CostKnown, res.Verdict = report.Lock.Cost, report.Lock.CostKnown, report.Verdict
	advice, found := adviceFor(report, res.Current)
	if found {
		res.Advice = &advice
	}
	for _, rec := range report.Recommendations {
		if !found || rec.Component != advice.Component {
			res.Others = append(res.Others, fmt.Sprintf("%s: %s → %s (%s)", rec.Component, rec.Current, rec.Recommended, rec.Rule))
		}
	}
	if res.Score, err = score(res.Measured, res.Current, advice, found); err != nil {
		return res, fmt.Errorf("%s: %w", res.Case, err)
	}
	return res, nil
}

func caseLine(c CaseResult) string {
	var parts []string
	for _, t := range c.Measured {
		parts = append(parts, fmt.Sprintf("%s %s", t.Strategy, si(t.Median)))
	}
	verdict := "correct"
	if !c.Score.Correct {
		verdict = "MISS"
	}
	return fmt.Sprintf("%s | advice %s | %s, regret %.2f", strings.Join(parts, ", "), adviceText(c), verdict, c.Score.Regret)
}
