// Package matrix runs every map strategy on every workload, interleaved and
// repeated, and summarizes the throughput into the ground-truth table that
// contendr's strategy recommendations are checked against.
package matrix

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"slices"
	"time"

	"github.com/contendr/contendr/internal/maplab/strategy"
	"github.com/contendr/contendr/internal/maplab/workload"
)

// Config says what to run.
type Config struct {
	Strategies []string
	Workloads  []workload.Spec // each with its scale; Duration is overridden
	Duration   time.Duration   // per run
	Repeat     int             // runs per cell
	Options    strategy.Options
	// Progress, when set, receives one line per run with an ETA.
	Progress io.Writer
	// Command is the command line that produced the results, quoted in the
	// report header so that the table can be regenerated.
	Command string
	// Note is quoted under the command: how the machine was set up.
	Note string
	// Gate, when set, holds runs back while other processes load the
	// machine and repeats disturbed runs.
	Gate *Gate
}

// Step is one run in the plan.
type Step struct {
	Round    int    `json:"round"`
	Workload string `json:"workload"`
	Strategy string `json:"strategy"`
}

// Plan orders the runs: round after round, each round running every cell
// once, so that slow drift of the machine (thermal, background load) spreads
// over all cells instead of landing on whichever ran last. Within a round
// the strategy order rotates by round and by workload, so that no strategy
// always runs first or always after the same neighbour.
func Plan(strategies, workloads []string, repeat int) []Step {
	steps := make([]Step, 0, repeat*len(workloads)*len(strategies))
	for round := range repeat {
		for wi, w := range workloads {
			for si := range strategies {
				s := strategies[(si+round+wi)%len(strategies)]
				steps = append(steps, Step{Round: round, Workload: w, Strategy: s})
			}
		}
	}
	return steps
}

// Run executes the plan in-process, without the agent, and summarizes it.
func Run(ctx context.Context, cfg Config) (*Results, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	specs := make(map[string]workload.Spec, len(cfg.Workloads))
	names := make([]string, len(cfg.Workloads))
	for i, spec := range cfg.Workloads {
		spec.Duration = cfg.Duration
		specs[spec.Name] = spec
		names[i] = spec.Name
	}
	// A strategy that cannot store a workload's keys (the read/dirty map
	// has int keys only) has no cell there.
	plan := slices.DeleteFunc(Plan(cfg.Strategies, names, cfg.Repeat), func(s Step) bool {
		return !strategy.SupportsKeys(s.Strategy, specs[s.Workload].KeyType)
	})

	res := &Results{
		Meta:       newMeta(cfg),
		Strategies: cfg.Strategies,
		Workloads:  make([]workload.Spec, len(names)),
	}
	for i, name := range names {
		res.Workloads[i] = specs[name]
	}
	start := time.Now()
	for i, step := range plan {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("matrix interrupted after %d of %d runs: %w", i, len(plan), err)
		}
		r, err := runGated(ctx, cfg, step, specs[step.Workload])
		if err != nil {
			return nil, err
		}
		res.Runs = append(res.Runs, r)
		if cfg.Progress != nil {
			done := time.Since(start)
			eta := done / time.Duration(i+1) * time.Duration(len(plan)-i-1)
			fmt.Fprintf(cfg.Progress, "[%d/%d] round %d  %-12s %-8s %14.0f ops/s  run queue %3.0f%%  others %3.0f%%   ETA %s\n",
				i+1, len(plan), step.Round+1, step.Workload, step.Strategy, r.OpsPerSec, 100*r.RunQueueShare, 100*r.OthersShare, eta.Round(time.Second))
		}
	}
	res.Meta.LoadAverageAfter = LoadAverage()
	res.summarize()
	return res, nil
}

func runGated(ctx context.Context, cfg Config, step Step, spec workload.Spec) (RunResult, error) {
	run := func() (workload.Result, error) { return runOne(ctx, step, spec, cfg.Options) }
	gate := cfg.Gate
	if gate == nil {
		gate = &Gate{}
	}
	r, attempts, err := gate.Run(ctx, cfg.Progress, run)
	if err != nil {
		return RunResult{}, err
	}
	return RunResult{
		Step: step, Ops: r.Ops, Ranges: r.Ranges, Seconds: r.Elapsed.Seconds(), OpsPerSec: r.OpsPerSec,
		CPUSeconds: r.CPUSeconds, CPUShare: r.CPUShare, OpsPerCPUSecond: r.OpsPerCPUSecond,
		RunQueueShare: r.RunQueueShare, OthersShare: r.OthersShare, Attempts: attempts,
	}, nil
}

func runOne(ctx context.Context, step Step, spec workload.Spec, opts strategy.Options) (workload.Result, error) {
	m, err := workload.NewMap(step.Strategy, spec, opts)
	if err != nil {
		return workload.Result{}, err
	}
	// Start every run from a collected heap, so one run's garbage (cow's
	// clones, legacy's copies) is not paid for by the next.
	runtime.GC()
	r, err := workload.Run(ctx, m, spec)
	if err != nil {
		return workload.Result{}, fmt.Errorf("running %s on %s: %w", step.Workload, step.Strategy, err)
	}
	return r, nil
}

func (cfg Config) validate() error {
	switch {
	case len(cfg.Strategies) == 0:
		return fmt.Errorf("matrix: no strategies to run")
	case len(cfg.Workloads) == 0:
		return fmt.Errorf("matrix: no workloads to run")
	case cfg.Duration <= 0:
		return fmt.Errorf("matrix: run duration must be positive, got %s", cfg.Duration)
	case cfg.Repeat < 1:
		return fmt.Errorf("matrix: repeat must be at least 1, got %d", cfg.Repeat)
	}
	for _, s := range cfg.Strategies {
		if !strategy.Valid(s) {
			return fmt.Errorf("matrix: unknown strategy %q", s)
		}
	}
	seen := map[string]bool{}
	for _, w := range cfg.Workloads {
		if seen[w.Name] {
			return fmt.Errorf("matrix: workload %q listed twice", w.Name)
		}
		seen[w.Name] = true
		if err := w.Validate(); err != nil {
			return fmt.Errorf("matrix: %w", err)
		}
	}
	return nil
}
