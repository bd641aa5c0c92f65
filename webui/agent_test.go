package webui_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/contendr/contendr/agent"
	"github.com/contendr/contendr/internal/browser"
	"github.com/contendr/contendr/webui"
)

// contendedCache is the lock site the agent-mounted dashboard must name.
type contendedCache struct {
	mu sync.Mutex
	m  map[int]int
}

func (c *contendedCache) Store(k, v int) {
	c.mu.Lock()
	c.m[k] = v
	for range 200 { // hold the lock long enough for others to queue
		c.m[k%64]++
	}
	c.mu.Unlock()
}

// contend runs writers on one contendedCache until stop is closed.
func contend(stop chan struct{}) *sync.WaitGroup {
	c := &contendedCache{m: map[int]int{}}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
					c.Store(g*1000+i%1000, i)
				}
			}
		})
	}
	return &wg
}

// TestAgentMountedDashboard serves the dashboard through the agent's own
// handler (Config.Dashboard) at /debug/contendr/ui/ and checks what a user
// sees there: the lock site of this process, the pprof deep dive, and the
// page in a browser.
func TestAgentMountedDashboard(t *testing.T) {
	a, err := agent.Start(agent.Config{Interval: time.Hour, Dashboard: webui.ForAgent, Token: "t0ken"})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Stop()
	srv := httptest.NewServer(a.Handler())
	defer srv.Close()

	stop := make(chan struct{})
	wg := contend(stop)
	for range 2 {
		time.Sleep(300 * time.Millisecond)
		if _, err := a.CollectNow(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()

	ui := srv.URL + agent.DashboardPath
	if code, _ := get(t, http.DefaultClient, ui+"api/overview"); code != http.StatusUnauthorized {
		t.Errorf("without the agent's token: %d, want 401", code)
	}
	authed := &http.Client{Transport: bearer{"t0ken"}}

	var d struct {
		Series []struct{ ID string }
		Report struct {
			Lock struct{ Components []struct{ Name string } }
		}
		Pprof map[string]string
	}
	code, body := get(t, authed, ui+"api/target?target=0")
	if code != 200 {
		t.Fatalf("api/target: %d %s", code, body)
	}
	decode(t, body, &d)
	if len(d.Series) != 2 || len(d.Report.Lock.Components) == 0 || !strings.Contains(d.Report.Lock.Components[0].Name, "contendedCache") {
		t.Fatalf("want 2 windows and contendedCache as the top component; got %+v", d)
	}
	code, body = get(t, authed, ui+d.Pprof["mutex"]+"top")
	if code != 200 || !strings.Contains(body, "contendedCache") {
		t.Errorf("pprof top under the agent: %d; body starts %.300q", code, body)
	}
	code, body = get(t, authed, ui+"flame?target=0&kind=block&base=previous")
	if code != 200 || !strings.Contains(body, `"diff":true`) {
		t.Errorf("diff of the two windows: %d %.200q", code, body)
	}

	// The page itself, in a browser that sends the agent's token.
	ctx := browser.New(t)
	err = chromedp.Do(ctx,
		chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
				return err
			}
			_, err := chromedp.Call(ctx, network.SetExtraHTTPHeaders,
				network.SetExtraHTTPHeadersParams{Headers: network.Headers{"Authorization": "Bearer t0ken"}})
			return err
		}),
		chromedp.Navigate(ui+"?target=0"),
		chromedp.WaitVisible(chromedp.CSS("#flame-panel .cf-frame")),
	)
	if err != nil {
		t.Fatalf("dashboard under the agent: %v", err)
	}
	page, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#app")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(page, "contendedCache") || !strings.Contains(page, "Flame graphs") {
		t.Errorf("page under the agent lacks the lock site or flame graphs: %.400q", page)
	}
	shoot(t, ctx, "agent-dashboard.png")

	// The page's deep-dive link opens pprof's own flame graph.
	err = chromedp.Do(ctx,
		chromedp.Navigate(ui+d.Pprof["mutex"]),
		chromedp.WaitVisible(chromedp.CSS("#stack-chart .boxbg")),
	)
	if err != nil {
		t.Fatalf("pprof's web UI under the agent: %v", err)
	}
	shoot(t, ctx, "agent-pprof.png")

	checkStatesInBrowser(t, ctx)
}

// checkStatesInBrowser opens a dashboard of the fixture targets: every
// state without data says why in the page, and the canary page compares
// itself with its baseline by default.
func checkStatesInBrowser(t *testing.T, ctx context.Context) {
	srv := httptest.NewServer(webui.New(webui.Options{Targets: targets(t)}))
	defer srv.Close()
	err := chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS(".msg.disabled")),
	)
	if err != nil {
		t.Fatalf("overview of the fixture targets: %v", err)
	}
	for _, status := range []string{"empty", "unreachable", "disabled"} {
		msg, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".card .msg."+status)))
		if err != nil || len(msg) < 20 {
			t.Errorf("overview: no message for the %s target (%q, %v)", status, msg, err)
		}
	}
	shoot(t, ctx, "states-overview.png")

	err = chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/?target=0"),
		chromedp.WaitVisible(chromedp.CSS("#diff-go")),
		chromedp.Click(chromedp.CSS("#diff-go")),
		chromedp.WaitVisible(chromedp.CSS("#diff-panel .cf-frame")),
	)
	if err != nil {
		t.Fatalf("canary versus baseline diff: %v", err)
	}
	title, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#diff-panel .cf-title")))
	if err != nil || !strings.Contains(title, "baseline") || !strings.Contains(title, "canary") {
		t.Errorf("diff title %q (%v): want baseline → canary", title, err)
	}
	shoot(t, ctx, "canary-diff.png")
}

func shoot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(browser.ArtifactDir(t), name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}

func decode(t *testing.T, body string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(body), v); err != nil {
		t.Fatalf("decoding %.200q: %v", body, err)
	}
}

// bearer adds the agent's token to every request.
type bearer struct{ token string }

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return http.DefaultTransport.RoundTrip(r)
}
