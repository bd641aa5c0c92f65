// Package replay runs one map workload on this machine for several
// strategies, repeated and interleaved, and compares their throughput: the
// measurement behind `contendr verify`, which checks a recommendation on the
// hardware it is for rather than on the 2-core machine maplab's matrix ran on.
//
// Runs are interleaved round by round — every strategy once per round, the
// order rotating (AB BA AB …) — so that drift of a shared machine lands on
// every strategy alike. Medians, their confidence intervals and the
// Mann-Whitney U test come from golang.org/x/perf/benchmath, which makes no
// assumption about the runs' distribution (throughput of a contended map is
// far from normal: sync.Mutex flips between normal and starvation mode).
package replay

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/contendr/contendr/internal/maplab/strategy"
	"github.com/contendr/contendr/internal/maplab/workload"
)

// MinRunDuration is the shortest run Run accepts: below it the prefill,
// goroutine start-up and the first GC weigh on the figure.
const MinRunDuration = 200 * time.Millisecond

// Config says what to replay.
type Config struct {
	// Spec is the workload; its Duration is replaced by RunDuration.
	Spec       workload.Spec
	Strategies []string // strategy names, at least two, no repeats
	Repeat     int      // runs per strategy
	// RunDuration is the length of one run.
	RunDuration time.Duration
	Options     strategy.Options
	// Progress, when set, is called after every run.
	Progress func(Progress)
}

// Progress reports one finished run.
type Progress struct {
	Run, Runs int // 1-based index of the run, and the plan's length
	Round     int // 1-based
	Strategy  string
	OpsPerSec float64
	// Left is the measuring time the plan still holds (prefills aside).
	Left time.Duration
}

// Result is what a replay measured.
type Result struct {
	Spec        workload.Spec `json:"workload"`
	Repeat      int           `json:"repeat"`
	RunSeconds  float64       `json:"run_seconds"`
	GOMAXPROCS  int           `json:"gomaxprocs"`
	Measured    []Measured    `json:"strategies"` // in Config.Strategies order
	WallSeconds float64       `json:"wall_seconds"`
	// LoadBefore and LoadAfter are the 1-minute load average around the
	// replay (Linux; "" elsewhere): a load above the CPU count means other
	// processes shared the cores.
	LoadBefore string `json:"load_before,omitempty"`
	LoadAfter  string `json:"load_after,omitempty"`
}

// Measured is one strategy's runs and their summary.
type Measured struct {
	Strategy  string  `json:"strategy"`
	OpsPerSec Summary `json:"ops_per_sec"`
	// RunQueueShare is the median share of a run this process's threads
	// waited for a CPU (Linux): high values mean other processes held the
	// cores and the figures say as much about the machine as about the map.
	RunQueueShare float64     `json:"run_queue_share"`
	Runs          []RunResult `json:"runs"`
}

// RunResult is one run of one strategy.
type RunResult struct {
	Round         int     `json:"round"` // 1-based
	OpsPerSec     float64 `json:"ops_per_sec"`
	Ops           int64   `json:"ops"`
	Seconds       float64 `json:"seconds"`
	CPUShare      float64 `json:"cpu_share"`
	RunQueueShare float64 `json:"run_queue_share"`
}

// Plan orders the runs: round after round, every strategy once per round,
// the order rotated by one each round so that no strategy always runs first
// or always after the same neighbour (two strategies run AB BA AB …).
func Plan(strategies []string, repeat int) []Step {
	steps := make([]Step, 0, repeat*len(strategies))
	for round := range repeat {
		for i := range strategies {
			steps = append(steps, Step{Round: round + 1, Strategy: strategies[(i+round)%len(strategies)]})
		}
	}
	return steps
}

// Step is one run in a plan.
type Step struct {
	Round    int
	Strategy string
}

// Run replays cfg.Spec for every strategy and summarizes the runs.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	spec := cfg.Spec
	spec.Duration = cfg.RunDuration
	plan := Plan(cfg.Strategies, cfg.Repeat)
	runs := make(map[string][]RunResult, len(cfg.Strategies))
	loadBefore := loadAverage()
	start := time.Now()
	for i, step := range plan {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("replay interrupted after %d of %d runs: %w", i, len(plan), err)
		}
		r, err := runOnce(ctx, step.Strategy, spec, cfg.Options)
		if err != nil {
			return nil, err
		}
		if ctx.Err() != nil {
			// A run cut short by the context is not a measurement.
			return nil, fmt.Errorf("replay interrupted after %d of %d runs: %w", i, len(plan), ctx.Err())
		}
		runs[step.Strategy] = append(runs[step.Strategy], RunResult{
			Round: step.Round, OpsPerSec: r.OpsPerSec, Ops: r.Ops, Seconds: r.Elapsed.Seconds(),
			CPUShare: r.CPUShare, RunQueueShare: r.RunQueueShare,
		})
		if cfg.Progress != nil {
			cfg.Progress(Progress{Run: i + 1, Runs: len(plan), Round: step.Round, Strategy: step.Strategy, OpsPerSec: r.OpsPerSec,
				Left: time.Duration(len(plan)-i-1) * cfg.RunDuration})
		}
	}
	res := &Result{
		Spec: spec, Repeat: cfg.Repeat, RunSeconds: cfg.RunDuration.Seconds(),
		GOMAXPROCS: runtime.GOMAXPROCS(0), WallSeconds: time.Since(start).Seconds(),
		LoadBefore: loadBefore, LoadAfter: loadAverage(),
	}
	for _, name := range cfg.Strategies {
		rs := runs[name]
		ops := make([]float64, len(rs))
		queue := make([]float64, len(rs))
		for i, r := range rs {
			ops[i], queue[i] = r.OpsPerSec, r.RunQueueShare
		}
		res.Measured = append(res.Measured, Measured{
			Strategy: name, OpsPerSec: Summarize(ops), RunQueueShare: Summarize(queue).Median, Runs: rs,
		})
	}
	return res, nil
}

// Of returns the named strategy's measurement, or nil.
func (r *Result) Of(name string) *Measured {
	for i := range r.Measured {
		if r.Measured[i].Strategy == name {
			return &r.Measured[i]
		}
	}
	return nil
}

// Fastest is the strategy with the highest median.
func (r *Result) Fastest() string {
	best := ""
	var top float64
	for _, m := range r.Measured {
		if m.OpsPerSec.Median > top {
			best, top = m.Strategy, m.OpsPerSec.Median
		}
	}
	return best
}

func runOnce(ctx context.Context, name string, spec workload.Spec, opts strategy.Options) (workload.Result, error) {
	m, err := workload.NewMap(name, spec, opts) // the spec's key type
	if err != nil {
		return workload.Result{}, err
	}
	// Start every run from a collected heap, so that one strategy's garbage
	// (cow's clones, legacy's copies) is not paid for by the next.
	runtime.GC()
	r, err := workload.Run(ctx, m, spec)
	if err != nil {
		return r, fmt.Errorf("replaying %s on %s: %w", spec.Name, name, err)
	}
	return r, nil
}

// loadAverage is /proc/loadavg's 1-minute figure, or "" where there is none.
func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	first, _, _ := strings.Cut(string(data), " ")
	return first
}

func (cfg Config) validate() error {
	var errs []error
	if len(cfg.Strategies) < 2 {
		errs = append(errs, fmt.Errorf("replay: need at least two strategies to compare, got %v", cfg.Strategies))
	}
	for i, s := range cfg.Strategies {
		if !strategy.Valid(s) {
			errs = append(errs, fmt.Errorf("replay: unknown strategy %q (known: %v)", s, strategy.Names()))
		}
		if slices.Contains(cfg.Strategies[:i], s) {
			errs = append(errs, fmt.Errorf("replay: strategy %q listed twice", s))
		}
	}
	if cfg.Repeat < 1 {
		errs = append(errs, fmt.Errorf("replay: repeat must be at least 1, got %d", cfg.Repeat))
	}
	if cfg.RunDuration < MinRunDuration {
		errs = append(errs, fmt.Errorf("replay: a run of %s is too short to measure; runs need at least %s", cfg.RunDuration, MinRunDuration))
	}
	spec := cfg.Spec
	spec.Duration = cfg.RunDuration
	if err := spec.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("replay: %w", err))
	}
	return errors.Join(errs...)
}
