package matrix

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/contendr/contendr/internal/maplab/workload"
	"github.com/contendr/contendr/internal/procstat"
)

// Gate keeps runs away from moments when other processes hold the
// machine's cores: before a run it waits for the CPUs to be mostly idle, and
// it repeats a run whose threads spent too long waiting for a CPU. All of
// its waiting and repeating draws on one Budget, so a machine that never
// quiets down still finishes, with the run-queue share recorded in the results.
// The zero Gate runs everything at once.
type Gate struct {
	// MaxBusy is the share of all CPUs others may use before a run starts.
	MaxBusy float64
	// MaxOthers is the workload.Result.OthersShare (other processes' CPU
	// during the run, of all the machine's CPUs) above which a run is
	// repeated, where the run could read it (0: not this test).
	// MaxRunQueue is the RunQueueShare above which a run is repeated where
	// OthersShare is unknown or MaxOthers is 0 (0: never). The run-queue
	// share also counts the process's own threads waiting to be woken —
	// 35–42% for lock-based maps at one goroutine per P alone on a 2-vCPU
	// VM, where OthersShare reads 0 over 2 s runs and 0.11–0.15 over 200 ms
	// ones (/proc/stat's 10 ms ticks) against 0.5–0.6 beside a busy loop —
	// so judged by it those rows were always repeated and their least
	// disturbed attempt kept. Retries bounds the repeats.
	MaxOthers, MaxRunQueue float64
	Retries                int
	// Budget is the total time the gate may spend waiting and repeating.
	Budget time.Duration

	spent time.Duration
}

// Run calls run, waiting and repeating as the gate allows, and returns the
// attempt that other processes disturbed least with the attempt count.
func (g *Gate) Run(ctx context.Context, progress io.Writer, run func() (workload.Result, error)) (workload.Result, int, error) {
	var best workload.Result
	var bestDisturbance float64
	attempts := 0
	for {
		g.waitQuiet(ctx)
		start := time.Now()
		r, err := run()
		if err != nil {
			return r, attempts, err
		}
		attempts++
		disturbance, limit, what := g.disturbance(r)
		if attempts == 1 || disturbance < bestDisturbance {
			best, bestDisturbance = r, disturbance
		}
		if limit <= 0 || disturbance <= limit || attempts > g.Retries || g.spent >= g.Budget || ctx.Err() != nil {
			return best, attempts, nil
		}
		g.spent += time.Since(start)
		if progress != nil {
			fmt.Fprintf(progress, "    %s %.0f%% of the run: repeating it\n", what, 100*disturbance)
		}
	}
}

// disturbance is how much other processes disturbed r by the gate's
// test, the limit it is held to, and what it measured.
func (g *Gate) disturbance(r workload.Result) (float64, float64, string) {
	if g.MaxOthers > 0 && r.OthersKnown {
		return r.OthersShare, g.MaxOthers, "other processes used the CPUs"
	}
	return r.RunQueueShare, g.MaxRunQueue, "threads waited for a CPU"
}

// waitQuiet polls the machine's CPU use until it is at most MaxBusy or the
// budget runs out.
func (g *Gate) waitQuiet(ctx context.Context) {
	const probe = 500 * time.Millisecond
	for g.MaxBusy > 0 && g.spent < g.Budget && ctx.Err() == nil {
		busy, ok := machineBusy(probe)
		g.spent += probe
		if !ok || busy <= g.MaxBusy {
			return
		}
	}
}

// machineBusy measures the share of all CPUs that was not idle over d, from
// /proc/stat. maplab itself is idle while it measures, so this is others.
func machineBusy(d time.Duration) (float64, bool) {
	c0, ok := procstat.Read()
	if !ok {
		return 0, false
	}
	time.Sleep(d)
	c1, ok := procstat.Read()
	if !ok || c1.Total <= c0.Total {
		return 0, false
	}
	return float64(c1.Busy()-c0.Busy()) / float64(c1.Total-c0.Total), true
}
