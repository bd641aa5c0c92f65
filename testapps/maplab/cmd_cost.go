package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/contendr/contendr/testapps/maplab/costcheck"
)

// runCost runs the lock-based strategies on the cost's test workloads and
// reports where the contention cost and the throughput rank strategies
// differently.
func runCost(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("maplab cost", flag.ContinueOnError)
	seconds := fs.Float64("seconds", 2, "seconds each run measures")
	repeat := fs.Int("repeat", 3, "runs per cell, interleaved")
	workloads := fs.String("workloads", "all", "comma-separated workloads (all: write-heavy,read-mostly)")
	strategies := fs.String("strategies", "all", "comma-separated strategies (all: mutex,rwmutex,sharded,xsync)")
	goroutines := fs.String("goroutines", "64,0", "comma-separated goroutine counts; 0 is GOMAXPROCS")
	ratio := fs.Float64("speed-ratio", 1.5, "how much faster a strategy must be before its cost may not be higher")
	tolerance := fs.Float64("tolerance", 0.05, "cost difference allowed within that (share of capacity)")
	note := fs.String("note", "", "a note for the results header: how the machine was set up")
	out := fs.String("out", "testapps/maplab/results", "directory for cost.json and cost.md (empty: write none)")
	asJSON := fs.Bool("json", false, "print the results as JSON on stdout")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var counts []int
	for _, s := range splitList(*goroutines, []string{"64", "0"}) {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return fmt.Errorf("-goroutines: %q is not a goroutine count", s)
		}
		counts = append(counts, n)
	}
	progress := os.Stdout
	if *asJSON {
		progress = os.Stderr
	}
	res, err := costcheck.Measure(ctx, costcheck.Config{
		Strategies: splitList(*strategies, nil),
		Workloads:  splitList(*workloads, nil),
		Goroutines: counts,
		Duration:   time.Duration(*seconds * float64(time.Second)),
		Repeat:     *repeat,
		SpeedRatio: *ratio,
		Tolerance:  *tolerance,
		Progress:   progress,
		Command:    shellCommandLine(),
		Note:       *note,
	})
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	fmt.Println(res.Summary())
	if *out == "" {
		return nil
	}
	if err := res.WriteFiles(*out); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "maplab: wrote %s/cost.json and cost.md\n", *out)
	return nil
}
