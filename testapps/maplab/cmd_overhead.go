package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/contendr/contendr/internal/maplab/workload"
	"github.com/contendr/contendr/testapps/maplab/overhead"
)

// runOverhead measures the agent's throughput cost at candidate rates.
func runOverhead(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("maplab overhead", flag.ContinueOnError)
	duration := fs.Duration("duration", 2*time.Second, "duration of each run")
	repeat := fs.Int("repeat", 5, "rounds; each runs every case off and at every rate")
	rates := fs.String("rates", "1:1,5:1000,10:10000,100:100000", "candidate mutexFraction:blockRateNs pairs")
	interval := fs.Duration("interval", time.Second, "agent window length during on runs")
	keys := fs.Int("keys", workload.DefaultKeys, "prefilled keys")
	goroutines := fs.Int("goroutines", workload.DefaultGoroutines, "worker goroutines")
	out := fs.String("out", "testapps/maplab/results", "directory for overhead.json and overhead.md")
	gate := gateFlags(fs)
	note := fs.String("note", "", "a note for the results header: how the machine was set up")
	if err := fs.Parse(args); err != nil {
		return err
	}
	candidates, err := overhead.ParseRates(*rates)
	if err != nil {
		return err
	}
	cases := overhead.DefaultCases()
	for i := range cases {
		cases[i].Workload.Keys, cases[i].Workload.Goroutines = *keys, *goroutines
	}
	res, err := overhead.Run(ctx, overhead.Config{
		Cases:    cases,
		Rates:    candidates,
		Duration: *duration,
		Repeat:   *repeat,
		Interval: *interval,
		Progress: os.Stderr,
		Command:  commandLine(),
		Gate:     gate,
		Note:     *note,
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
	fmt.Fprintf(os.Stderr, "maplab: wrote %s/overhead.json and overhead.md\n", *out)
	return nil
}
