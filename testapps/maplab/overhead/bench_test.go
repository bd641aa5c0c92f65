package overhead_test

import (
	"context"
	"flag"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/contendr/contendr/agent"
	"github.com/contendr/contendr/internal/maplab/strategy"
	"github.com/contendr/contendr/internal/maplab/workload"
	"github.com/contendr/contendr/testapps/maplab/overhead"
	"github.com/contendr/contendr/window"
)

var (
	benchRun      = flag.Duration("overhead.run", 2*time.Second, "BenchmarkAgentOverhead: length of one workload run")
	benchInterval = flag.Duration("overhead.interval", time.Second, "BenchmarkAgentOverhead: the agent's window interval (the default is 10s; shorter over-represents collections)")
)

// benchRounds counts calls of a benchmark in this process, and
// -overhead.round numbers the process: every other round runs the agent
// (or its CPU profile) first, so that neither side always follows the
// other. -count N does not interleave the sides: the testing package calls
// a benchmark with sub-benchmarks once and runs each sub-benchmark N times
// in a row, so a machine that gets busier halfway loads one side only. For
// side-by-side rounds run the test binary once per round:
//
//	go test -c -o overhead.test ./testapps/maplab/overhead
//	for i in $(seq 10); do ./overhead.test -test.run '^$' -test.bench CPUDutyOverhead -test.benchtime 1x -overhead.round $i; done > duty.txt
var (
	benchRounds int
	benchRound  = flag.Int("overhead.round", 0, "this process's round: odd rounds run the agent side first")
)

// onFirst says whether this round runs the "on" side first.
func onFirst() bool {
	first := (benchRounds+*benchRound)%2 == 1
	benchRounds++
	return first
}

// BenchmarkAgentOverhead is the throughput side of the default rates: each
// of overhead's default cases (64 goroutines on one contended map) runs for
// -overhead.run with the agent off and on at the agent's default rates,
// side by side in every round. One iteration is one run; it reports ops/s
// and ops per CPU-second for benchstat to compare (one process per round,
// see benchRounds):
//
//	go test -c -o overhead.test ./testapps/maplab/overhead
//	for i in $(seq 10); do ./overhead.test -test.run '^$' -test.bench AgentOverhead -test.benchtime 1x -overhead.round $i; done > overhead.txt
//	benchstat -col /agent overhead.txt
//
// The agent's CPU profile stays off here; BenchmarkCPUDutyOverhead
// measures it.
func BenchmarkAgentOverhead(b *testing.B) {
	defaults := overhead.Rate{MutexFraction: agent.DefaultMutexProfileFraction, BlockRate: agent.DefaultBlockProfileRate}
	sides := []*overhead.Rate{nil, &defaults}
	if onFirst() {
		sides[0], sides[1] = sides[1], sides[0]
	}
	b.Logf("GOMAXPROCS=%d NumCPU=%d, runs of %s, agent interval %s", runtime.GOMAXPROCS(0), runtime.NumCPU(), *benchRun, *benchInterval)
	for _, c := range overhead.DefaultCases() {
		for _, rate := range sides {
			side := "off"
			if rate != nil {
				side = "on"
			}
			name := fmt.Sprintf("case=%s/agent=%s", strings.ReplaceAll(c.String(), " ", "-"), side)
			b.Run(name, func(b *testing.B) { benchRun1(b, c, rate, overhead.NoCPUProfile) })
		}
	}
}

var benchDuty = flag.Duration("overhead.duty", 0, "BenchmarkCPUDutyOverhead: the agent's CPU profile duty per window when on (0: the whole interval, an upper bound)")

// BenchmarkCPUDutyOverhead is the throughput side of the CPU profile duty
// cycle: each default case runs with the agent at its default rates, its
// CPU profile off and on, side by side in every round (the order
// alternating). On, the profile covers -overhead.duty of every
// -overhead.interval window, by default all of it: with the default 1s
// interval that is ten collections of a CPU profile where the agent's
// defaults have one, and a profile running all the time where they have
// one running DefaultCPUProfileDuty of each 10s, so it bounds the default's
// cost from above. It also reports profiler-%: the share of the on runs'
// CPU samples (the agent's own windows' profiles) spent turning the
// profiler's signal records into a profile.
//
//	go test -c -o overhead.test ./testapps/maplab/overhead
//	for i in $(seq 10); do ./overhead.test -test.run '^$' -test.bench CPUDutyOverhead -test.benchtime 1x -overhead.round $i; done > duty.txt
//	benchstat -col /duty duty.txt
func BenchmarkCPUDutyOverhead(b *testing.B) {
	defaults := overhead.Rate{MutexFraction: agent.DefaultMutexProfileFraction, BlockRate: agent.DefaultBlockProfileRate}
	duty := *benchDuty
	if duty <= 0 {
		duty = *benchInterval
	}
	sides := []time.Duration{overhead.NoCPUProfile, duty}
	if onFirst() {
		sides[0], sides[1] = sides[1], sides[0]
	}
	b.Logf("GOMAXPROCS=%d NumCPU=%d, runs of %s, agent interval %s, CPU profile duty %s when on",
		runtime.GOMAXPROCS(0), runtime.NumCPU(), *benchRun, *benchInterval, duty)
	for _, c := range overhead.DefaultCases() {
		for _, cpuDuty := range sides {
			side := "off"
			if cpuDuty > 0 {
				side = "on"
			}
			name := fmt.Sprintf("case=%s/duty=%s", strings.ReplaceAll(c.String(), " ", "-"), side)
			b.Run(name, func(b *testing.B) { benchRun1(b, c, &defaults, cpuDuty) })
		}
	}
}

// benchRun1 runs case c b.N times for -overhead.run each, with the agent
// on at rate unless rate is nil, its CPU profile covering cpuDuty of each
// window (NoCPUProfile: none).
func benchRun1(b *testing.B, c overhead.Case, rate *overhead.Rate, cpuDuty time.Duration) {
	var ops float64
	var elapsed, cpu time.Duration
	var profiler overhead.ProfilerCPU
	for b.Loop() {
		b.StopTimer()
		m, err := strategy.New(c.Strategy, strategy.Options{})
		if err != nil {
			b.Fatal(err)
		}
		spec := c.Workload
		spec.Duration = *benchRun
		runtime.GC()
		var a *agent.Agent
		if rate != nil {
			if a, err = overhead.StartAgent(*rate, *benchInterval, cpuDuty); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		r, err := workload.Run(context.Background(), m, spec)
		b.StopTimer()
		if a != nil {
			a.Stop()
			for _, w := range a.Windows() {
				profiler.Add(w.Profile(window.CPU))
			}
		}
		if err != nil {
			b.Fatal(err)
		}
		ops += float64(r.Ops)
		elapsed += r.Elapsed
		cpu += time.Duration(r.CPUSeconds * float64(time.Second))
		b.StartTimer()
	}
	b.ReportMetric(ops/elapsed.Seconds(), "ops/s")
	if cpu > 0 {
		b.ReportMetric(ops/cpu.Seconds(), "ops/cpu-s")
	}
	if profiler.Total > 0 {
		b.ReportMetric(100*profiler.Profiler/profiler.Total, "profiler-%")
	}
	b.ReportMetric(0, "ns/op") // one op is one fixed-length run: its time says nothing
}
