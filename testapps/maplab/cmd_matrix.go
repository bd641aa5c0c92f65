package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/contendr/contendr/internal/maplab/strategy"
	"github.com/contendr/contendr/internal/maplab/workload"
	"github.com/contendr/contendr/testapps/maplab/matrix"
)

// runMatrix runs every strategy on every workload and writes the
// ground-truth table.
func runMatrix(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("maplab matrix", flag.ContinueOnError)
	duration := fs.Duration("duration", 2*time.Second, "duration of each run")
	repeat := fs.Int("repeat", 3, "runs per cell, interleaved")
	strategies := fs.String("strategies", "all", "comma-separated strategies")
	workloads := fs.String("workloads", "all", "comma-separated workloads")
	keys := fs.Int("keys", workload.DefaultKeys, "prefilled keys")
	goroutines := fs.Int("goroutines", workload.DefaultGoroutines, "worker goroutines")
	valueSize := fs.Int("value-size", 0, "bytes allocated per write")
	shards := fs.Int("shards", strategy.DefaultShards, "shard count of the sharded strategy")
	out := fs.String("out", "testapps/maplab/results", "directory for results.json and results.md")
	gate := gateFlags(fs)
	note := fs.String("note", "", "a note for the results header: how the machine was set up")
	if err := fs.Parse(args); err != nil {
		return err
	}

	var specs []workload.Spec
	for _, name := range splitList(*workloads, workload.Names()) {
		spec, err := workload.Named(name)
		if err != nil {
			return err
		}
		spec.Keys, spec.Goroutines, spec.ValueSize = *keys, *goroutines, *valueSize
		specs = append(specs, spec)
	}
	res, err := matrix.Run(ctx, matrix.Config{
		Strategies: splitList(*strategies, strategy.Names()),
		Workloads:  specs,
		Duration:   *duration,
		Repeat:     *repeat,
		Options:    strategy.Options{Shards: *shards},
		Progress:   os.Stderr,
		Command:    commandLine(),
		Gate:       gate,
		Note:       *note,
	})
	if err != nil {
		return err
	}
	if err := res.WriteFiles(*out); err != nil {
		return err
	}
	if err := res.WriteMarkdown(os.Stdout); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "maplab: wrote %s/results.json and results.md\n", *out)
	return nil
}
