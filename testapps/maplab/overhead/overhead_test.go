package overhead_test

import (
	"bytes"
	"context"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/contendr/contendr/internal/maplab/workload"
	"github.com/contendr/contendr/testapps/maplab/overhead"
)

func TestParseRates(t *testing.T) {
	got, err := overhead.ParseRates("1:1, 10:10000")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != (overhead.Rate{1, 1}) || got[1] != (overhead.Rate{10, 10000}) {
		t.Fatalf("ParseRates = %v", got)
	}
	for _, bad := range []string{"", "10", "0:1", "1:-5", "a:b"} {
		if _, err := overhead.ParseRates(bad); err == nil {
			t.Errorf("ParseRates(%q) returned no error", bad)
		}
	}
}

func TestPlanPairsEveryRateWithOffInEachRound(t *testing.T) {
	rates := []overhead.Rate{{1, 1}, {10, 10000}}
	const cases, repeat = 2, 3
	plan := overhead.Plan(cases, rates, repeat)
	if len(plan) != repeat*cases*(len(rates)+1) {
		t.Fatalf("plan has %d steps", len(plan))
	}
	type key struct {
		round, c int
		rate     string
	}
	seen := map[key]int{}
	firstOff := map[int]bool{}
	for i, s := range plan {
		rate := "off"
		if s.Rate != nil {
			rate = s.Rate.String()
		}
		seen[key{s.Round, s.Case, rate}]++
		if i%(len(rates)+1) == 0 {
			firstOff[s.Round] = s.Rate == nil
		}
	}
	for round := range repeat {
		for c := range cases {
			for _, rate := range []string{"off", "1:1", "10:10000"} {
				if n := seen[key{round, c, rate}]; n != 1 {
					t.Errorf("round %d case %d rate %s runs %d times, want once", round, c, rate, n)
				}
			}
		}
	}
	if firstOff[0] == firstOff[1] {
		t.Errorf("rounds 0 and 1 both start with agent off=%v; the order should rotate", firstOff[0])
	}
}

// TestRunWithAgent runs a tiny benchmark with the real agent and checks the
// table and that the agent put the profiling rates back.
func TestRunWithAgent(t *testing.T) {
	spec := workload.Custom(0.5)
	spec.Keys, spec.Goroutines = 100, 4
	res, err := overhead.Run(context.Background(), overhead.Config{
		Cases:    []overhead.Case{{Strategy: "mutex", Workload: spec}},
		Rates:    []overhead.Rate{{1, 1}, {100, 100000}},
		Duration: 20 * time.Millisecond,
		Repeat:   2,
		Interval: 10 * time.Millisecond,
		Command:  "overhead -test",
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := runtime.SetMutexProfileFraction(-1); got != 0 {
		t.Errorf("mutex profile fraction after the benchmark = %d, want 0 restored", got)
	}
	if len(res.Samples) != 2*3 || len(res.Rows) != 2 {
		t.Fatalf("%d samples and %d rows, want 6 and 2", len(res.Samples), len(res.Rows))
	}
	for _, row := range res.Rows {
		if len(row.Ratios) != 2 || row.Ratio <= 0 || row.OffMedian <= 0 || row.OnMedian <= 0 {
			t.Errorf("row %+v: want two positive paired ratios and medians", row)
		}
		if row.CostPct < 0 || row.CostPct > 100 || row.CostPct != row.SamplingPct+row.AgentPct {
			t.Errorf("row %+v: CPU cost shares out of range or not adding up", row)
		}
	}
	dir := t.TempDir()
	if err := res.WriteFiles(dir); err != nil {
		t.Fatal(err)
	}
	back, err := overhead.ReadFile(filepath.Join(dir, "overhead.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(back.Rows) != len(res.Rows) || back.Rows[0].Ratio != res.Rows[0].Ratio {
		t.Errorf("overhead.json did not round-trip: %+v", back.Rows)
	}
	var md bytes.Buffer
	if err := res.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Command: `overhead -test`", "| mutex reads-0.5 | 1:1 |", "| mutex reads-0.5 | 100:100000 |", "Rates with a median throughput loss ≤ 1%", "Rates whose profiled CPU cost at the default interval is ≤ 1%", "| mutex reads-0.5 | 1:1 | "} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("markdown lacks %q:\n%s", want, md.String())
		}
	}
}

func TestWithinLoss(t *testing.T) {
	res := &overhead.Results{
		Rates: []overhead.Rate{{1, 1}, {10, 10000}, {100, 100000}},
		Rows: []overhead.Row{
			{Case: "a", Rate: overhead.Rate{1, 1}, LossPct: 4},
			{Case: "a", Rate: overhead.Rate{10, 10000}, LossPct: 0.5},
			{Case: "b", Rate: overhead.Rate{10, 10000}, LossPct: 1.0},
			{Case: "a", Rate: overhead.Rate{100, 100000}, LossPct: -0.3},
			{Case: "b", Rate: overhead.Rate{100, 100000}, LossPct: 1.5},
		},
	}
	got := res.WithinLoss(1)
	if len(got) != 1 || got[0] != (overhead.Rate{10, 10000}) {
		t.Fatalf("WithinLoss(1) = %v, want [10:10000]", got)
	}
	for i := range res.Rows {
		res.Rows[i].CostAtDefaultIntervalPct = res.Rows[i].LossPct // same thresholds, other field
	}
	if got := res.WithinCPU(1); len(got) != 1 || got[0] != (overhead.Rate{10, 10000}) {
		t.Fatalf("WithinCPU(1) = %v, want [10:10000]", got)
	}
}
