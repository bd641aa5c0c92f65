package tracecheck

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/contendr/contendr/agent"
	"github.com/contendr/contendr/internal/maplab/workload"
	"github.com/contendr/contendr/testapps/maplab/overhead"
)

var (
	benchRun   = flag.Duration("recorder.run", 2*time.Second, "BenchmarkFlightRecorderOverhead: length of one workload run")
	benchRound = flag.Int("recorder.round", 0, "this process's round: odd rounds run the recorder side first")
)

// BenchmarkFlightRecorderOverhead is the cost of a running flight recorder:
// each of overhead's default cases (64 goroutines on one contended map)
// runs with the agent at its default rates and no CPU profile, the
// recorder off and on at its defaults, side by side in every round, the
// order alternating by -recorder.round. It reports ops/s, ops per
// CPU-second and, on, the trace the recorder wrote per second (a snapshot
// at the run's end over the run's length), which sizes MaxBytes. One
// process per round (see overhead's BenchmarkAgentOverhead for why):
//
//	go test -c -o tracecheck.test ./testapps/maplab/tracecheck
//	for i in $(seq 10); do ./tracecheck.test -test.run '^$' -test.bench FlightRecorderOverhead -test.benchtime 1x -recorder.round $i; done > recorder.txt
//	benchstat -col /recorder recorder.txt
func BenchmarkFlightRecorderOverhead(b *testing.B) {
	sides := []bool{false, true}
	if *benchRound%2 == 1 {
		sides[0], sides[1] = true, false
	}
	b.Logf("GOMAXPROCS=%d NumCPU=%d, runs of %s", runtime.GOMAXPROCS(0), runtime.NumCPU(), *benchRun)
	for _, c := range overhead.DefaultCases() {
		for _, on := range sides {
			side := "off"
			if on {
				side = "on"
			}
			name := fmt.Sprintf("case=%s/recorder=%s", strings.ReplaceAll(c.String(), " ", "-"), side)
			b.Run(name, func(b *testing.B) { benchRecorder(b, c, on) })
		}
	}
}

func benchRecorder(b *testing.B, c overhead.Case, recorder bool) {
	var tp overhead.Throughput
	var traceBytes float64
	for b.Loop() {
		b.StopTimer()
		m, spec, err := c.Fresh(*benchRun)
		if err != nil {
			b.Fatal(err)
		}
		cfg := agent.Config{CPUProfileDuty: -1, Interval: time.Hour, DisableAlerts: true, Logger: slog.New(slog.DiscardHandler)}
		if recorder {
			cfg.FlightRecorder = &agent.FlightRecorderConfig{}
		}
		a, err := agent.Start(cfg)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		r, err := workload.Run(context.Background(), m, spec)
		b.StopTimer()
		if recorder {
			rec := httptest.NewRecorder()
			a.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/debug/contendr/trace", nil))
			if rec.Code != http.StatusOK {
				b.Fatalf("snapshot: %d %s", rec.Code, rec.Body)
			}
			traceBytes += float64(rec.Body.Len())
		}
		a.Stop()
		if err != nil {
			b.Fatal(err)
		}
		tp.Add(r)
		b.StartTimer()
	}
	for unit, v := range tp.Metrics() {
		b.ReportMetric(v, unit)
	}
	if recorder {
		b.ReportMetric(traceBytes/tp.Elapsed.Seconds()/1e6, "trace-MB/s")
	}
	b.ReportMetric(0, "ns/op")
}
