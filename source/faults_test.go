package source

// Faults of a live target while a window is read: it restarts between two
// readings, dies mid-response, trickles its answer byte by byte, or refuses
// a wall-clock profile it cannot afford. Each test checks the message, that
// the next load works, and that nothing the target had collected is lost.
// (Refused connections, a server that never answers, truncated gzip and a
// Content-Length cut short are in TestLoadHTTPBadInput.)

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/contendr/contendr/agent"
	"github.com/contendr/contendr/window"
)

// freshProcessCounters rewrites a heap?debug=1 answer as a process that has
// just started would give it: its cumulative counters small again.
var freshProcessCounters = regexp.MustCompile(`(?m)^# (TotalAlloc|Mallocs|Frees|NumGC) = \d+$`)

func TestTargetRestartedBetweenReadings(t *testing.T) {
	contend(t, 5, 1000)
	var heapReads atomic.Int32
	srv := serve(t, override(pprofMux(), map[string]http.HandlerFunc{
		"/debug/pprof/heap": func(w http.ResponseWriter, r *http.Request) {
			rec := httptest.NewRecorder()
			pprofMux().ServeHTTP(rec, r)
			body := rec.Body.Bytes()
			if heapReads.Add(1) > 1 { // the second reading comes from the restarted process
				body = freshProcessCounters.ReplaceAll(body, []byte("# $1 = 1"))
			}
			w.Write(body)
		},
	}))
	opts := Options{Seconds: time.Second, DisableCPU: true, Timeout: 10 * time.Second}

	w, err := Load(context.Background(), srv.URL, opts)
	if err != nil {
		t.Fatalf("a restart between readings failed the load: %v", err)
	}
	if !w.Meta.Restarted || w.MemStats != nil {
		t.Errorf("restart not detected: Restarted=%v MemStats=%+v", w.Meta.Restarted, w.MemStats)
	}
	if notes := strings.Join(w.Notes, "\n"); !strings.Contains(notes, "the target restarted during the window") {
		t.Errorf("notes do not say the target restarted:\n%s", notes)
	}
	// What was collected stays: the profiles, with no negative count. (The
	// inuse_* columns of net/http/pprof's own allocs?seconds= delta are a
	// change of in-use memory and go negative whenever memory is freed; the
	// server computes them, not contendr.)
	for _, k := range []window.ProfileKind{window.Mutex, window.Block, window.Allocs} {
		p := w.Profile(k)
		if p == nil {
			t.Errorf("the %s profile was lost with the GC figures", k)
			continue
		}
		for _, s := range p.Sample {
			for i, v := range s.Value {
				if v < 0 && !strings.HasPrefix(p.SampleType[i].Type, "inuse_") {
					t.Errorf("%s profile: negative %s value %d", k, p.SampleType[i].Type, v)
				}
			}
		}
	}

	// The next window, both readings from the restarted process, is whole.
	w, err = Load(context.Background(), srv.URL, opts)
	if err != nil {
		t.Fatal(err)
	}
	if w.Meta.Restarted || w.MemStats == nil {
		t.Errorf("the window after the restart: Restarted=%v MemStats=%v, want a fresh baseline with GC figures", w.Meta.Restarted, w.MemStats != nil)
	}
}

// TestTargetKilledMidResponse cuts the connection after part of a chunked
// body — no Content-Length for the client to compare against, as when the
// process dies mid-write.
func TestTargetKilledMidResponse(t *testing.T) {
	mutex := profileBytes(t, "/debug/pprof/mutex")
	var killed atomic.Bool
	srv := serve(t, override(pprofMux(), map[string]http.HandlerFunc{
		"/debug/pprof/mutex": func(w http.ResponseWriter, r *http.Request) {
			if killed.Swap(true) {
				pprofMux().ServeHTTP(w, r)
				return
			}
			conn, buf, err := http.NewResponseController(w).Hijack()
			if err != nil {
				t.Error(err)
				return
			}
			defer conn.Close()
			half := mutex[:len(mutex)/2]
			fmt.Fprintf(buf, "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n", len(half))
			buf.Write(half)
			buf.WriteString("\r\n")
			buf.Flush()
		},
	}))
	opts := Options{Seconds: time.Second, DisableCPU: true, Timeout: 10 * time.Second}

	_, err := Load(context.Background(), srv.URL, opts)
	wantErrContains(t, err, srv.URL+": ", "GET /debug/pprof/mutex?seconds=1", "retry")
	if !errors.Is(err, ErrUnreachable) && !errors.Is(err, ErrNotProfile) {
		t.Errorf("error %v is neither ErrUnreachable nor ErrNotProfile", err)
	}
	// The restarted target answers the next load on the same client.
	if _, err := Load(context.Background(), srv.URL, opts); err != nil {
		t.Fatalf("the load after the cut: %v", err)
	}
}

// TestAgentCutMidBundleLosesNothing cuts a real agent's bundle in half on
// the way to the CLI: that load fails, the next one gets the agent's windows
// intact and in sequence.
func TestAgentCutMidBundleLosesNothing(t *testing.T) {
	a, _ := startAgent(t, agent.Config{Interval: time.Hour})
	for range 3 {
		if _, err := a.CollectNow(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	var cut atomic.Bool
	proxy := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		a.Handler().ServeHTTP(rec, r)
		if !strings.HasPrefix(r.URL.Path, "/debug/contendr/windows/") || cut.Swap(true) {
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.WriteHeader(rec.Code)
			w.Write(rec.Body.Bytes())
			return
		}
		// Promise the whole bundle, send half, and hang up.
		w.Header().Set("Content-Type", rec.Header().Get("Content-Type"))
		w.Header().Set("Content-Length", strconv.Itoa(rec.Body.Len()))
		w.Write(rec.Body.Bytes()[:rec.Body.Len()/2])
	}))

	_, err := Load(context.Background(), proxy.URL, Options{Timeout: 10 * time.Second})
	wantErrContains(t, err, proxy.URL+": ", "connection closed before the response was complete", "retry")
	if !errors.Is(err, ErrUnreachable) {
		t.Errorf("error %v is not ErrUnreachable", err)
	}

	w, previous, err := LoadWithPrevious(context.Background(), proxy.URL, Options{Timeout: 10 * time.Second})
	if err != nil {
		t.Fatalf("the load after the cut: %v", err)
	}
	if w.ID != "3" || previous == nil || previous.ID != "2" {
		t.Errorf("after the cut got window %s (previous %v), want 3 and 2: nothing the agent kept may be lost", w.ID, previous)
	}
}

// trickle serves the pprof handlers' answer for its path a few bytes at a
// time, flushing each piece, with gap between pieces.
func trickle(piece int, gap time.Duration) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		pprofMux().ServeHTTP(rec, r)
		w.Header().Set("Content-Type", rec.Header().Get("Content-Type"))
		w.WriteHeader(rec.Code)
		rc := http.NewResponseController(w)
		for body := rec.Body.Bytes(); len(body) > 0; body = body[min(piece, len(body)):] {
			if _, err := w.Write(body[:min(piece, len(body))]); err != nil {
				return // the client gave up
			}
			rc.Flush()
			if gap == 0 {
				continue
			}
			select {
			case <-time.After(gap):
			case <-r.Context().Done():
				return
			}
		}
	}
}

// TestSlowTargetCompletesOrTimesOutCleanly trickles every profile in tiny
// pieces: quickly enough it completes within the deadline, too slowly it ends
// in a timeout naming the target and the endpoint — never a hang, never a
// half-parsed profile.
func TestSlowTargetCompletesOrTimesOutCleanly(t *testing.T) {
	contend(t, 5, 1000)
	slowly := func(piece int, gap time.Duration) *httptest.Server {
		return serve(t, override(pprofMux(), map[string]http.HandlerFunc{
			"/debug/pprof/mutex":  trickle(piece, gap),
			"/debug/pprof/block":  trickle(piece, gap),
			"/debug/pprof/allocs": trickle(piece, gap),
		}))
	}

	t.Run("within the deadline", func(t *testing.T) {
		srv := slowly(8, 0) // one flushed TCP segment per 8 bytes
		w, err := Load(context.Background(), srv.URL, Options{Seconds: time.Second, DisableCPU: true, Timeout: 20 * time.Second})
		if err != nil {
			t.Fatalf("a slow but steady target: %v", err)
		}
		if w.Profile(window.Mutex) == nil || w.Profile(window.Allocs) == nil {
			t.Errorf("profiles missing after a slow transfer: notes %q", w.Notes)
		}
	})
	t.Run("past the deadline", func(t *testing.T) {
		srv := slowly(1, 100*time.Millisecond) // one byte per 100ms
		_, err := Load(context.Background(), srv.URL, Options{Seconds: time.Second, DisableCPU: true, Timeout: 500 * time.Millisecond})
		// The trickled profiles time out after their 1s window plus the
		// 500ms timeout; on a loaded host the untrickled heap reading
		// before the window may time out first (within 500ms). Either
		// way the error names the target, the wait and the fix.
		wantErrContains(t, err, srv.URL+": ", "no answer within ", "raise --timeout")
		if !errors.Is(err, ErrTimeout) {
			t.Errorf("error %v is not ErrTimeout", err)
		}
	})
}

// TestFgprofRefusedAboveGoroutineLimit asks an agent for a wall-clock
// profile it refuses to take: the error carries the agent's reason.
func TestFgprofRefusedAboveGoroutineLimit(t *testing.T) {
	a, url := startAgent(t, agent.Config{Interval: time.Hour, FgprofMaxGoroutines: 1})
	if _, err := a.CollectNow(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, err := Load(context.Background(), url, Options{Seconds: time.Second, Profiles: []window.ProfileKind{window.Fgprof}, Timeout: 10 * time.Second})
	wantErrContains(t, err, url+": ", "GET /debug/fgprof?seconds=1: 503 Service Unavailable", "Config.FgprofMaxGoroutines",
		"every fgprof sample walks every goroutine's stack")
}
