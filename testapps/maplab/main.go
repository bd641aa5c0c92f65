// Command maplab is a map-heavy test program: it runs one concurrent-map
// strategy on one workload with the contendr agent embedded, so that
// contendr can be pointed at a process whose right answer is known.
//
//	go run ./testapps/maplab -strategy rwmutex -workload write-heavy -duration 0
//	go run ./testapps/maplab matrix   # every strategy × workload: ground truth
//	go run ./testapps/maplab overhead # agent off vs on at candidate rates
//	go run ./testapps/maplab accuracy # contendr's advice scored on the matrix
//	go run ./testapps/maplab cost     # the contention cost ranked against ops/s
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/contendr/contendr/testapps/maplab/matrix"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	args := os.Args[1:]
	command := runMain
	if len(args) > 0 {
		switch args[0] {
		case "matrix":
			command, args = runMatrix, args[1:]
		case "overhead":
			command, args = runOverhead, args[1:]
		case "accuracy":
			command, args = runAccuracy, args[1:]
		case "cost":
			command, args = runCost, args[1:]
		}
	}
	if err := command(ctx, args); err != nil {
		if err == flag.ErrHelp {
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "maplab:", err)
		os.Exit(1)
	}
}

// commandLine is how the results files quote the command that made them.
func commandLine() string {
	return strings.TrimSpace("go run ./testapps/maplab " + strings.Join(os.Args[1:], " "))
}

// splitList reads a comma-separated flag value; "" or "all" means all.
func splitList(value string, all []string) []string {
	if value == "" || value == "all" {
		return all
	}
	var out []string
	for _, s := range strings.Split(value, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// gateFlags binds the flags of a matrix.Gate, which keeps measurements
// away from moments when other processes load the machine.
func gateFlags(fs *flag.FlagSet) *matrix.Gate {
	g := &matrix.Gate{}
	fs.Float64Var(&g.MaxBusy, "max-busy", 0.25, "before each run, wait until other processes use at most this share of the CPUs (0: don't wait)")
	fs.Float64Var(&g.MaxOthers, "max-others", 0.3, "repeat a run during which other processes used more than this share of the machine's CPUs (Linux; 0: not this test)")
	fs.Float64Var(&g.MaxRunQueue, "max-runqueue", 0.25, "where other processes' CPU is unknown (or -max-others 0): repeat a run whose threads waited for a CPU more than this share of it (0: never)")
	fs.IntVar(&g.Retries, "retries", 2, "repeats of a disturbed run")
	fs.DurationVar(&g.Budget, "gate-budget", 10*time.Minute, "total time the gate may spend waiting and repeating")
	return g
}
