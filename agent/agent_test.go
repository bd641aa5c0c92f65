package agent

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/goleak"

	"github.com/contendr/contendr/internal/loopback"
	"github.com/contendr/contendr/window"
)

// TestMain checks for goroutines left running, except the one
// TestGoroutineLeakProfile leaks on purpose.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreAnyFunction("github.com/contendr/contendr/agent.leakedLocker"))
}

var quiet = slog.New(slog.DiscardHandler)

// startAgent starts an agent that only closes windows on CollectNow (unless
// cfg sets an Interval) and serves it with httptest.
func startAgent(t *testing.T, cfg Config) (*Agent, *httptest.Server) {
	t.Helper()
	if cfg.Interval == 0 {
		cfg.Interval = time.Hour
	}
	if cfg.Logger == nil {
		cfg.Logger = quiet
	}
	a, err := Start(cfg)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(func() {
		srv.Close()
		if err := a.Stop(); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	return a, srv
}

func collect(t *testing.T, a *Agent) *window.Window {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	w, err := a.CollectNow(ctx)
	if err != nil {
		t.Fatalf("CollectNow: %v", err)
	}
	return w
}

// contend runs 32 goroutines fighting over one sync.Mutex for d.
func contend(d time.Duration) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	counter := 0
	deadline := time.Now().Add(d)
	for range 32 {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				mu.Lock()
				for range 200 {
					counter++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}

// blockEvents is the number of blocking events the block profile has
// recorded so far.
func blockEvents(t *testing.T) int64 {
	t.Helper()
	p, err := readProfile(window.Block)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, s := range p.Sample {
		n += s.Value[0]
	}
	return n
}

// blockOnce blocks the calling goroutine on a channel for a few milliseconds.
func blockOnce() {
	ch := make(chan struct{})
	go func() {
		time.Sleep(5 * time.Millisecond)
		close(ch)
	}()
	<-ch
}

func TestStopRestoresRates(t *testing.T) {
	for _, previousBlockRate := range []int{0, 1} {
		before := runtime.SetMutexProfileFraction(7)
		a, err := Start(Config{MutexProfileFraction: 3, BlockProfileRate: 5000, PreviousBlockRate: previousBlockRate,
			Interval: time.Hour, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		if got := runtime.SetMutexProfileFraction(-1); got != 3 {
			t.Errorf("mutex fraction while running = %d, want 3", got)
		}
		if err := a.Stop(); err != nil {
			t.Fatalf("Stop: %v", err)
		}
		if err := a.Stop(); err != nil {
			t.Fatalf("second Stop: %v", err)
		}
		if got := runtime.SetMutexProfileFraction(-1); got != 7 {
			t.Errorf("mutex fraction after Stop = %d, want 7 (the value before Start)", got)
		}
		// The block rate has no getter: observe it. Rate 1 records every
		// blocking event, rate 0 none.
		eventsBefore := blockEvents(t)
		blockOnce()
		recorded := blockEvents(t) > eventsBefore
		if recorded != (previousBlockRate == 1) {
			t.Errorf("PreviousBlockRate %d: after Stop a blocking event recorded = %v", previousBlockRate, recorded)
		}
		a.SetRates(99, 99) // after Stop: must not undo the restore
		if got := runtime.SetMutexProfileFraction(-1); got != 7 {
			t.Errorf("SetRates after Stop changed the mutex fraction to %d", got)
		}
		runtime.SetMutexProfileFraction(before)
		runtime.SetBlockProfileRate(0)
		goleak.VerifyNone(t)
	}
}

func TestZeroConfigDefaults(t *testing.T) {
	a, err := Start(Config{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Stop()
	if got := runtime.SetMutexProfileFraction(-1); got != DefaultMutexProfileFraction {
		t.Errorf("mutex fraction = %d, want %d", got, DefaultMutexProfileFraction)
	}
	c := a.configJSON()
	if c.IntervalSeconds != DefaultInterval.Seconds() || c.Windows != DefaultWindows || c.BlockProfileRate != DefaultBlockProfileRate ||
		c.MaxProfileSeconds != DefaultMaxProfileSeconds || a.Addr() != "" {
		t.Errorf("zero Config: got %+v, addr %q", c, a.Addr())
	}
}

func TestConfigRejected(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"bad role", Config{Labels: map[string]string{"role": "prod"}}, `role="prod"`},
		{"bad label name", Config{Labels: map[string]string{"service-name": "api"}}, "not a valid Prometheus label name"},
		{"non-loopback without token", Config{ListenAddr: "0.0.0.0:0"}, "Config.Token"},
		{"no port", Config{ListenAddr: "127.0.0.1"}, "ListenAddr"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Logger = quiet
			a, err := Start(tc.cfg)
			if err == nil {
				a.Stop()
				t.Fatal("Start succeeded, want an error")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not mention %q", err, tc.want)
			}
		})
	}
}

func TestOwnListener(t *testing.T) {
	for _, tc := range []struct {
		name     string
		cfg      Config
		loopback bool
	}{
		{"empty host binds loopback", Config{ListenAddr: ":0"}, true},
		{"localhost", Config{ListenAddr: "localhost:0"}, true},
		{"non-loopback with token", Config{ListenAddr: "0.0.0.0:0", Token: "t"}, false},
		{"non-loopback opt-out", Config{ListenAddr: "0.0.0.0:0", InsecureAllowNonLoopback: true}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs lockedBuffer
			tc.cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
			tc.cfg.Interval = time.Hour
			a, err := Start(tc.cfg)
			if err != nil {
				t.Fatalf("Start: %v", err)
			}
			defer a.Stop()
			host, port := splitAddr(t, a.Addr())
			if port == "0" || loopback.IsHost(host) != tc.loopback {
				t.Errorf("bound %s, want loopback=%v and a real port", a.Addr(), tc.loopback)
			}
			req, _ := http.NewRequest("GET", "http://127.0.0.1:"+port+"/debug/contendr/config", nil)
			req.Header.Set("Authorization", "Bearer "+tc.cfg.Token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("GET config on own listener: %s", resp.Status)
			}
			// A web page that re-pointed its own name at 127.0.0.1 sends
			// that name as Host; only a token-less loopback listener,
			// which has nothing else protecting it, refuses it.
			req.Host = "rebound.example:" + port
			resp, err = http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if guarded := tc.loopback && tc.cfg.Token == ""; guarded != (resp.StatusCode == http.StatusForbidden) {
				t.Errorf("GET config with Host %s: %s, want forbidden=%v", req.Host, resp.Status, guarded)
			}
			if !strings.Contains(logs.String(), "addr="+a.Addr()) {
				t.Errorf("the listen address is not logged: %s", logs.String())
			}
			if tc.cfg.InsecureAllowNonLoopback && !strings.Contains(logs.String(), "level=WARN") {
				t.Errorf("the insecure opt-out is not logged as a warning: %s", logs.String())
			}
			if err := a.Stop(); err != nil {
				t.Fatal(err)
			}
			http.DefaultClient.CloseIdleConnections()
		})
	}
}

func TestPanicInCollectionIsRecoveredAndCounted(t *testing.T) {
	var logs lockedBuffer
	a, err := newAgent(Config{Interval: time.Hour, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	var panicsLeft atomic.Int32
	panicsLeft.Store(2)
	a.collectHook = func() {
		if panicsLeft.Add(-1) >= 0 {
			panic("injected failure")
		}
	}
	if err := a.start(); err != nil {
		t.Fatal(err)
	}
	defer a.Stop()

	for range 2 {
		if _, err := a.CollectNow(context.Background()); err == nil || !strings.Contains(err.Error(), "injected failure") {
			t.Fatalf("CollectNow during a panic: err = %v, want the panic", err)
		}
	}
	w := collect(t, a) // the loop is still alive
	if w.ID != "1" {
		t.Errorf("first successful window has ID %q, want 1", w.ID)
	}
	if got := testutil.ToFloat64(a.metrics.errors); got != 2 {
		t.Errorf("contendr_agent_collect_errors_total = %v, want 2", got)
	}
	if got := testutil.ToFloat64(a.metrics.collections); got != 3 {
		t.Errorf("contendr_agent_collections_total = %v, want 3", got)
	}
	if n := strings.Count(logs.String(), "injected failure"); n != 1 {
		t.Errorf("the panic was logged %d times, want once:\n%s", n, logs.String())
	}
}

func TestRingIsBounded(t *testing.T) {
	a, srv := startAgent(t, Config{Windows: 3})
	for range 5 {
		collect(t, a)
	}
	var ids []string
	for _, w := range a.Windows() {
		ids = append(ids, w.ID)
	}
	if strings.Join(ids, ",") != "3,4,5" {
		t.Errorf("windows kept = %v, want [3 4 5]", ids)
	}
	if a.Latest().ID != "5" {
		t.Errorf("Latest = %s, want 5", a.Latest().ID)
	}
	resp := get(t, srv.URL+"/debug/contendr/windows/1", "")
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("a dropped window: %s, want 404", resp.Status)
	}
}

func TestLoopClosesContiguousWindows(t *testing.T) {
	a, _ := startAgent(t, Config{Interval: 50 * time.Millisecond})
	deadline := time.Now().Add(20 * time.Second)
	for len(a.Windows()) < 3 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	ws := a.Windows()
	if len(ws) < 3 {
		t.Fatalf("%d windows after 20s with a 50ms interval", len(ws))
	}
	for i := 1; i < len(ws); i++ {
		if !ws[i].Start.Equal(ws[i-1].End) {
			t.Errorf("window %s starts at %v, the previous ended at %v: a gap", ws[i].ID, ws[i].Start, ws[i-1].End)
		}
	}
	w := ws[len(ws)-1]
	m := w.Meta
	if m.Source != "in-process" || m.GoVersion != runtime.Version() || m.GOMAXPROCS != runtime.GOMAXPROCS(0) ||
		m.MutexProfileFraction != DefaultMutexProfileFraction || m.BlockProfileRate != DefaultBlockProfileRate || m.Goroutines == 0 {
		t.Errorf("meta = %+v", m)
	}
	for _, k := range cumulativeKinds {
		if w.Profile(k) == nil {
			t.Errorf("window lacks its %s profile; notes: %v", k, w.Notes)
		}
	}
	for _, s := range w.Profile(window.Block).Sample {
		for _, loc := range s.Location {
			for _, line := range loc.Line {
				if agentWaits.MatchString(line.Function.Name) {
					t.Errorf("the agent's own wait %s is in the host's block profile", line.Function.Name)
				}
			}
		}
	}
	for _, name := range window.MetricNames {
		_, inValues := w.Metrics.End.Values[name]
		_, inHistograms := w.Metrics.End.Histograms[name]
		if !inValues && !inHistograms {
			t.Errorf("window lacks runtime/metrics %s", name)
		}
	}
}

func TestRestartStartsANewBaseline(t *testing.T) {
	a, _ := startAgent(t, Config{MutexProfileFraction: 1})
	contend(100 * time.Millisecond)
	collect(t, a)

	// Pretend the cumulative profile read at the window's start was far
	// larger than anything the process can have now: what a restarted
	// target looks like.
	a.collectMu.Lock()
	inflated, err := a.readCumulative(window.Mutex, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(inflated.entries) == 0 {
		t.Fatal("no mutex records after contention")
	}
	for i := range inflated.entries {
		for j := range inflated.entries[i].v {
			inflated.entries[i].v[j] *= 1000
		}
	}
	a.base.readings[window.Mutex] = inflated
	a.collectMu.Unlock()

	w := collect(t, a)
	if !w.Meta.Restarted {
		t.Fatalf("window after a counter went down: Restarted = false; notes %v", w.Notes)
	}
	for _, s := range w.Profile(window.Mutex).Sample {
		for _, v := range s.Value {
			if v < 0 {
				t.Fatalf("negative value %d in the mutex profile after a restart", v)
			}
		}
	}
	if next := collect(t, a); next.Meta.Restarted {
		t.Errorf("the window after the restart is marked restarted too: %v", next.Notes)
	}
}

func TestAllocsDeltaIsNotARestart(t *testing.T) {
	a, _ := startAgent(t, Config{})
	keep := make([][]byte, 0, 1000)
	for i := range 1000 {
		keep = append(keep, make([]byte, 1024+i))
	}
	collect(t, a)
	keep = nil // freed: inuse goes down, allocation does not
	runtime.KeepAlive(keep)
	for range 3 {
		_ = make([]byte, 1<<20)
		if w := collect(t, a); w.Meta.Restarted {
			t.Fatalf("memory freed between windows was taken for a restart: %v", w.Notes)
		}
	}
}

func TestWindowOverByteCapDropsProfiles(t *testing.T) {
	a, _ := startAgent(t, Config{WindowMaxBytes: 1})
	w := collect(t, a)
	if len(w.Profiles) != 0 {
		t.Errorf("a window over a 1-byte cap kept %d profiles", len(w.Profiles))
	}
	dropped := 0
	for _, n := range w.Notes {
		if strings.Contains(n, "dropped") && strings.Contains(n, "Config.WindowMaxBytes") {
			dropped++
		}
	}
	if want := len(cumulativeKinds) + 1; dropped != want { // and the CPU profile of the duty cycle
		t.Errorf("%d notes about dropped profiles, want %d: %v", dropped, want, w.Notes)
	}
}

func TestRegistererOfTheHost(t *testing.T) {
	reg := prometheus.NewRegistry()
	a, err := Start(Config{Registerer: reg, Interval: time.Hour, Logger: quiet,
		Labels: map[string]string{"service": "api", "role": "canary"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Start(Config{Registerer: reg, Interval: time.Hour, Logger: quiet}); err == nil {
		t.Error("a second agent on the same registry started; want a registration error")
	}
	collect(t, a)
	n, err := testutil.GatherAndCount(reg, "contendr_agent_collections_total")
	if err != nil || n != 1 {
		t.Errorf("contendr_agent_collections_total in the host registry: %d series, err %v", n, err)
	}
	families, _ := reg.Gather()
	for _, f := range families {
		if f.GetName() == "contendr_agent_collections_total" {
			if got := f.GetMetric()[0].GetLabel(); len(got) != 2 {
				t.Errorf("const labels = %v, want role and service", got)
			}
		}
	}
	a.Stop()
	if n, _ := testutil.GatherAndCount(reg, "contendr_agent_collections_total"); n != 0 {
		t.Errorf("metrics still registered after Stop")
	}
	// The global registry was never touched.
	if n, _ := testutil.GatherAndCount(prometheus.DefaultGatherer, "contendr_agent_collections_total"); n != 0 {
		t.Errorf("the agent registered on the global registry")
	}
}

func TestNothingOnDefaultServeMux(t *testing.T) {
	startAgent(t, Config{})
	for _, path := range []string{"/debug/pprof/", "/debug/pprof/profile", "/debug/fgprof", "/metrics", "/debug/contendr/windows"} {
		req := httptest.NewRequest("GET", path, nil)
		if _, pattern := http.DefaultServeMux.Handler(req); pattern != "" {
			t.Errorf("%s is registered on http.DefaultServeMux (pattern %q)", path, pattern)
		}
	}
}

func TestCollectNowAfterStop(t *testing.T) {
	a, err := Start(Config{Interval: time.Hour, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	collect(t, a)
	a.Stop()
	if _, err := a.CollectNow(context.Background()); err != ErrStopped {
		t.Errorf("CollectNow after Stop: %v, want ErrStopped", err)
	}
	if a.Latest() == nil {
		t.Error("windows are gone after Stop")
	}
}

func splitAddr(t *testing.T, addr string) (host, port string) {
	t.Helper()
	i := strings.LastIndex(addr, ":")
	if i < 0 {
		t.Fatalf("address %q has no port", addr)
	}
	return strings.Trim(addr[:i], "[]"), addr[i+1:]
}

func get(t *testing.T, url, token string) *http.Response {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func readBody(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// lockedBuffer is a log sink safe for the agent's goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// cpuHolder names the CPU-profile-type activity holding the gate, "" when
// none does.
func (a *Agent) cpuHolder() string {
	a.cpu.mu.Lock()
	defer a.cpu.mu.Unlock()
	return a.cpu.holder
}
