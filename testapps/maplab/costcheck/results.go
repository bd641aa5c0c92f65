package costcheck

import (
	"fmt"
	"io"

	"github.com/contendr/contendr/testapps/maplab/internal/resultfile"
)

// WriteFiles writes dir/cost.json and dir/cost.md.
func (r *Results) WriteFiles(dir string) error {
	return resultfile.Write(dir, "cost", r, r.WriteMarkdown)
}

// ReadFile reads a cost.json written by WriteFiles.
func ReadFile(path string) (*Results, error) {
	var r Results
	if err := resultfile.Read(path, "cost", &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// Summary is one line: how many inversions the cost and the old wait share
// show on the same runs.
func (r *Results) Summary() string {
	return fmt.Sprintf("contention cost: %d inversions, %d not accounted for by GC CPU; lock wait share: %d inversions (pairs ≥%.2g× apart in ops/s, tolerance %.0f%% of capacity)",
		len(r.Inversions), len(r.Unexplained()), len(r.WaitInversions), r.SpeedRatio, 100*r.Tolerance)
}

// WriteMarkdown renders the results for people.
func (r *Results) WriteMarkdown(w io.Writer) error {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	p("# Contention cost against throughput\n\n")
	p("`%s`\n\n", r.Command)
	p("%s, GOMAXPROCS %d (%d CPUs), %s per run, %d runs per cell, interleaved.", r.GoVersion, r.GOMAXPROCS, r.NumCPU, r.Duration, r.Repeat)
	if r.Note != "" {
		p(" %s", r.Note)
	}
	p("\n\n**%s.**\n\n", r.Summary())
	p("A strategy measured at least %.2g× faster than another on the same workload and goroutine count must not read more than %.0f%% of capacity costlier. Medians, with the range of the runs.\n\n", r.SpeedRatio, 100*r.Tolerance)
	p("| workload | goroutines | strategy | ops/s | cost | GC CPU | CPU used | lock wait share (old headline) | run queue (highest) |\n|---|---:|---|---:|---:|---:|---:|---:|---:|\n")
	for _, c := range r.Cells {
		p("| %s | %d | %s | %.2fM (%.2f–%.2f) | %.1f%% (%.1f–%.1f) | %.1f%% | %.0f%% | %.1f%% | %.1f%% |\n", c.Workload, c.Goroutines, c.Strategy,
			c.OpsPerSec/1e6, c.OpsMin/1e6, c.OpsMax/1e6, 100*c.Cost, 100*c.CostMin, 100*c.CostMax, 100*c.GCShare, 100*c.CPUShare, 100*c.WaitShare, 100*c.RunQueueShare)
	}
	writeInversions := func(title string, inv []Inversion, withGC bool) {
		p("\n## %s\n\n", title)
		if len(inv) == 0 {
			p("None.\n")
			return
		}
		if !withGC {
			p("| workload | goroutines | faster | slower | speed-up | faster's | slower's |\n|---|---:|---|---|---:|---:|---:|\n")
			for _, i := range inv {
				p("| %s | %d | %s | %s | %.2f× | %.1f%% | %.1f%% |\n", i.Workload, i.Goroutines, i.Faster, i.Slower, i.Speedup, 100*i.FasterCost, 100*i.SlowerCost)
			}
			return
		}
		p("| workload | goroutines | faster | slower | speed-up | faster's | slower's | GC CPU faster / slower | accounted for by GC |\n|---|---:|---|---|---:|---:|---:|---:|---|\n")
		for _, i := range inv {
			p("| %s | %d | %s | %s | %.2f× | %.1f%% | %.1f%% | %.1f%% / %.1f%% | %s |\n", i.Workload, i.Goroutines, i.Faster, i.Slower, i.Speedup,
				100*i.FasterCost, 100*i.SlowerCost, 100*i.FasterGC, 100*i.SlowerGC, map[bool]string{true: "yes", false: "no"}[i.ExplainedByGC])
		}
	}
	writeInversions("Inversions of the contention cost", r.Inversions, true)
	writeInversions("Inversions of the lock wait share, same runs", r.WaitInversions, false)
	p("\n## Read-only RWMutex map\n\n%d goroutines (one per P) loading from `%s` with no writer: %.0f%% of the process's CPU is inside RLock/RUnlock, a component cost of %.1f%%, while the mutex profile recorded %.3gs of delay (%.2fM ops/s).\n",
		r.Readers.Goroutines, r.Readers.Component, 100*r.Readers.SyncCPUShare, 100*r.Readers.Cost, r.Readers.MutexDelaySeconds, r.Readers.OpsPerSec/1e6)
	return nil
}
