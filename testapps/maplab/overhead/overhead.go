// Package overhead measures what the embedded contendr agent costs a
// contended program: it runs maplab workloads with the agent off and on at
// candidate sampling rates, interleaved in one process, and reports the
// throughput ratio of each rate to agent-off.
package overhead

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/contendr/contendr/agent"
	"github.com/contendr/contendr/internal/maplab/strategy"
	"github.com/contendr/contendr/internal/maplab/workload"
	"github.com/contendr/contendr/testapps/maplab/matrix"
)

// Rate is one candidate pair of profiling rates, as the agent's Config
// takes them.
type Rate struct {
	// MutexFraction samples 1 in MutexFraction contention events.
	MutexFraction int `json:"mutex_fraction"`
	// BlockRate samples one blocking event per BlockRate ns spent blocked.
	BlockRate int `json:"block_rate"`
}

func (r Rate) String() string { return fmt.Sprintf("%d:%d", r.MutexFraction, r.BlockRate) }

// DefaultRates are the candidates measured when none are given: from
// "sample everything" to "one in a hundred contentions, one event per 100µs
// blocked".
var DefaultRates = []Rate{{1, 1}, {5, 1_000}, {10, 10_000}, {100, 100_000}}

// ParseRates reads "fraction:rate,fraction:rate", e.g. "1:1,10:10000".
func ParseRates(s string) ([]Rate, error) {
	var rates []Rate
	for _, field := range strings.Split(s, ",") {
		frac, rate, ok := strings.Cut(strings.TrimSpace(field), ":")
		if !ok {
			return nil, fmt.Errorf("parsing rate %q: want mutexFraction:blockRateNs", field)
		}
		f, err := strconv.Atoi(frac)
		if err != nil || f < 1 {
			return nil, fmt.Errorf("parsing rate %q: mutex fraction must be a positive integer", field)
		}
		b, err := strconv.Atoi(rate)
		if err != nil || b < 1 {
			return nil, fmt.Errorf("parsing rate %q: block rate must be a positive integer (ns)", field)
		}
		rates = append(rates, Rate{MutexFraction: f, BlockRate: b})
	}
	return rates, nil
}

// Case is one contended program: a strategy on a workload.
type Case struct {
	Strategy string        `json:"strategy"`
	Workload workload.Spec `json:"workload"`
}

func (c Case) String() string { return c.Strategy + " " + c.Workload.Name }

// DefaultCases are two contended programs whose lock events are frequent,
// so that sampling costs show: an RWMutex map under writes, a Mutex map
// under a balanced mix.
func DefaultCases() []Case {
	writeHeavy, _ := workload.Named(workload.WriteHeavy)
	balanced, _ := workload.Named(workload.Balanced)
	return []Case{
		{Strategy: strategy.NameRWMutex, Workload: writeHeavy},
		{Strategy: strategy.NameMutex, Workload: balanced},
	}
}

// Config says what to measure.
type Config struct {
	Cases    []Case
	Rates    []Rate
	Duration time.Duration // per run
	Repeat   int           // rounds
	// Interval is the agent's window length during "on" runs. Shorter than
	// the agent's default, so that a run includes several collections and
	// the figure is an upper bound on their cost.
	Interval time.Duration
	Progress io.Writer
	Command  string
	Note     string // quoted under the command: how the machine was set up
	// Gate, when set, holds runs back while other processes load the
	// machine and repeats disturbed runs.
	Gate *matrix.Gate
}

// Step is one run: a case with the agent off (Rate nil) or on at Rate.
type Step struct {
	Round int   `json:"round"`
	Case  int   `json:"case"` // index into Config.Cases
	Rate  *Rate `json:"rate,omitempty"`
}

// Plan interleaves the runs: in every round each case runs once with the
// agent off and once per rate, the order rotating from round to round, so
// that drift of the machine touches off and on runs alike.
func Plan(cases int, rates []Rate, repeat int) []Step {
	var steps []Step
	for round := range repeat {
		for c := range cases {
			n := len(rates) + 1
			for i := range n {
				slot := (i + round) % n
				step := Step{Round: round, Case: c}
				if slot > 0 {
					step.Rate = &rates[slot-1]
				}
				steps = append(steps, step)
			}
		}
	}
	return steps
}

// Run measures every case off and at every rate, Repeat rounds, and
// summarizes the paired ratios.
func Run(ctx context.Context, cfg Config) (*Results, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	plan := Plan(len(cfg.Cases), cfg.Rates, cfg.Repeat)
	res := &Results{Meta: newMeta(cfg), Cases: cfg.Cases, Rates: cfg.Rates}
	start := time.Now()
	for i, step := range plan {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("overhead benchmark interrupted after %d of %d runs: %w", i, len(plan), err)
		}
		gate := cfg.Gate
		if gate == nil {
			gate = &matrix.Gate{}
		}
		var cost cpuCost
		wr, _, err := gate.Run(ctx, cfg.Progress, func() (workload.Result, error) {
			r, err := runOne(ctx, cfg, step)
			cost = r.cost
			return r.Result, err
		})
		r := profiledResult{Result: wr, cost: cost}
		if err != nil {
			return nil, err
		}
		res.Samples = append(res.Samples, Sample{
			Step: step, OpsPerSec: r.OpsPerSec, OpsPerCPUSecond: r.OpsPerCPUSecond, RunQueueShare: r.RunQueueShare, CPU: r.cost,
		})
		if cfg.Progress != nil {
			agentState := "off"
			if step.Rate != nil {
				agentState = "on " + step.Rate.String()
			}
			eta := time.Since(start) / time.Duration(i+1) * time.Duration(len(plan)-i-1)
			fmt.Fprintf(cfg.Progress, "[%d/%d] round %d  %-20s agent %-12s %14.0f ops/s  run queue %3.0f%%   ETA %s\n",
				i+1, len(plan), step.Round+1, cfg.Cases[step.Case], agentState, r.OpsPerSec, 100*r.RunQueueShare, eta.Round(time.Second))
		}
	}
	res.Meta.LoadAverageAfter = matrix.LoadAverage()
	res.summarize()
	return res, nil
}

// profiledResult is a run's throughput and its CPU profile's split.
type profiledResult struct {
	workload.Result
	cost cpuCost
}

func runOne(ctx context.Context, cfg Config, step Step) (profiledResult, error) {
	c := cfg.Cases[step.Case]
	m, err := strategy.New(c.Strategy, strategy.Options{})
	if err != nil {
		return profiledResult{}, err
	}
	spec := c.Workload
	spec.Duration = cfg.Duration
	runtime.GC()

	if step.Rate != nil {
		// The agent's CPU profile stays off: this run's own profile,
		// which splits its CPU, needs the profiler.
		a, err := StartAgent(*step.Rate, cfg.Interval, NoCPUProfile)
		if err != nil {
			return profiledResult{}, err
		}
		defer a.Stop()
	}
	var r profiledResult
	cost, err := profiledRun(func() error {
		var err error
		r.Result, err = workload.Run(ctx, m, spec)
		return err
	})
	if err != nil {
		return profiledResult{}, fmt.Errorf("running %s: %w", c, err)
	}
	r.cost = cost
	return r, nil
}

// NoCPUProfile, as StartAgent's cpuDuty, turns the agent's CPU profile
// duty cycle off (agent.Config.CPUProfileDuty < 0).
const NoCPUProfile time.Duration = -1

// StartAgent starts the agent the way an "on" run has it: at rate, closing
// a window every interval, with a CPU profile of cpuDuty in each (0: the
// agent's default; NoCPUProfile: none), logging nowhere.
func StartAgent(rate Rate, interval, cpuDuty time.Duration) (*agent.Agent, error) {
	a, err := agent.Start(agent.Config{
		MutexProfileFraction: rate.MutexFraction,
		BlockProfileRate:     rate.BlockRate,
		Interval:             interval,
		CPUProfileDuty:       cpuDuty,
		Labels:               map[string]string{"service": "maplab-overhead"},
		Logger:               slog.New(slog.DiscardHandler),
	})
	if err != nil {
		return nil, fmt.Errorf("starting the agent at rate %s: %w", rate, err)
	}
	return a, nil
}

func (cfg Config) validate() error {
	switch {
	case len(cfg.Cases) == 0:
		return fmt.Errorf("overhead: no cases to run")
	case len(cfg.Rates) == 0:
		return fmt.Errorf("overhead: no candidate rates")
	case cfg.Duration <= 0:
		return fmt.Errorf("overhead: run duration must be positive, got %s", cfg.Duration)
	case cfg.Repeat < 1:
		return fmt.Errorf("overhead: repeat must be at least 1, got %d", cfg.Repeat)
	case cfg.Interval <= 0:
		return fmt.Errorf("overhead: agent interval must be positive, got %s", cfg.Interval)
	}
	for _, c := range cfg.Cases {
		if !strategy.Valid(c.Strategy) {
			return fmt.Errorf("overhead: unknown strategy %q", c.Strategy)
		}
		if err := c.Workload.Validate(); err != nil {
			return fmt.Errorf("overhead: %w", err)
		}
	}
	return nil
}
