package accuracy

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/contendr/contendr/analyze"
	"github.com/contendr/contendr/internal/maplab/strategy"
	"github.com/contendr/contendr/internal/maplab/workload"
	"github.com/contendr/contendr/testapps/maplab/matrix"
)

// groundTruth is a one-workload matrix: sharded best at 10M ops/s, xsync
// 5% behind, rwmutex 30% behind but tied (its runs reach the best's),
// mutex 40% behind.
func groundTruth() *matrix.Results {
	cell := func(s string, median float64) matrix.Cell {
		return matrix.Cell{Workload: "balanced", Strategy: s, Median: median}
	}
	return &matrix.Results{
		Cells: []matrix.Cell{cell("sharded", 10e6), cell("xsync", 9.5e6), cell("rwmutex", 7e6), cell("mutex", 6e6)},
		Best:  map[string]string{"balanced": "sharded"},
		Ties:  map[string][]string{"balanced": {"rwmutex"}},
	}
}

func TestScore(t *testing.T) {
	m := groundTruth()
	tests := []struct {
		name        string
		current     string
		rec         *analyze.Recommendation // nil: no recommendation named the component
		wantAdvised string
		wantCorrect bool
		wantRegret  float64
	}{
		{"advises the best", "mutex", &analyze.Recommendation{Recommended: analyze.StrategySharded}, "sharded", true, 1},
		{"advises one within 10%", "mutex", &analyze.Recommendation{Recommended: analyze.StrategyXsync}, "xsync", true, 10e6 / 9.5e6},
		{"advises a tie 30% behind", "mutex", &analyze.Recommendation{Recommended: analyze.StrategyRWMutex}, "rwmutex", true, 10e6 / 7e6},
		{"keeps the best", "sharded", &analyze.Recommendation{Recommended: analyze.StrategyKeep}, "sharded", true, 1},
		{"keeps a strategy 40% behind", "mutex", &analyze.Recommendation{Recommended: analyze.StrategyKeep}, "mutex", false, 10e6 / 6e6},
		{"no recommendation counts as keep", "mutex", nil, "mutex", false, 10e6 / 6e6},
		{"advises one 40% behind", "rwmutex", &analyze.Recommendation{Recommended: analyze.StrategyMutex}, "mutex", false, 10e6 / 6e6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			advised, err := advisedStrategy(tt.current, tt.rec)
			if err != nil {
				t.Fatal(err)
			}
			if advised != tt.wantAdvised {
				t.Fatalf("advised %q, want %q", advised, tt.wantAdvised)
			}
			v, err := Score(m, "balanced", advised)
			if err != nil {
				t.Fatal(err)
			}
			if v.Correct != tt.wantCorrect || math.Abs(v.Regret-tt.wantRegret) > 1e-9 {
				t.Errorf("Score = correct %v, regret %.4f (%s); want correct %v, regret %.4f", v.Correct, v.Regret, v.Why, tt.wantCorrect, tt.wantRegret)
			}
		})
	}
}

func TestScoreRefusesWhatTheMatrixLacks(t *testing.T) {
	m := groundTruth()
	if _, err := Score(m, "churn", "mutex"); err == nil {
		t.Error("scoring on a workload the matrix lacks: want an error")
	}
	if _, err := Score(m, "balanced", "cow"); err == nil {
		t.Error("scoring a strategy the matrix did not measure: want an error")
	}
	if _, err := advisedStrategy("mutex", &analyze.Recommendation{Recommended: analyze.StrategyUnknown}); err == nil {
		t.Error("advice with no maplab strategy: want an error")
	}
}

func TestAdvisedLegacyName(t *testing.T) {
	got, err := advisedStrategy("mutex", &analyze.Recommendation{Recommended: analyze.StrategySyncMapLegacy})
	if err != nil || got != strategy.NameLegacy {
		t.Errorf("syncmap-legacy advice = %q, %v; want maplab's %q", got, err, strategy.NameLegacy)
	}
}

func TestPlanSkipsTheBest(t *testing.T) {
	cases, err := Plan(Config{Matrix: groundTruth()})
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) != 0 {
		t.Errorf("a matrix without workload specs or strategies listed: got %d cases", len(cases))
	}
	m := groundTruth()
	m.Strategies = []string{"mutex", "rwmutex", "sharded", "xsync"}
	cases, err = Plan(Config{Matrix: m, Workloads: []string{"balanced"}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range cases {
		got = append(got, c.Current)
	}
	if strings.Join(got, ",") != "mutex,rwmutex,xsync" {
		t.Errorf("cases = %v, want every strategy but the best (sharded)", got)
	}
	if _, err := Plan(Config{Matrix: m, Workloads: []string{"no-such-workload"}}); err == nil {
		t.Error("a workload the matrix lacks: want an error")
	}
}

// TestShortRun is the accuracy run's short version: one workload, two
// strategies, 1s each, in-process with the agent, scored on the committed
// matrix. It checks the structure, not the accuracy: two cases on a loaded
// machine say nothing about it.
func TestShortRun(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two 1s workloads with the agent")
	}
	m, err := matrix.ReadFile(filepath.Join("..", "results", "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	const workloadName = "write-heavy@g32-none-int-v0"
	// Two locked maps that are not the workload's best: sync.Map and the
	// read/dirty map run ~20x slower under the race detector, too slow
	// for the normal suite.
	var strategies []string
	for _, s := range []string{strategy.NameMutex, strategy.NameRWMutex, strategy.NameSharded} {
		if s != m.Best[workloadName] && len(strategies) < 2 {
			strategies = append(strategies, s)
		}
	}
	var progress bytes.Buffer
	windows := filepath.Join(t.TempDir(), "windows")
	res, err := Run(context.Background(), Config{
		Matrix:     m,
		Workloads:  []string{workloadName},
		Strategies: strategies,
		Duration:   time.Second,
		Windows:    windows,
		Progress:   &progress,
		Command:    "go test ./testapps/maplab/accuracy -run TestShortRun",
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Cases) != 2 {
		t.Fatalf("got %d cases, want 2", len(res.Cases))
	}
	for _, c := range res.Cases {
		if !c.Found {
			t.Errorf("%s on %s: no recommendation named the component %s", c.Current, c.Workload, c.Component)
		}
		if !strings.Contains(c.Component, "strategy.(*") {
			t.Errorf("%s: component %q is not the strategy's type", c.Current, c.Component)
		}
		if c.Rule == "" || c.Reason == "" || c.Advised == "" || c.Regret < 1 {
			t.Errorf("%s: incomplete case %+v", c.Current, c)
		}
		if string(c.DetectedCurrent) != c.Current {
			t.Errorf("%s: analyze saw the current strategy as %q", c.Current, c.DetectedCurrent)
		}
	}
	if lines := strings.Count(progress.String(), "\n"); lines != 2 {
		t.Errorf("progress has %d lines, want one per case:\n%s", lines, progress.String())
	}
	if res.AccuracyPct != 100*float64(res.Correct)/2 || res.MeanRegret < 1 {
		t.Errorf("totals: accuracy %.1f%% with %d correct, mean regret %.2f", res.AccuracyPct, res.Correct, res.MeanRegret)
	}

	// The kept windows judged again by the same rules give the same advice.
	again, err := Rescore(res, m, windows)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range again.Cases {
		was := res.Cases[i]
		if c.Window == "" || c.Advised != was.Advised || c.Rule != was.Rule || c.Reason != was.Reason || c.Correct != was.Correct || c.OpsPerSec != was.OpsPerSec {
			t.Errorf("re-scored %s on %s: %s by %s (%v), first %s by %s (%v)", c.Current, c.Workload, c.Advised, c.Rule, c.Correct, was.Advised, was.Rule, was.Correct)
		}
	}
	if again.Correct != res.Correct {
		t.Errorf("re-scored %d correct, first %d", again.Correct, res.Correct)
	}
	lost := *res
	lost.Cases = []Case{res.Cases[0]}
	lost.Cases[0].Window = ""
	if _, err := Rescore(&lost, m, windows); err == nil || !strings.Contains(err.Error(), "-windows") {
		t.Errorf("a case without a kept window: %v, want an error that says to run with -windows", err)
	}

	dir := t.TempDir()
	if err := res.WriteFiles(dir); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "accuracy.json"))
	if err != nil {
		t.Fatal(err)
	}
	var back Results
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if len(back.Cases) != 2 || back.Meta.GOMAXPROCS == 0 || back.Meta.GoVersion == "" || back.Meta.Command == "" {
		t.Errorf("accuracy.json lacks cases or meta: %+v", back.Meta)
	}
	md, err := os.ReadFile(filepath.Join(dir, "accuracy.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Command: `go test", "GOMAXPROCS=", "load average", res.Totals(), "| " + workloadName + " | " + strategies[0] + " |"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("accuracy.md lacks %q", want)
		}
	}
}

// TestPlanSample: a sample keeps about its fraction of the cases, the
// same ones every time, and a different seed chooses others.
func TestPlanSample(t *testing.T) {
	m := &matrix.Results{Strategies: []string{"mutex", "rwmutex", "sharded", "xsync"}, Best: map[string]string{}}
	for i := range 100 {
		w := fmt.Sprintf("w%d", i)
		m.Workloads = append(m.Workloads, workload.Spec{Name: w})
		m.Best[w] = "xsync"
		for _, s := range m.Strategies {
			m.Cells = append(m.Cells, matrix.Cell{Workload: w, Strategy: s, Median: 1})
		}
	}
	all, err := Plan(Config{Matrix: m})
	if err != nil || len(all) != 300 {
		t.Fatalf("full plan: %d cases, %v", len(all), err)
	}
	a, _ := Plan(Config{Matrix: m, Sample: 0.3, SampleSeed: 1})
	b, _ := Plan(Config{Matrix: m, Sample: 0.3, SampleSeed: 1})
	c, _ := Plan(Config{Matrix: m, Sample: 0.3, SampleSeed: 2})
	if len(a) < 60 || len(a) > 120 {
		t.Errorf("a 30%% sample of 300 cases kept %d", len(a))
	}
	if !reflect.DeepEqual(a, b) {
		t.Error("the same seed chose different cases")
	}
	if reflect.DeepEqual(a, c) {
		t.Error("another seed chose the same cases")
	}
}
