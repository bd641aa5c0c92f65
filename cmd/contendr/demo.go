package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/contendr/contendr/agent"
	"github.com/contendr/contendr/analyze"
	"github.com/contendr/contendr/internal/cliflags"
	"github.com/contendr/contendr/internal/maplab/strategy"
	"github.com/contendr/contendr/internal/maplab/workload"
)

// demoOptions are the flags of `contendr demo`.
type demoOptions struct {
	seconds  cliflags.Duration
	strategy string
	workload string
	format   string
	verbose  bool
}

func newCmdDemo() *cobra.Command {
	o := &demoOptions{}
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run a contended map workload in-process and analyze it",
		Long: `demo runs a maplab workload (many goroutines on one shared map) in this
process with the contendr agent embedded, for --seconds, then analyzes the
window the agent collected and prints the full report: the contention cost
(the share of the CPU capacity spent inside lock primitives or idle while
goroutines waited on locks), the lock waiters, the top lock sites with
holder and waiter, GC pressure, map growth and the recommended map strategy.
Try --strategy mutex and --strategy xsync: the faster map costs less.

It needs no target: it is contendr's main job on a built-in example.`,
		Example: `  contendr demo
  contendr demo --strategy xsync              # the same workload on the map advised for it
  contendr demo --strategy cow --workload balanced --seconds 10 --format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.run(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	cliflags.Seconds(cmd, &o.seconds, 5*time.Second, "how long to run the workload")
	f.StringVar(&o.strategy, "strategy", strategy.NameRWMutex, fmt.Sprintf("map strategy %v", strategy.Names()))
	f.StringVar(&o.workload, "workload", workload.WriteHeavy, fmt.Sprintf("workload %v", workload.Names()))
	f.StringVar(&o.format, "format", "text", "report format: text, json, markdown or html")
	f.BoolVarP(&o.verbose, "verbose", "v", false, "text: the whole report — each finding against its limit, holders and waiters, evidence, notes")
	return cmd
}

func (o *demoOptions) run(ctx context.Context, stdout, stderr io.Writer) error {
	render, err := rendererFor(o.format, o.verbose)
	if err != nil {
		return usageError("%v", err)
	}
	seconds := time.Duration(o.seconds)
	if seconds < time.Second || seconds > time.Hour {
		return usageError("--seconds %v: want between 1s and 1h", seconds)
	}
	m, err := strategy.New(o.strategy, strategy.Options{})
	if err != nil {
		return usageError("--strategy: %v", err)
	}
	spec, err := workload.Named(o.workload)
	if err != nil {
		return usageError("--workload: %v", err)
	}
	spec.Duration = 0 // run until the window closes
	// Prefill before the agent starts so the window measures the workload,
	// not the setup.
	workload.Prefill(m, spec)

	a, err := agent.Start(agent.Config{
		Interval:       24 * time.Hour, // the demo closes its one window itself
		CPUProfileDuty: seconds,        // read/write mix for the recommendation
		Labels:         map[string]string{"service": "maplab-demo", "role": "canary"},
		Logger:         slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		return fmt.Errorf("starting the agent: %w", err)
	}
	defer a.Stop()

	fmt.Fprintf(stderr, "demo: %s map, %s workload, %d goroutines, %d keys, GOMAXPROCS=%d\n",
		o.strategy, spec.Name, spec.Goroutines, spec.Keys, runtime.GOMAXPROCS(0))
	runCtx, stopWorkload := context.WithCancel(ctx)
	done := make(chan workload.Result, 1)
	go func() {
		res, _ := workload.Run(runCtx, m, spec)
		done <- res
	}()
	countdown(ctx, stderr, seconds)
	w, err := a.CollectNow(ctx)
	stopWorkload()
	res := <-done
	if err != nil {
		return fmt.Errorf("collecting the demo window: %w", err)
	}
	fmt.Fprintf(stderr, "demo: %.0f ops/s\n", res.OpsPerSec)

	report, err := analyze.Analyze(analyze.Input{Window: w, Target: "demo (in-process maplab)"}, analyze.DefaultThresholds())
	if err != nil {
		return fmt.Errorf("analyzing the demo window: %w", err)
	}
	fmt.Fprintf(stderr, "demo: %s\n\n", demoHeadline(report))
	return render(report, stdout)
}

// demoHeadline puts the cost beside the ops/s the run just printed, so the
// two can be compared across strategies.
func demoHeadline(r *analyze.Report) string {
	l := r.Lock
	s := "contention cost unknown"
	if l.CostKnown {
		s = "contention cost " + percent(l.Cost) + " of the CPU capacity"
		switch {
		case l.CostLowerBound:
			s = "contention cost at least " + percent(l.Cost) + " of the CPU capacity (a lower bound)"
		case l.CostEstimated:
			s += " (estimated)"
		}
	}
	if l.Known {
		s += ", lock wait share " + percent(l.Fraction) + " (context, not time lost)"
	}
	return s + ", " + strings.ToUpper(string(r.Worst()))
}

// countdown waits d, showing the seconds left: one updating line on a
// terminal, a line every five seconds otherwise.
func countdown(ctx context.Context, w io.Writer, d time.Duration) {
	tty := isTerminal(w)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	end := time.Now().Add(d)
	for left := d; left > 0; left = time.Until(end).Round(time.Second) {
		switch {
		case tty:
			fmt.Fprintf(w, "\rmeasuring… %2ds left ", int(left.Seconds()))
		case left == d || int(left.Seconds())%5 == 0:
			fmt.Fprintf(w, "measuring… %ds left\n", int(left.Seconds()))
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
	if tty {
		fmt.Fprint(w, "\r\033[K")
	}
}
