package agent

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"runtime/trace"
	"strings"
	"testing"
	"time"

	"github.com/contendr/contendr/alert"
	"github.com/contendr/contendr/collectors/locktrace"
	"github.com/contendr/contendr/window"
)

func TestFlightRecorderSnapshotOnDemand(t *testing.T) {
	a, srv := startAgent(t, Config{FlightRecorder: &FlightRecorderConfig{MinAge: time.Second, Cooldown: time.Hour}})
	contend(100 * time.Millisecond)

	resp := do(t, http.MethodPost, srv.URL+"/debug/contendr/trace", "", "")
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /debug/contendr/trace: %d %s", resp.StatusCode, body)
	}
	d, err := locktrace.Read(bytes.NewReader(body), locktrace.Options{})
	if err != nil {
		t.Fatalf("the snapshot does not parse: %v", err)
	}
	if d.LockWaits == 0 {
		t.Error("a snapshot taken after a contended workload holds no lock wait")
	}

	// A second snapshot within the cooldown is refused, with when to retry.
	resp = do(t, http.MethodPost, srv.URL+"/debug/contendr/trace", "", "")
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Errorf("second snapshot: %d, Retry-After %q; want 429 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}

	// The window open during the snapshot keeps it: in the list, alone,
	// and in the bundle.
	w := collect(t, a)
	if w.Trace == nil || !bytes.Equal(w.Trace.Data, body) || w.Trace.Reason != "on demand" {
		t.Fatalf("window %s trace %+v, want the on-demand snapshot", w.ID, w.Trace)
	}
	var list []windowSummary
	if err := json.Unmarshal([]byte(readBody(t, get(t, srv.URL+"/debug/contendr/windows", ""))), &list); err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].Trace == nil || list[0].Trace.Bytes != len(body) {
		t.Fatalf("windows list %+v, want one window with its trace", list)
	}
	if got := readBody(t, get(t, srv.URL+list[0].Trace.Path, "")); got != string(body) {
		t.Errorf("%s served %d bytes, want the snapshot's %d", list[0].Trace.Path, len(got), len(body))
	}
	bundle, err := window.DecodeBundle([]byte(readBody(t, get(t, srv.URL+"/debug/contendr/windows/"+w.ID, ""))))
	if err != nil {
		t.Fatal(err)
	}
	if bundle.Trace == nil || !bytes.Equal(bundle.Trace.Data, body) {
		t.Error("the window's bundle lacks its trace")
	}
	// The next window was not open during the snapshot.
	if next := collect(t, a); next.Trace != nil {
		t.Errorf("window %s got the previous window's trace", next.ID)
	}
	resp = get(t, srv.URL+"/debug/contendr/windows/"+w.ID+"7/trace", "")
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("trace of an unknown window: %d, want 404", resp.StatusCode)
	}
}

func TestFlightRecorderTakenByTheApplication(t *testing.T) {
	own := trace.NewFlightRecorder(trace.FlightRecorderConfig{})
	if err := own.Start(); err != nil {
		t.Skipf("cannot start a flight recorder here: %v", err)
	}
	defer own.Stop()
	a, srv := startAgent(t, Config{FlightRecorder: &FlightRecorderConfig{}})
	w := collect(t, a)
	if w.Trace != nil || !strings.Contains(strings.Join(w.Notes, "\n"), "flight recorder off") {
		t.Errorf("window notes %q, want the recorder's absence explained", w.Notes)
	}
	resp := do(t, http.MethodPost, srv.URL+"/debug/contendr/trace", "", "")
	body := readBody(t, resp)
	if resp.StatusCode != http.StatusConflict || !strings.Contains(body, "another flight recorder") {
		t.Errorf("snapshot with the recorder taken: %d %s", resp.StatusCode, body)
	}
}

func TestSnapshotIsBounded(t *testing.T) {
	cfg := FlightRecorderConfig{SnapshotTimeout: 20 * time.Millisecond, SnapshotMaxBytes: 1 << 10}.withDefaults()

	t.Run("in time", func(t *testing.T) {
		release, returned := make(chan struct{}), make(chan struct{})
		r := &recorder{cfg: cfg, log: quiet, fr: &trace.FlightRecorder{}, writeTo: func(w io.Writer) (int64, error) {
			defer close(returned)
			<-release // a runtime that never finishes the snapshot
			return 0, nil
		}}
		defer func() { close(release); <-returned }()
		if _, err := r.snapshot("test", time.Now()); err == nil || !strings.Contains(err.Error(), "abandoned") {
			t.Errorf("stalled snapshot: %v, want it abandoned", err)
		}
	})

	t.Run("in size", func(t *testing.T) {
		var wrote int
		r := &recorder{cfg: cfg, log: quiet, fr: &trace.FlightRecorder{}, writeTo: func(w io.Writer) (int64, error) {
			for range 100 {
				n, err := w.Write(make([]byte, 100))
				wrote += n
				if err != nil {
					return int64(wrote), err
				}
			}
			return int64(wrote), nil
		}}
		_, err := r.snapshot("test", time.Now())
		if !errors.Is(err, errSnapshotTooLarge) || wrote > cfg.SnapshotMaxBytes {
			t.Errorf("oversized snapshot: %v after %d bytes, want errSnapshotTooLarge by %d", err, wrote, cfg.SnapshotMaxBytes)
		}
	})
}

// TestAlertTakesASnapshot: a firing contention rule attaches a snapshot to
// its window; others (GC) do not, and the cooldown holds across windows.
func TestAlertTakesASnapshot(t *testing.T) {
	snapshots := 0
	cfg := FlightRecorderConfig{Cooldown: time.Hour}.withDefaults()
	a := &Agent{log: quiet, rec: &recorder{cfg: cfg, log: quiet, fr: &trace.FlightRecorder{},
		writeTo: func(w io.Writer) (int64, error) {
			snapshots++
			n, err := w.Write([]byte("go 1.26 trace\x00\x00\x00"))
			return int64(n), err
		}}}
	gcAlert := alert.Event{Rule: "gc_cpu_fraction_warn", Metric: alert.GCCPUFraction, State: alert.Firing}
	costAlert := alert.Event{Rule: "contention_cost_warn", Metric: alert.ContentionCost, State: alert.Firing}

	w1 := &window.Window{ID: "1", End: time.Now()}
	a.traceForWindow(w1, []alert.Event{gcAlert})
	w2 := &window.Window{ID: "2", End: time.Now()}
	a.traceForWindow(w2, []alert.Event{gcAlert, costAlert})
	w3 := &window.Window{ID: "3", End: time.Now()}
	a.traceForWindow(w3, []alert.Event{costAlert})

	if w1.Trace != nil || w2.Trace == nil || w2.Trace.Reason != "alert contention_cost_warn" || snapshots != 1 {
		t.Errorf("traces %v, %v after %d snapshots; want one, on the contention alert's window", w1.Trace, w2.Trace, snapshots)
	}
	if w3.Trace != nil || !strings.Contains(strings.Join(w3.Notes, " "), "cooldown") {
		t.Errorf("window 3 within the cooldown: trace %v, notes %q", w3.Trace, w3.Notes)
	}

	// An on-demand snapshot taken during a window stays with it, also when
	// an alert in the cooldown it started finds no snapshot of its own.
	onDemand := &window.Trace{Reason: "on demand", CapturedAt: time.Now()}
	a.rec.keepPending(onDemand)
	w4 := &window.Window{ID: "4", End: time.Now()}
	a.traceForWindow(w4, []alert.Event{costAlert})
	w5 := &window.Window{ID: "5", End: time.Now()}
	a.traceForWindow(w5, nil)
	if w4.Trace != onDemand || w5.Trace != nil {
		t.Errorf("on-demand snapshot went to %v and %v; want window 4 only", w4.Trace, w5.Trace)
	}
}
