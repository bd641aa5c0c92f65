package matrix_test

import (
	"bytes"
	"context"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/contendr/contendr/internal/maplab/workload"
	"github.com/contendr/contendr/testapps/maplab/matrix"
)

func TestPlanInterleavesRounds(t *testing.T) {
	strategies := []string{"a", "b", "c"}
	workloads := []string{"x", "y"}
	const repeat = 4
	plan := matrix.Plan(strategies, workloads, repeat)
	perRound := len(strategies) * len(workloads)
	if len(plan) != repeat*perRound {
		t.Fatalf("plan has %d steps, want %d", len(plan), repeat*perRound)
	}
	firsts := map[string]bool{}
	for round := range repeat {
		steps := plan[round*perRound : (round+1)*perRound]
		seen := map[matrix.Step]bool{}
		for _, s := range steps {
			if s.Round != round {
				t.Fatalf("step %+v sits in round %d's block", s, round)
			}
			seen[matrix.Step{Workload: s.Workload, Strategy: s.Strategy}] = true
		}
		if len(seen) != perRound {
			t.Errorf("round %d runs %d distinct cells, want every one of %d once", round, len(seen), perRound)
		}
		firsts[steps[0].Strategy] = true
	}
	for i := 1; i < len(plan); i++ {
		if plan[i].Workload == plan[i-1].Workload && plan[i].Strategy == plan[i-1].Strategy {
			t.Errorf("steps %d and %d run the same cell back to back: %+v", i-1, i, plan[i])
		}
	}
	if len(firsts) != len(strategies) {
		t.Errorf("rounds start with strategies %v; the rotation should let each go first", firsts)
	}
}

func TestSummarize(t *testing.T) {
	run := func(w, s string, opsPerSec float64) matrix.RunResult {
		return matrix.RunResult{Step: matrix.Step{Workload: w, Strategy: s}, OpsPerSec: opsPerSec}
	}
	runs := []matrix.RunResult{
		run("x", "a", 100), run("x", "b", 200), run("x", "a", 300), run("x", "b", 150), run("x", "a", 200),
		run("x", "b", 250),
		run("y", "a", 50), run("y", "b", 40),
	}
	cells, best, ties := matrix.Summarize([]string{"a", "b"}, []string{"x", "y", "z"}, runs)
	want := []matrix.Cell{
		{Workload: "x", Strategy: "a", Median: 200, SpreadPct: 100, MarginPct: 0, Best: true},
		{Workload: "x", Strategy: "b", Median: 200, SpreadPct: 50, MarginPct: 0, Tied: true},
		{Workload: "y", Strategy: "a", Median: 50, Best: true},
		{Workload: "y", Strategy: "b", Median: 40, MarginPct: -20},
	}
	if len(cells) != len(want) {
		t.Fatalf("got %d cells, want %d (workload z has no runs): %+v", len(cells), len(want), cells)
	}
	for i, w := range want {
		c := cells[i]
		if c.Workload != w.Workload || c.Strategy != w.Strategy || c.Best != w.Best || c.Tied != w.Tied ||
			!near(c.Median, w.Median) || !near(c.SpreadPct, w.SpreadPct) || !near(c.MarginPct, w.MarginPct) {
			t.Errorf("cell %d = %+v, want %+v", i, c, w)
		}
	}
	// On a tie the first strategy listed wins, so the choice is stable.
	if best["x"] != "a" || best["y"] != "a" {
		t.Errorf("best = %v, want x:a y:a", best)
	}
	// b's median (200) reaches a's slowest run (100); y's b (40) is below a's only run (50).
	if len(ties) != 1 || len(ties["x"]) != 1 || ties["x"][0] != "b" {
		t.Errorf("ties = %v, want x:[b]", ties)
	}
	if _, ok := best["z"]; ok {
		t.Errorf("best names a strategy for workload z, which has no runs")
	}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

// TestRunWritesTable runs a tiny real matrix and checks the files' shape.
func TestRunWritesTable(t *testing.T) {
	var specs []workload.Spec
	for _, name := range []string{workload.ReadHeavy, workload.WriteHeavy} {
		spec, err := workload.Named(name)
		if err != nil {
			t.Fatal(err)
		}
		spec.Keys, spec.Goroutines = 200, 2
		specs = append(specs, spec)
	}
	var progress bytes.Buffer
	res, err := matrix.Run(context.Background(), matrix.Config{
		Strategies: []string{"mutex", "cow", "legacy"},
		Workloads:  specs,
		Duration:   5 * time.Millisecond,
		Repeat:     2,
		Progress:   &progress,
		Command:    "go run ./testapps/maplab matrix -test",
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(res.Runs), 2*2*3; got != want {
		t.Fatalf("%d runs, want %d", got, want)
	}
	if got := strings.Count(progress.String(), "\n"); got != len(res.Runs) {
		t.Errorf("%d progress lines for %d runs", got, len(res.Runs))
	}
	if len(res.Cells) != 6 || len(res.Best) != 2 {
		t.Fatalf("%d cells and %d best entries, want 6 and 2", len(res.Cells), len(res.Best))
	}
	for _, c := range res.Cells {
		if len(c.Runs) != 2 || c.Median <= 0 || c.MarginPct > 0 {
			t.Errorf("cell %+v: want 2 runs, a positive median and a margin ≤ 0", c)
		}
	}

	dir := t.TempDir()
	if err := res.WriteFiles(dir); err != nil {
		t.Fatal(err)
	}
	back, err := matrix.ReadFile(filepath.Join(dir, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(back.Cells) != len(res.Cells) || back.Meta.GOMAXPROCS != res.Meta.GOMAXPROCS {
		t.Errorf("results.json did not round-trip: %+v", back.Meta)
	}
	var md bytes.Buffer
	if err := res.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	table := md.String()
	for _, want := range []string{
		"Command: `go run ./testapps/maplab matrix -test`",
		"| workload | mutex | cow | legacy | best | ties | spread | run queue |",
		"| read-heavy |", "| write-heavy |", "GOMAXPROCS=",
	} {
		if !strings.Contains(table, want) {
			t.Errorf("markdown lacks %q:\n%s", want, table)
		}
	}
	if got := strings.Count(table, "**"); got != 2*2 {
		t.Errorf("markdown bolds %d values, want one best per workload:\n%s", got/2, table)
	}
}

func TestRunRejectsBadConfig(t *testing.T) {
	spec := workload.Custom(0.5)
	tests := []struct {
		name string
		cfg  matrix.Config
	}{
		{"unknown strategy", matrix.Config{Strategies: []string{"btree"}, Workloads: []workload.Spec{spec}, Duration: time.Millisecond, Repeat: 1}},
		{"no workloads", matrix.Config{Strategies: []string{"mutex"}, Duration: time.Millisecond, Repeat: 1}},
		{"zero repeat", matrix.Config{Strategies: []string{"mutex"}, Workloads: []workload.Spec{spec}, Duration: time.Millisecond}},
		{"zero duration", matrix.Config{Strategies: []string{"mutex"}, Workloads: []workload.Spec{spec}, Repeat: 1}},
	}
	for _, tt := range tests {
		if _, err := matrix.Run(context.Background(), tt.cfg); err == nil {
			t.Errorf("%s: Run returned no error", tt.name)
		}
	}
}

// TestGateRepeatsDisturbedRuns feeds the gate runs whose run-queue share
// falls, and checks it keeps the least disturbed one within its retries.
func TestGateRepeatsDisturbedRuns(t *testing.T) {
	tests := []struct {
		name         string
		gate         matrix.Gate
		runQueue     []float64
		wantAttempts int
		wantRunQueue float64
	}{
		{"clean first run", matrix.Gate{MaxRunQueue: 0.1, Retries: 3, Budget: time.Minute}, []float64{0.05}, 1, 0.05},
		{"retried until clean", matrix.Gate{MaxRunQueue: 0.1, Retries: 3, Budget: time.Minute}, []float64{0.5, 0.3, 0.08}, 3, 0.08},
		{"retries exhausted, least disturbed kept", matrix.Gate{MaxRunQueue: 0.1, Retries: 2, Budget: time.Minute}, []float64{0.5, 0.2, 0.4}, 3, 0.2},
		{"no budget", matrix.Gate{MaxRunQueue: 0.1, Retries: 3}, []float64{0.5}, 1, 0.5},
		{"zero gate", matrix.Gate{}, []float64{0.9}, 1, 0.9},
	}
	for _, tt := range tests {
		calls := 0
		run := func() (workload.Result, error) {
			r := workload.Result{RunQueueShare: tt.runQueue[calls]}
			calls++
			return r, nil
		}
		r, attempts, err := tt.gate.Run(context.Background(), nil, run)
		if err != nil {
			t.Fatal(err)
		}
		if attempts != tt.wantAttempts || r.RunQueueShare != tt.wantRunQueue {
			t.Errorf("%s: %d attempts keeping run queue %.2f, want %d keeping %.2f", tt.name, attempts, r.RunQueueShare, tt.wantAttempts, tt.wantRunQueue)
		}
	}
}

// TestGateJudgesOtherProcessesFirst: where a run measured other processes'
// CPU, the gate repeats by it and not by the run-queue share, which also
// holds the process's own wake-ups (a lock-based map alone on the machine
// reads 35–42%); without that measure it falls back to the run queue.
func TestGateJudgesOtherProcessesFirst(t *testing.T) {
	gate := matrix.Gate{MaxOthers: 0.3, MaxRunQueue: 0.25, Retries: 3, Budget: time.Minute}
	alone := workload.Result{RunQueueShare: 0.4, OthersShare: 0.02, OthersKnown: true}
	calls := 0
	_, attempts, err := gate.Run(context.Background(), nil, func() (workload.Result, error) { calls++; return alone, nil })
	if err != nil || attempts != 1 {
		t.Errorf("a lock-based run alone on the machine took %d attempts (err %v), want 1: its run queue is its own", attempts, err)
	}
	shared := []workload.Result{
		{RunQueueShare: 0.5, OthersShare: 0.6, OthersKnown: true},
		{RunQueueShare: 0.6, OthersShare: 0.1, OthersKnown: true},
	}
	calls = 0
	r, attempts, _ := gate.Run(context.Background(), nil, func() (workload.Result, error) { calls++; return shared[calls-1], nil })
	if attempts != 2 || r.OthersShare != 0.1 {
		t.Errorf("beside a busy neighbour: %d attempts keeping others %.2f, want 2 keeping 0.10", attempts, r.OthersShare)
	}
	unknown := []workload.Result{{RunQueueShare: 0.5}, {RunQueueShare: 0.1}}
	calls = 0
	r, attempts, _ = gate.Run(context.Background(), nil, func() (workload.Result, error) { calls++; return unknown[calls-1], nil })
	if attempts != 2 || r.RunQueueShare != 0.1 {
		t.Errorf("without other processes' CPU: %d attempts keeping run queue %.2f, want 2 keeping 0.10", attempts, r.RunQueueShare)
	}
}
