package accuracy

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/contendr/contendr/analyze"
	"github.com/contendr/contendr/internal/maplab/strategy"
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
	var progress bytes.Buffer
	res, err := Run(context.Background(), Config{
		Matrix:    m,
		Workloads: []string{"write-heavy"},
		// Locked maps: sync.Map and the read/dirty map run ~20x slower
		// under the race detector, too slow for the normal suite.
		Strategies: []string{strategy.NameMutex, strategy.NameRWMutex},
		Duration:   time.Second,
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
	for _, want := range []string{"Command: `go test", "GOMAXPROCS=", "load average", res.Totals(), "| write-heavy | mutex |"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("accuracy.md lacks %q", want)
		}
	}
}
