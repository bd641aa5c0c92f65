package overhead

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/contendr/contendr/testapps/maplab/internal/resultfile"

	"github.com/contendr/contendr/agent"
	"github.com/contendr/contendr/testapps/maplab/matrix"
)

// Results is what one overhead benchmark measured.
type Results struct {
	Meta    Meta     `json:"meta"`
	Cases   []Case   `json:"cases"`
	Rates   []Rate   `json:"rates"`
	Samples []Sample `json:"samples"`
	// Rows holds one summary per case × rate, case-major.
	Rows []Row `json:"rows"`
}

// Meta says where and how the benchmark ran.
type Meta struct {
	matrix.Meta
	IntervalSeconds float64 `json:"agent_interval_seconds"`
}

// Sample is one run's throughput.
type Sample struct {
	Step
	OpsPerSec       float64 `json:"ops_per_sec"`
	OpsPerCPUSecond float64 `json:"ops_per_cpu_second"`
	RunQueueShare   float64 `json:"run_queue_share"`
	// CPU splits the run's CPU profile: total, sampling machinery, agent.
	CPU cpuCost `json:"cpu"`
}

// Row compares one rate with agent-off on one case.
type Row struct {
	Case      string  `json:"case"`
	Rate      Rate    `json:"rate"`
	OffMedian float64 `json:"off_median_ops_per_sec"`
	OnMedian  float64 `json:"on_median_ops_per_sec"`
	// Ratios are on/off within each round (the runs next to each other in
	// time); Ratio is their median and LossPct = 100·(1 − Ratio).
	Ratios  []float64 `json:"ratios"`
	Ratio   float64   `json:"ratio"`
	LossPct float64   `json:"loss_pct"`
	// CPURatio is the same paired median for operations per CPU-second of
	// the process: it counts the agent's own CPU and per-operation slowdown
	// but not cores lost to other processes, so it is the steadier figure
	// on a shared machine.
	CPURatios  []float64 `json:"cpu_ratios"`
	CPURatio   float64   `json:"cpu_ratio"`
	CPULossPct float64   `json:"cpu_loss_pct"`
	// RunQueue is the larger median run-queue share (workload.Result) of
	// the off and on runs behind the row.
	RunQueue float64 `json:"run_queue_share"`

	// From the CPU profiles of the on runs, pooled over rounds: the
	// percentage of the process's CPU spent recording mutex/block events
	// (SamplingPct) and in the agent's own code (AgentPct), and their sum.
	// Unlike the ratios these do not depend on run-to-run throughput noise;
	// they leave out indirect costs (GC of the agent's garbage, cache
	// effects).
	SamplingPct      float64 `json:"sampling_cpu_pct"`
	MutexSamplingPct float64 `json:"mutex_sampling_cpu_pct"`
	BlockSamplingPct float64 `json:"block_sampling_cpu_pct"`
	AgentPct         float64 `json:"agent_cpu_pct"`
	CostPct          float64 `json:"cost_cpu_pct"`
	// CostAtDefaultIntervalPct rescales AgentPct from the benchmark's
	// interval to agent.DefaultInterval (collections cost per window, so
	// their CPU share goes with 1/interval) and adds the sampling: the
	// expected cost of the agent as shipped.
	CostAtDefaultIntervalPct float64 `json:"cost_at_default_interval_cpu_pct"`
	// OffCVPct is the coefficient of variation of the case's agent-off
	// throughput over rounds, in percent: the noise floor of the ratios.
	OffCVPct float64 `json:"off_cv_pct"`
}

func newMeta(cfg Config) Meta {
	m := matrix.Host()
	m.Command = cfg.Command
	m.Note = cfg.Note
	m.Date = time.Now().UTC().Truncate(time.Second)
	m.RunSeconds = cfg.Duration.Seconds()
	m.Repeat = cfg.Repeat
	m.LoadAverageBefore = matrix.LoadAverage()
	return Meta{Meta: m, IntervalSeconds: cfg.Interval.Seconds()}
}

func (r *Results) summarize() {
	r.Rows = nil
	for ci, c := range r.Cases {
		off := map[int]Sample{}
		var offs, offRunQueue []float64
		for _, s := range r.Samples {
			if s.Case == ci && s.Rate == nil {
				off[s.Round] = s
				offs = append(offs, s.OpsPerSec)
				offRunQueue = append(offRunQueue, s.RunQueueShare)
			}
		}
		for _, rate := range r.Rates {
			row := Row{Case: c.String(), Rate: rate}
			var ons, onRunQueue []float64
			var pooled cpuCost
			for _, s := range r.Samples {
				if s.Case != ci || s.Rate == nil || *s.Rate != rate {
					continue
				}
				ons = append(ons, s.OpsPerSec)
				pooled.Total += s.CPU.Total
				pooled.Sampling += s.CPU.Sampling
				pooled.MutexSampling += s.CPU.MutexSampling
				pooled.BlockSampling += s.CPU.BlockSampling
				pooled.Agent += s.CPU.Agent
				onRunQueue = append(onRunQueue, s.RunQueueShare)
				base, ok := off[s.Round]
				if ok && base.OpsPerSec > 0 {
					row.Ratios = append(row.Ratios, s.OpsPerSec/base.OpsPerSec)
				}
				if ok && base.OpsPerCPUSecond > 0 {
					row.CPURatios = append(row.CPURatios, s.OpsPerCPUSecond/base.OpsPerCPUSecond)
				}
			}
			if len(ons) == 0 || len(row.Ratios) == 0 {
				continue
			}
			row.OffMedian, row.OnMedian = median(offs), median(ons)
			row.Ratio = median(row.Ratios)
			row.OffCVPct = 100 * coefficientOfVariation(offs)
			row.RunQueue = max(median(offRunQueue), median(onRunQueue))
			if pooled.Total > 0 {
				row.SamplingPct = 100 * pooled.Sampling / pooled.Total
				row.MutexSamplingPct = 100 * pooled.MutexSampling / pooled.Total
				row.BlockSamplingPct = 100 * pooled.BlockSampling / pooled.Total
				row.AgentPct = 100 * pooled.Agent / pooled.Total
				row.CostPct = row.SamplingPct + row.AgentPct
				row.CostAtDefaultIntervalPct = row.SamplingPct + row.AgentPct*r.Meta.IntervalSeconds/agent.DefaultInterval.Seconds()
			}
			row.LossPct = 100 * (1 - row.Ratio)
			if len(row.CPURatios) > 0 {
				row.CPURatio = median(row.CPURatios)
				row.CPULossPct = 100 * (1 - row.CPURatio)
			}
			r.Rows = append(r.Rows, row)
		}
	}
}

// WithinLoss returns the rates whose median throughput loss is at most
// maxLossPct on every case, in the order they were given.
func (r *Results) WithinLoss(maxLossPct float64) []Rate {
	return r.ratesWhere(func(row Row) bool { return row.LossPct <= maxLossPct })
}

// WithinCPU returns the rates whose profiled CPU cost, at the agent's
// default interval, is at most maxPct on every case, in the order they were
// given.
func (r *Results) WithinCPU(maxPct float64) []Rate {
	return r.ratesWhere(func(row Row) bool { return row.CostAtDefaultIntervalPct <= maxPct })
}

func (r *Results) ratesWhere(ok func(Row) bool) []Rate {
	var rates []Rate
	for _, rate := range r.Rates {
		within, seen := true, false
		for _, row := range r.Rows {
			if row.Rate == rate {
				seen = true
				within = within && ok(row)
			}
		}
		if seen && within {
			rates = append(rates, rate)
		}
	}
	return rates
}

func coefficientOfVariation(xs []float64) float64 {
	if len(xs) < 2 {
		return 0
	}
	var sum float64
	for _, x := range xs {
		sum += x
	}
	mean := sum / float64(len(xs))
	if mean == 0 {
		return 0
	}
	var squares float64
	for _, x := range xs {
		squares += (x - mean) * (x - mean)
	}
	return math.Sqrt(squares/float64(len(xs)-1)) / mean
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// WriteMarkdown renders one row per case × rate.
func (r *Results) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	m := r.Meta
	b.WriteString("# maplab: agent overhead\n\n")
	if m.Command != "" {
		fmt.Fprintf(&b, "Command: `%s`\n\n", m.Command)
	}
	if m.Note != "" {
		fmt.Fprintf(&b, "Note: %s\n\n", m.Note)
	}
	fmt.Fprintf(&b, "Measured %s with %s %s/%s, GOMAXPROCS=%d (%d CPUs, %s). ",
		m.Date.Format(time.RFC3339), m.GoVersion, m.GOOS, m.GOARCH, m.GOMAXPROCS, m.NumCPU, m.CPUModel)
	fmt.Fprintf(&b, "%d rounds of %gs runs; in each round every case runs once with the agent off and once per rate, in rotating order. ",
		m.Repeat, m.RunSeconds)
	fmt.Fprintf(&b, "Agent window interval %gs (shorter than the default, so collections are over-represented).\n\n", m.IntervalSeconds)
	b.WriteString("Rate = mutex profile fraction : block profile rate (ns).\n\n")

	b.WriteString("## CPU cost, from CPU profiles of the agent-on runs\n\n")
	b.WriteString("Share of the process's CPU spent recording mutex/block events (runtime.mutexevent, blockevent, saveblockevent, ")
	b.WriteString("mLockProfile) and in the agent's own code (collection, profile encoding and parsing), pooled over all rounds. ")
	b.WriteString("It does not depend on run-to-run throughput noise; it leaves out indirect costs (GC of the agent's garbage, cache effects).\n\n")
	fmt.Fprintf(&b, "Agent CPU goes with collections per second; the last column rescales it from the %gs interval measured to the agent's default %s and adds the sampling.\n\n",
		m.IntervalSeconds, agent.DefaultInterval)
	b.WriteString("| case | rate | mutex sampling | block sampling | agent CPU | total | total at default interval |\n")
	b.WriteString("|---|---|---:|---:|---:|---:|---:|\n")
	for _, row := range r.Rows {
		fmt.Fprintf(&b, "| %s | %s | %.2f%% | %.2f%% | %.2f%% | %.2f%% | %.2f%% |\n",
			row.Case, row.Rate, row.MutexSamplingPct, row.BlockSamplingPct, row.AgentPct, row.CostPct, row.CostAtDefaultIntervalPct)
	}

	b.WriteString("\n## Throughput, agent on vs off\n\n")
	b.WriteString("Ratio = median over rounds of on/off throughput within the round; loss = 1 − ratio; ")
	b.WriteString("ratio range = lowest and highest round. CPU ratio/loss: the same for operations per CPU-second. ")
	b.WriteString("Run queue: the median share of the runs that maplab's threads spent runnable but waiting for a CPU (Linux schedstat). ")
	b.WriteString("Off CV: run-to-run coefficient of variation of the agent-off throughput, the noise a loss must exceed to be seen.\n\n")
	b.WriteString("| case | rate | off ops/s | on ops/s | ratio on/off | loss | ratio range | CPU ratio | CPU loss | run queue | off CV |\n")
	b.WriteString("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, row := range r.Rows {
		fmt.Fprintf(&b, "| %s | %s | %.0f | %.0f | %.3f | %+.1f%% | %.3f–%.3f | %.3f | %+.1f%% | %.0f%% | %.0f%% |\n",
			row.Case, row.Rate, row.OffMedian, row.OnMedian, row.Ratio, row.LossPct,
			slices.Min(row.Ratios), slices.Max(row.Ratios), row.CPURatio, row.CPULossPct, 100*row.RunQueue, row.OffCVPct)
	}
	if m.LoadAverageBefore != "" {
		fmt.Fprintf(&b, "\n1-minute load average: %s before, %s after.\n", m.LoadAverageBefore, m.LoadAverageAfter)
	}
	fmt.Fprintf(&b, "\nRates whose profiled CPU cost at the default interval is ≤ 1%% on every case: %s.\n", rateList(r.WithinCPU(1)))
	fmt.Fprintf(&b, "Rates with a median throughput loss ≤ 1%% on every case: %s.\n", rateList(r.WithinLoss(1)))
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("writing overhead table: %w", err)
	}
	return nil
}

func rateList(rates []Rate) string {
	if len(rates) == 0 {
		return "none"
	}
	names := make([]string, len(rates))
	for i, rate := range rates {
		names[i] = rate.String()
	}
	return strings.Join(names, ", ")
}

// WriteFiles writes overhead.json and overhead.md into dir.
func (r *Results) WriteFiles(dir string) error {
	return resultfile.Write(dir, "overhead", r, r.WriteMarkdown)
}

// ReadFile loads an overhead.json written by WriteFiles and recomputes its
// rows from the samples.
func ReadFile(path string) (*Results, error) {
	var r Results
	if err := resultfile.Read(path, "overhead", &r); err != nil {
		return nil, err
	}
	r.summarize()
	return &r, nil
}
