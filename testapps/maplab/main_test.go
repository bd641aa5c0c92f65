package main

import (
	"fmt"

	"encoding/json"
	"flag"
	"github.com/contendr/contendr/testapps/maplab/costcheck"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
)

func TestChooseWorkload(t *testing.T) {
	tests := []struct {
		args      []string
		wantName  string
		wantReads float64
	}{
		{args: nil, wantName: "read-heavy", wantReads: 0.9},
		{args: []string{"-workload", "write-heavy"}, wantName: "write-heavy", wantReads: 0.1},
		{args: []string{"-reads", "0.75"}, wantName: "reads-0.75", wantReads: 0.75},
		{args: []string{"-workload", "churn", "-reads", "0.4"}, wantName: "churn-reads-0.4", wantReads: 0.4},
	}
	for _, tt := range tests {
		fs := flag.NewFlagSet("test", flag.ContinueOnError)
		name := fs.String("workload", "read-heavy", "")
		reads := fs.Float64("reads", -1, "")
		if err := fs.Parse(tt.args); err != nil {
			t.Fatal(err)
		}
		spec, err := chooseWorkload(fs, *name, *reads)
		if err != nil {
			t.Fatalf("%v: %v", tt.args, err)
		}
		if spec.Name != tt.wantName || spec.Reads != tt.wantReads {
			t.Errorf("%v: got %s with reads %g, want %s with %g", tt.args, spec.Name, spec.Reads, tt.wantName, tt.wantReads)
		}
	}
}

func TestSplitList(t *testing.T) {
	all := []string{"a", "b"}
	for _, tt := range []struct {
		in   string
		want []string
	}{{"", all}, {"all", all}, {"b, a,", []string{"b", "a"}}} {
		if got := splitList(tt.in, all); !slices.Equal(got, tt.want) {
			t.Errorf("splitList(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// TestProgram builds maplab and runs it as a user would, briefly, with the
// agent on its own port and with JSON output.
func TestProgram(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the program")
	}
	bin := buildMaplab(t)
	for _, args := range [][]string{
		{"-strategy", "legacy", "-workload", "write-heavy", "-keys", "1000", "-goroutines", "4", "-duration", "300ms", "-interval", "100ms", "-listen", "127.0.0.1:0", "-json"},
		{"-strategy", "sharded", "-reads", "0.5", "-keys", "1000", "-duration", "100ms", "-agent=false", "-listen", "127.0.0.1:0", "-json"},
	} {
		out, err := exec.Command(bin, args...).Output()
		if err != nil {
			t.Fatalf("maplab %v: %v", args, err)
		}
		var report runReport
		if err := json.Unmarshal(out, &report); err != nil {
			t.Fatalf("maplab %v printed something other than JSON: %v\n%s", args, err, out)
		}
		if report.Result.Ops == 0 || report.GOMAXPROCS < 1 || report.Strategy != args[1] {
			t.Errorf("maplab %v reported %+v", args, report)
		}
	}
	if err := exec.Command(bin, "-strategy", "btree", "-duration", "10ms", "-agent=false").Run(); err == nil {
		t.Error("maplab accepted an unknown strategy")
	}
}

// buildMaplab builds the program as a user would: without the race
// detector, whose instrumentation of every atomic and lock would change
// what the measurements measure.
func buildMaplab(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "maplab")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		t.Fatalf("building maplab: %v", err)
	}
	return bin
}

// TestCostRanksLikeThroughput is the short version of `maplab cost`: the
// lock-based strategies on the write-heavy mix at 64 goroutines and at one
// per P, interleaved, three rounds. It always asserts that the read-only
// RWMutex map's readers show CPU in lock primitives with an empty mutex
// profile. In the contended regime the cost's claim is about — 64
// goroutines, where the Mutex map convoys, at least 1.5× slower than
// xsync's — it also asserts that the Mutex map reads clearly costlier than
// xsync's, and that whenever a split map (sharded, xsync) is at least 1.5×
// faster than a single-lock one its cost is not more than 5% of capacity
// higher (unless the slower one's GC CPU accounts for the gap). Orderings
// only, never times.
//
// At one goroutine per P there is no convoy, and the cost has a known blind
// spot there (DESIGN.md, "Contention cost"): the lock maps leave about 44%
// of the capacity unused in futex hand-offs, a woken waiter runnable and
// waiting for a thread, which the runtime counts as runnable time, not as
// lock wait (wait share about 1%). On hosts where xsync's map then runs
// 1.5× faster, its bucket-lock CPU reads above their cost (CI, 2026-12-03:
// xsync 1.51× faster than rwmutex at 24.6% against 9.3%; on the committed
// quiet run, results/cost.md, the lock maps were the faster ones). Those
// pairs are logged, not asserted.
//
// What is logged, not asserted, and why: this test runs while other test
// packages share the two cores. Then the convoy does not form, every map
// runs at what the scheduler gives it, and the faster map is the one doing
// more lock operations a second, so more lock CPU (CI, 2026-12-01: mutex
// 1.57× faster than sharded at 22.8% against 17.1%). And xsync's Map, which
// allocates an entry per write, ran up to 2× slower than the locked maps
// under that load while spending less in locks — a per-operation cost the
// contention cost does not claim to measure. The full run on a quiet machine
// (results/cost.md) holds every pair, xsync's included, with no inversion.
func TestCostRanksLikeThroughput(t *testing.T) {
	if testing.Short() {
		t.Skip("builds maplab and measures for about half a minute")
	}
	bin := buildMaplab(t)
	out, err := exec.Command(bin, "cost", "-seconds", "0.8", "-repeat", "3", "-workloads", "write-heavy", "-goroutines", "64,0", "-json").Output()
	if err != nil {
		t.Fatalf("maplab cost: %v", err)
	}
	var res costcheck.Results
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("maplab cost printed something other than JSON: %v\n%s", err, out)
	}
	table := ""
	for _, c := range res.Cells {
		table += fmt.Sprintf("\n  %s %2d goroutines %-8s %6.2fM ops/s  cost %5.1f%% (%.1f–%.1f)  GC %4.1f%%  CPU used %3.0f%%  run queue %4.1f%%",
			c.Workload, c.Goroutines, c.Strategy, c.OpsPerSec/1e6, 100*c.Cost, 100*c.CostMin, 100*c.CostMax, 100*c.GCShare, 100*c.CPUShare, 100*c.RunQueueShare)
	}
	cost, ops, runQueue := map[string]float64{}, map[string]float64{}, map[string]float64{}
	for _, c := range res.Cells {
		if c.Goroutines == 64 {
			cost[c.Strategy], ops[c.Strategy], runQueue[c.Strategy] = c.Cost, c.OpsPerSec, c.RunQueueShare
		}
	}
	// Orderings are asserted only when the runs had the cores to
	// themselves. xsync's map never sleeps on a lock, so its threads wait
	// for a CPU only when other processes hold the cores (about 1% alone,
	// 37–59% beside other work on this 2-core machine); and the Mutex
	// map must convoy, 4× slower than xsync's on a quiet machine — when the
	// cores are starved every map runs at what the scheduler gives it.
	quiet := runQueue["xsync"] <= 0.10
	contended := quiet && ops["xsync"] >= 1.5*ops["mutex"]
	if !contended {
		t.Logf("the cores were shared (xsync's threads waited for a CPU %.0f%% of its runs; mutex %.2fM, xsync %.2fM ops/s): orderings logged, not asserted",
			100*runQueue["xsync"], ops["mutex"]/1e6, ops["xsync"]/1e6)
	}
	if contended && cost["mutex"] < cost["xsync"]+0.05 {
		t.Errorf("at 64 goroutines the Mutex map (%.2fM ops/s) costs %.1f%%, not clearly above xsync's %.1f%% (%.2fM ops/s)",
			ops["mutex"]/1e6, 100*cost["mutex"], 100*cost["xsync"], ops["xsync"]/1e6)
	}
	// The pairs the advice makes: one lock (mutex, rwmutex) to a split or
	// lock-free map (sharded, xsync). Following it must never raise the
	// cost. Between two single-lock maps the cost can tie while one runs
	// 2× faster: a RWMutex convoy leaves half the capacity off-CPU (which
	// the cost counts) but runs the rest on one warm core, while the Mutex
	// map spends its CPU in lock code and moves the map between cores —
	// a per-operation difference the cost does not measure, logged.
	// Between two split maps, xsync allocates per write: logged too.
	splits := func(s string) bool { return s == "sharded" || s == "xsync" }
	for _, inv := range res.Inversions {
		advised := splits(inv.Faster) && !splits(inv.Slower)
		if !contended || !advised || inv.Goroutines != 64 {
			t.Logf("%s at %d goroutines: %s is %.2f× faster than %s with a cost of %.1f%% against %.1f%% (logged, see above)",
				inv.Workload, inv.Goroutines, inv.Faster, inv.Speedup, inv.Slower, 100*inv.FasterCost, 100*inv.SlowerCost)
			continue
		}
		if inv.ExplainedByGC {
			t.Logf("%s at %d goroutines: %s is %.2f× faster than %s with a cost of %.1f%% against %.1f%%, accounted for by GC CPU (%.1f%% against %.1f%%)",
				inv.Workload, inv.Goroutines, inv.Faster, inv.Speedup, inv.Slower, 100*inv.FasterCost, 100*inv.SlowerCost, 100*inv.FasterGC, 100*inv.SlowerGC)
			continue
		}
		t.Errorf("%s at %d goroutines: %s is %.2f× faster than %s but its cost is %.1f%% against %.1f%%",
			inv.Workload, inv.Goroutines, inv.Faster, inv.Speedup, inv.Slower, 100*inv.FasterCost, 100*inv.SlowerCost)
	}
	// The off-CPU half: the RWMutex map at 64 goroutines uses about half
	// of its Ps on a quiet machine, and the cost must count what it left.
	for _, c := range res.Cells {
		if contended && c.Strategy == "rwmutex" && c.Goroutines == 64 && c.CPUShare < 0.8 && c.Cost < 1-c.CPUShare {
			t.Errorf("the RWMutex map used %.0f%% of the CPU capacity but its cost is %.1f%%: the Ps its threads left off-CPU are not counted",
				100*c.CPUShare, 100*c.Cost)
		}
	}
	// The readers' window needs CPU samples of its own: beside the
	// parallel suite (run queue 60–70%, 30% of the CPU used, CI of
	// 2026-12-07) it found no component at all. It is asserted with the
	// orderings, when the cores were the test's (CI runs it again alone).
	if r := res.Readers; r.Component == "" || r.SyncCPUShare < 0.10 || r.MutexDelaySeconds != 0 {
		if quiet {
			t.Errorf("read-only RWMutex map: %+v, want its component with at least 10%% of the CPU in RLock/RUnlock and no mutex delay", r)
		} else {
			t.Logf("read-only RWMutex map on shared cores: %+v (logged, not asserted)", r)
		}
	}
	t.Log("cells:" + table) // with -v, the run's figures whatever the regime
}
