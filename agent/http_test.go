package agent

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/contendr/contendr/window"
)

func do(t *testing.T, method, url, token, body string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// endpoints lists every endpoint the agent serves; slow ones are asked for
// the shortest run.
var endpoints = []struct{ method, path string }{
	{"GET", "/debug/pprof/"},
	{"GET", "/debug/pprof/cmdline"},
	{"GET", "/debug/pprof/symbol"},
	{"GET", "/debug/pprof/profile?seconds=1"},
	{"GET", "/debug/pprof/trace?seconds=0.1"},
	{"GET", "/debug/pprof/mutex"},
	{"GET", "/debug/pprof/goroutine?debug=1"},
	{"GET", "/debug/fgprof?seconds=1"},
	{"GET", "/metrics"},
	{"GET", "/debug/contendr/windows"},
	{"GET", "/debug/contendr/windows/latest"},
	{"GET", "/debug/contendr/windows/1"},
	{"GET", "/debug/contendr/config"},
	{"GET", SamplePath},
	{"PUT", "/debug/contendr/config"},
	{"POST", "/debug/contendr/trace"},
	{"GET", "/debug/contendr/windows/1/trace"},
}

func TestTokenIsRequiredEverywhere(t *testing.T) {
	const token = "s3cret"
	a, srv := startAgent(t, Config{Token: token})
	collect(t, a)
	for _, e := range endpoints {
		for _, header := range []string{"", "Bearer wrong", "Basic " + token, "Bearer " + token + "x", "Bearer"} {
			if resp := do(t, e.method, srv.URL+e.path, header, ""); resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("%s %s with Authorization %q: %s, want 401", e.method, e.path, header, resp.Status)
			} else if resp.Header.Get("WWW-Authenticate") == "" {
				t.Errorf("%s %s: 401 without WWW-Authenticate", e.method, e.path)
			}
		}
	}
	for _, e := range endpoints {
		if e.method != "GET" || strings.Contains(e.path, "seconds") || strings.HasSuffix(e.path, "/trace") {
			continue // the slow ones, and traces (TestFlightRecorderSnapshotOnDemand), are covered elsewhere
		}
		if resp := do(t, e.method, srv.URL+e.path, "Bearer "+token, ""); resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s with the token: %s", e.path, resp.Status)
		}
	}
}

func TestPutConfig(t *testing.T) {
	t.Run("refused without a configured token", func(t *testing.T) {
		_, srv := startAgent(t, Config{})
		resp := do(t, "PUT", srv.URL+"/debug/contendr/config", "", `{"mutex_profile_fraction": 5}`)
		if body := readBody(t, resp); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "Config.Token") {
			t.Errorf("PUT without a token configured: %s %s, want 403 naming Config.Token", resp.Status, body)
		}
		if got := runtime.SetMutexProfileFraction(-1); got != DefaultMutexProfileFraction {
			t.Errorf("mutex fraction changed to %d", got)
		}
	})
	t.Run("changes rates with the token", func(t *testing.T) {
		a, srv := startAgent(t, Config{Token: "t"})
		resp := do(t, "PUT", srv.URL+"/debug/contendr/config", "Bearer t", `{"mutex_profile_fraction": 5, "block_profile_rate": 2000}`)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("PUT: %s %s", resp.Status, readBody(t, resp))
		}
		var got configJSON
		if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
			t.Fatal(err)
		}
		if got.MutexProfileFraction != 5 || got.BlockProfileRate != 2000 || runtime.SetMutexProfileFraction(-1) != 5 {
			t.Errorf("after PUT: %+v, runtime fraction %d", got, runtime.SetMutexProfileFraction(-1))
		}
		if w := collect(t, a); w.Meta.MutexProfileFraction != 5 || !strings.Contains(strings.Join(w.Notes, " "), "rates changed") {
			t.Errorf("window after the change: fraction %d, notes %v", w.Meta.MutexProfileFraction, w.Notes)
		}
		for _, bad := range []string{`{"mutex_profile_fraction": -1}`, `{"mutex_fraction": 1}`, `not json`} {
			if resp := do(t, "PUT", srv.URL+"/debug/contendr/config", "Bearer t", bad); resp.StatusCode != http.StatusBadRequest {
				t.Errorf("PUT %s: %s, want 400", bad, resp.Status)
			}
		}
	})
}

func TestSecondsAreCapped(t *testing.T) {
	_, srv := startAgent(t, Config{MaxProfileSeconds: 2})
	for _, path := range []string{
		"/debug/pprof/profile?seconds=3",
		"/debug/pprof/trace?seconds=2.5",
		"/debug/pprof/mutex?seconds=3",
		"/debug/fgprof?seconds=3",
	} {
		resp := get(t, srv.URL+path, "")
		if body := readBody(t, resp); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "Config.MaxProfileSeconds") {
			t.Errorf("GET %s: %s %q, want 400 naming the limit", path, resp.Status, body)
		}
	}
}

func TestDefaultSecondsFollowTheCap(t *testing.T) {
	// fgprof's default is 30s; with a 1s cap it must run 1s, not 30.
	_, srv := startAgent(t, Config{MaxProfileSeconds: 1})
	resp := get(t, srv.URL+"/debug/fgprof", "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("fgprof: %s", resp.Status)
	}
	body, _ := io.ReadAll(resp.Body)
	if p, err := window.ParseProfile(body, 0); err != nil || window.DetectKind(p) != window.Fgprof {
		t.Errorf("fgprof response is not an fgprof profile: %v", err)
	}
}

func TestOneCPUProfileAtATime(t *testing.T) {
	a, srv := startAgent(t, Config{})
	type result struct {
		status int
		body   []byte
		err    error
	}
	first := make(chan result, 1)
	go func() {
		resp, err := http.Get(srv.URL + "/debug/pprof/profile?seconds=2")
		if err != nil {
			first <- result{err: err}
			return
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		first <- result{resp.StatusCode, body, err}
	}()
	// The first request stops the duty cycle's profile and takes its place.
	for !strings.Contains(a.cpuHolder(), "/debug/pprof/profile") {
		time.Sleep(5 * time.Millisecond)
	}
	for _, path := range []string{"/debug/pprof/profile?seconds=1", "/debug/pprof/trace?seconds=1", "/debug/fgprof?seconds=1"} {
		resp := get(t, srv.URL+path, "")
		if body := readBody(t, resp); resp.StatusCode != http.StatusConflict || !strings.Contains(body, "/debug/pprof/profile") {
			t.Errorf("GET %s during a CPU profile: %s %q, want 409 naming the running request", path, resp.Status, body)
		}
	}
	r := <-first
	if r.err != nil || r.status != http.StatusOK {
		t.Fatalf("the first CPU profile: %d %v", r.status, r.err)
	}
	if p, err := window.ParseProfile(r.body, 0); err != nil || window.DetectKind(p) != window.CPU {
		t.Errorf("the first CPU profile is broken: %v", err)
	}
	if a.cpuHolder() != "" {
		t.Error("the gate is still held after the profile ended")
	}
}

func TestFgprofGoroutineLimit(t *testing.T) {
	_, srv := startAgent(t, Config{FgprofMaxGoroutines: 1})
	resp := get(t, srv.URL+"/debug/fgprof?seconds=1", "")
	if body := readBody(t, resp); resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "Config.FgprofMaxGoroutines") {
		t.Errorf("fgprof above the goroutine limit: %s %q", resp.Status, body)
	}
}

func TestBundleOfAContendedWindow(t *testing.T) {
	a, srv := startAgent(t, Config{MutexProfileFraction: 1, Labels: map[string]string{"service": "demo", "role": "canary"}})

	resp := get(t, srv.URL+"/debug/contendr/windows/latest", "")
	if body := readBody(t, resp); resp.StatusCode != http.StatusNotFound || !json.Valid([]byte(body)) {
		t.Errorf("latest before any window: %s %q, want 404 with a JSON message", resp.Status, body)
	}

	contend(300 * time.Millisecond)
	collected := collect(t, a)

	resp = get(t, srv.URL+"/debug/contendr/windows/latest", "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("latest: %s", resp.Status)
	}
	if ct := resp.Header.Get("Content-Type"); ct != window.BundleContentType {
		t.Errorf("Content-Type %q", ct)
	}
	if cd, want := resp.Header.Get("Content-Disposition"), fmt.Sprintf("contendr-window-%s.zip", collected.ID); !strings.Contains(cd, want) {
		t.Errorf("Content-Disposition %q, want %s", cd, want)
	}
	data, _ := io.ReadAll(resp.Body)
	w, err := window.DecodeBundle(data)
	if err != nil {
		t.Fatalf("decoding the bundle: %v", err)
	}
	mutex := w.Profile(window.Mutex)
	if mutex == nil {
		t.Fatalf("bundle has no mutex profile; notes %v", w.Notes)
	}
	var delay int64
	for _, s := range mutex.Sample {
		delay += s.Value[1]
	}
	if len(mutex.Sample) == 0 || delay <= 0 {
		t.Errorf("mutex profile of a contended window: %d samples, %dns delay", len(mutex.Sample), delay)
	}
	if w.Meta.Labels["role"] != "canary" || w.Metrics == nil {
		t.Errorf("bundle meta %+v, metrics %v", w.Meta, w.Metrics != nil)
	}

	if resp := get(t, srv.URL+"/debug/contendr/windows/"+collected.ID, ""); resp.StatusCode != http.StatusOK {
		t.Errorf("window by id: %s", resp.Status)
	}

	var list []windowSummary
	if err := json.NewDecoder(get(t, srv.URL+"/debug/contendr/windows", "").Body).Decode(&list); err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].ID != collected.ID || list[0].LockFraction == nil || *list[0].LockFraction <= 0 ||
		list[0].ContentionCost == nil || !strings.Contains(fmt.Sprint(list[0].Profiles), "mutex") {
		t.Errorf("windows list = %+v", list)
	}
	if len(list) == 1 && list[0].CostEstimated && list[0].CostReason == "" {
		t.Errorf("windows list marks the cost estimated without a reason: %+v", list[0])
	}

	if threadCPUSupported {
		if cpu := testutil.ToFloat64(a.metrics.collectCPU); cpu <= 0 {
			t.Errorf("contendr_agent_collect_cpu_seconds_total = %v after a collection", cpu)
		}
	}

	metrics := readBody(t, get(t, srv.URL+"/metrics", ""))
	// The windows list and /metrics quote the same figures:
	// collectors/mutex's.
	if list[0].ContentionCost != nil {
		estimated := "0"
		if list[0].CostEstimated {
			estimated = "1"
		}
		for _, want := range []string{
			`contendr_contention_cost_ratio{role="canary",service="demo"} ` + strconv.FormatFloat(*list[0].ContentionCost, 'g', -1, 64),
			`contendr_contention_cost_estimated{role="canary",service="demo"} ` + estimated,
		} {
			if !strings.Contains(metrics, want+"\n") {
				t.Errorf("/metrics lacks %q, the windows list's contention cost", want)
			}
		}
	}
	if list[0].LockFraction != nil {
		want := fmt.Sprintf(`contendr_lock_wait_fraction{role="canary",service="demo"} %s`,
			strconv.FormatFloat(*list[0].LockFraction, 'g', -1, 64))
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q, the windows list's lock fraction", want)
		}
	}
	for _, want := range []string{
		`contendr_contention_cost_ratio{role="canary",service="demo"}`,
		`contendr_lock_waiters{role="canary",service="demo"}`,
		`contendr_lock_wait_fraction{role="canary",service="demo"}`,
		`contendr_agent_collections_total{role="canary",service="demo"} 1`,
		`contendr_agent_collect_seconds_total`,
		`contendr_agent_collect_alloc_bytes_total`,
		`contendr_lock_site_delay_seconds_per_second{component=`,
		`contendr_gc_cycles_per_second{role="canary",service="demo"}`,
		`go_sync_mutex_wait_total_seconds_total`,
		`process_cpu_seconds_total`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

func TestPprofEndpoints(t *testing.T) {
	_, srv := startAgent(t, Config{MutexProfileFraction: 1})
	for _, tc := range []struct {
		path, method, body, want string
		status                   int
	}{
		{"/debug/pprof/", "GET", "", "mutex", 200},
		{"/debug/pprof/cmdline", "GET", "", "agent.test", 200},
		{"/debug/pprof/symbol", "GET", "", "num_symbols: 1", 200},
		{"/debug/pprof/symbol", "POST", fmt.Sprintf("%#x", pcOf(t)), "agent.pcOf", 200},
		{"/debug/pprof/goroutine?debug=1", "GET", "", "goroutine profile:", 200},
		{"/debug/pprof/nosuch", "GET", "", "unknown profile", 404},
		{"/debug/pprof/goroutine?seconds=1", "GET", "", "not supported", 400},
		{"/debug/pprof/mutex?seconds=1&debug=1", "GET", "", "incompatible", 400},
	} {
		resp := do(t, tc.method, srv.URL+tc.path, "", tc.body)
		if body := readBody(t, resp); resp.StatusCode != tc.status || !strings.Contains(body, tc.want) {
			t.Errorf("%s %s: %s, want %d containing %q; got %.200q", tc.method, tc.path, resp.Status, tc.status, tc.want, body)
		}
	}

	// A delta over one second sees contention made during that second.
	var wg sync.WaitGroup
	wg.Go(func() { contend(500 * time.Millisecond) })
	resp := get(t, srv.URL+"/debug/pprof/mutex?seconds=1", "")
	wg.Wait()
	body, _ := io.ReadAll(resp.Body)
	p, err := window.ParseProfile(body, 0)
	if err != nil || len(p.Sample) == 0 || p.DurationNanos <= 0 {
		t.Errorf("mutex delta: err %v", err)
	}

	resp = get(t, srv.URL+"/debug/pprof/trace?seconds=0.1", "")
	if body := readBody(t, resp); resp.StatusCode != 200 || len(body) == 0 {
		t.Errorf("trace: %s, %d bytes", resp.Status, len(body))
	}
}

// pcOf returns a program counter inside itself, for the symbol endpoint.
func pcOf(t *testing.T) uintptr {
	pc, _, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("no caller")
	}
	return pc
}

// TestWindowsListFollowsTheRing: every kept window has its judged
// contention cost and lock fraction in the list, and an evicted window's
// figures go with it.
func TestWindowsListFollowsTheRing(t *testing.T) {
	a, srv := startAgent(t, Config{Windows: 2, MutexProfileFraction: 1})
	for range 4 {
		contend(50 * time.Millisecond)
		collect(t, a)
	}
	var list []windowSummary
	if err := json.NewDecoder(get(t, srv.URL+"/debug/contendr/windows", "").Body).Decode(&list); err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ID != "3" || list[1].ID != "4" {
		t.Fatalf("windows list %+v, want windows 3 and 4", list)
	}
	for _, s := range list {
		if s.LockFraction == nil || *s.LockFraction <= 0 {
			t.Errorf("window %s: lock fraction %v after contention", s.ID, s.LockFraction)
		}
		if s.ContentionCost == nil {
			t.Errorf("window %s: no contention cost (reason %q)", s.ID, s.CostReason)
		}
	}
	a.ringMu.RLock()
	judged := len(a.judgedLocks)
	a.ringMu.RUnlock()
	if judged != 2 {
		t.Errorf("%d judged windows kept for a ring of 2", judged)
	}
}
