package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/perf/benchmath"

	"github.com/contendr/contendr/agent"
)

// Settings say how long and how often the harness measures.
type Settings struct {
	// Rounds is how many times every implementation is measured per case,
	// interleaved: round r runs the implementations in an order rotated by
	// r, so that a noisy neighbour hits them all alike.
	Rounds int `json:"rounds"`
	// Benchtime is the -test.benchtime of one measured run.
	Benchtime time.Duration `json:"benchtime_ns"`
	// Profile is how long the current implementation runs under the agent
	// for the window contendr analyzes.
	Profile time.Duration `json:"profile_ns"`
}

// Throughput is one implementation's measured ops/s in one case.
type Throughput struct {
	Impl Impl `json:"impl"`
	// Strategy is contendr's name for the implementation.
	Strategy string `json:"strategy"`
	// Median, Lo and Hi are the median ops/s over the rounds and its 95%
	// confidence interval (benchmath, no distribution assumed).
	Median float64   `json:"ops_per_sec"`
	Lo     float64   `json:"ops_per_sec_lo"`
	Hi     float64   `json:"ops_per_sec_hi"`
	Runs   []float64 `json:"runs"`
}

// Spread is the confidence interval's half-width as a share of the median.
func (t Throughput) Spread() float64 {
	if t.Median == 0 {
		return 0
	}
	return (t.Hi - t.Lo) / 2 / t.Median
}

// benchtimeFlag is testing's own flag: testing.Benchmark reads it.
const benchtimeFlag = "test.benchtime"

// withBenchtime runs f with -test.benchtime set to value ("300ms", "5000x").
func withBenchtime(value string, f func()) {
	fl := flag.Lookup(benchtimeFlag)
	if fl == nil {
		testing.Init()
		fl = flag.Lookup(benchtimeFlag)
	}
	old := fl.Value.String()
	if err := fl.Value.Set(value); err != nil {
		panic(fmt.Sprintf("setting -%s=%s: %v", benchtimeFlag, value, err))
	}
	defer fl.Value.Set(old)
	f()
}

// runOnce measures one implementation once and returns its ops/s.
func runOnce(c Case, impl Impl, benchtime string) (float64, error) {
	var res testing.BenchmarkResult
	withBenchtime(benchtime, func() {
		res = testing.Benchmark(func(b *testing.B) { c.Workload.Bench(b, impl, c.Regime) })
	})
	if res.N == 0 || res.T <= 0 {
		return 0, fmt.Errorf("%s on %s: the benchmark failed (no iterations)", c.Name(), impl)
	}
	return float64(res.N) / res.T.Seconds(), nil
}

// measure runs every implementation s.Rounds times, interleaved.
func measure(c Case, s Settings) ([]Throughput, error) {
	runs := make(map[Impl][]float64, len(Impls))
	for round := range s.Rounds {
		for i := range Impls {
			impl := Impls[(i+round)%len(Impls)]
			ops, err := runOnce(c, impl, s.Benchtime.String())
			if err != nil {
				return nil, err
			}
			runs[impl] = append(runs[impl], ops)
		}
	}
	out := make([]Throughput, 0, len(Impls))
	for _, impl := range Impls {
		sum := benchmath.AssumeNothing.Summary(benchmath.NewSample(runs[impl], &benchmath.DefaultThresholds), 0.95)
		if math.IsInf(sum.Lo, 0) || math.IsInf(sum.Hi, 0) {
			// Too few rounds for a 95% interval of the median (benchmath
			// needs 6): quote the range of the runs instead.
			sum.Lo, sum.Hi = slices.Min(runs[impl]), slices.Max(runs[impl])
		}
		out = append(out, Throughput{Impl: impl, Strategy: strategyOf(impl), Median: sum.Center, Lo: sum.Lo, Hi: sum.Hi, Runs: runs[impl]})
	}
	return out, nil
}

// profileWindow runs impl under contendr's agent for about s.Profile (a
// fixed iteration count from its measured ops/s) and saves the agent's
// window as a bundle at path: mutex, block, allocs and CPU profiles plus
// runtime/metrics, what a service embedding the agent would have.
func profileWindow(ctx context.Context, c Case, impl Impl, opsPerSec float64, s Settings, path string) error {
	iterations := max(1, int(opsPerSec*s.Profile.Seconds()))
	a, err := agent.Start(agent.Config{
		Interval:       time.Hour,
		CPUProfileDuty: time.Hour,
		Windows:        1,
		DisableAlerts:  true,
		Labels:         map[string]string{"service": "mapbench"},
		Logger:         slog.New(slog.DiscardHandler),
	})
	if err != nil {
		return fmt.Errorf("starting the agent: %w", err)
	}
	defer a.Stop()
	if _, err := runOnce(c, impl, strconv.Itoa(iterations)+"x"); err != nil {
		return err
	}
	w, err := a.CollectNow(ctx)
	if err != nil {
		return fmt.Errorf("closing the agent's window: %w", err)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := w.Encode(f); err != nil {
		f.Close()
		return fmt.Errorf("writing the window bundle %s: %w", path, err)
	}
	return f.Close()
}

// Report is the part of contendr's JSON report (schema contendr.report/v1)
// the harness reads. Workload stays raw: the harness quotes it, never
// interprets it.
type Report struct {
	Target struct {
		GoVersion  string `json:"go_version"`
		GOMAXPROCS int    `json:"gomaxprocs"`
	} `json:"target"`
	Verdict string `json:"verdict"`
	Lock    struct {
		Cost      float64 `json:"cost"`
		CostKnown bool    `json:"cost_known"`
	} `json:"lock"`
	Recommendations []Recommendation `json:"recommendations"`
}

// Recommendation is one of the report's map-strategy recommendations.
type Recommendation struct {
	Component   string          `json:"component"`
	Current     string          `json:"current"`
	Recommended string          `json:"recommended"`
	Rule        string          `json:"rule"`
	Confidence  float64         `json:"confidence"`
	Reasons     []string        `json:"reasons"`
	Workload    json.RawMessage `json:"workload,omitempty"`
}

// analyzeBundle runs `contendr analyze BUNDLE --format json`, the CLI a
// user would run on a saved window.
func analyzeBundle(ctx context.Context, contendr, bundle string) (*Report, error) {
	cmd := exec.CommandContext(ctx, contendr, "analyze", bundle, "--format", "json")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// Exit code 3 only says a finding crossed --fail-on, which is not set.
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("contendr analyze %s: %w: %s", bundle, err, bytes.TrimSpace(stderr.Bytes()))
	}
	var r Report
	if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
		return nil, fmt.Errorf("reading contendr's JSON report on %s: %w", bundle, err)
	}
	return &r, nil
}

// buildCLI builds cmd/contendr into dir, with extra go build flags: the
// harness judges the CLI of the checkout it runs in.
func buildCLI(ctx context.Context, dir string, flags ...string) (string, error) {
	path := filepath.Join(dir, "contendr")
	args := append(append([]string{"build"}, flags...), "-o", path, "github.com/contendr/contendr/cmd/contendr")
	cmd := exec.CommandContext(ctx, "go", args...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building the contendr CLI: %w: %s", err, bytes.TrimSpace(out))
	}
	return path, nil
}

// adviceFor picks the recommendation about the map under test: the one
// whose component names the implementation's type, else the only one in
// this package, else none (contendr advised nothing about the map).
func adviceFor(r *Report, impl Impl) (Recommendation, bool) {
	named := regexp.MustCompile(`(^|[^A-Za-z0-9_])` + regexp.QuoteMeta(string(impl)) + `($|[^A-Za-z0-9_])`)
	var ours []Recommendation
	for _, rec := range r.Recommendations {
		if named.MatchString(rec.Component) {
			return rec, true
		}
		if strings.HasPrefix(rec.Component, "main.") {
			ours = append(ours, rec)
		}
	}
	if len(ours) == 1 {
		return ours[0], true
	}
	return Recommendation{}, false
}
