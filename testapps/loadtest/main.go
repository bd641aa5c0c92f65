// Command loadtest measures the embedded contendr agent under load: maplab
// workloads scaled to 10,000 goroutines on a few locks and to 1,000,000
// keys, with the agent's cost per window (from its own /metrics), the heap
// it keeps (live heap before and after Start with the workload running, and
// the encoded size of its window ring), whether it refuses fgprof above its
// goroutine limit, and the throughput lost with the agent on, measured by
// maplab's overhead benchmark (off and on runs interleaved).
//
//	go run ./testapps/loadtest                      # both scenarios, Markdown on stdout
//	go run ./testapps/loadtest -scenario keys -windows 20 -repeat 5
//
// The load average is printed next to every figure: on a shared machine
// the wall-clock figures say as much about the neighbours as about the
// agent; the CPU-time ones much less.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/signal"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"time"

	"github.com/contendr/contendr/agent"
	"github.com/contendr/contendr/internal/maplab/strategy"
	"github.com/contendr/contendr/internal/maplab/workload"
	"github.com/contendr/contendr/testapps/maplab/matrix"
	"github.com/contendr/contendr/testapps/maplab/overhead"
)

// scenario is one workload scaled up.
type scenario struct {
	Name     string        `json:"name"`
	Strategy string        `json:"strategy"`
	Shards   int           `json:"shards,omitempty"`
	Workload workload.Spec `json:"workload"`
}

func scenarios() map[string]scenario {
	balanced, _ := workload.Named(workload.Balanced)
	balanced.Goroutines, balanced.Keys = 10_000, 10_000
	churn, _ := workload.Named(workload.Churn)
	churn.Goroutines, churn.Keys = 64, 1_000_000
	return map[string]scenario{
		// 10,000 goroutines on 4 locks: the contention profiles see many
		// waiters, and every goroutine stack is in the goroutine count
		// fgprof would have to walk.
		"goroutines": {Name: "goroutines", Strategy: strategy.NameSharded, Shards: 4, Workload: balanced},
		// A million keys with inserts and deletes: a large, changing heap
		// behind the allocs profile.
		"keys": {Name: "keys", Strategy: strategy.NameMutex, Workload: churn},
	}
}

// figures are what one scenario measured.
type figures struct {
	Scenario scenario `json:"scenario"`
	Load     string   `json:"load_average"`

	Windows             int     `json:"windows"`
	IntervalSeconds     float64 `json:"interval_seconds"`
	CollectWallMs       float64 `json:"collect_wall_ms_per_window"`
	CollectCPUMs        float64 `json:"collect_cpu_ms_per_window"`
	CollectAllocMiB     float64 `json:"collect_alloc_mib_per_window"`
	CollectErrors       float64 `json:"collect_errors"`
	HeapBeforeMiB       float64 `json:"heap_live_before_start_mib"`
	HeapAfterMiB        float64 `json:"heap_live_after_windows_mib"`
	RingWindows         int     `json:"ring_windows"`
	RingKiB             float64 `json:"ring_encoded_kib"`
	WindowKiB           float64 `json:"window_encoded_kib_mean"`
	Goroutines          int     `json:"goroutines"`
	FgprofStatus        int     `json:"fgprof_status"`
	FgprofAnswer        string  `json:"fgprof_answer"`
	LoadAfterCollection string  `json:"load_average_after_collection"`

	Overhead *overhead.Row `json:"overhead,omitempty"`
	// OverheadLoad is the load average after the overhead runs.
	OverheadLoad string `json:"overhead_load_average,omitempty"`
}

func main() {
	only := flag.String("scenario", "", "run one scenario: goroutines or keys (default both)")
	windows := flag.Int("windows", 10, "windows to collect for the cost figures")
	interval := flag.Duration("interval", time.Second, "agent window interval")
	warmup := flag.Duration("warmup", 3*time.Second, "workload time before the heap baseline")
	repeat := flag.Int("repeat", 3, "overhead rounds (0 skips the throughput comparison)")
	duration := flag.Duration("duration", 3*time.Second, "length of each overhead run")
	jsonOut := flag.String("json", "", "also write the figures as JSON to this file")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	var all []figures
	for _, name := range []string{"goroutines", "keys"} {
		if *only != "" && *only != name {
			continue
		}
		sc := scenarios()[name]
		fmt.Fprintf(os.Stderr, "loadtest: %s: %s on %s (load %s)\n", sc.Name, sc.Strategy, sc.Workload, loadAverage())
		f, err := measureAgent(ctx, sc, *windows, *interval, *warmup)
		if err != nil {
			fmt.Fprintf(os.Stderr, "loadtest: %s: %v\n", name, err)
			os.Exit(1)
		}
		if *repeat > 0 {
			row, err := measureOverhead(ctx, sc, *repeat, *duration, *interval)
			if err != nil {
				fmt.Fprintf(os.Stderr, "loadtest: %s overhead: %v\n", name, err)
				os.Exit(1)
			}
			f.Overhead, f.OverheadLoad = row, loadAverage()
		}
		all = append(all, f)
	}
	writeMarkdown(os.Stdout, all, *interval)
	if *jsonOut != "" {
		b, _ := json.MarshalIndent(all, "", "  ")
		if err := os.WriteFile(*jsonOut, append(b, '\n'), 0o644); err != nil {
			fmt.Fprintf(os.Stderr, "loadtest: writing %s: %v\n", *jsonOut, err)
			os.Exit(1)
		}
	}
}

// measureAgent runs the workload, takes the live heap, starts the agent,
// lets it close windows, and reads its cost and what it keeps.
func measureAgent(ctx context.Context, sc scenario, windows int, interval, warmup time.Duration) (figures, error) {
	f := figures{Scenario: sc, Windows: windows, IntervalSeconds: interval.Seconds()}
	m, err := strategy.New(sc.Strategy, strategy.Options{Shards: sc.Shards})
	if err != nil {
		return f, err
	}
	runCtx, stopWorkload := context.WithCancel(ctx)
	defer stopWorkload()
	spec := sc.Workload
	spec.Duration = 0 // until stopped
	done := make(chan error, 1)
	go func() {
		_, err := workload.Run(runCtx, m, spec)
		done <- err
	}()
	time.Sleep(warmup)

	// This program, not the agent, forces the collections: the figures
	// want the retained heap.
	f.HeapBeforeMiB = liveHeapMiB()
	a, err := agent.Start(agent.Config{Interval: interval, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return f, err
	}
	srv := httptest.NewServer(a.Handler())
	defer srv.Close()
	defer a.Stop()

	for deadline := time.Now().Add(time.Duration(windows)*interval*10 + time.Minute); ; time.Sleep(interval / 4) {
		m, err := scrape(srv.URL)
		if err != nil {
			return f, err
		}
		if m["contendr_agent_collections_total"] >= float64(windows) {
			n := m["contendr_agent_collections_total"]
			f.CollectWallMs = 1000 * m["contendr_agent_collect_seconds_total"] / n
			f.CollectCPUMs = 1000 * m["contendr_agent_collect_cpu_seconds_total"] / n
			f.CollectAllocMiB = m["contendr_agent_collect_alloc_bytes_total"] / n / (1 << 20)
			f.CollectErrors = m["contendr_agent_collect_errors_total"]
			f.Windows = int(n)
			break
		}
		if time.Now().After(deadline) {
			return f, fmt.Errorf("only %v windows closed before the deadline", m["contendr_agent_collections_total"])
		}
	}
	f.LoadAfterCollection = loadAverage()
	f.HeapAfterMiB = liveHeapMiB()
	if f.RingWindows, f.RingKiB, err = ringSize(srv.URL); err != nil {
		return f, err
	}
	if f.RingWindows > 0 {
		f.WindowKiB = f.RingKiB / float64(f.RingWindows)
	}

	f.Goroutines = runtime.NumGoroutine()
	resp, err := http.Get(srv.URL + "/debug/fgprof?seconds=1")
	if err != nil {
		return f, err
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	f.FgprofStatus = resp.StatusCode
	if resp.StatusCode != http.StatusOK {
		f.FgprofAnswer = strings.TrimSpace(string(body))
	} else {
		f.FgprofAnswer = fmt.Sprintf("a %d-byte profile", len(body))
	}
	f.Load = loadAverage()

	if err := a.Stop(); err != nil {
		return f, err
	}
	stopWorkload()
	if err := <-done; err != nil && ctx.Err() == nil {
		return f, err
	}
	return f, nil
}

// measureOverhead runs maplab's overhead benchmark on the scenario at the
// agent's default rates.
func measureOverhead(ctx context.Context, sc scenario, repeat int, duration, interval time.Duration) (*overhead.Row, error) {
	if sc.Shards != 0 && sc.Shards != 32 {
		// overhead.Case takes no strategy options: measure the sharded
		// map at its default shard count and say so.
		fmt.Fprintf(os.Stderr, "loadtest: the overhead runs use %s with its default shard count\n", sc.Strategy)
	}
	res, err := overhead.Run(ctx, overhead.Config{
		Cases:    []overhead.Case{{Strategy: sc.Strategy, Workload: sc.Workload}},
		Rates:    []overhead.Rate{{MutexFraction: agent.DefaultMutexProfileFraction, BlockRate: agent.DefaultBlockProfileRate}},
		Duration: duration,
		Repeat:   repeat,
		Interval: interval,
		Progress: os.Stderr,
		Gate:     &matrix.Gate{},
	})
	if err != nil {
		return nil, err
	}
	if len(res.Rows) == 0 {
		return nil, fmt.Errorf("the overhead benchmark produced no row")
	}
	return &res.Rows[0], nil
}

// scrape reads the agent's unlabelled contendr_agent_* counters from
// /metrics.
func scrape(base string) (map[string]float64, error) {
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		return nil, fmt.Errorf("scraping the agent: %w", err)
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if !ok || !strings.HasPrefix(name, "contendr_agent_") {
			continue
		}
		if v, err := strconv.ParseFloat(value, 64); err == nil {
			out[name] = v
		}
	}
	return out, sc.Err()
}

// ringSize fetches every window the agent keeps as the bundle a user
// would download, and sums their sizes.
func ringSize(base string) (int, float64, error) {
	resp, err := http.Get(base + "/debug/contendr/windows")
	if err != nil {
		return 0, 0, err
	}
	var list []struct {
		ID string `json:"id"`
	}
	err = json.NewDecoder(resp.Body).Decode(&list)
	resp.Body.Close()
	if err != nil {
		return 0, 0, fmt.Errorf("reading the window list: %w", err)
	}
	var total int64
	for _, w := range list {
		resp, err := http.Get(base + "/debug/contendr/windows/" + w.ID)
		if err != nil {
			return 0, 0, err
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		total += n
	}
	return len(list), float64(total) / 1024, nil
}

func liveHeapMiB() float64 {
	runtime.GC()
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	return float64(s[0].Value.Uint64()) / (1 << 20)
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return matrix.LoadAverage()
	}
	return strings.Join(strings.Fields(string(b))[:3], " ")
}

func writeMarkdown(w io.Writer, all []figures, interval time.Duration) {
	fmt.Fprintf(w, "Agent under load — %s, GOMAXPROCS %d, %s, agent interval %s\n\n",
		matrix.CPUModel(), runtime.GOMAXPROCS(0), runtime.Version(), interval)
	fmt.Fprintln(w, "| scenario | windows | collect CPU ms/window | collect wall ms/window | alloc MiB/window | errors | heap live before → after Start | ring (encoded) | fgprof at N goroutines | load avg |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|")
	for _, f := range all {
		fg := fmt.Sprintf("%d at %d goroutines", f.FgprofStatus, f.Goroutines)
		fmt.Fprintf(w, "| %s: %s, %s | %d | %.1f | %.1f | %.2f | %.0f | %.1f → %.1f MiB | %d × %.0f KiB = %.0f KiB | %s | %s |\n",
			f.Scenario.Name, f.Scenario.Strategy, f.Scenario.Workload, f.Windows, f.CollectCPUMs, f.CollectWallMs, f.CollectAllocMiB,
			f.CollectErrors, f.HeapBeforeMiB, f.HeapAfterMiB, f.RingWindows, f.WindowKiB, f.RingKiB, fg, f.LoadAfterCollection)
	}
	fmt.Fprintln(w)
	for _, f := range all {
		if f.FgprofStatus != http.StatusOK {
			fmt.Fprintf(w, "- %s: /debug/fgprof answered %d: %q\n", f.Scenario.Name, f.FgprofStatus, f.FgprofAnswer)
		}
	}
	var rows []figures
	for _, f := range all {
		if f.Overhead != nil {
			rows = append(rows, f)
		}
	}
	if len(rows) == 0 {
		return
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| scenario | rate | off ops/s | on ops/s | throughput loss (wall) | loss per CPU-second | agent CPU % | sampling CPU % | run queue | load avg |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|")
	for _, f := range rows {
		r := f.Overhead
		fmt.Fprintf(w, "| %s | %s | %.0f | %.0f | %.1f%% %v | %.1f%% %v | %.2f | %.2f | %.0f%% | %s |\n",
			f.Scenario.Name, r.Rate, r.OffMedian, r.OnMedian, r.LossPct, rounded(r.Ratios), r.CPULossPct, rounded(r.CPURatios),
			r.AgentPct, r.SamplingPct, 100*r.RunQueue, f.OverheadLoad)
	}
}

func rounded(xs []float64) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = strconv.FormatFloat(x, 'f', 3, 64)
	}
	return "(on/off " + strings.Join(parts, ", ") + ")"
}
