package accuracy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"time"

	"github.com/contendr/contendr/agent"
	"github.com/contendr/contendr/analyze"
	"github.com/contendr/contendr/internal/maplab/strategy"
	"github.com/contendr/contendr/internal/maplab/workload"
	"github.com/contendr/contendr/testapps/maplab/matrix"
	"github.com/contendr/contendr/window"
)

// Config says which cases to run.
type Config struct {
	// Matrix is the ground truth: its best strategies pick the cases, its
	// medians score them, and its workload specs (keys, goroutines) are
	// the ones run.
	Matrix *matrix.Results
	// Workloads and Strategies narrow the cases; empty means all the
	// matrix holds.
	Workloads  []string
	Strategies []string
	// Sample, in (0, 1), keeps that fraction of the planned cases, chosen
	// by a hash of workload and strategy (SampleSeed), so that a run too
	// long for the machine covers every part of the matrix evenly and the
	// same cases are chosen each time; 0 or 1 keeps all.
	Sample     float64
	SampleSeed uint64
	// Duration is how long each case runs with the agent; the window's CPU
	// profile covers all of it, so analyze sees the read/write mix.
	Duration time.Duration
	// Windows, when set, is a directory each case's window is written to
	// as a bundle (Case.Window), so that Rescore can judge the same
	// windows again with other rules.
	Windows string
	// Progress, when set, receives one line per case as it finishes.
	Progress io.Writer
	// Command is quoted in the results' header; Note, under it, says what
	// the command line does not (how the machine was set up).
	Command string
	Note    string
}

// Case is one workload run under one strategy and the advice it got.
type Case struct {
	Workload string `json:"workload"`
	// Current is the maplab strategy the case ran; Advised the one the
	// advice leaves it on (Current when the advice is to keep).
	Current string `json:"current"`
	Advised string `json:"advised"`
	// Found is false when no recommendation named the strategy's
	// component: the case then counts as "keep".
	Found     bool   `json:"found"`
	Component string `json:"component,omitempty"`
	// Recommended, DetectedCurrent, Rule, Confidence, Reason and Mix are
	// copied from the recommendation, as analyze wrote them.
	Recommended     analyze.Strategy `json:"recommended,omitempty"`
	DetectedCurrent analyze.Strategy `json:"detected_current,omitempty"`
	Rule            string           `json:"rule,omitempty"`
	Confidence      float64          `json:"confidence"`
	Reason          string           `json:"reason,omitempty"`
	Mix             string           `json:"mix,omitempty"`
	// RegimeClass is the maplab regime analyze placed the window in.
	RegimeClass string           `json:"regime_class,omitempty"`
	ReadShare   float64          `json:"read_share"`
	Contention  analyze.Severity `json:"contention,omitempty"`
	GrowthShare float64          `json:"growth_share"`
	GrowthKinds []string         `json:"growth_kinds,omitempty"`
	// OpsPerSec is the throughput of this run, agent on (for reference:
	// scoring uses the matrix).
	OpsPerSec float64 `json:"ops_per_sec"`
	// Window is the bundle the case's window was written to, relative to
	// Config.Windows; empty when none was kept.
	Window string `json:"window,omitempty"`
	Verdict
}

// Results is one accuracy run.
type Results struct {
	Meta      matrix.Meta `json:"meta"`
	MatrixRun string      `json:"matrix_run"` // the ground truth's date and command
	Cases     []Case      `json:"cases"`
	Correct   int         `json:"correct"`
	// AccuracyPct is Correct over the cases, in percent; MeanRegret the
	// arithmetic mean of the cases' Regret.
	AccuracyPct float64 `json:"accuracy_pct"`
	MeanRegret  float64 `json:"mean_regret"`
}

// Plan lists the cases cfg asks for: every chosen workload × every chosen
// strategy the matrix measured there, except the workload's best.
func Plan(cfg Config) ([]Case, error) {
	if cfg.Matrix == nil {
		return nil, errors.New("planning the accuracy run: no matrix results")
	}
	workloads := cfg.Workloads
	if len(workloads) == 0 {
		for _, spec := range cfg.Matrix.Workloads {
			workloads = append(workloads, spec.Name)
		}
	}
	strategies := cfg.Strategies
	if len(strategies) == 0 {
		strategies = cfg.Matrix.Strategies
	}
	var cases []Case
	for _, w := range workloads {
		best, ok := cfg.Matrix.Best[w]
		if !ok {
			return nil, fmt.Errorf("planning the accuracy run: the matrix has no results for workload %q", w)
		}
		for _, s := range strategies {
			if !strategy.Valid(s) {
				return nil, fmt.Errorf("planning the accuracy run: unknown strategy %q", s)
			}
			if _, ok := cfg.Matrix.Cell(w, s); !ok || s == best {
				continue
			}
			if !sampled(cfg, w, s) {
				continue
			}
			cases = append(cases, Case{Workload: w, Current: s})
		}
	}
	return cases, nil
}

// sampled tells whether the case (w, s) is in cfg's sample: its FNV-1a
// hash, seeded, below Sample of the hash range.
func sampled(cfg Config, w, s string) bool {
	if cfg.Sample <= 0 || cfg.Sample >= 1 {
		return true
	}
	h := fnv.New64a()
	fmt.Fprintf(h, "%d/%s/%s", cfg.SampleSeed, w, s)
	return float64(h.Sum64()) < cfg.Sample*float64(^uint64(0))
}

// Run runs every case of the plan in this process, one after another, each
// with its own agent, and scores the advice.
func Run(ctx context.Context, cfg Config) (*Results, error) {
	if cfg.Duration < time.Second {
		return nil, fmt.Errorf("running the accuracy cases: duration %v is too short for a CPU profile to see the mix (want ≥1s)", cfg.Duration)
	}
	cases, err := Plan(cfg)
	if err != nil {
		return nil, err
	}
	res := &Results{Meta: matrix.Host(), MatrixRun: cfg.Matrix.Meta.Run()}
	res.Meta.Command, res.Meta.Note = cfg.Command, cfg.Note
	res.Meta.RunSeconds = cfg.Duration.Seconds()
	res.Meta.Repeat = 1
	res.Meta.Shards = cfg.Matrix.Meta.Shards
	res.Meta.LoadAverageBefore = matrix.LoadAverage()
	started := time.Now()
	for i, c := range cases {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("accuracy run interrupted after %d of %d cases: %w", i, len(cases), err)
		}
		if err := runCase(ctx, cfg, &c); err != nil {
			return nil, err
		}
		res.Cases = append(res.Cases, c)
		if cfg.Progress != nil {
			left := time.Since(started) / time.Duration(i+1) * time.Duration(len(cases)-i-1)
			fmt.Fprintf(cfg.Progress, "[%d/%d, %s left] %s\n", i+1, len(cases), left.Round(time.Second), c.line())
		}
	}
	res.Meta.Date = started.UTC()
	res.Meta.LoadAverageAfter = matrix.LoadAverage()
	res.total()
	return res, nil
}

func (r *Results) total() {
	r.Correct, r.AccuracyPct, r.MeanRegret = 0, 0, 0
	if len(r.Cases) == 0 {
		return
	}
	var regret float64
	for _, c := range r.Cases {
		if c.Correct {
			r.Correct++
		}
		regret += c.Regret
	}
	r.AccuracyPct = 100 * float64(r.Correct) / float64(len(r.Cases))
	r.MeanRegret = regret / float64(len(r.Cases))
}

// runCase runs c's workload under c's strategy with the agent, analyzes
// the window and scores the advice for the strategy's component.
func runCase(ctx context.Context, cfg Config, c *Case) error {
	spec, ok := specOf(cfg.Matrix, c.Workload)
	if !ok {
		return fmt.Errorf("running %s on %s: the matrix has no spec for the workload", c.Current, c.Workload)
	}
	spec.Duration = 0 // until the window closes
	m, err := workload.NewMap(c.Current, spec, strategy.Options{Shards: cfg.Matrix.Meta.Shards})
	if err != nil {
		return fmt.Errorf("running %s on %s: %w", c.Current, c.Workload, err)
	}
	// workload.Run prefills the map itself; the agent starts once that is
	// done, so that the window measures the workload, not the setup.
	filled := &fillSignal{Map: m, done: make(chan struct{})}
	runCtx, stopWorkload := context.WithCancel(ctx)
	defer stopWorkload()
	results := make(chan workload.Result, 1)
	go func() {
		r, _ := workload.Run(runCtx, filled, spec)
		results <- r
	}()
	select {
	case <-filled.done:
	case <-ctx.Done():
		return fmt.Errorf("prefilling %s for %s: %w", c.Current, c.Workload, ctx.Err())
	}

	// The heap profile publishes a GC cycle late: collect twice so that
	// the previous case's and the prefill's allocations are counted
	// before the agent takes its baseline, not in this window.
	runtime.GC()
	runtime.GC()
	a, err := agent.Start(agent.Config{
		Interval:       24 * time.Hour, // the case closes its one window itself
		CPUProfileDuty: cfg.Duration,
		Labels:         map[string]string{"service": "maplab-accuracy", "strategy": c.Current, "workload": c.Workload},
		Logger:         slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		return fmt.Errorf("starting the agent for %s on %s: %w", c.Current, c.Workload, err)
	}
	defer a.Stop()
	wait(ctx, cfg.Duration)
	w, err := a.CollectNow(ctx)
	stopWorkload()
	c.OpsPerSec = (<-results).OpsPerSec
	if err != nil {
		return fmt.Errorf("collecting the window of %s on %s: %w", c.Current, c.Workload, err)
	}
	if err := a.Stop(); err != nil {
		return fmt.Errorf("stopping the agent after %s on %s: %w", c.Current, c.Workload, err)
	}

	if cfg.Windows != "" {
		if err := keepWindow(cfg.Windows, c, w); err != nil {
			return err
		}
	}
	return judge(cfg.Matrix, c, m, w)
}

// judge analyzes c's window w and scores the advice for m's component
// against the matrix.
func judge(mx *matrix.Results, c *Case, m strategy.Map, w *window.Window) error {
	report, err := analyze.Analyze(analyze.Input{Window: w, Target: "maplab accuracy (in-process)"}, analyze.DefaultThresholds())
	if err != nil {
		return fmt.Errorf("analyzing %s on %s: %w", c.Current, c.Workload, err)
	}
	rec := recommendationFor(report, m)
	*c = Case{Workload: c.Workload, Current: c.Current, OpsPerSec: c.OpsPerSec, Window: c.Window}
	c.take(rec, report)
	if c.Advised, err = advisedStrategy(c.Current, rec); err != nil {
		return fmt.Errorf("scoring %s on %s: %w", c.Current, c.Workload, err)
	}
	c.Verdict, err = Score(mx, c.Workload, c.Advised)
	return err
}

// keepWindow writes w as a bundle under dir and names it in c.
func keepWindow(dir string, c *Case, w *window.Window) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("keeping the window of %s on %s: %w", c.Current, c.Workload, err)
	}
	var buf bytes.Buffer
	if err := w.Encode(&buf); err != nil {
		return fmt.Errorf("encoding the window of %s on %s: %w", c.Current, c.Workload, err)
	}
	c.Window = strings.NewReplacer("@", "_", "/", "_").Replace(c.Workload) + "_" + c.Current + ".zip"
	if err := os.WriteFile(filepath.Join(dir, c.Window), buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("keeping the window of %s on %s: %w", c.Current, c.Workload, err)
	}
	return nil
}

// Rescore judges the windows an earlier run kept (under dir) with this
// build's rules against the matrix mx, measuring nothing: it separates a
// change of rules from the noise of a new measurement. Cases without a
// kept window are an error, not skipped, so that the figure covers the
// same cases.
func Rescore(earlier *Results, mx *matrix.Results, dir string) (*Results, error) {
	res := &Results{Meta: earlier.Meta, MatrixRun: mx.Meta.Run()}
	for _, c := range earlier.Cases {
		if c.Window == "" {
			return nil, fmt.Errorf("re-scoring %s on %s: the earlier run kept no window (run it with -windows)", c.Current, c.Workload)
		}
		data, err := os.ReadFile(filepath.Join(dir, c.Window))
		if err != nil {
			return nil, fmt.Errorf("re-scoring %s on %s: %w", c.Current, c.Workload, err)
		}
		w, err := window.DecodeBundle(data)
		if err != nil {
			return nil, fmt.Errorf("re-scoring %s on %s: %s: %w", c.Current, c.Workload, c.Window, err)
		}
		spec, ok := specOf(mx, c.Workload)
		if !ok {
			return nil, fmt.Errorf("re-scoring %s on %s: the matrix has no spec for the workload", c.Current, c.Workload)
		}
		m, err := workload.NewMap(c.Current, spec, strategy.Options{Shards: mx.Meta.Shards})
		if err != nil {
			return nil, fmt.Errorf("re-scoring %s on %s: %w", c.Current, c.Workload, err)
		}
		if err := judge(mx, &c, m, w); err != nil {
			return nil, err
		}
		res.Cases = append(res.Cases, c)
	}
	res.total()
	return res, nil
}

// Add appends the cases of fresh, a run of other workloads, to r and
// totals them again: a re-scored run whose changed workloads ran anew.
func (r *Results) Add(fresh *Results) {
	r.Cases = append(r.Cases, fresh.Cases...)
	r.MatrixRun = fresh.MatrixRun
	r.total()
}

// fillSignal passes every operation to Map and closes done once
// workload.Prefill has filled it (through Fill, which Prefill prefers).
type fillSignal struct {
	strategy.Map
	done chan struct{}
}

func (f *fillSignal) Fill(entries map[int]int) {
	defer close(f.done)
	if filler, ok := f.Map.(strategy.Filler); ok {
		filler.Fill(entries)
		return
	}
	for k, v := range entries {
		f.Map.Store(k, v)
	}
}

func wait(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

func specOf(m *matrix.Results, name string) (workload.Spec, bool) {
	for _, s := range m.Workloads {
		if s.Name == name {
			return s, true
		}
	}
	return workload.Spec{}, false
}

// componentsOf are the names profiles give m's component: its receiver
// type, e.g. "(*RWMap)" for strategy.(*RWMap).Store. XSyncMap's methods
// are one-line calls that the compiler inlines, and its locks are taken
// inside xsync's own methods, so its component is xsync's Map.
func componentsOf(m strategy.Map) []string {
	t := reflect.TypeOf(m)
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	names := []string{"(*" + t.Name() + ")"}
	switch m.(type) {
	case *strategy.XSyncMap, *strategy.StringXSyncMap:
		names = append(names, "github.com/puzpuzpuz/xsync/")
	}
	return names
}

// recommendationFor finds the advice for m's component (the heaviest, when
// several match), or nil.
func recommendationFor(r *analyze.Report, m strategy.Map) *analyze.Recommendation {
	for i := range r.Recommendations {
		for _, name := range componentsOf(m) {
			if strings.Contains(r.Recommendations[i].Component, name) {
				return &r.Recommendations[i]
			}
		}
	}
	return nil
}

// take copies what the recommendation says into c.
func (c *Case) take(rec *analyze.Recommendation, r *analyze.Report) {
	if rec == nil {
		var others []string
		for _, o := range r.Recommendations {
			others = append(others, o.Component)
		}
		c.Reason = fmt.Sprintf("no recommendation named the component (lock fraction %.1f%%; recommendations for %v): counted as keep",
			100*r.Lock.Fraction, others)
		return
	}
	c.Found = true
	c.Component = rec.Component
	c.Recommended = rec.Recommended
	c.DetectedCurrent = rec.Current
	c.Rule = rec.Rule
	c.Confidence = rec.Confidence
	if len(rec.Reasons) > 0 {
		c.Reason = rec.Reasons[0]
	}
	c.Mix = rec.Workload.Mix
	c.RegimeClass = rec.Workload.RegimeClass
	c.ReadShare = rec.Workload.ReadShare
	c.Contention = rec.Workload.Contention
	c.GrowthShare = rec.Workload.GrowthShare
	c.GrowthKinds = rec.Workload.GrowthKinds
}

// line is a case in one line of progress output.
func (c *Case) line() string {
	mark := "MISS"
	if c.Correct {
		mark = "ok"
	}
	advice := string(c.Recommended)
	if !c.Found {
		advice = "keep (not found)"
	}
	return fmt.Sprintf("%-11s %-7s → %-16s conf %.2f  %-4s regret %.2f  %s  [%s, mix %s %.0f%% reads, regime %s] %s",
		c.Workload, c.Current, advice, c.Confidence, mark, c.Regret, c.Why, c.Rule, c.Mix, c.ReadShare*100, c.RegimeClass, shorten(c.Reason, 140))
}

func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
