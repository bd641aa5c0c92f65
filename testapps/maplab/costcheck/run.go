// Package costcheck holds the contention cost to the test its definition
// sets (DESIGN.md, "Contention cost"): across maplab's lock-based
// strategies, a strategy measured clearly faster must never read as more
// contended. It runs each strategy on each workload and goroutine count
// with the agent embedded, reads each window's cost and the run's ops/s,
// and lists every pair where throughput and cost disagree.
package costcheck

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"slices"
	"strings"
	"time"

	"golang.org/x/perf/benchmath"

	"github.com/contendr/contendr/agent"
	"github.com/contendr/contendr/collectors/gc"
	"github.com/contendr/contendr/collectors/mutex"
	"github.com/contendr/contendr/collectors/stacks"
	"github.com/contendr/contendr/internal/maplab/strategy"
	"github.com/contendr/contendr/internal/maplab/workload"
)

// DefaultStrategies are the lock-based strategies the cost is checked on:
// sync.Map and copy-on-write maps are slow for per-operation reasons that
// are not contention (DESIGN.md), so they are left out.
var DefaultStrategies = []string{"mutex", "rwmutex", "sharded", "xsync"}

// DefaultWorkloads are the mixes at the two ends of the lock's range.
var DefaultWorkloads = []string{"write-heavy", "read-mostly"}

// Config says what to run.
type Config struct {
	Strategies, Workloads []string
	// Goroutines lists the goroutine counts; 0 stands for GOMAXPROCS.
	Goroutines []int
	Duration   time.Duration // per run
	Repeat     int           // runs per cell, interleaved
	// SpeedRatio is how much faster a strategy must be measured before its
	// cost may not be higher; Tolerance is the cost difference (absolute,
	// of capacity) allowed within that.
	SpeedRatio, Tolerance float64
	Progress              io.Writer // nil: quiet
	Command, Note         string
}

// Run is one strategy on one workload at one goroutine count.
type Run struct {
	Strategy   string  `json:"strategy"`
	Workload   string  `json:"workload"`
	Goroutines int     `json:"goroutines"`
	OpsPerSec  float64 `json:"ops_per_sec"`
	Cost       float64 `json:"cost"`
	// CostEstimated and CostReason repeat the window's marks.
	CostEstimated bool    `json:"cost_estimated"`
	CostReason    string  `json:"cost_reason,omitempty"`
	SyncCPUShare  float64 `json:"sync_cpu_share"`
	IdleLostShare float64 `json:"idle_lost_share"`
	// IdleSource says where the window's idle time came from.
	IdleSource mutex.IdleSource `json:"idle_source"`
	// WaitShare is the old lock wait share, for comparison.
	WaitShare float64 `json:"wait_share"`
	// GCShare is the window's GC CPU fraction: where a strategy that
	// allocates per write (xsync, HashTrieMap) loses throughput that is
	// not contention.
	GCShare float64 `json:"gc_share"`
	// RunQueueShare is workload.Result.RunQueueShare: how long the
	// process's threads waited for a CPU, over the capacity. High values
	// mean other processes held the cores, and the run measured the
	// machine as much as the map.
	RunQueueShare float64 `json:"run_queue_share"`
	// CPUShare is the process CPU the OS accounted over the capacity: a
	// map whose lock hands off through futex sleeps uses far less than
	// its Ps (the off-CPU part of the cost).
	CPUShare float64 `json:"cpu_share"`
}

// Cell is the median of a cell's runs.
type Cell struct {
	Strategy   string  `json:"strategy"`
	Workload   string  `json:"workload"`
	Goroutines int     `json:"goroutines"`
	OpsPerSec  float64 `json:"ops_per_sec"`
	OpsMin     float64 `json:"ops_min"`
	OpsMax     float64 `json:"ops_max"`
	Cost       float64 `json:"cost"`
	CostMin    float64 `json:"cost_min"`
	CostMax    float64 `json:"cost_max"`
	WaitShare  float64 `json:"wait_share"`
	GCShare    float64 `json:"gc_share"`
	// RunQueueShare is the highest of the runs': one disturbed run is
	// enough to move a median of three.
	RunQueueShare float64 `json:"run_queue_share"`
	CPUShare      float64 `json:"cpu_share"`
}

// Inversion is a pair whose cost ranks against its throughput.
type Inversion struct {
	Workload   string  `json:"workload"`
	Goroutines int     `json:"goroutines"`
	Faster     string  `json:"faster"`
	Slower     string  `json:"slower"`
	Speedup    float64 `json:"speedup"`
	FasterCost float64 `json:"faster_cost"`
	SlowerCost float64 `json:"slower_cost"`
	// ExplainedByGC is set when the slower strategy's GC CPU makes up the
	// difference: its lock cost plus GC share is at least the faster's
	// (within the tolerance). The contention cost leaves per-operation
	// costs such as allocation to the GC figures (DESIGN.md).
	ExplainedByGC bool    `json:"explained_by_gc"`
	FasterGC      float64 `json:"faster_gc"`
	SlowerGC      float64 `json:"slower_gc"`
}

// Results is what Run measured.
type Results struct {
	Command    string      `json:"command"`
	Note       string      `json:"note,omitempty"`
	GoVersion  string      `json:"go_version"`
	GOMAXPROCS int         `json:"gomaxprocs"`
	NumCPU     int         `json:"num_cpu"`
	Duration   string      `json:"duration"`
	Repeat     int         `json:"repeat"`
	SpeedRatio float64     `json:"speed_ratio"`
	Tolerance  float64     `json:"tolerance"`
	Runs       []Run       `json:"runs"`
	Cells      []Cell      `json:"cells"`
	Inversions []Inversion `json:"inversions"`
	// WaitInversions counts the pairs the old lock wait share inverts, on
	// the same runs.
	WaitInversions []Inversion `json:"wait_inversions"`
	// Readers is an RWMutex map read by one goroutine per P with no
	// writer: its readers' CPU in RLock/RUnlock, which no mutex profile
	// shows (golang/go#17973).
	Readers Readers `json:"readers"`
}

// Readers is what the cost says of a read-only RWMutex map.
type Readers struct {
	Goroutines int     `json:"goroutines"`
	OpsPerSec  float64 `json:"ops_per_sec"`
	Component  string  `json:"component"`
	// SyncCPUShare is the component's CPU in lock primitives over the
	// process's sampled CPU; Cost its part of the contention cost.
	SyncCPUShare float64 `json:"sync_cpu_share"`
	Cost         float64 `json:"cost"`
	// MutexDelaySeconds is what the mutex profile recorded (none expected).
	MutexDelaySeconds float64 `json:"mutex_delay_seconds"`
}

// Measure runs every cell Repeat times, interleaving the strategies within
// each round so that a noisy neighbour hits them alike.
func Measure(ctx context.Context, cfg Config) (*Results, error) {
	if len(cfg.Strategies) == 0 {
		cfg.Strategies = DefaultStrategies
	}
	if len(cfg.Workloads) == 0 {
		cfg.Workloads = DefaultWorkloads
	}
	if len(cfg.Goroutines) == 0 {
		cfg.Goroutines = []int{workload.DefaultGoroutines, 0}
	}
	cfg.Repeat = max(cfg.Repeat, 1)
	if cfg.Duration <= 0 {
		cfg.Duration = 2 * time.Second
	}
	if cfg.SpeedRatio <= 1 {
		cfg.SpeedRatio = 1.5
	}
	res := &Results{
		Command: cfg.Command, Note: cfg.Note, GoVersion: runtime.Version(),
		GOMAXPROCS: runtime.GOMAXPROCS(0), NumCPU: runtime.NumCPU(),
		Duration: cfg.Duration.String(), Repeat: cfg.Repeat, SpeedRatio: cfg.SpeedRatio, Tolerance: cfg.Tolerance,
	}
	for round := range cfg.Repeat {
		for _, wl := range cfg.Workloads {
			for _, g := range cfg.Goroutines {
				if g == 0 {
					g = runtime.GOMAXPROCS(0)
				}
				order := slices.Clone(cfg.Strategies)
				if round%2 == 1 {
					slices.Reverse(order)
				}
				for _, s := range order {
					r, err := runOne(ctx, s, wl, g, cfg.Duration)
					if err != nil {
						return nil, err
					}
					if cfg.Progress != nil {
						fmt.Fprintf(cfg.Progress, "round %d/%d  %-11s %2d goroutines  %-8s %6.2fM ops/s  cost %5.1f%% (sync CPU %4.1f%%, idle lost %4.1f%% from %s)  wait share %5.1f%%  CPU used %3.0f%%  run queue %4.1f%%\n",
							round+1, cfg.Repeat, wl, g, s, r.OpsPerSec/1e6, 100*r.Cost, 100*r.SyncCPUShare, 100*r.IdleLostShare, r.IdleSource, 100*r.WaitShare, 100*r.CPUShare, 100*r.RunQueueShare)
					}
					res.Runs = append(res.Runs, r)
				}
			}
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	readers, err := measureReaders(ctx, cfg.Duration)
	if err != nil {
		return nil, err
	}
	res.Readers = readers
	if cfg.Progress != nil {
		fmt.Fprintf(cfg.Progress, "read-only rwmutex, %d goroutines: %s spends %.0f%% of the CPU in lock primitives, cost %.1f%%, mutex profile delay %.3gs\n",
			readers.Goroutines, readers.Component, 100*readers.SyncCPUShare, 100*readers.Cost, readers.MutexDelaySeconds)
	}
	res.Cells = cells(res.Runs)
	res.Inversions = inversions(res.Cells, cfg.SpeedRatio, cfg.Tolerance, func(c Cell) float64 { return c.Cost })
	for i := range res.Inversions {
		explainByGC(&res.Inversions[i], res.Cells, cfg.Tolerance)
	}
	res.WaitInversions = inversions(res.Cells, cfg.SpeedRatio, cfg.Tolerance, func(c Cell) float64 { return c.WaitShare })
	return res, nil
}

// measureReaders runs the RWMutex map on loads only, one goroutine per P.
func measureReaders(ctx context.Context, d time.Duration) (Readers, error) {
	spec := workload.Custom(1)
	spec.Goroutines = runtime.GOMAXPROCS(0)
	wr, lock, _, err := measure(ctx, "rwmutex", spec, d)
	if err != nil {
		return Readers{}, err
	}
	out := Readers{Goroutines: spec.Goroutines, OpsPerSec: wr.OpsPerSec}
	for _, c := range lock.Components {
		if strings.Contains(c.Name, "(*RWMap)") {
			out.Component, out.Cost = c.Name, c.Cost
			if total := lock.Attribution.CPU.TotalNanos; total > 0 {
				out.SyncCPUShare = float64(lock.Attribution.Component(c.Name).SyncCPUNanos) / float64(total)
			}
		}
	}
	for _, s := range lock.Sites {
		if s.Side == mutex.Holder {
			out.MutexDelaySeconds += s.DelaySeconds
		}
	}
	return out, nil
}

// runOne runs one strategy with the agent, closes one window over the run
// and reads its contention cost.
func runOne(ctx context.Context, name, workloadName string, goroutines int, d time.Duration) (Run, error) {
	spec, err := workload.Named(workloadName)
	if err != nil {
		return Run{}, err
	}
	spec.Goroutines = goroutines
	wr, lock, gcr, err := measure(ctx, name, spec, d)
	if err != nil {
		return Run{}, err
	}
	c := lock.Cost
	r := Run{
		Strategy: name, Workload: workloadName, Goroutines: goroutines, OpsPerSec: wr.OpsPerSec, RunQueueShare: wr.RunQueueShare, CPUShare: wr.CPUShare,
		Cost: c.Value, CostEstimated: c.Estimated, IdleSource: c.IdleSource, CostReason: c.Reason, WaitShare: lock.LockFraction.Value,
	}
	if c.CapacitySeconds > 0 {
		r.SyncCPUShare = c.SyncCPUSeconds / c.CapacitySeconds
		r.IdleLostShare = c.IdleLostSeconds / c.CapacitySeconds
	}
	if gcr != nil {
		r.GCShare = gcr.Pressure.CPUFraction
	}
	return r, nil
}

// measure runs one strategy on spec with the agent for d, closes one
// window over the run and collects its lock figures.
func measure(ctx context.Context, name string, spec workload.Spec, d time.Duration) (workload.Result, *mutex.Result, *gc.Result, error) {
	var none workload.Result
	workloadName := spec.Name
	spec.Duration = 0 // until the window closes
	m, err := strategy.New(name, strategy.Options{})
	if err != nil {
		return none, nil, nil, err
	}
	workload.Prefill(m, spec)
	runtime.GC()
	a, err := agent.Start(agent.Config{
		Interval:       24 * time.Hour, // the run closes its one window itself
		CPUProfileDuty: d,
		Logger:         slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		return none, nil, nil, fmt.Errorf("starting the agent for %s on %s: %w", name, workloadName, err)
	}
	defer a.Stop()
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	results := make(chan workload.Result, 1)
	go func() {
		r, _ := workload.Run(runCtx, prefilled{m}, spec)
		results <- r
	}()
	select {
	case <-time.After(d):
	case <-ctx.Done():
		return none, nil, nil, ctx.Err()
	}
	w, err := a.CollectNow(ctx)
	stop()
	wr := <-results
	if err != nil {
		return none, nil, nil, fmt.Errorf("collecting the window of %s on %s: %w", name, workloadName, err)
	}
	attr := stacks.Attribute(w) // one walk of the window for both collectors
	lock, err := mutex.CollectFrom(w, attr, mutex.Options{})
	if err != nil {
		return none, nil, nil, fmt.Errorf("reading the cost of %s on %s: %w", name, workloadName, err)
	}
	gcr, _ := gc.CollectFrom(w, attr, nil) // GC figures are context here; a failure leaves them 0
	return wr, lock, gcr, nil
}

// prefilled skips workload.Run's own prefill: the map was filled before
// the agent took its baseline.
type prefilled struct{ strategy.Map }

func (prefilled) Fill(map[int]int) {}

func cells(runs []Run) []Cell {
	type key struct {
		s, w string
		g    int
	}
	groups := map[key][]Run{}
	var order []key
	for _, r := range runs {
		k := key{r.Strategy, r.Workload, r.Goroutines}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], r)
	}
	out := make([]Cell, 0, len(order))
	for _, k := range order {
		rs := groups[k]
		ops := collect(rs, func(r Run) float64 { return r.OpsPerSec })
		cost := collect(rs, func(r Run) float64 { return r.Cost })
		wait := collect(rs, func(r Run) float64 { return r.WaitShare })
		gcShare := collect(rs, func(r Run) float64 { return r.GCShare })
		runQueue := collect(rs, func(r Run) float64 { return r.RunQueueShare })
		cpuShare := collect(rs, func(r Run) float64 { return r.CPUShare })
		out = append(out, Cell{
			Strategy: k.s, Workload: k.w, Goroutines: k.g,
			OpsPerSec: median(ops), OpsMin: ops[0], OpsMax: ops[len(ops)-1],
			Cost: median(cost), CostMin: cost[0], CostMax: cost[len(cost)-1], WaitShare: median(wait), GCShare: median(gcShare),
			RunQueueShare: runQueue[len(runQueue)-1], CPUShare: median(cpuShare),
		})
	}
	slices.SortStableFunc(out, func(a, b Cell) int {
		return cmp.Or(cmp.Compare(a.Workload, b.Workload), cmp.Compare(b.Goroutines, a.Goroutines), cmp.Compare(b.OpsPerSec, a.OpsPerSec))
	})
	return out
}

// explainByGC marks an inversion the GC figures account for.
func explainByGC(inv *Inversion, cells []Cell, tolerance float64) {
	for _, c := range cells {
		if c.Workload != inv.Workload || c.Goroutines != inv.Goroutines {
			continue
		}
		switch c.Strategy {
		case inv.Faster:
			inv.FasterGC = c.GCShare
		case inv.Slower:
			inv.SlowerGC = c.GCShare
		}
	}
	inv.ExplainedByGC = inv.FasterCost+inv.FasterGC <= inv.SlowerCost+inv.SlowerGC+tolerance
}

// Unexplained are the inversions the GC figures do not account for.
func (r *Results) Unexplained() []Inversion {
	var out []Inversion
	for _, inv := range r.Inversions {
		if !inv.ExplainedByGC {
			out = append(out, inv)
		}
	}
	return out
}

// inversions lists the pairs of one workload and goroutine count where the
// strategy at least ratio× faster reads more than tolerance costlier.
func inversions(cells []Cell, ratio, tolerance float64, figure func(Cell) float64) []Inversion {
	out := []Inversion{}
	for _, a := range cells {
		for _, b := range cells {
			if a.Workload != b.Workload || a.Goroutines != b.Goroutines || b.OpsPerSec <= 0 {
				continue
			}
			if a.OpsPerSec >= ratio*b.OpsPerSec && figure(a) > figure(b)+tolerance {
				out = append(out, Inversion{
					Workload: a.Workload, Goroutines: a.Goroutines, Faster: a.Strategy, Slower: b.Strategy,
					Speedup: a.OpsPerSec / b.OpsPerSec, FasterCost: figure(a), SlowerCost: figure(b),
				})
			}
		}
	}
	return out
}

func collect(rs []Run, f func(Run) float64) []float64 {
	out := make([]float64, len(rs))
	for i, r := range rs {
		out[i] = f(r)
	}
	slices.Sort(out)
	return out
}

// median is benchmath's center of the values, the statistic the gate and
// benchstat quote.
func median(values []float64) float64 {
	sample := benchmath.NewSample(slices.Clone(values), &benchmath.DefaultThresholds)
	return benchmath.AssumeNothing.Summary(sample, 0.95).Center
}
