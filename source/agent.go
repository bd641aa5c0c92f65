package source

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/contendr/contendr/window"
)

// The contendr agent's endpoints, under the server root.
const (
	agentWindows = "/debug/contendr/windows"
	agentLatest  = "/debug/contendr/windows/latest"
)

// isAgent asks the target for the agent's window list: a JSON answer means
// an agent; a 404 or anything that is not JSON, a plain pprof server.
// Failures to connect or authenticate are errors either way.
func (f *fetcher) isAgent(ctx context.Context) (bool, error) {
	resp, err := f.get(ctx, agentWindows, 0)
	if err != nil {
		var e *Error
		if errors.As(err, &e) && (e.Kind == ErrNotFound || e.Kind == ErrBadResponse || e.Kind == ErrNotProfile) {
			return false, nil
		}
		return false, err
	}
	return resp.contentType != "text/html" && json.Valid(resp.body), nil
}

// loadAgent takes the agent's latest window, waiting up to opts.Seconds for
// the first one, then adds the extra profiles asked for, recorded live.
func (f *fetcher) loadAgent(ctx context.Context) (*window.Window, error) {
	w, err := f.latestWindow(ctx)
	if err != nil {
		return nil, err
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
			return nil, err
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
			return nil, err
		}
		w.SetProfile(window.Goroutine, p)
	}
	return w, nil
}

// latestWindow polls the agent's latest window until it has one or
// opts.Seconds have passed. An agent answers 404 (or 204, or 503) until its
// first window closes.
func (f *fetcher) latestWindow(ctx context.Context) (*window.Window, error) {
	deadline := time.Now().Add(f.opts.Seconds)
	var stop func()
	defer func() {
		if stop != nil {
			stop()
		}
	}()
	for {
		resp, err := f.get(ctx, agentLatest, 0)
		if err == nil && len(resp.body) > 0 {
			w, err := window.DecodeBundle(resp.body)
			if err != nil {
				return nil, &Error{Target: f.target, Kind: ErrNotProfile, Err: err,
					What: "GET " + agentLatest + ": " + oneLine(err.Error()),
					Hint: "check that the agent's version matches this CLI"}
			}
			return w, nil
		}
		if err != nil && !notYet(err) {
			return nil, err
		}
		if time.Now().After(deadline) {
			return nil, &Error{Target: f.target, Kind: ErrNoWindow,
				What: fmt.Sprintf("the contendr agent has not closed a window yet (waited %s)", f.opts.Seconds),
				Hint: "retry after the agent's interval has passed, or raise --seconds"}
		}
		if stop == nil {
			stop = startProgress(ctx, f.opts.Progress, f.opts.Seconds)
		}
		pause := min(500*time.Millisecond, time.Until(deadline))
		select {
		case <-ctx.Done():
			return nil, &Error{Target: f.target, Kind: ErrCanceled, Err: ctx.Err(),
				What: "interrupted while waiting for the agent's first window", Hint: "nothing was analyzed"}
		case <-time.After(pause):
		}
	}
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
