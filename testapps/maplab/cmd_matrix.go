package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
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
	goroutines := fs.Int("goroutines", workload.DefaultGoroutines, "worker goroutines (with -regimes off)")
	valueSize := fs.Int("value-size", 0, "bytes allocated per write (with -regimes off)")
	regimes := fs.String("regimes", "pairwise", `regimes every workload runs in: "pairwise" (the L9 design over goroutines per P, work between operations, key type and value size, plus the original regime), a comma-separated list such as g4-cpu-int-v0, or "off" (one regime from -goroutines and -value-size)`)
	shards := fs.Int("shards", strategy.DefaultShards, "shard count of the sharded strategy")
	out := fs.String("out", "testapps/maplab/results", "directory for results.json and results.md")
	gate := gateFlags(fs)
	note := fs.String("note", "", "a note for the results header: how the machine was set up")
	merge := fs.String("merge", "", "instead of running, join these comma-separated results.json files of the same matrix (runs taken at different times) into -out")
	replace := fs.String("replace", "", "instead of running, take the first of these two comma-separated results.json files with the rows the second measured replaced by its runs (rows whose workload changed) or added (rows the first lacks), into -out")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case *merge != "" && *replace != "":
		return fmt.Errorf("-merge and -replace: give one")
	case *merge != "":
		return combineMatrix(splitList(*merge, nil), *out, *note, matrix.Merge)
	case *replace != "":
		paths := splitList(*replace, nil)
		if len(paths) != 2 {
			return fmt.Errorf("-replace %q: want two results.json files, the base and the part that replaces some of its rows", *replace)
		}
		return combineMatrix(paths, *out, *note, func(parts ...*matrix.Results) (*matrix.Results, error) {
			return matrix.Replace(parts[0], parts[1])
		})
	}

	var design []matrix.Regime
	if *regimes != "off" {
		var err error
		if design, err = matrix.ParseRegimes(*regimes); err != nil {
			return err
		}
	}
	var specs []workload.Spec
	for _, name := range splitList(*workloads, workload.Names()) {
		spec, err := workload.Named(name)
		if err != nil {
			return err
		}
		spec.Keys, spec.Goroutines, spec.ValueSize = *keys, *goroutines, *valueSize
		if design == nil {
			specs = append(specs, spec)
			continue
		}
		for _, r := range design {
			specs = append(specs, r.Apply(spec).Resolve(runtime.GOMAXPROCS(0)))
		}
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

// combineMatrix reads matrix runs taken at different times, joins them
// with combine (Merge or Replace) and writes the combined table.
func combineMatrix(paths []string, out, note string, combine func(...*matrix.Results) (*matrix.Results, error)) error {
	var parts []*matrix.Results
	for _, p := range paths {
		r, err := matrix.ReadFile(p)
		if err != nil {
			return err
		}
		parts = append(parts, r)
	}
	res, err := combine(parts...)
	if err != nil {
		return err
	}
	if note != "" {
		res.Meta.Note = note
	}
	if err := res.WriteFiles(out); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "maplab: combined %d runs of the matrix into %s/results.json and results.md\n", len(parts), out)
	return nil
}
