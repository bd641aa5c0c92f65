package source

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/contendr/contendr/window"
)

// The contendr agent's endpoints, under the server root.
const (
	agentWindows = "/debug/contendr/windows"
	agentLatest  = "/debug/contendr/windows/latest"
	// agentSample is agent.SamplePath: one runtime/metrics reading.
	agentSample = "/debug/contendr/sample"
)

// agentWindow is the part of an entry of the agent's window list that
// Load reads.
type agentWindow struct {
	ID  string    `json:"id"`
	End time.Time `json:"end"`
}

// agentWindows asks the target for the agent's window list. A JSON array
// means an agent; a 404 or any other answer, a plain pprof server.
// Failures to connect or authenticate are errors either way.
func (f *fetcher) agentWindows(ctx context.Context) (list []agentWindow, isAgent bool, err error) {
	resp, err := f.get(ctx, agentWindows, 0)
	if err != nil {
		var e *Error
		if errors.As(err, &e) && (e.Kind == ErrNotFound || e.Kind == ErrBadResponse || e.Kind == ErrNotProfile) {
			return nil, false, nil
		}
		return nil, false, err
	}
	if resp.contentType == "text/html" || json.Unmarshal(resp.body, &list) != nil {
		return nil, false, nil
	}
	return list, true, nil
}

// loadAgent takes the agent's latest window, waiting up to opts.Seconds for
// the first one, then adds the extra profiles asked for, recorded live.
// With withPrevious it also returns the window before it, when the agent
// still keeps one.
func (f *fetcher) loadAgent(ctx context.Context, withPrevious bool) (w, previous *window.Window, err error) {
	w, err = f.latestWindow(ctx)
	if errors.Is(err, ErrNoWindow) {
		// An agent that has not closed a window yet serves the standard
		// pprof endpoints all the same: measure a live window from them
		// rather than wait for its interval. Its config says what the
		// pprof endpoints cannot: GOMAXPROCS and the Go version.
		if procs, goVersion := f.agentProcess(ctx); procs > 0 && f.opts.GOMAXPROCS == 0 {
			f.opts.GOMAXPROCS = procs
			if f.opts.GoVersion == "" {
				f.opts.GoVersion = goVersion
			}
		}
		w, err = f.loadPprof(ctx)
		if err != nil {
			return nil, nil, err
		}
		what := "its pprof endpoints and runtime/metrics readings"
		if w.Metrics == nil {
			what = "its pprof endpoints (no runtime/metrics in it: an agent older than this CLI)"
		}
		w.Note(fmt.Sprintf("the contendr agent had not closed a window yet: this window was measured live for %ds from %s", wholeSeconds(f.opts.Seconds), what))
		return w, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	if withPrevious {
		if previous, err = f.previousWindow(ctx, w); err != nil {
			if errors.Is(err, ErrCanceled) {
				return nil, nil, err
			}
			w.Note("no previous window to compare with: " + oneLine(err.Error()))
		}
	}
	w.Meta.Source = f.target
	if f.opts.GoVersion != "" {
		w.Meta.GoVersion = f.opts.GoVersion
	}

	seconds := wholeSeconds(f.opts.Seconds)
	wait := time.Duration(seconds) * time.Second
	q := "?seconds=" + strconv.Itoa(seconds)
	var jobs []job
	if f.opts.wants(window.CPU) && w.Profile(window.CPU) == nil {
		jobs = append(jobs, job{kind: window.CPU, endpoint: "/debug/pprof/profile" + q})
	}
	if f.opts.wants(window.Fgprof) && w.Profile(window.Fgprof) == nil {
		jobs = append(jobs, job{kind: window.Fgprof, endpoint: "/debug/fgprof" + q})
	}
	if len(jobs) > 0 {
		start := time.Now()
		stop := startProgress(ctx, f.opts.Progress, wait)
		got, err := f.fetchAll(ctx, jobs, wait)
		stop()
		if err != nil {
			return nil, nil, err
		}
		for k, p := range got.profiles {
			w.SetProfile(k, p)
			w.Note(fmt.Sprintf("%s profile recorded live for %ds from %s, after the agent's window",
				k, seconds, start.UTC().Format(time.RFC3339)))
		}
	}
	if f.opts.wants(window.Goroutine) && w.Profile(window.Goroutine) == nil {
		p, err := f.profile(ctx, "/debug/pprof/goroutine", 0, window.Goroutine)
		if err != nil {
			return nil, nil, err
		}
		w.SetProfile(window.Goroutine, p)
	}
	if err := f.heapSnapshot(ctx, w); err != nil {
		return nil, nil, err
	}
	return w, previous, nil
}

// agentProcess reads GOMAXPROCS and the Go version from the agent's config
// endpoint; zero values when it does not say.
func (f *fetcher) agentProcess(ctx context.Context) (gomaxprocs int, goVersion string) {
	resp, err := f.get(ctx, "/debug/contendr/config", 0)
	if err != nil {
		return 0, ""
	}
	var cfg struct {
		GOMAXPROCS int    `json:"gomaxprocs"`
		GoVersion  string `json:"go_version"`
	}
	if json.Unmarshal(resp.body, &cfg) != nil {
		return 0, ""
	}
	return cfg.GOMAXPROCS, cfg.GoVersion
}

// previousWindow fetches the window that closed last before w.
func (f *fetcher) previousWindow(ctx context.Context, w *window.Window) (*window.Window, error) {
	list, _, err := f.agentWindows(ctx)
	if err != nil {
		return nil, err
	}
	var prev *agentWindow
	for i, entry := range list {
		if entry.ID != w.ID && !entry.End.After(w.Start) && (prev == nil || entry.End.After(prev.End)) {
			prev = &list[i]
		}
	}
	if prev == nil {
		return nil, nil
	}
	endpoint := agentWindows + "/" + url.PathEscape(prev.ID)
	resp, err := f.get(ctx, endpoint, 0)
	if err != nil {
		return nil, err
	}
	pw, err := window.DecodeBundle(resp.body)
	if err != nil {
		return nil, &Error{Target: f.target, Kind: ErrNotProfile, Err: err,
			What: "GET " + endpoint + ": " + oneLine(err.Error()), Hint: "check that the agent's version matches this CLI"}
	}
	pw.Meta.Source = f.target
	return pw, nil
}

// latestWindow fetches the agent's latest window. An agent answers 404 (or
// 204, or 503) until its first window closes: that is ErrNoWindow.
func (f *fetcher) latestWindow(ctx context.Context) (*window.Window, error) {
	resp, err := f.get(ctx, agentLatest, 0)
	switch {
	case err != nil && notYet(err), err == nil && len(resp.body) == 0:
		return nil, &Error{Target: f.target, Kind: ErrNoWindow,
			What: "the contendr agent has not closed a window yet",
			Hint: "retry after the agent's interval has passed"}
	case err != nil:
		return nil, err
	}
	w, err := window.DecodeBundle(resp.body)
	if err != nil {
		return nil, &Error{Target: f.target, Kind: ErrNotProfile, Err: err,
			What: "GET " + agentLatest + ": " + oneLine(err.Error()),
			Hint: "check that the agent's version matches this CLI"}
	}
	return w, nil
}

// notYet tells the answers of an agent without a closed window.
func notYet(err error) bool {
	var e *Error
	if !errors.As(err, &e) {
		return false
	}
	switch e.Status {
	case http.StatusNotFound, http.StatusServiceUnavailable, http.StatusTooEarly:
		return true
	}
	return false
}
