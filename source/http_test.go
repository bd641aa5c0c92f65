package source

import (
	"context"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/pprof/profile"

	"github.com/contendr/contendr/window"
)

func TestLoadPlainPprofServer(t *testing.T) {
	contend(t, 5, 1000)
	srv := serve(t, pprofMux())
	var progressCalls atomic.Int32
	opts := Options{
		Seconds:   time.Second,
		Profiles:  []window.ProfileKind{window.Goroutine},
		GoVersion: "go1.26.8",
		Progress:  func(elapsed, total time.Duration) { progressCalls.Add(1) },
	}
	w, err := Load(context.Background(), srv.URL+"/debug/pprof/", opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []window.ProfileKind{window.Mutex, window.Block, window.Allocs, window.CPU, window.Goroutine} {
		if w.Profile(k) == nil {
			t.Errorf("window has no %s profile", k)
		}
	}
	if n := len(w.Profile(window.Mutex).Sample); n == 0 {
		t.Error("mutex delta has no samples under contention")
	}
	if n := len(w.Profile(window.Block).Sample); n == 0 {
		t.Error("block delta has no samples under contention")
	}
	if w.MemStats == nil {
		t.Fatalf("no MemStats pair; notes: %q", w.Notes)
	}
	if w.MemStats.End.TotalAlloc < w.MemStats.Start.TotalAlloc || !w.MemStats.End.Time.After(w.MemStats.Start.Time) {
		t.Errorf("MemStats readings out of order: start %+v end %+v", w.MemStats.Start.Time, w.MemStats.End.Time)
	}
	if w.Meta.MutexProfileFraction != 5 {
		t.Errorf("MutexProfileFraction = %d, want 5 (read from mutex?debug=1)", w.Meta.MutexProfileFraction)
	}
	if w.Meta.MemProfileRate != runtime.MemProfileRate {
		t.Errorf("MemProfileRate = %d, want %d", w.Meta.MemProfileRate, runtime.MemProfileRate)
	}
	if w.Meta.BlockProfileRate != window.Unknown {
		t.Errorf("BlockProfileRate = %d, want Unknown: a pprof server does not expose it", w.Meta.BlockProfileRate)
	}
	if w.Meta.GoVersion != "go1.26.8" || w.Meta.Goroutines == 0 || w.Meta.Source != srv.URL+"/debug/pprof/" {
		t.Errorf("meta = %+v", w.Meta)
	}
	if w.Seconds() <= 0 {
		t.Errorf("window length %v", w.Seconds())
	}
	if progressCalls.Load() == 0 {
		t.Error("Progress was never called")
	}
}

func TestLoadPlainPprofProfilingOff(t *testing.T) {
	contend(t, 0, 0)
	// The CPU profile is optional unless asked for: a busy profiler costs
	// the lock-fraction estimate, not the window.
	srv := serve(t, override(pprofMux(), map[string]http.HandlerFunc{
		"/debug/pprof/profile": func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "Could not enable CPU profiling: cpu profiling already in use", http.StatusInternalServerError)
		},
	}))
	// A bare host:port is an HTTP target too.
	w, err := Load(context.Background(), strings.TrimPrefix(srv.URL, "http://"), Options{Seconds: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if w.Profile(window.CPU) != nil {
		t.Error("window has a CPU profile the server refused")
	}
	notes := strings.Join(w.Notes, "\n")
	for _, want := range []string{
		"no cpu profile (the lock fraction cannot be estimated without user CPU)",
		"Could not enable CPU profiling",
		"mutex profiling is off in the target",
		"runtime.SetMutexProfileFraction(5)",
		"block profile is empty",
		"runtime.SetBlockProfileRate(1000000)",
		"Go version unknown for a plain pprof target (pass --go-version)",
	} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes lack %q:\n%s", want, notes)
		}
	}
}

func TestFetcherRoot(t *testing.T) {
	for _, tc := range []struct{ in, root string }{
		{"http://127.0.0.1:6060", "http://127.0.0.1:6060"},
		{"http://127.0.0.1:6060/", "http://127.0.0.1:6060"},
		{"http://127.0.0.1:6060/debug/pprof/", "http://127.0.0.1:6060"},
		{"http://127.0.0.1:6060/debug/pprof/mutex?debug=1", "http://127.0.0.1:6060"},
		{"https://svc.example/admin/debug/pprof", "https://svc.example/admin"},
		{"http://h:1/debug/contendr/windows", "http://h:1"},
		{"http://h:1/admin", "http://h:1/admin"},
	} {
		f, err := newFetcher(tc.in, tc.in, Options{})
		if err != nil {
			t.Fatalf("%s: %v", tc.in, err)
		}
		if got := f.root.String(); got != tc.root {
			t.Errorf("root of %s = %s, want %s", tc.in, got, tc.root)
		}
	}
}

// synthetic builds a small valid profile with the given sample types.
func synthetic(t *testing.T, types ...string) []byte {
	t.Helper()
	fn := &profile.Function{ID: 1, Name: "main.work"}
	loc := &profile.Location{ID: 1, Line: []profile.Line{{Function: fn}}}
	p := &profile.Profile{Function: []*profile.Function{fn}, Location: []*profile.Location{loc}, TimeNanos: time.Now().UnixNano()}
	var values []int64
	for _, ty := range types {
		typ, unit, _ := strings.Cut(ty, "/")
		p.SampleType = append(p.SampleType, &profile.ValueType{Type: typ, Unit: unit})
		values = append(values, 10)
	}
	p.Sample = []*profile.Sample{{Location: []*profile.Location{loc}, Value: values}}
	var buf strings.Builder
	if err := p.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return []byte(buf.String())
}

// TestLoadHTTPBadInput checks that each way an HTTP target can fail ends in
// one line naming the target, what happened and what to do.
func TestLoadHTTPBadInput(t *testing.T) {
	real := pprofMux()
	cpu := synthetic(t, "samples/count", "cpu/nanoseconds")
	mutex := profileBytes(t, "/debug/pprof/mutex")
	tlsSrv := httptest.NewUnstartedServer(real)
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is the point
	tlsSrv.StartTLS()
	t.Cleanup(tlsSrv.Close)
	fast := Options{Seconds: time.Second, Timeout: 5 * time.Second, DisableCPU: true}

	for _, tc := range []struct {
		name   string
		target func(t *testing.T) string
		opts   Options
		kind   error
		want   []string
	}{{
		name:   "connection refused",
		target: func(t *testing.T) string { return "http://" + closedPort(t) },
		kind:   ErrUnreachable,
		want:   []string{"connection refused", "check that the process is running"},
	}, {
		name:   "DNS failure",
		target: func(*testing.T) string { return "http://no-such-host.invalid:6060" },
		kind:   ErrUnreachable,
		want:   []string{`cannot resolve host "no-such-host.invalid"`, "check the host name"},
	}, {
		name:   "TLS certificate not trusted",
		target: func(*testing.T) string { return tlsSrv.URL },
		kind:   ErrUnreachable,
		want:   []string{"TLS certificate not accepted", "check the certificate"},
	}, {
		name:   "https to a plain HTTP server",
		target: func(t *testing.T) string { return strings.Replace(serve(t, real).URL, "http://", "https://", 1) },
		kind:   ErrUnreachable,
		want:   []string{"TLS handshake failed", "use http://"},
	}, {
		name: "401 without a token",
		target: func(t *testing.T) string {
			return serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.Error(w, "unauthorized", http.StatusUnauthorized)
			})).URL
		},
		kind: ErrUnauthorized,
		want: []string{"401 Unauthorized", "pass --header 'Authorization: Bearer <token>'"},
	}, {
		name: "403 with a rejected token",
		target: func(t *testing.T) string {
			return serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.Error(w, "forbidden", http.StatusForbidden)
			})).URL
		},
		opts: Options{Headers: http.Header{"Authorization": {"Bearer wrong"}}},
		kind: ErrUnauthorized,
		want: []string{"403 Forbidden", "the Authorization header was rejected; check the token"},
	}, {
		name:   "404: net/http/pprof not mounted",
		target: func(t *testing.T) string { return serve(t, http.NewServeMux()).URL },
		kind:   ErrNotFound,
		want:   []string{"GET /debug/pprof/heap?debug=1: 404 Not Found; is net/http/pprof imported"},
	}, {
		name: "an HTML page instead of a profile",
		target: func(t *testing.T) string {
			return serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				w.Write([]byte("<!DOCTYPE html><html><body>Login</body></html>"))
			})).URL
		},
		kind: ErrNotProfile,
		want: []string{"got an HTML page instead of a heap profile", "Go pprof server"},
	}, {
		name: "truncated gzip",
		target: func(t *testing.T) string {
			return serve(t, override(real, map[string]http.HandlerFunc{
				"/debug/pprof/mutex": func(w http.ResponseWriter, r *http.Request) { w.Write(mutex[:len(mutex)/2]) },
				"/debug/pprof/block": hang, "/debug/pprof/allocs": hang,
			})).URL
		},
		kind: ErrNotProfile,
		want: []string{"GET /debug/pprof/mutex?seconds=1: truncated or corrupt gzip data", "the profile arrived damaged; retry"},
	}, {
		name: "connection closed mid-response",
		target: func(t *testing.T) string {
			return serve(t, override(real, map[string]http.HandlerFunc{
				"/debug/pprof/mutex": func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Length", "100000")
					w.Write(mutex[:len(mutex)/2])
				},
				"/debug/pprof/block": hang, "/debug/pprof/allocs": hang,
			})).URL
		},
		kind: ErrUnreachable,
		want: []string{"connection closed before the response was complete", "retry"},
	}, {
		name:   "response over the size cap",
		target: func(t *testing.T) string { return serve(t, real).URL },
		opts:   Options{MaxBytes: 512},
		kind:   window.ErrTooLarge,
		want:   []string{"response exceeds the size cap of 512 bytes", "raise --max-bytes"},
	}, {
		name: "a CPU profile where a mutex profile was expected",
		target: func(t *testing.T) string {
			return serve(t, override(real, map[string]http.HandlerFunc{
				"/debug/pprof/mutex": func(w http.ResponseWriter, r *http.Request) { w.Write(cpu) },
				"/debug/pprof/block": hang, "/debug/pprof/allocs": hang,
			})).URL
		},
		kind: ErrWrongKind,
		want: []string{"got a cpu profile, want a mutex profile"},
	}, {
		name: "an empty response",
		target: func(t *testing.T) string {
			return serve(t, override(real, map[string]http.HandlerFunc{
				"/debug/pprof/mutex": func(w http.ResponseWriter, r *http.Request) {},
				"/debug/pprof/block": hang, "/debug/pprof/allocs": hang,
			})).URL
		},
		kind: ErrNotProfile,
		want: []string{"empty response, no profile data"},
	}, {
		name: "a server that accepts and never answers",
		target: func(t *testing.T) string {
			return serve(t, http.HandlerFunc(hang)).URL
		},
		opts: Options{Timeout: 300 * time.Millisecond},
		kind: ErrTimeout,
		want: []string{"no answer within 300ms", "raise --timeout"},
	}, {
		name: "CPU profiler busy when a CPU profile was asked for",
		target: func(t *testing.T) string {
			return serve(t, override(real, map[string]http.HandlerFunc{
				"/debug/pprof/profile": func(w http.ResponseWriter, r *http.Request) {
					http.Error(w, "Could not enable CPU profiling: cpu profiling already in use", http.StatusInternalServerError)
				},
			})).URL
		},
		opts: Options{Profiles: []window.ProfileKind{window.CPU}},
		kind: ErrBadResponse,
		want: []string{"500 Internal Server Error: Could not enable CPU profiling", "another CPU profile is running in the target"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			target := tc.target(t)
			opts := tc.opts
			if opts.Seconds == 0 {
				opts.Seconds, opts.DisableCPU = fast.Seconds, true
			}
			if opts.Timeout == 0 {
				opts.Timeout = fast.Timeout
			}
			_, err := Load(context.Background(), target, opts)
			t.Log(err)
			wantErrContains(t, err, append([]string{target + ": "}, tc.want...)...)
			if !errors.Is(err, tc.kind) {
				t.Errorf("errors.Is(err, %v) = false for %v", tc.kind, err)
			}
		})
	}
}

func TestLoadCanceled(t *testing.T) {
	srv := serve(t, pprofMux())
	ctx, cancel := context.WithCancel(context.Background())
	opts := Options{Seconds: 30 * time.Second, DisableCPU: true, Progress: func(elapsed, _ time.Duration) {
		if elapsed > 0 {
			cancel()
		}
	}}
	_, err := Load(ctx, srv.URL, opts)
	wantErrContains(t, err, srv.URL+": interrupted while fetching", "nothing was analyzed")
	if !errors.Is(err, ErrCanceled) || !errors.Is(err, context.Canceled) {
		t.Errorf("error %v is not ErrCanceled and context.Canceled", err)
	}
}
