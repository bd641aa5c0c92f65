package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/contendr/contendr/collectors/mutex"
	"github.com/contendr/contendr/internal/loopback"
	"github.com/contendr/contendr/window"
)

// ErrStopped is returned by CollectNow after Stop.
var ErrStopped = errors.New("contendr agent is stopped")

// Agent collects windows in the background and serves them. Create one with
// Start; all its methods are safe for concurrent use.
type Agent struct {
	cfg     Config
	log     *slog.Logger
	metrics *selfMetrics
	cpu     cpuGate
	handler http.Handler

	// mutexFractionBefore is the fraction in force before Start, restored by
	// Stop.
	mutexFractionBefore int

	ratesMu sync.Mutex
	rates   rates
	stopped bool

	ringMu sync.RWMutex
	ring   []*window.Window // oldest first, at most cfg.Windows
	// judgedLocks holds what collectors/mutex judged for each window in
	// the ring, so that the windows list quotes the same figures as
	// /metrics and analyze.
	judgedLocks map[*window.Window]judgedLock

	// collectMu guards the collection state below: the open window's
	// baseline, the CPU duty cycle and the error counts.
	collectMu sync.Mutex
	base      baseline
	// records and syms read the runtime's cumulative profiles and name
	// their stacks, keeping buffers and caches from window to window: a
	// symbolizer per profile kind, so that each profile's location IDs
	// are dense.
	records  recordReader
	syms     map[window.ProfileKind]*symbolizer
	lastID   int
	cpuRun   *cpuRun
	cpuNote  string
	panics   int
	failures int
	// collectHook, when set (by tests), runs at the start of each collection.
	collectHook func()

	collectNow chan chan collectResult
	stop       chan struct{}
	stopOnce   sync.Once
	// sched samples the scheduler's idle Ps for the contention cost (nil
	// before Go 1.26).
	sched   *schedSampler
	stopErr error
	wg      sync.WaitGroup

	server   *http.Server
	listener net.Listener

	alerts *alerts // nil when Config.DisableAlerts
	// rec is the flight recorder, nil without Config.FlightRecorder.
	rec *recorder

	resultsMu sync.RWMutex
	results   windowResults // the latest window's, for /metrics
}

// rates are the sampling rates the agent has set, and a generation number
// that changes with them so that a window can tell it spans a change.
type rates struct {
	MutexProfileFraction int
	BlockProfileRate     int
	generation           int
}

type collectResult struct {
	w   *window.Window
	err error
}

// Start sets the profiling rates, takes the first window's baseline, starts
// the collection loop and, when cfg.ListenAddr is set, the agent's own
// listener. Call Stop to undo all of it.
func Start(cfg Config) (*Agent, error) {
	a, err := newAgent(cfg)
	if err != nil {
		return nil, err
	}
	if err := a.start(); err != nil {
		return nil, err
	}
	return a, nil
}

// newAgent builds an agent without touching the runtime, so that tests can
// set unexported hooks before start.
func newAgent(cfg Config) (*Agent, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	a := &Agent{
		cfg:         cfg,
		log:         cfg.Logger.With("component", "contendr-agent"),
		collectNow:  make(chan chan collectResult),
		stop:        make(chan struct{}),
		judgedLocks: map[*window.Window]judgedLock{},
	}
	return a, nil
}

func (a *Agent) start() error {
	metrics, err := newSelfMetrics(a.cfg, a.latestResults, a.log)
	if err != nil {
		return err
	}
	a.metrics = metrics
	if a.alerts, err = a.startAlerts(); err != nil {
		a.metrics.unregister()
		return err
	}
	a.handler = a.routes()

	if a.cfg.ListenAddr != "" {
		if err := a.listen(); err != nil {
			a.alerts.stop()
			a.metrics.unregister()
			return err
		}
	}

	if a.cfg.FlightRecorder != nil {
		a.rec = startRecorder(*a.cfg.FlightRecorder, a.log)
	}
	a.mutexFractionBefore = runtime.SetMutexProfileFraction(-1)
	a.SetRates(a.cfg.MutexProfileFraction, a.cfg.BlockProfileRate)

	if a.sched = newSchedSampler(); a.sched != nil {
		a.wg.Add(1)
		go func() {
			defer a.wg.Done()
			a.sched.run(a.stop)
		}()
	}
	a.collectMu.Lock()
	a.base = a.readBaseline(time.Now())
	a.startCPU()
	a.collectMu.Unlock()

	if a.cfg.CPUProfileDuty >= a.cfg.Interval {
		a.log.Warn("contendr agent: CPUProfileDuty fills the whole interval; the CPU profiler runs all the time "+
			"and costs in proportion (see DefaultCPUProfileDuty); user requests for a CPU profile still cut it short",
			"cpu_profile_duty", a.cfg.CPUProfileDuty, "interval", a.cfg.Interval)
	}
	a.wg.Add(1)
	go a.run()
	a.log.Info("contendr agent started",
		"interval", a.cfg.Interval, "windows", a.cfg.Windows,
		"mutex_profile_fraction", a.cfg.MutexProfileFraction,
		"block_profile_rate", a.cfg.BlockProfileRate,
		"cpu_profile_duty", a.cfg.CPUProfileDuty)
	return nil
}

func (a *Agent) listen() error {
	ln, err := net.Listen("tcp", a.cfg.ListenAddr)
	if err != nil {
		return fmt.Errorf("starting contendr agent listener on %s: %w", a.cfg.ListenAddr, err)
	}
	a.listener = ln
	host, _, _ := net.SplitHostPort(ln.Addr().String())
	isLoopback := loopback.IsHost(host)
	handler := a.handler
	if isLoopback && a.cfg.Token == "" {
		// Loopback alone does not keep out the user's browser: a rebound
		// DNS name would let any web page read profiles.
		handler = loopback.Guard(handler)
	}
	a.server = &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		// A profile request legitimately takes up to MaxProfileSeconds.
		WriteTimeout: time.Duration(a.cfg.MaxProfileSeconds)*time.Second + writeMargin,
		ErrorLog:     slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
	}
	attrs := []any{"addr", ln.Addr().String(), "loopback", isLoopback, "token", a.cfg.Token != ""}
	if !isLoopback && a.cfg.Token == "" {
		a.log.Warn("contendr agent listening on a non-loopback address WITHOUT a token "+
			"(InsecureAllowNonLoopback): anyone who reaches it can read profiles", attrs...)
	} else {
		a.log.Info("contendr agent listening", attrs...)
	}
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		if err := a.server.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.log.Error("contendr agent listener stopped", "err", err)
		}
	}()
	return nil
}

// shutdownTimeout bounds how long Stop waits for in-flight requests on the
// agent's own listener (a CPU profile may run for a minute) before it cuts
// them off.
const shutdownTimeout = 2 * time.Second

// Stop ends collection, closes the agent's own listener and restores the
// mutex profile fraction in force before Start and the block profile rate
// Config.PreviousBlockRate. It is idempotent; windows already collected stay
// readable through Windows, Latest and Handler.
func (a *Agent) Stop() error {
	a.stopOnce.Do(func() {
		close(a.stop)
		if a.server != nil {
			ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
			if err := a.server.Shutdown(ctx); err != nil {
				a.log.Warn("contendr agent listener: cutting off in-flight requests on stop", "err", err)
				if err := a.server.Close(); err != nil {
					a.stopErr = fmt.Errorf("closing the contendr agent listener: %w", err)
				}
			}
			cancel()
		}
		a.wg.Wait()
		a.rec.stop()
		a.alerts.stop()
		a.metrics.unregister()

		a.ratesMu.Lock()
		a.stopped = true
		runtime.SetMutexProfileFraction(a.mutexFractionBefore)
		runtime.SetBlockProfileRate(a.cfg.PreviousBlockRate)
		a.ratesMu.Unlock()
		a.log.Info("contendr agent stopped",
			"restored_mutex_profile_fraction", a.mutexFractionBefore,
			"restored_block_profile_rate", a.cfg.PreviousBlockRate)
	})
	return a.stopErr
}

// Handler serves the agent's endpoints: /debug/pprof/*, /debug/fgprof,
// /metrics and /debug/contendr/*. Mount it at the root of a mux (for
// example mux.Handle("/debug/", a.Handler())); it registers nothing on
// http.DefaultServeMux.
func (a *Agent) Handler() http.Handler { return a.handler }

// Addr is the address the agent's own listener is bound to ("" without
// Config.ListenAddr); with port 0 it holds the port chosen.
func (a *Agent) Addr() string {
	if a.listener == nil {
		return ""
	}
	return a.listener.Addr().String()
}

// SetRates changes the mutex profile fraction and block profile rate at run
// time. Negative values count as 0 (off). After Stop it does nothing, so
// that the restored values stay.
func (a *Agent) SetRates(mutexFraction, blockRate int) {
	mutexFraction, blockRate = max(mutexFraction, 0), max(blockRate, 0)
	a.ratesMu.Lock()
	defer a.ratesMu.Unlock()
	if a.stopped {
		return
	}
	runtime.SetMutexProfileFraction(mutexFraction)
	runtime.SetBlockProfileRate(blockRate)
	a.rates = rates{
		MutexProfileFraction: mutexFraction,
		BlockProfileRate:     blockRate,
		generation:           a.rates.generation + 1,
	}
}

func (a *Agent) currentRates() rates {
	a.ratesMu.Lock()
	defer a.ratesMu.Unlock()
	return a.rates
}

// Windows returns the windows kept, oldest first. They are shared: read
// them, do not modify them.
func (a *Agent) Windows() []*window.Window {
	a.ringMu.RLock()
	defer a.ringMu.RUnlock()
	return append([]*window.Window(nil), a.ring...)
}

// Latest returns the last closed window, or nil before the first one.
func (a *Agent) Latest() *window.Window {
	a.ringMu.RLock()
	defer a.ringMu.RUnlock()
	if len(a.ring) == 0 {
		return nil
	}
	return a.ring[len(a.ring)-1]
}

// window returns the kept window with the given ID, or nil.
func (a *Agent) window(id string) *window.Window {
	a.ringMu.RLock()
	defer a.ringMu.RUnlock()
	for _, w := range a.ring {
		if w.ID == id {
			return w
		}
	}
	return nil
}

// judgedLock is what the windows list quotes of a kept window's
// collectors/mutex result: the contention cost and the lock wait share.
type judgedLock struct {
	cost     mutex.Cost
	fraction mutex.LockFraction
}

func (a *Agent) keep(w *window.Window, judged *mutex.Result) {
	a.ringMu.Lock()
	defer a.ringMu.Unlock()
	if len(a.ring) == a.cfg.Windows {
		a.ring[0] = nil
		a.ring = a.ring[1:]
	}
	a.ring = append(a.ring, w)
	// The judged figures of each kept window, for the windows list;
	// dropped with the window.
	if judged != nil {
		a.judgedLocks[w] = judgedLock{cost: judged.Cost, fraction: judged.LockFraction}
	}
	for kept := range a.judgedLocks {
		if !slices.Contains(a.ring, kept) {
			delete(a.judgedLocks, kept)
		}
	}
}

// judgedLock returns what collectors/mutex judged for a kept window; ok
// is false when the window was not judged.
func (a *Agent) judgedLock(w *window.Window) (judgedLock, bool) {
	a.ringMu.RLock()
	defer a.ringMu.RUnlock()
	j, ok := a.judgedLocks[w]
	return j, ok
}

// CollectNow closes the open window early and returns it; the next window
// opens at once. Collection errors are returned (and counted as in the
// loop).
func (a *Agent) CollectNow(ctx context.Context) (*window.Window, error) {
	reply := make(chan collectResult, 1)
	select {
	case a.collectNow <- reply:
	case <-a.stop:
		return nil, ErrStopped
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting to close a window: %w", ctx.Err())
	}
	select {
	case r := <-reply:
		return r.w, r.err
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting for window collection: %w", ctx.Err())
	}
}

// run is the collection loop: one window per Interval, or earlier on
// CollectNow.
func (a *Agent) run() {
	defer a.wg.Done()
	defer a.stopCPU()
	ticker := time.NewTicker(a.cfg.Interval)
	defer ticker.Stop()
	for {
		select {
		case <-ticker.C:
			a.closeWindow() // errors are logged and counted there
		case reply := <-a.collectNow:
			w, err := a.closeWindow()
			reply <- collectResult{w, err}
			ticker.Reset(a.cfg.Interval)
		case <-a.stop:
			return
		}
	}
}
