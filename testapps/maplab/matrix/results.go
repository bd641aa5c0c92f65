package matrix

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/contendr/contendr/testapps/maplab/internal/resultfile"

	"github.com/contendr/contendr/internal/maplab/workload"
)

// Results is everything one matrix run measured, as stored in results.json.
type Results struct {
	Meta       Meta            `json:"meta"`
	Strategies []string        `json:"strategies"`
	Workloads  []workload.Spec `json:"workloads"`
	Runs       []RunResult     `json:"runs"`
	// Cells holds one summary per workload × strategy, workload-major in
	// the order of Workloads and Strategies.
	Cells []Cell `json:"cells"`
	// Best maps each workload to its fastest strategy by median.
	Best map[string]string `json:"best"`
	// Ties maps each workload to the strategies whose median reaches into
	// the best strategy's range of runs (Cell.Tied): on a noisy machine
	// the data cannot tell them apart from the best, so a recommendation
	// naming one of them is not wrong.
	Ties map[string][]string `json:"ties"`
}

// Meta says where and how the results were measured.
type Meta struct {
	Command string `json:"command,omitempty"`
	// Note says what the command line does not: how the machine was set up.
	Note       string    `json:"note,omitempty"`
	Date       time.Time `json:"date"`
	GoVersion  string    `json:"go_version"`
	GOOS       string    `json:"goos"`
	GOARCH     string    `json:"goarch"`
	GOMAXPROCS int       `json:"gomaxprocs"`
	NumCPU     int       `json:"num_cpu"`
	CPUModel   string    `json:"cpu_model"`
	// RunSeconds and Repeat are the per-run duration and runs per cell.
	RunSeconds float64 `json:"run_seconds"`
	Repeat     int     `json:"repeat"`
	Shards     int     `json:"shards,omitempty"`
	// LoadAverage* are /proc/loadavg's 1-minute figure around the run: well
	// above GOMAXPROCS means other processes competed for the cores.
	LoadAverageBefore string `json:"load_average_before,omitempty"`
	LoadAverageAfter  string `json:"load_average_after,omitempty"`
	// Remeasured names the workloads a merged part ran again on its own
	// (Merge of a subset): their cells hold more runs than Repeat, of
	// RemeasuredSeconds each.
	Remeasured        []string `json:"remeasured,omitempty"`
	RemeasuredSeconds float64  `json:"remeasured_seconds,omitempty"`
	RemeasuredRepeat  int      `json:"remeasured_repeat,omitempty"`
	// Replaced names the workloads whose runs are all a later part's
	// (Replace): rows whose earlier runs measured something else, with
	// ReplacedBy the command that measured them.
	Replaced   []string `json:"replaced,omitempty"`
	ReplacedBy string   `json:"replaced_by,omitempty"`
	// Added names the rows a later part (Replace) measured that the base
	// did not have, with AddedBy the command that measured them.
	Added   []string `json:"added,omitempty"`
	AddedBy string   `json:"added_by,omitempty"`
}

// Run names the measurement: its date and command, and the command that
// replaced some of its rows.
func (m Meta) Run() string {
	s := m.Date.Format(time.RFC3339) + " — " + m.Command
	if len(m.Replaced) > 0 {
		s += fmt.Sprintf("; %d rows replaced by `%s`", len(m.Replaced), m.ReplacedBy)
	}
	if len(m.Added) > 0 {
		s += fmt.Sprintf("; %d rows added by `%s`", len(m.Added), m.AddedBy)
	}
	return s
}

// RunResult is one run of one cell.
type RunResult struct {
	Step
	Ops       int64   `json:"ops"`
	Ranges    int64   `json:"ranges"`
	Seconds   float64 `json:"seconds"`
	OpsPerSec float64 `json:"ops_per_sec"`
	// CPU figures as workload.Result defines them.
	CPUSeconds      float64 `json:"cpu_seconds"`
	CPUShare        float64 `json:"cpu_share"`
	OpsPerCPUSecond float64 `json:"ops_per_cpu_second"`
	// RunQueueShare is workload.Result.RunQueueShare of the attempt kept;
	// Attempts counts the runs the Gate made for this step.
	RunQueueShare float64 `json:"run_queue_share"`
	// OthersShare is workload.Result.OthersShare of the attempt kept
	// (absent from runs before it was measured).
	OthersShare float64 `json:"others_share,omitempty"`
	Attempts    int     `json:"attempts"`
}

// Cell summarizes the runs of one strategy on one workload.
type Cell struct {
	Workload string    `json:"workload"`
	Strategy string    `json:"strategy"`
	Runs     []float64 `json:"runs_ops_per_sec"` // in run order
	Median   float64   `json:"median_ops_per_sec"`
	// SpreadPct is (max − min) / median of the runs, in percent: how far
	// apart repeats landed, to judge whether a margin is noise.
	SpreadPct float64 `json:"spread_pct"`
	// MarginPct is (median − best median) / best median of the workload, in
	// percent: 0 for the best strategy, negative for the others.
	MarginPct float64 `json:"margin_pct"`
	Best      bool    `json:"best"`
	// Tied is set on a strategy other than the best whose median is at
	// least the best strategy's slowest run.
	Tied bool `json:"tied,omitempty"`
	// Medians of the runs' CPU figures: ops per CPU-second is steadier than
	// ops per second when other processes share the machine.
	MedianOpsPerCPUSecond float64 `json:"median_ops_per_cpu_second"`
	MedianCPUShare        float64 `json:"median_cpu_share"`
	MedianRunQueueShare   float64 `json:"median_run_queue_share"`
}

func newMeta(cfg Config) Meta {
	m := Host()
	m.Command = cfg.Command
	m.Note = cfg.Note
	m.Date = time.Now().UTC().Truncate(time.Second)
	m.RunSeconds = cfg.Duration.Seconds()
	m.Repeat = cfg.Repeat
	m.Shards = cfg.Options.Shards
	m.LoadAverageBefore = LoadAverage()
	return m
}

// Host describes the toolchain and machine, the part of Meta that does not
// depend on the run.
func Host() Meta {
	return Meta{
		GoVersion:  runtime.Version(),
		GOOS:       runtime.GOOS,
		GOARCH:     runtime.GOARCH,
		GOMAXPROCS: runtime.GOMAXPROCS(0),
		NumCPU:     runtime.NumCPU(),
		CPUModel:   CPUModel(),
	}
}

// CPUModel returns the first "model name" of /proc/cpuinfo, or "unknown"
// where there is none (other OSes, some ARM kernels).
func CPUModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(name) == "model name" {
			return strings.TrimSpace(value)
		}
	}
	return "unknown"
}

// LoadAverage returns the 1-minute load average from /proc/loadavg, or ""
// where there is none.
func LoadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	first, _, _ := strings.Cut(string(data), " ")
	return first
}

// summarize fills Cells and Best from Runs.
func (r *Results) summarize() {
	r.Cells, r.Best, r.Ties = Summarize(r.Strategies, r.workloadNames(), r.Runs)
}

func (r *Results) workloadNames() []string {
	names := make([]string, len(r.Workloads))
	for i, w := range r.Workloads {
		names[i] = w.Name
	}
	return names
}

// Summarize groups runs into cells, workload-major, takes each cell's
// median, and marks the best strategy per workload with every other
// strategy's margin to it and whether it ties. Cells without runs are left
// out.
func Summarize(strategies, workloads []string, runs []RunResult) (cells []Cell, best map[string]string, ties map[string][]string) {
	best, ties = map[string]string{}, map[string][]string{}
	for _, w := range workloads {
		row := make([]Cell, 0, len(strategies))
		for _, s := range strategies {
			c := Cell{Workload: w, Strategy: s}
			var perCPU, shares, runQueue []float64
			for _, run := range runs {
				if run.Workload == w && run.Strategy == s {
					c.Runs = append(c.Runs, run.OpsPerSec)
					perCPU = append(perCPU, run.OpsPerCPUSecond)
					shares = append(shares, run.CPUShare)
					runQueue = append(runQueue, run.RunQueueShare)
				}
			}
			if len(c.Runs) == 0 {
				continue
			}
			c.Median = median(c.Runs)
			c.MedianOpsPerCPUSecond, c.MedianCPUShare, c.MedianRunQueueShare = median(perCPU), median(shares), median(runQueue)
			if c.Median > 0 {
				c.SpreadPct = 100 * (slices.Max(c.Runs) - slices.Min(c.Runs)) / c.Median
			}
			row = append(row, c)
		}
		if len(row) == 0 {
			continue
		}
		top := 0
		for i, c := range row {
			if c.Median > row[top].Median {
				top = i
			}
		}
		row[top].Best = true
		best[w] = row[top].Strategy
		slowestBest := slices.Min(row[top].Runs)
		for i := range row {
			if row[top].Median > 0 {
				row[i].MarginPct = 100 * (row[i].Median - row[top].Median) / row[top].Median
			}
			if i != top && row[i].Median >= slowestBest {
				row[i].Tied = true
				ties[w] = append(ties[w], row[i].Strategy)
			}
		}
		cells = append(cells, row...)
	}
	return cells, best, ties
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// Cell returns the summary of one cell, if it was run.
func (r *Results) Cell(workloadName, strategyName string) (Cell, bool) {
	for _, c := range r.Cells {
		if c.Workload == workloadName && c.Strategy == strategyName {
			return c, true
		}
	}
	return Cell{}, false
}

// WriteFiles writes results.json and results.md into dir, creating it.
func (r *Results) WriteFiles(dir string) error {
	return resultfile.Write(dir, "results", r, r.WriteMarkdown)
}

// ReadFile loads a results.json written by WriteFiles and recomputes its
// summary from the runs.
func ReadFile(path string) (*Results, error) {
	var r Results
	if err := resultfile.Read(path, "matrix", &r); err != nil {
		return nil, err
	}
	r.summarize()
	return &r, nil
}

// WriteMarkdown renders the throughput table: one row per workload, one
// column per strategy with its median and margin to the best, the best in
// bold.
func (r *Results) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	m := r.Meta
	b.WriteString("# maplab: strategy × workload throughput\n\n")
	if m.Command != "" {
		fmt.Fprintf(&b, "Command: `%s`\n\n", m.Command)
	}
	if m.Note != "" {
		fmt.Fprintf(&b, "Note: %s\n\n", m.Note)
	}
	fmt.Fprintf(&b, "Measured %s with %s %s/%s, GOMAXPROCS=%d (%d CPUs, %s). ",
		m.Date.Format(time.RFC3339), m.GoVersion, m.GOOS, m.GOARCH, m.GOMAXPROCS, m.NumCPU, m.CPUModel)
	fmt.Fprintf(&b, "Each cell: median of %d runs of %gs, runs interleaved round-robin, agent off", m.Repeat, m.RunSeconds)
	if len(m.Remeasured) > 0 {
		fmt.Fprintf(&b, "; the cells of %d workloads (%s) also hold %d later runs of %gs each",
			len(m.Remeasured), strings.Join(m.Remeasured, ", "), m.RemeasuredRepeat, m.RemeasuredSeconds)
	}
	if len(m.Replaced) > 0 {
		fmt.Fprintf(&b, "; the runs of %d workloads (%s) are those of a later run, `%s`",
			len(m.Replaced), strings.Join(m.Replaced, ", "), m.ReplacedBy)
	}
	if len(m.Added) > 0 {
		fmt.Fprintf(&b, "; %d workloads (%s) were added by a later run, `%s`",
			len(m.Added), strings.Join(m.Added, ", "), m.AddedBy)
	}
	b.WriteString(".\n\n")
	b.WriteString("Cells: median operations per second (margin to the workload's best); ≈ marks a strategy whose median reaches ")
	b.WriteString("into the best one's range of runs, which this data cannot tell apart from the best (listed under ties). ")
	b.WriteString("Spread: the largest (max − min)/median over the row's cells, to tell margins from noise. ")
	b.WriteString("Run queue: the largest median share of a cell's run time (× GOMAXPROCS) that maplab's threads spent runnable but ")
	b.WriteString("waiting for a CPU (Linux schedstat): other processes on a loaded machine, and wake-up latency of maplab's own threads ")
	b.WriteString("when Ps go idle and are woken (RWMutex-heavy cells show it even when alone); high values mean a noisy row.\n\n")

	b.WriteString("| workload | " + strings.Join(r.Strategies, " | ") + " | best | ties | spread | run queue |\n")
	b.WriteString("|---|" + strings.Repeat("---:|", len(r.Strategies)) + "---|---|---:|---:|\n")
	for _, name := range r.workloadNames() {
		fmt.Fprintf(&b, "| %s |", name)
		spread, runQueue := 0.0, 0.0
		for _, s := range r.Strategies {
			c, ok := r.Cell(name, s)
			switch {
			case !ok:
				b.WriteString(" – |")
			case c.Best:
				fmt.Fprintf(&b, " **%s** |", formatRate(c.Median))
			case c.Tied:
				fmt.Fprintf(&b, " ≈ %s (%+.0f%%) |", formatRate(c.Median), c.MarginPct)
			default:
				fmt.Fprintf(&b, " %s (%+.0f%%) |", formatRate(c.Median), c.MarginPct)
			}
			spread, runQueue = max(spread, c.SpreadPct), max(runQueue, c.MedianRunQueueShare)
		}
		fmt.Fprintf(&b, " %s | %s | %.0f%% | %.0f%% |\n", r.Best[name], strings.Join(r.Ties[name], ", "), spread, 100*runQueue)
	}

	b.WriteString("\nThe same runs per CPU-second the process used (median ops per CPU-second, and in brackets the median share of ")
	b.WriteString("GOMAXPROCS × wall time the process got: low means Ps idled on locks or other processes took the cores):\n\n")
	b.WriteString("| workload | " + strings.Join(r.Strategies, " | ") + " |\n")
	b.WriteString("|---|" + strings.Repeat("---:|", len(r.Strategies)) + "\n")
	for _, name := range r.workloadNames() {
		fmt.Fprintf(&b, "| %s |", name)
		for _, s := range r.Strategies {
			if c, ok := r.Cell(name, s); ok {
				fmt.Fprintf(&b, " %s (%.2f) |", formatRate(c.MedianOpsPerCPUSecond), c.MedianCPUShare)
			} else {
				b.WriteString(" – |")
			}
		}
		b.WriteString("\n")
	}
	if m.LoadAverageBefore != "" {
		fmt.Fprintf(&b, "\n1-minute load average: %s before, %s after.\n", m.LoadAverageBefore, m.LoadAverageAfter)
	}

	b.WriteString("\nWorkloads:\n\n")
	for _, spec := range r.Workloads {
		fmt.Fprintf(&b, "- %s\n", spec)
	}
	_, err := io.WriteString(w, b.String())
	if err != nil {
		return fmt.Errorf("writing matrix table: %w", err)
	}
	return nil
}

// formatRate prints operations per second with an SI suffix: 12.3M, 456k.
func formatRate(v float64) string {
	switch {
	case v >= 1e9:
		return fmt.Sprintf("%.2fG", v/1e9)
	case v >= 1e6:
		return fmt.Sprintf("%.2fM", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.1fk", v/1e3)
	default:
		return fmt.Sprintf("%.0f", v)
	}
}

// coveredBy checks that every workload of part is one of all's; subset
// is true when part has fewer.
func coveredBy(part, all []workload.Spec) (subset bool, err error) {
	for j, w := range part {
		if !slices.ContainsFunc(all, func(a workload.Spec) bool { return a.Name == w.Name }) {
			return false, fmt.Errorf("workload %q is not in part 1", w.Name)
		}
		if len(part) == len(all) && all[j].Name != w.Name {
			return false, fmt.Errorf("workload %q where part 1 has %q", w.Name, all[j].Name)
		}
	}
	return len(part) < len(all), nil
}

// Merge joins runs of the same matrix taken at different times into one
// result: the runs of each are kept (their rounds renumbered after the
// previous ones'), the summary is recomputed over all of them, and the
// meta says what was merged. Every part must hold the same strategies and
// the first part's workloads, or some of them: a part that re-ran a few
// workloads (longer runs of the noisy rows) adds its runs to their cells,
// and Meta.Remeasured says which.
func Merge(parts ...*Results) (*Results, error) {
	if len(parts) == 0 {
		return nil, fmt.Errorf("merging matrix results: nothing to merge")
	}
	out := &Results{Meta: parts[0].Meta, Strategies: parts[0].Strategies, Workloads: parts[0].Workloads}
	var commands []string
	rounds := 0
	for i, p := range parts {
		if !slices.Equal(p.Strategies, out.Strategies) {
			return nil, fmt.Errorf("merging matrix results: part %d has other strategies than part 1", i+1)
		}
		subset, err := coveredBy(p.Workloads, out.Workloads)
		if err != nil {
			return nil, fmt.Errorf("merging matrix results: part %d: %w", i+1, err)
		}
		last := 0
		for _, r := range p.Runs {
			r.Round += rounds
			last = max(last, r.Round+1)
			out.Runs = append(out.Runs, r)
		}
		rounds = last
		commands = append(commands, p.Meta.Command)
		if p.Meta.Date.After(out.Meta.Date) {
			out.Meta.Date = p.Meta.Date
		}
		if i == 0 {
			continue
		}
		out.Meta.LoadAverageAfter = p.Meta.LoadAverageAfter
		if !subset {
			out.Meta.Repeat += p.Meta.Repeat
			continue
		}
		// A part that re-ran some workloads adds runs to their cells only.
		if out.Meta.RemeasuredSeconds != 0 && out.Meta.RemeasuredSeconds != p.Meta.RunSeconds {
			return nil, fmt.Errorf("merging matrix results: part %d re-ran workloads with %gs runs, an earlier part with %gs", i+1, p.Meta.RunSeconds, out.Meta.RemeasuredSeconds)
		}
		out.Meta.RemeasuredSeconds = p.Meta.RunSeconds
		out.Meta.RemeasuredRepeat += p.Meta.Repeat
		for _, w := range p.Workloads {
			if !slices.Contains(out.Meta.Remeasured, w.Name) {
				out.Meta.Remeasured = append(out.Meta.Remeasured, w.Name)
			}
		}
	}
	out.Meta.Command = strings.Join(commands, " && ")
	out.summarize()
	return out, nil
}

// Replace returns base with every run of the workloads part measured
// swapped for part's, and part's workloads that base lacks added as rows.
// Merge pools runs of the same rows taken at different times; Replace is
// for rows whose earlier runs measured something else — a workload whose
// definition changed — and which must not be pooled, and for new rows of
// the same matrix (a regime the sampled design left out). part must hold
// base's strategies.
func Replace(base, part *Results) (*Results, error) {
	if !slices.Equal(part.Strategies, base.Strategies) {
		return nil, fmt.Errorf("replacing matrix rows: the part has other strategies than the base")
	}
	out := &Results{Meta: base.Meta, Strategies: base.Strategies, Workloads: slices.Clone(base.Workloads)}
	out.Meta.Replaced, out.Meta.Added = slices.Clone(base.Meta.Replaced), slices.Clone(base.Meta.Added)
	measured := part.workloadNames()
	for _, r := range base.Runs {
		if !slices.Contains(measured, r.Workload) {
			out.Runs = append(out.Runs, r)
		}
	}
	out.Runs = append(out.Runs, part.Runs...)
	// Each list keeps the command of every part that touched it: a base
	// that is itself the product of a Replace keeps its provenance.
	credit := func(list *[]string, by *string, name string) {
		if !slices.Contains(*list, name) {
			*list = append(*list, name)
		}
		if !strings.Contains(*by, part.Meta.Command) {
			*by = strings.TrimPrefix(*by+"` and `"+part.Meta.Command, "` and `")
		}
	}
	for _, w := range part.Workloads {
		if slices.ContainsFunc(base.Workloads, func(b workload.Spec) bool { return b.Name == w.Name }) {
			credit(&out.Meta.Replaced, &out.Meta.ReplacedBy, w.Name)
			continue
		}
		out.Workloads = append(out.Workloads, w)
		credit(&out.Meta.Added, &out.Meta.AddedBy, w.Name)
	}
	// The header's date stays the base's: most rows were measured then.
	out.summarize()
	return out, nil
}
