package agent

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/felixge/fgprof"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/contendr/contendr/window"
)

// DashboardPath is where Config.Dashboard is served.
const DashboardPath = "/debug/contendr/ui/"

// routes builds the agent's handler on a private mux.
func (a *Agent) routes() http.Handler {
	mux := http.NewServeMux()

	// The net/http/pprof endpoints (see pprof.go). Named profiles
	// (/debug/pprof/mutex?seconds=N, …) go through the index; the
	// CPU-profile-type ones also pass the one-at-a-time gate.
	mux.Handle(pprofPrefix, a.capSeconds(0, http.HandlerFunc(pprofIndex)))
	mux.HandleFunc(pprofPrefix+"cmdline", pprofCmdline)
	mux.HandleFunc(pprofPrefix+"symbol", pprofSymbol)
	mux.Handle(pprofPrefix+"profile", a.capSeconds(30, a.cpuExclusive(http.HandlerFunc(pprofProfile))))
	mux.Handle(pprofPrefix+"trace", a.capSeconds(1, a.cpuExclusive(http.HandlerFunc(pprofTrace))))
	mux.Handle("/debug/fgprof", a.capSeconds(30, a.limitGoroutines(a.cpuExclusive(fgprof.Handler()))))

	if a.metrics.gatherer != nil {
		mux.Handle("/metrics", promhttp.HandlerFor(a.metrics.gatherer, promhttp.HandlerOpts{
			ErrorLog: slogPrinter{a}, ErrorHandling: promhttp.ContinueOnError,
		}))
	}

	mux.HandleFunc("GET /debug/contendr/windows", a.serveWindows)
	mux.HandleFunc("GET /debug/contendr/windows/latest", a.serveLatest)
	mux.HandleFunc("GET /debug/contendr/windows/{id}", a.serveWindowByID)
	mux.HandleFunc("GET /debug/contendr/windows/{id}/trace", a.serveWindowTrace)
	mux.HandleFunc("POST /debug/contendr/trace", a.serveTraceSnapshot)
	mux.HandleFunc("GET /debug/contendr/config", a.serveConfig)
	mux.HandleFunc("GET "+SamplePath, a.serveSample)
	mux.HandleFunc("PUT /debug/contendr/config", a.updateConfig)
	if a.cfg.Dashboard != nil {
		mux.Handle(DashboardPath, http.StripPrefix(strings.TrimSuffix(DashboardPath, "/"), a.cfg.Dashboard(a.Windows)))
	}

	return a.authenticate(mux)
}

// authenticate requires "Authorization: Bearer <Token>" on every request
// when a token is configured.
func (a *Agent) authenticate(next http.Handler) http.Handler {
	if a.cfg.Token == "" {
		return next
	}
	want := []byte(a.cfg.Token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		if !strings.EqualFold(scheme, "Bearer") || subtle.ConstantTimeCompare([]byte(token), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="contendr"`)
			http.Error(w, "unauthorized: this agent requires the header \"Authorization: Bearer <token>\" (Config.Token)",
				http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// capSeconds rejects ?seconds= above MaxProfileSeconds with 400 rather than
// clamping it: a caller asking for 300s and silently getting 60s would
// misread its rates. A handler whose implicit default (defaultSeconds)
// exceeds the cap gets the cap written into its query instead.
func (a *Agent) capSeconds(defaultSeconds int, next http.Handler) http.Handler {
	limit := a.cfg.MaxProfileSeconds
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		s := q.Get("seconds")
		if s == "" && defaultSeconds > limit {
			q.Set("seconds", strconv.Itoa(limit))
			r = r.Clone(r.Context())
			r.URL.RawQuery = q.Encode()
		}
		if n, err := strconv.ParseFloat(s, 64); err == nil && n > float64(limit) {
			http.Error(w, fmt.Sprintf("seconds=%s exceeds this agent's limit of %d seconds (Config.MaxProfileSeconds); ask for %d or less",
				s, limit, limit), http.StatusBadRequest)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// cpuExclusive lets one CPU-profile-type request run at a time: it stops
// the agent's own duty-cycle profile if that is running (the window keeps
// what it recorded, with a Note) and answers another user's request with
// 409 at once.
func (a *Agent) cpuExclusive(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		holder, ok := a.cpu.acquireYielding(r.URL.Path + " (requested by " + r.RemoteAddr + ")")
		if !ok {
			http.Error(w, fmt.Sprintf("conflict: %s is running; only one of /debug/pprof/profile, /debug/pprof/trace "+
				"and /debug/fgprof runs at a time — retry when it has finished", holder),
				http.StatusConflict)
			return
		}
		defer a.cpu.release()
		next.ServeHTTP(w, r)
	})
}

// limitGoroutines refuses fgprof above FgprofMaxGoroutines: each fgprof
// sample (99 per second) walks every goroutine's stack.
func (a *Agent) limitGoroutines(next http.Handler) http.Handler {
	limit := a.cfg.FgprofMaxGoroutines
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n := runtime.NumGoroutine(); n > limit {
			http.Error(w, fmt.Sprintf("fgprof skipped: %d goroutines, above the limit of %d (Config.FgprofMaxGoroutines); "+
				"every fgprof sample walks every goroutine's stack, which would stall this process — use /debug/pprof/goroutine instead",
				n, limit), http.StatusServiceUnavailable)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// windowSummary is one entry of /debug/contendr/windows.
type windowSummary struct {
	ID       string               `json:"id"`
	Start    time.Time            `json:"start"`
	End      time.Time            `json:"end"`
	Seconds  float64              `json:"seconds"`
	Profiles []window.ProfileKind `json:"profiles"`
	// ContentionCost is collectors/mutex's contention cost for the window,
	// the headline figure /metrics (contendr_contention_cost_ratio), the
	// alert rules and analyze quote; null when it is unknown. Estimated
	// says it was not measured directly (a lower bound without a CPU
	// profile, among others), and CostReason why, or why the cost is
	// unknown (see mutex.Cost).
	ContentionCost *float64 `json:"contention_cost"`
	CostEstimated  bool     `json:"contention_cost_estimated,omitempty"`
	CostReason     string   `json:"contention_cost_reason,omitempty"`
	// LockFraction is collectors/mutex's lock wait share for the window,
	// kept for compatibility: it counts waits that cost no throughput;
	// null when it has none. Estimated says it was not measured over
	// exactly the window (see mutex.LockFraction).
	LockFraction  *float64 `json:"lock_fraction"`
	LockEstimated bool     `json:"lock_fraction_estimated,omitempty"`
	Goroutines    int      `json:"goroutines"`
	// Trace describes the window's execution trace, if it has one.
	Trace     *traceSummary `json:"trace,omitempty"`
	Restarted bool          `json:"restarted,omitempty"`
	Notes     []string      `json:"notes,omitempty"`
}

func (a *Agent) summarize(w *window.Window) windowSummary {
	s := windowSummary{
		ID: w.ID, Start: w.Start, End: w.End, Seconds: w.Seconds(),
		Profiles:   []window.ProfileKind{},
		Goroutines: w.Meta.Goroutines, Restarted: w.Meta.Restarted, Notes: w.Notes,
	}
	for _, k := range window.Kinds {
		if w.Profile(k) != nil {
			s.Profiles = append(s.Profiles, k)
		}
	}
	if w.Trace != nil {
		s.Trace = &traceSummary{Reason: w.Trace.Reason, CapturedAt: w.Trace.CapturedAt, Bytes: w.Trace.Bytes,
			Path: "/debug/contendr/windows/" + w.ID + "/trace"}
	}
	if judged, ok := a.judgedLock(w); ok {
		c := judged.cost
		if c.Known {
			s.ContentionCost, s.CostEstimated = &c.Value, c.Estimated
		}
		s.CostReason = c.Reason // also why an unknown cost is null
		if lf := judged.fraction; lf.Known {
			s.LockFraction, s.LockEstimated = &lf.Value, lf.Estimated
		}
	}
	return s
}

func (a *Agent) serveWindows(w http.ResponseWriter, r *http.Request) {
	list := []windowSummary{}
	for _, win := range a.Windows() {
		list = append(list, a.summarize(win))
	}
	writeJSON(w, http.StatusOK, list)
}

func (a *Agent) serveLatest(w http.ResponseWriter, r *http.Request) {
	win := a.Latest()
	if win == nil {
		writeJSONError(w, http.StatusNotFound, fmt.Sprintf("no window collected yet: the first closes %s after the agent started",
			a.cfg.Interval))
		return
	}
	a.serveBundle(w, win)
}

func (a *Agent) serveWindowByID(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	win := a.window(id)
	if win == nil {
		writeJSONError(w, http.StatusNotFound, fmt.Sprintf("no window %q: this agent keeps the last %d windows; "+
			"see /debug/contendr/windows for their ids", id, a.cfg.Windows))
		return
	}
	a.serveBundle(w, win)
}

// serveBundle encodes before writing anything so that a failure is a clean
// 500, not a truncated zip.
func (a *Agent) serveBundle(w http.ResponseWriter, win *window.Window) {
	var buf bytes.Buffer
	if err := win.Encode(&buf); err != nil {
		writeJSONError(w, http.StatusInternalServerError, fmt.Sprintf("encoding window %s: %v", win.ID, err))
		return
	}
	w.Header().Set("Content-Type", window.BundleContentType)
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="contendr-window-%s.zip"`, win.ID))
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.Write(buf.Bytes())
}

// configJSON is the body of GET /debug/contendr/config.
type configJSON struct {
	MutexProfileFraction  int               `json:"mutex_profile_fraction"`
	BlockProfileRate      int               `json:"block_profile_rate"`
	IntervalSeconds       float64           `json:"interval_seconds"`
	Windows               int               `json:"windows"`
	WindowMaxBytes        int               `json:"window_max_bytes"`
	CPUProfileDutySeconds float64           `json:"cpu_profile_duty_seconds"`
	MaxProfileSeconds     int               `json:"max_profile_seconds"`
	FgprofMaxGoroutines   int               `json:"fgprof_max_goroutines"`
	Labels                map[string]string `json:"labels,omitempty"`
	// GOMAXPROCS and GoVersion describe the process, for a client that
	// measures a live window from the pprof endpoints before the agent
	// has closed one (the contention cost is a share of GOMAXPROCS ×
	// window).
	GOMAXPROCS int    `json:"gomaxprocs"`
	GoVersion  string `json:"go_version"`
}

func (a *Agent) configJSON() configJSON {
	r := a.currentRates()
	return configJSON{
		MutexProfileFraction:  r.MutexProfileFraction,
		BlockProfileRate:      r.BlockProfileRate,
		IntervalSeconds:       a.cfg.Interval.Seconds(),
		Windows:               a.cfg.Windows,
		WindowMaxBytes:        a.cfg.WindowMaxBytes,
		CPUProfileDutySeconds: a.cfg.CPUProfileDuty.Seconds(),
		MaxProfileSeconds:     a.cfg.MaxProfileSeconds,
		FgprofMaxGoroutines:   a.cfg.FgprofMaxGoroutines,
		Labels:                a.cfg.Labels,
		GOMAXPROCS:            runtime.GOMAXPROCS(0),
		GoVersion:             runtime.Version(),
	}
}

// SamplePath serves one reading of the window's runtime metrics, taken
// when asked: a client measuring a live window from the pprof endpoints
// reads it at both ends, so the window has the /cpu/classes, GC and
// scheduler counters an agent's own windows have. Without them a live
// window's idle Ps come from capacity minus CPU, which counts a second
// process on the same cores as idle (the gate runs two).
const SamplePath = "/debug/contendr/sample"

func (a *Agent) serveSample(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, a.readMetrics(time.Now()))
}

func (a *Agent) serveConfig(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, a.configJSON())
}

// ratesUpdate is the body of PUT /debug/contendr/config; an absent field
// keeps its rate.
type ratesUpdate struct {
	MutexProfileFraction *int `json:"mutex_profile_fraction"`
	BlockProfileRate     *int `json:"block_profile_rate"`
}

// updateConfig changes the sampling rates. It always requires a token:
// without one configured nobody is trusted to change them over HTTP.
func (a *Agent) updateConfig(w http.ResponseWriter, r *http.Request) {
	if a.cfg.Token == "" {
		writeJSONError(w, http.StatusForbidden, "changing rates over HTTP requires a token: start the agent with Config.Token set, "+
			"or call (*agent.Agent).SetRates from the program")
		return
	}
	var update ratesUpdate
	dec := json.NewDecoder(io.LimitReader(r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&update); err != nil {
		writeJSONError(w, http.StatusBadRequest, fmt.Sprintf("reading the rates to set: %v; want "+
			`{"mutex_profile_fraction": N, "block_profile_rate": N}`, err))
		return
	}
	current := a.currentRates()
	mutexFraction, blockRate := current.MutexProfileFraction, current.BlockProfileRate
	if update.MutexProfileFraction != nil {
		mutexFraction = *update.MutexProfileFraction
	}
	if update.BlockProfileRate != nil {
		blockRate = *update.BlockProfileRate
	}
	if mutexFraction < 0 || blockRate < 0 {
		writeJSONError(w, http.StatusBadRequest, "rates must be ≥ 0 (0 turns a profile off)")
		return
	}
	if a.isStopped() {
		writeJSONError(w, http.StatusConflict, "the agent is stopped: its rates were restored and cannot change")
		return
	}
	a.SetRates(mutexFraction, blockRate)
	a.log.Info("contendr agent: sampling rates changed over HTTP",
		"mutex_profile_fraction", mutexFraction, "block_profile_rate", blockRate, "remote", r.RemoteAddr)
	writeJSON(w, http.StatusOK, a.configJSON())
}

func (a *Agent) isStopped() bool {
	a.ratesMu.Lock()
	defer a.ratesMu.Unlock()
	return a.stopped
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		http.Error(w, "encoding the response: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(body, '\n'))
}

func writeJSONError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

// slogPrinter adapts the agent's logger to promhttp's ErrorLog.
type slogPrinter struct{ a *Agent }

func (p slogPrinter) Println(v ...any) {
	p.a.log.Warn("contendr agent: serving /metrics", "err", errors.New(fmt.Sprint(v...)))
}
