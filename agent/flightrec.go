package agent

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime/trace"
	"sync"
	"time"

	"github.com/contendr/contendr/alert"
	"github.com/contendr/contendr/window"
)

// recorder is the agent's flight recorder and the snapshots taken of it:
// at most one per cooldown, each bounded in time and size.
type recorder struct {
	cfg FlightRecorderConfig
	log *slog.Logger
	fr  *trace.FlightRecorder
	// off says why there is no recorder (Start failed); "" when running.
	off string
	// writeTo is fr.WriteTo, replaced by tests.
	writeTo func(io.Writer) (int64, error)

	mu   sync.Mutex
	last time.Time // the last snapshot's start; zero before the first
	// pending is an on-demand snapshot waiting for the window it was
	// taken in to close.
	pending *window.Trace
}

// Snapshot errors.
var (
	errCooldown = errors.New("trace snapshot skipped: cooldown")
	errNoTracer = errors.New("no flight recorder")
)

// startRecorder starts a flight recorder. When the runtime refuses (the
// application or another profiler owns the one flight recorder a process
// may have) the agent goes on without one and says so.
func startRecorder(cfg FlightRecorderConfig, log *slog.Logger) *recorder {
	r := &recorder{cfg: cfg, log: log}
	fr := trace.NewFlightRecorder(trace.FlightRecorderConfig{MinAge: cfg.MinAge, MaxBytes: cfg.MaxBytes})
	if err := fr.Start(); err != nil {
		r.off = fmt.Sprintf("flight recorder off: runtime/trace refused to start one (%v); "+
			"another flight recorder is running in this process — stop it, or drop Config.FlightRecorder", err)
		log.Warn("contendr agent: "+r.off, "err", err)
		return r
	}
	r.fr, r.writeTo = fr, fr.WriteTo
	log.Info("contendr agent: flight recorder running", "min_age", cfg.MinAge, "max_bytes", cfg.MaxBytes,
		"cooldown", cfg.Cooldown)
	return r
}

// stop ends the recording; pending snapshots stay readable.
func (r *recorder) stop() {
	if r != nil && r.fr != nil {
		r.fr.Stop()
	}
}

// snapshot writes the recorder's window, unless one was taken less than a
// cooldown ago. It returns within SnapshotTimeout whatever the runtime does
// (an abandoned write stops at its next buffer) and never holds more than
// SnapshotMaxBytes.
func (r *recorder) snapshot(reason string, now time.Time) (*window.Trace, error) {
	if r == nil || r.fr == nil {
		return nil, errNoTracer
	}
	r.mu.Lock()
	if !r.last.IsZero() && now.Sub(r.last) < r.cfg.Cooldown {
		next := r.last.Add(r.cfg.Cooldown)
		r.mu.Unlock()
		return nil, fmt.Errorf("%w until %s (one per %s, FlightRecorderConfig.Cooldown)", errCooldown,
			next.Format(time.RFC3339), r.cfg.Cooldown)
	}
	r.last = now
	r.mu.Unlock()

	buf := &cappedBuffer{limit: r.cfg.SnapshotMaxBytes}
	done := make(chan error, 1)
	go func() {
		_, err := r.writeTo(buf)
		done <- err
	}()
	timer := time.NewTimer(r.cfg.SnapshotTimeout)
	defer timer.Stop()
	select {
	case err := <-done:
		if err != nil {
			return nil, fmt.Errorf("writing the flight recorder's snapshot: %w", err)
		}
	case <-timer.C:
		buf.abandon()
		return nil, fmt.Errorf("writing the flight recorder's snapshot took over %s (FlightRecorderConfig.SnapshotTimeout); abandoned",
			r.cfg.SnapshotTimeout)
	}
	data := buf.bytes()
	return &window.Trace{Reason: reason, CapturedAt: now, Bytes: len(data), Data: data}, nil
}

// keepPending holds an on-demand snapshot for the window open now.
func (r *recorder) keepPending(t *window.Trace) {
	r.mu.Lock()
	r.pending = t
	r.mu.Unlock()
}

// takePending returns the on-demand snapshot taken before end, once.
func (r *recorder) takePending(end time.Time) *window.Trace {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	t := r.pending
	if t == nil || t.CapturedAt.After(end) {
		return nil
	}
	r.pending = nil
	return t
}

// errSnapshotTooLarge stops a snapshot at its cap.
var errSnapshotTooLarge = errors.New("snapshot exceeds FlightRecorderConfig.SnapshotMaxBytes")

// cappedBuffer takes at most limit bytes and refuses writes once abandoned,
// so that a snapshot that timed out stops and frees its memory.
type cappedBuffer struct {
	mu        sync.Mutex
	buf       bytes.Buffer
	limit     int
	abandoned bool
}

func (b *cappedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case b.abandoned:
		return 0, errors.New("snapshot abandoned")
	case b.buf.Len()+len(p) > b.limit:
		b.buf = bytes.Buffer{}
		return 0, fmt.Errorf("%w (%d bytes)", errSnapshotTooLarge, b.limit)
	}
	return b.buf.Write(p)
}

func (b *cappedBuffer) abandon() {
	b.mu.Lock()
	b.abandoned = true
	b.buf = bytes.Buffer{}
	b.mu.Unlock()
}

func (b *cappedBuffer) bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Bytes()
}

// traceForWindow attaches a snapshot to a window that is closing: the
// recorder's own note when it is off, a snapshot when a contention alert
// fired, or else the on-demand one taken during the window (an alert in
// the cooldown after it gets that one).
func (a *Agent) traceForWindow(w *window.Window, events []alert.Event) {
	r := a.rec
	if r == nil {
		return
	}
	if r.off != "" {
		w.Note(r.off)
		return
	}
	// Taken at every close, so that an on-demand snapshot stays with the
	// window it was taken in even when an alert's replaces it.
	pending := r.takePending(w.End)
	if ev, ok := contentionFiring(events); ok {
		t, err := r.snapshot("alert "+ev.Rule, time.Now())
		if err == nil {
			w.Trace = t
			a.log.Info("contendr agent: trace snapshot for a contention alert", "rule", ev.Rule, "window", w.ID, "bytes", t.Bytes)
			return
		}
		w.Note(fmt.Sprintf("no trace for alert %s: %v", ev.Rule, err))
		if !errors.Is(err, errCooldown) {
			a.log.Warn("contendr agent: trace snapshot failed", "rule", ev.Rule, "window", w.ID, "err", err)
		}
	}
	w.Trace = pending
}

// contentionFiring returns the first contention alert that fired.
func contentionFiring(events []alert.Event) (alert.Event, bool) {
	for _, ev := range events {
		if ev.State == alert.Firing && (ev.Metric == alert.ContentionCost || ev.Metric == alert.ComponentCost) {
			return ev, true
		}
	}
	return alert.Event{}, false
}
