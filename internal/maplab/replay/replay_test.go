package replay

import (
	"context"
	"encoding/json"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/contendr/contendr/canary"
	"github.com/contendr/contendr/internal/maplab/workload"
)

func TestPlanInterleaves(t *testing.T) {
	var got []string
	for _, s := range Plan([]string{"a", "b"}, 4) {
		got = append(got, s.Strategy)
	}
	if want := []string{"a", "b", "b", "a", "a", "b", "b", "a"}; !slices.Equal(got, want) {
		t.Errorf("two strategies run %v, want AB BA AB BA %v", got, want)
	}
	plan := Plan([]string{"a", "b", "c"}, 3)
	first := map[string]bool{}
	for round := 1; round <= 3; round++ {
		var in []string
		for _, s := range plan {
			if s.Round == round {
				in = append(in, s.Strategy)
			}
		}
		slices.Sort(in)
		if !slices.Equal(in, []string{"a", "b", "c"}) {
			t.Errorf("round %d runs %v, want every strategy once", round, in)
		}
		first[plan[(round-1)*3].Strategy] = true
	}
	if len(first) != 3 {
		t.Errorf("the same strategy opened more than one round: %v", plan)
	}
}

func TestSummarize(t *testing.T) {
	five := Summarize([]float64{5, 1, 4, 2, 3})
	if five.Median != 3 || five.IntervalKnown || five.Lo != 1 || five.Hi != 5 || five.N != 5 {
		t.Errorf("five runs: %+v, want median 3 and min–max in place of an interval", five)
	}
	if five.Spread != 2.0/3 {
		t.Errorf("spread %g, want half the range over the median, 2/3", five.Spread)
	}
	six := Summarize([]float64{10, 11, 12, 13, 14, 15})
	if !six.IntervalKnown || six.Lo > six.Median || six.Hi < six.Median {
		t.Errorf("six runs: %+v, want a 95%% interval around the median", six)
	}
	if (Summarize(nil) != Summary{}) {
		t.Error("no runs must summarize to zero")
	}
}

// measured builds a strategy's runs from ops/s values at a given run-queue
// share.
func measured(name string, queue float64, ops ...float64) *Measured {
	m := &Measured{Strategy: name, RunQueueShare: queue, OpsPerSec: Summarize(ops)}
	for i, v := range ops {
		m.Runs = append(m.Runs, RunResult{Round: i + 1, OpsPerSec: v})
	}
	return m
}

func TestJudge(t *testing.T) {
	base := measured("mutex", 0.02, 100, 102, 98, 101, 99, 100)
	for _, tt := range []struct {
		name      string
		candidate *Measured
		baseline  *Measured
		want      Verdict
		reason    string
	}{
		{"three times faster", measured("xsync", 0.02, 300, 310, 290, 305, 295, 300), base, Confirmed, "xsync is faster"},
		{"slower", measured("xsync", 0.02, 50, 52, 48, 51, 49, 50), base, Refuted, "slower"},
		{"faster by less than the minimum gain", measured("xsync", 0.02, 103, 103.5, 102.5, 103.2, 102.8, 103), base, Refuted, "less than the minimum gain"},
		{"the same within tight runs", measured("xsync", 0.02, 100, 101, 99, 100.5, 99.5, 100), base, Refuted, "not measurably faster"},
		{"wide runs overlapping", measured("xsync", 0.02, 60, 180, 90, 150, 110, 130), base, CannotTell, "spread wider"},
		{"too few runs", measured("xsync", 0.02, 300, 310, 290), measured("mutex", 0.02, 100, 101, 99), CannotTell, "smallest p is 0.1"},
		{"a busy machine", measured("xsync", 0.8, 300, 310, 290, 305, 295, 300), base, CannotTell, "machine was busy"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			j := Judge(Compare(tt.baseline, tt.candidate, DefaultAlpha), 0.05)
			if j.Verdict != tt.want || !strings.Contains(j.Reason, tt.reason) {
				t.Errorf("got %s (%s), want %s mentioning %q", j.Verdict, j.Reason, tt.want, tt.reason)
			}
			if (j.Verdict == CannotTell) != (j.Need != "") {
				t.Errorf("verdict %s with need %q: a cannot-tell must say what more to measure, and only it", j.Verdict, j.Need)
			}
		})
	}
}

// TestRun runs the plan for real, briefly, and checks its bookkeeping; it
// asserts no throughput.
func TestRun(t *testing.T) {
	spec, err := workload.Named(workload.Balanced)
	if err != nil {
		t.Fatal(err)
	}
	spec.Keys, spec.Goroutines = 1000, 4
	var seen []Progress
	res, err := Run(context.Background(), Config{Spec: spec, Strategies: []string{"mutex", "xsync"}, Repeat: 2,
		RunDuration: MinRunDuration, Progress: func(p Progress) { seen = append(seen, p) }})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != 4 || seen[3].Run != 4 || seen[3].Runs != 4 {
		t.Errorf("progress %+v, want 4 runs reported in order", seen)
	}
	if len(res.Measured) != 2 || res.Measured[0].Strategy != "mutex" || res.Measured[1].Strategy != "xsync" {
		t.Fatalf("measured %+v, want mutex then xsync", res.Measured)
	}
	for _, m := range res.Measured {
		if len(m.Runs) != 2 || m.OpsPerSec.N != 2 || m.OpsPerSec.Median <= 0 {
			t.Errorf("%s: %d runs, summary %+v; want 2 runs with throughput", m.Strategy, len(m.Runs), m.OpsPerSec)
		}
	}
	if res.Spec.Duration != MinRunDuration || res.Fastest() == "" {
		t.Errorf("spec duration %s, fastest %q", res.Spec.Duration, res.Fastest())
	}
}

func TestRunInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	spec, _ := workload.Named(workload.Balanced)
	_, err := Run(ctx, Config{Spec: spec, Strategies: []string{"mutex", "xsync"}, Repeat: 1, RunDuration: time.Second})
	if err == nil || !strings.Contains(err.Error(), "interrupted") {
		t.Errorf("got %v, want an interruption error", err)
	}
}

func TestConfigErrors(t *testing.T) {
	spec, _ := workload.Named(workload.Balanced)
	for _, tt := range []struct {
		cfg  Config
		want string
	}{
		{Config{Spec: spec, Strategies: []string{"mutex"}, Repeat: 1, RunDuration: time.Second}, "at least two"},
		{Config{Spec: spec, Strategies: []string{"mutex", "btree"}, Repeat: 1, RunDuration: time.Second}, `unknown strategy "btree"`},
		{Config{Spec: spec, Strategies: []string{"mutex", "mutex"}, Repeat: 1, RunDuration: time.Second}, "listed twice"},
		{Config{Spec: spec, Strategies: []string{"mutex", "xsync"}, Repeat: 0, RunDuration: time.Second}, "repeat"},
		{Config{Spec: spec, Strategies: []string{"mutex", "xsync"}, Repeat: 1, RunDuration: time.Millisecond}, "too short"},
		{Config{Spec: workload.Spec{Name: "x", Reads: 2}, Strategies: []string{"mutex", "xsync"}, Repeat: 1, RunDuration: time.Second}, "outside [0, 1]"},
	} {
		if _, err := Run(context.Background(), tt.cfg); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: got %v, want an error mentioning %q", tt.cfg, err, tt.want)
		}
	}
}

func TestMinRunsToCompare(t *testing.T) {
	if got := canary.WindowsNeeded(DefaultAlpha); got != MinRunsToCompare {
		t.Errorf("MinRunsToCompare %d, but the test needs %d runs a side at α=%g", MinRunsToCompare, got, DefaultAlpha)
	}
}

// TestCompareStalledBaseline: a baseline that made no progress in a run
// leaves the favourable edge unbounded, and the comparison still encodes.
func TestCompareStalledBaseline(t *testing.T) {
	c := Compare(measured("cow", 0.01, 0, 0, 0, 0, 0, 0), measured("xsync", 0.01, 5, 6, 5, 6, 5, 6), DefaultAlpha)
	if c.RatioHi != nil {
		t.Errorf("ratio hi %v, want unbounded", *c.RatioHi)
	}
	if _, err := json.Marshal(c); err != nil {
		t.Error(err)
	}
	same := Compare(measured("a", 0, 1, 1, 1, 1), measured("b", 0, 1, 1, 1, 1), DefaultAlpha)
	if math.IsNaN(same.P) || same.Differ() {
		t.Errorf("identical runs: p=%g", same.P)
	}
}
