package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"runtime"
	"time"

	"github.com/contendr/contendr/agent"
	"github.com/contendr/contendr/internal/maplab/strategy"
	"github.com/contendr/contendr/internal/maplab/workload"
)

// runMain runs one strategy on one workload, with the agent unless
// -agent=false, and prints the throughput.
func runMain(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("maplab", flag.ContinueOnError)
	strategyName := fs.String("strategy", strategy.NameMutex, "map strategy: "+fmt.Sprint(strategy.Names()))
	workloadName := fs.String("workload", workload.ReadHeavy, "named workload: "+fmt.Sprint(workload.Names()))
	reads := fs.Float64("reads", -1, "read fraction; alone it makes a loads+overwrites workload, with -workload it overrides that workload's reads")
	keys := fs.Int("keys", workload.DefaultKeys, "prefilled keys")
	goroutines := fs.Int("goroutines", workload.DefaultGoroutines, "worker goroutines")
	valueSize := fs.Int("value-size", 0, "bytes allocated per write to emulate values of that size (0: plain ints)")
	perP := fs.Int("goroutines-per-p", 0, "worker goroutines per P (GOMAXPROCS); overrides -goroutines when > 0")
	between := fs.String("between", string(workload.BetweenNone), "work between operations: none, cpu (about 2µs outside the lock) or io (a sleep every few operations)")
	keyType := fs.String("key-type", string(strategy.KeyInt), "key type the map stores: int or string")
	shards := fs.Int("shards", strategy.DefaultShards, "shard count of the sharded strategy")
	duration := fs.Duration("duration", 30*time.Second, "how long to run; 0 runs until interrupted")
	listen := fs.String("listen", "127.0.0.1:6061", "address for the agent's endpoints (plain net/http/pprof with -agent=false); empty: none")
	withAgent := fs.Bool("agent", true, "embed the contendr agent")
	interval := fs.Duration("interval", agent.DefaultInterval, "agent window length")
	mutexFraction := fs.Int("mutex-fraction", 0, "mutex profile fraction (0: the agent's default; without the agent, left off)")
	blockRate := fs.Int("block-rate", 0, "block profile rate in ns (0: the agent's default; without the agent, left off)")
	role := fs.String("role", "", `agent label role: "canary" or "baseline"`)
	version := fs.String("version", "", "agent label version")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	flightRecorder := fs.Bool("flight-recorder", false, "keep the agent's flight recorder running (snapshots on contention alerts and POST /debug/contendr/trace)")
	if err := fs.Parse(args); err != nil {
		return err
	}

	spec, err := chooseWorkload(fs, *workloadName, *reads)
	if err != nil {
		return err
	}
	spec.Keys, spec.Goroutines, spec.ValueSize, spec.Duration = *keys, *goroutines, *valueSize, *duration
	spec.GoroutinesPerP, spec.Between, spec.KeyType = *perP, workload.Between(*between), strategy.KeyType(*keyType)
	spec = spec.Resolve(runtime.GOMAXPROCS(0))
	if err := spec.Validate(); err != nil {
		return err
	}
	m, err := workload.NewMap(*strategyName, spec, strategy.Options{Shards: *shards})
	if err != nil {
		return err
	}

	if *withAgent {
		labels := map[string]string{"service": "maplab", "strategy": *strategyName, "workload": spec.Name}
		if *role != "" {
			labels["role"] = *role
		}
		if *version != "" {
			labels["version"] = *version
		}
		var fr *agent.FlightRecorderConfig
		if *flightRecorder {
			fr = &agent.FlightRecorderConfig{}
		}
		a, err := agent.Start(agent.Config{
			FlightRecorder:       fr,
			Labels:               labels,
			ListenAddr:           *listen,
			Interval:             *interval,
			MutexProfileFraction: *mutexFraction,
			BlockProfileRate:     *blockRate,
		})
		if err != nil {
			return fmt.Errorf("starting the contendr agent: %w", err)
		}
		defer a.Stop()
		if a.Addr() != "" {
			fmt.Fprintf(os.Stderr, "maplab: contendr agent on http://%s (pprof at /debug/pprof/, windows at /debug/contendr/)\n", a.Addr())
		}
	} else {
		runtime.SetMutexProfileFraction(*mutexFraction)
		runtime.SetBlockProfileRate(*blockRate)
		if *listen != "" {
			addr, err := servePprof(ctx, *listen)
			if err != nil {
				return err
			}
			fmt.Fprintf(os.Stderr, "maplab: plain net/http/pprof on http://%s/debug/pprof/ (no agent)\n", addr)
		}
	}
	fmt.Fprintf(os.Stderr, "maplab: running %s on %s %s\n", *strategyName, spec, describeDuration(*duration))

	res, err := workload.Run(ctx, m, spec)
	if err != nil {
		return err
	}
	return printResult(*asJSON, *strategyName, spec, res)
}

// chooseWorkload resolves -workload and -reads: -reads alone means a
// loads+overwrites mix, with an explicit -workload it adjusts that mix.
func chooseWorkload(fs *flag.FlagSet, name string, reads float64) (workload.Spec, error) {
	readsSet := flagSet(fs, "reads")
	if readsSet && !flagSet(fs, "workload") {
		return workload.Custom(reads), nil
	}
	spec, err := workload.Named(name)
	if err != nil {
		return spec, err
	}
	if readsSet {
		spec.Reads = reads
		spec.Name = fmt.Sprintf("%s-reads-%g", name, reads)
	}
	return spec, nil
}

// servePprof serves the standard pprof handlers on a private mux, making
// maplab a "plain net/http/pprof target" for contendr analyze.
func servePprof(ctx context.Context, addr string) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("listening for pprof on %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintln(os.Stderr, "maplab: pprof server:", err)
		}
	}()
	context.AfterFunc(ctx, func() { srv.Close() })
	return ln.Addr().String(), nil
}

func describeDuration(d time.Duration) string {
	if d == 0 {
		return "until interrupted"
	}
	return "for " + d.String()
}

type runReport struct {
	Strategy   string          `json:"strategy"`
	Workload   workload.Spec   `json:"workload"`
	GOMAXPROCS int             `json:"gomaxprocs"`
	GoVersion  string          `json:"go_version"`
	Result     workload.Result `json:"result"`
}

func printResult(asJSON bool, strategyName string, spec workload.Spec, res workload.Result) error {
	report := runReport{Strategy: strategyName, Workload: spec, GOMAXPROCS: runtime.GOMAXPROCS(0), GoVersion: runtime.Version(), Result: res}
	if asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(report)
	}
	_, err := fmt.Printf("strategy    %s\nworkload    %s\ngomaxprocs  %d\ngo          %s\nelapsed     %s\nops         %d\nranges      %d\nops/s       %.0f\n",
		strategyName, spec, report.GOMAXPROCS, report.GoVersion, res.Elapsed.Round(time.Millisecond), res.Ops, res.Ranges, res.OpsPerSec)
	return err
}
