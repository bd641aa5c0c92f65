package webui_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/contendr/contendr/agent"
	"github.com/contendr/contendr/source"
	"github.com/contendr/contendr/webui"
	"github.com/contendr/contendr/window"
)

// fixture loads one set of real profiles (testdata/profiles) as a window
// with labels.
func fixture(t *testing.T, dir string, labels map[string]string) *window.Window {
	t.Helper()
	w, err := source.Load(context.Background(), filepath.Join("..", "testdata", "profiles", dir), source.Options{Seconds: 10 * time.Second})
	if err != nil {
		t.Fatalf("loading fixture %s: %v", dir, err)
	}
	w.Meta.Labels = labels
	return w
}

func fixed(ws ...*window.Window) webui.Source {
	return webui.WindowsFunc(func() []*window.Window { return ws })
}

// failing is a Source whose poll failed before any window arrived.
type failing struct{ err error }

func (f failing) Windows() ([]*window.Window, error) { return nil, f.err }

func get(t *testing.T, client *http.Client, u string) (int, string) {
	t.Helper()
	resp, err := client.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading %s: %v", u, err)
	}
	return resp.StatusCode, string(body)
}

func getJSON(t *testing.T, u string, v any) {
	t.Helper()
	code, body := get(t, http.DefaultClient, u)
	if code != http.StatusOK {
		t.Fatalf("GET %s: %d %s", u, code, body)
	}
	if err := json.Unmarshal([]byte(body), v); err != nil {
		t.Fatalf("decoding %s: %v", u, err)
	}
}

// targets builds one dashboard with a target in every state the page
// must explain.
func targets(t *testing.T) []webui.Target {
	canary := fixture(t, "go1.26-hashtriemap/rwmutex", map[string]string{"service": "maplab", "role": "canary", "version": "v2"})
	baseline := fixture(t, "go1.26-hashtriemap/mutex", map[string]string{"service": "maplab", "role": "baseline", "version": "v1"})
	disabled := fixture(t, "go1.26-hashtriemap/mutex", nil)
	delete(disabled.Profiles, window.Mutex)
	delete(disabled.Profiles, window.Block)
	disabled.Meta.MutexProfileFraction, disabled.Meta.BlockProfileRate = 0, 0
	_, unreachable := source.Load(context.Background(), "http://127.0.0.1:1", source.Options{Timeout: time.Second})
	return []webui.Target{
		{Name: "canary", Source: fixed(canary)},
		{Name: "baseline", Source: fixed(baseline)},
		{Name: "empty", Source: fixed()},
		{Name: "down", Source: failing{unreachable}},
		{Name: "off", Source: fixed(disabled)},
	}
}

func TestOverviewSaysWhyATargetIsEmpty(t *testing.T) {
	srv := httptest.NewServer(webui.New(webui.Options{Targets: targets(t)}))
	defer srv.Close()

	var ov struct {
		Targets []struct {
			Name, Status, Message string
			Labels                map[string]string
			Series                []struct {
				LockFraction *float64 `json:"lock_fraction"`
			}
			Latest *struct {
				Schema  string
				Verdict string
			}
		}
	}
	getJSON(t, srv.URL+"/api/overview", &ov)
	want := map[string]string{"canary": "ok", "baseline": "ok", "empty": "empty", "down": "unreachable", "off": "disabled"}
	for _, tg := range ov.Targets {
		if tg.Status != want[tg.Name] {
			t.Errorf("%s: status %q (%s), want %q", tg.Name, tg.Status, tg.Message, want[tg.Name])
		}
		if tg.Status != "ok" && tg.Message == "" {
			t.Errorf("%s: status %s without a message for the page", tg.Name, tg.Status)
		}
	}
	c := ov.Targets[0]
	if c.Labels["role"] != "canary" || len(c.Series) != 1 || c.Latest == nil || c.Latest.Schema != "contendr.report/v1" || c.Latest.Verdict == "" {
		t.Errorf("canary summary lacks labels, series or report: %+v", c)
	}
	if msg := ov.Targets[3].Message; !strings.Contains(msg, "127.0.0.1:1") {
		t.Errorf("unreachable target's message does not name it: %q", msg)
	}
}

func TestTargetReportAndFlameGraphs(t *testing.T) {
	srv := httptest.NewServer(webui.New(webui.Options{Targets: targets(t)}))
	defer srv.Close()

	var d struct {
		Window string
		Report struct {
			Lock struct {
				Components []struct{ Name, Holder, Waiter string }
			}
			Recommendations []struct{ Component, Recommended string }
		}
		Pprof map[string]string
		Peers []struct{ Index int }
	}
	getJSON(t, srv.URL+"/api/target?target=0", &d)
	if len(d.Report.Lock.Components) == 0 || d.Report.Lock.Components[0].Holder == "" || len(d.Report.Recommendations) == 0 {
		t.Fatalf("rwmutex fixture: no component with a holder, or no recommendation: %+v", d.Report)
	}
	if d.Pprof["mutex"] == "" || len(d.Peers) != 4 {
		t.Errorf("pprof links %v, peers %v", d.Pprof, d.Peers)
	}

	cases := []struct {
		name, query string
		code        int
		want        string
	}{
		{"mutex", "target=0&kind=mutex", 200, `class="cf-flame"`},
		{"allocs", "target=0&kind=allocs", 200, `alloc_space`},
		{"canary vs baseline", "target=0&kind=mutex&base_target=1&base=", 200, `"diff":true`},
		{"no previous window", "target=0&kind=mutex&base=previous", 404, "no previous window"},
		{"no cpu profile", "target=0&kind=cpu", 404, "holds no cpu profile"},
		{"profiling off", "target=4&kind=mutex", 404, "profiling is disabled"},
		{"empty target", "target=2&kind=mutex", 404, "No window yet"},
		{"no such target", "target=9&kind=mutex", 404, "no target"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, body := get(t, http.DefaultClient, srv.URL+"/flame?"+c.query)
			if code != c.code || !strings.Contains(body, c.want) {
				t.Errorf("GET flame?%s: %d, want %d with %q; body starts %.200q", c.query, code, c.code, c.want, body)
			}
		})
	}
}

// TestPprofDeepDive follows the page's link into pprof's own web UI, served
// in-process by github.com/google/pprof/driver, and checks that it shows
// the window's mutex profile.
func TestPprofDeepDive(t *testing.T) {
	mux := http.NewServeMux()
	mux.Handle("/ui/", http.StripPrefix("/ui", webui.New(webui.Options{Targets: targets(t)})))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	var d struct{ Pprof map[string]string }
	getJSON(t, srv.URL+"/ui/api/target?target=0", &d)
	link := srv.URL + "/ui/" + d.Pprof["mutex"]
	code, body := get(t, http.DefaultClient, link) // redirects to ./flamegraph
	if code != 200 || !strings.Contains(body, "Type: delay") || !strings.Contains(body, "RWMutex") {
		t.Fatalf("GET %s: %d; want pprof's page on the delay profile naming RWMutex; body starts %.300q", link, code, body)
	}
	code, body = get(t, http.DefaultClient, link+"top")
	if code != 200 || !strings.Contains(body, "sync.(*RWMutex).Unlock") {
		t.Errorf("GET %stop: %d; want pprof's top table; body starts %.300q", link, code, body)
	}
	code, _ = get(t, http.DefaultClient, srv.URL+"/ui/pprof/0/nosuch@1/mutex/")
	if code != 404 {
		t.Errorf("unknown window: %d, want 404", code)
	}
}

func TestToken(t *testing.T) {
	srv := httptest.NewServer(webui.New(webui.Options{Targets: targets(t)[:1], Token: "s3cret"}))
	defer srv.Close()
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	if code, _ := get(t, http.DefaultClient, srv.URL+"/api/overview"); code != 401 {
		t.Errorf("no token: %d, want 401", code)
	}
	if code, _ := get(t, http.DefaultClient, srv.URL+"/?token=wrong"); code != 401 {
		t.Errorf("wrong token: %d, want 401", code)
	}
	req, _ := http.NewRequest("GET", srv.URL+"/api/overview", nil)
	req.Header.Set("Authorization", "Bearer s3cret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("bearer token: %v %v", resp, err)
	}
	resp.Body.Close()

	resp, err = noRedirect.Get(srv.URL + "/?target=0&token=s3cret")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || strings.Contains(loc, "s3cret") || !strings.Contains(loc, "target=0") {
		t.Fatalf("?token=: %d to %q, want 303 to the page without the token", resp.StatusCode, loc)
	}
	cookies := resp.Cookies()
	if len(cookies) != 1 || !cookies[0].HttpOnly || cookies[0].SameSite != http.SameSiteStrictMode {
		t.Fatalf("?token= set cookies %v, want one HttpOnly SameSite=Strict cookie", cookies)
	}
	req, _ = http.NewRequest("GET", srv.URL+"/api/overview", nil)
	req.AddCookie(cookies[0])
	resp, err = http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("cookie: %v %v", resp, err)
	}
	resp.Body.Close()
}

// TestRemotePollsAnAgent runs an agent in this process behind httptest and
// a Remote polling it: windows arrive, a repeated poll of the same window
// keeps one copy, and Keep bounds what is kept.
func TestRemotePollsAnAgent(t *testing.T) {
	a, err := agent.Start(agent.Config{Interval: time.Hour, Windows: 5})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Stop()
	srv := httptest.NewServer(a.Handler())
	defer srv.Close()
	for range 2 {
		if _, err := a.CollectNow(context.Background()); err != nil {
			t.Fatal(err)
		}
	}

	remote := webui.NewRemote(srv.URL, webui.RemoteOptions{Interval: 50 * time.Millisecond, Keep: 3})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { remote.Run(ctx) })
	defer func() { cancel(); wg.Wait() }()

	waitFor(t, "the first two windows", func() bool { ws, _ := remote.Windows(); return len(ws) == 2 })
	for range 3 {
		if _, err := a.CollectNow(context.Background()); err != nil {
			t.Fatal(err)
		}
		time.Sleep(120 * time.Millisecond) // a few polls see the same window
	}
	waitFor(t, "window 5", func() bool {
		ws, _ := remote.Windows()
		return len(ws) > 0 && ws[len(ws)-1].ID == "5"
	})
	ws, err := remote.Windows()
	if err != nil || len(ws) != 3 || ws[0].ID != "3" || ws[1].ID != "4" {
		ids := []string{}
		for _, w := range ws {
			ids = append(ids, w.ID)
		}
		t.Errorf("kept windows %v (err %v), want [3 4 5]", ids, err)
	}
}

func TestRemoteUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	remote := webui.NewRemote("http://"+addr, webui.RemoteOptions{Interval: time.Hour, Load: source.Options{Timeout: time.Second}})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { remote.Run(ctx) })
	defer func() { cancel(); wg.Wait() }()
	waitFor(t, "the failed poll", func() bool { _, err := remote.Windows(); return err != nil })
	_, err = remote.Windows()
	if u, _ := url.Parse("http://" + addr); !strings.Contains(err.Error(), u.Host) {
		t.Errorf("error %q does not name the target", err)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
