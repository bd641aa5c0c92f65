package webui

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/contendr/contendr/source"
	"github.com/contendr/contendr/window"
)

// DefaultKeep is how many windows a Remote keeps when RemoteOptions.Keep is
// zero: an agent's default too.
const DefaultKeep = 12

// RemoteOptions say how a Remote polls its target.
type RemoteOptions struct {
	// Interval is how often the target is polled (default source.DefaultSeconds).
	// A plain net/http/pprof target is measured live for Interval each time.
	Interval time.Duration
	// Keep bounds the windows kept (default DefaultKeep): memory stays
	// bounded however long the dashboard runs.
	Keep int
	// Load is passed to source.Load; its Seconds defaults to Interval.
	Load source.Options
	// Logger receives one line per change between reachable and not; nil
	// means slog.Default().
	Logger *slog.Logger
}

// Remote is a Source that polls a target — an agent, a plain pprof server,
// or a bundle or profile files — with source.Load and keeps its last
// windows. Run does the polling.
type Remote struct {
	target string
	opts   RemoteOptions
	log    *slog.Logger

	mu      sync.Mutex
	windows []*window.Window
	err     error
	// polls numbers the windows of targets that do not number their own.
	polls int
}

// NewRemote returns a Remote for target; nothing is fetched until Run.
func NewRemote(target string, opts RemoteOptions) *Remote {
	if opts.Interval <= 0 {
		opts.Interval = source.DefaultSeconds
	}
	if opts.Keep <= 0 {
		opts.Keep = DefaultKeep
	}
	if opts.Load.Seconds <= 0 {
		opts.Load.Seconds = opts.Interval
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Remote{target: target, opts: opts, log: log}
}

// Windows returns the windows kept, oldest first, and the error of the last
// poll.
func (r *Remote) Windows() ([]*window.Window, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*window.Window(nil), r.windows...), r.err
}

// Run polls the target every Interval until ctx ends. Each poll of an
// agent also takes the window before its latest: the charts start with two
// points, and an agent whose windows are shorter than Interval loses fewer.
func (r *Remote) Run(ctx context.Context) {
	for {
		started := time.Now()
		r.poll(ctx)
		// A live pprof measurement already took Interval: poll again at
		// once. An agent answers at once: wait for its next window.
		wait := r.opts.Interval - time.Since(started)
		select {
		case <-ctx.Done():
			return
		case <-time.After(max(wait, 0)):
		}
	}
}

func (r *Remote) poll(ctx context.Context) {
	w, previous, err := source.LoadWithPrevious(ctx, r.target, r.opts.Load)
	if ctx.Err() != nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if (err == nil) != (r.err == nil) || (err != nil && !errors.Is(err, errorKind(r.err))) {
		if err != nil {
			r.log.Warn("contendr serve: polling target", "target", r.target, "err", err)
		} else if r.err != nil {
			r.log.Info("contendr serve: target answers again", "target", r.target)
		}
	}
	r.err = err
	if err != nil {
		return
	}
	if previous != nil {
		r.add(previous)
	}
	r.add(w)
}

// add keeps w unless it is the window kept last (an agent polled before its
// next window closed), dropping the oldest beyond Keep.
func (r *Remote) add(w *window.Window) {
	if n := len(r.windows); n > 0 {
		last := r.windows[n-1]
		if last.ID == w.ID && last.Start.Equal(w.Start) {
			return
		}
		if !w.End.After(last.End) && !w.Meta.Restarted {
			return // already kept, or older than what is kept
		}
	}
	r.polls++
	if w.ID == "" {
		w.ID = strconv.Itoa(r.polls)
	}
	r.windows = append(r.windows, w)
	if extra := len(r.windows) - r.opts.Keep; extra > 0 {
		clear(r.windows[:extra])
		r.windows = r.windows[extra:]
	}
}

// errorKind is the sentinel of a source error, for logging a change of
// failure once rather than every poll.
func errorKind(err error) error {
	var e *source.Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return err
}
