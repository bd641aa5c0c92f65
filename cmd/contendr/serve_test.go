package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/contendr/contendr/internal/browser"
	"github.com/contendr/contendr/internal/cliflags"
	"github.com/contendr/contendr/source"
)

func TestServeListenNeedsTokenOffLoopback(t *testing.T) {
	cases := []struct {
		name string
		o    serveOptions
		want string // "" for ok, else part of the error
	}{
		{"loopback", serveOptions{listen: "127.0.0.1:0"}, ""},
		{"host-less binds loopback", serveOptions{listen: ":0"}, ""},
		{"localhost", serveOptions{listen: "localhost:8080"}, ""},
		{"ipv6 loopback", serveOptions{listen: "[::1]:8080"}, ""},
		{"all interfaces without token", serveOptions{listen: "0.0.0.0:8080"}, "not a loopback address"},
		{"all interfaces with token", serveOptions{listen: "0.0.0.0:8080", token: "t"}, ""},
		{"all interfaces, insecure", serveOptions{listen: "0.0.0.0:8080", insecure: true}, ""},
		{"no port", serveOptions{listen: "127.0.0.1"}, "want host:port"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			addr, err := c.o.listenAddr()
			switch {
			case c.want == "" && err != nil:
				t.Errorf("listenAddr(%q): %v", c.o.listen, err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Errorf("listenAddr(%q) = %q, %v; want an error with %q", c.o.listen, addr, err, c.want)
			case c.name == "host-less binds loopback" && addr != "127.0.0.1:0":
				t.Errorf("listenAddr(:0) = %q, want 127.0.0.1:0", addr)
			}
		})
	}
}

func TestServeUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"serve"},
		{"serve", "http://127.0.0.1:1", "--listen", "0.0.0.0:0"},
		{"serve", "http://127.0.0.1:1", "--header", "no colon"},
	} {
		var stderr bytes.Buffer
		if code := runIO(context.Background(), args, io.Discard, &stderr); code != exitUsage {
			t.Errorf("contendr %v: exit %d, want %d; stderr %q", args, code, exitUsage, stderr.String())
		}
	}
}

// TestServeRunsUntilCanceled runs the command itself on a directory of
// profiles: it prints where it listens, serves the dashboard with the token
// required, and exits 0 when its context ends (Ctrl-C).
func TestServeRunsUntilCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	url, exit := startServe(t, ctx, "--listen", "127.0.0.1:0", "--token", "tok")
	resp, err := http.Get(url + "api/overview")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("without the token: %d, want 401", resp.StatusCode)
	}
	req, _ := http.NewRequest("GET", url+"api/overview", nil)
	req.Header.Set("Authorization", "Bearer tok")
	var seen bool
	for deadline := time.Now().Add(10 * time.Second); !seen && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		seen = strings.Contains(string(body), `"schema":"contendr.report/v1"`)
	}
	if !seen {
		t.Error("the dashboard never showed a report on the profile directory")
	}
	cancel()
	select {
	case code := <-exit:
		if code != exitOK {
			t.Errorf("exit %d after cancel, want 0", code)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop after its context ended")
	}
}

// startServe runs `contendr serve` on the repository's profile directory
// with extra flags until ctx ends, and returns the URL it prints and its
// exit code, sent when it returns.
func startServe(t *testing.T, ctx context.Context, flags ...string) (url string, exit <-chan int) {
	t.Helper()
	out, stdout := io.Pipe()
	code := make(chan int, 1)
	go func() {
		args := append([]string{"serve", "../../testdata/profiles/go1.26-hashtriemap/mutex", "--interval", "1h"}, flags...)
		code <- runIO(ctx, args, stdout, io.Discard)
		stdout.Close()
	}()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("reading serve's first line: %v", err)
	}
	go io.Copy(io.Discard, out)
	for _, f := range strings.Fields(line) {
		if strings.HasPrefix(f, "http://") {
			url = f
		}
	}
	if url == "" {
		t.Fatalf("serve did not say where it listens: %q", line)
	}
	return url, code
}

// TestServeRefusesRebinding: a token-less dashboard on loopback answers
// requests addressed to 127.0.0.1 and refuses those addressed to another
// name, which is what a web page sends after re-pointing its own name at
// 127.0.0.1 (DNS rebinding).
func TestServeRefusesRebinding(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	url, exit := startServe(t, ctx, "--listen", "127.0.0.1:0")
	for _, tc := range []struct {
		host string
		want int
	}{
		{"", http.StatusOK},
		{"localhost", http.StatusOK},
		{"rebound.example", http.StatusForbidden},
	} {
		req, _ := http.NewRequest("GET", url+"api/overview", nil)
		if tc.host != "" {
			req.Host = tc.host
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("Host %q: %d %s, want %d", tc.host, resp.StatusCode, body, tc.want)
		}
		if tc.want == http.StatusForbidden && !strings.Contains(string(body), "DNS rebinding") {
			t.Errorf("the refusal does not say why: %s", body)
		}
	}
	cancel()
	if code := <-exit; code != exitOK {
		t.Errorf("exit %d after cancel, want 0", code)
	}
}

// TestServeDashboardOnMaplab is the end-to-end check: maplab (RWMutex map,
// write-heavy, the agent embedded) polled by serve's dashboard, opened in
// headless Chromium. The target page must name the RWMap lock site, show a
// recommendation and draw a flame graph; screenshots are saved as
// artifacts.
func TestServeDashboardOnMaplab(t *testing.T) {
	begin := time.Now()
	ctx := browser.New(t) // skips (or fails under CI=true) without Chromium
	addr := startMaplab(t)
	t.Logf("chromium and maplab up after %s", time.Since(begin).Round(time.Millisecond))

	pollCtx, cancel := context.WithCancel(context.Background())
	o := serveOptions{interval: cliflags.Duration(time.Second), keep: 6, load: source.Options{Timeout: 5 * time.Second}}
	handler, wait, err := o.dashboard(pollCtx, []string{"http://" + addr}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(handler)
	t.Cleanup(func() { srv.Close(); cancel(); wait() })

	err = chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS(".card .verdict")), // the first window arrived
	)
	if err != nil {
		t.Fatalf("overview: %v", err)
	}
	overviewText := text(t, ctx, "#app")
	t.Logf("first window on the overview after %s", time.Since(begin).Round(time.Millisecond))
	artifacts := browser.ArtifactDir(t)
	screenshot(t, ctx, filepath.Join(artifacts, "serve-overview.png"))

	err = chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/?target=0"),
		chromedp.WaitVisible(chromedp.CSS(".recommendation")),
		chromedp.WaitVisible(chromedp.CSS("#flame-panel .cf-frame")),
	)
	if err != nil {
		t.Fatalf("target page: %v", err)
	}
	sites, rec, flameText := text(t, ctx, "table"), text(t, ctx, ".recommendation"), text(t, ctx, "#flame-panel")
	frames, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#flame-panel .cf-frame").length`))
	if err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, filepath.Join(artifacts, "serve-target.png"))

	// Live refresh: the next window shows up in the same page, not a
	// reloaded one (the marker set on the page survives).
	newest := `document.querySelector("#window-select option:nth-child(2)").value`
	before, err := chromedp.Run(ctx, chromedp.Evaluate[string](newest))
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`window.notReloaded = true`)); err != nil {
		t.Fatal(err)
	}
	grew := fmt.Sprintf(`window.notReloaded === true && %s !== %q`, newest, before)
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](grew, chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(15*time.Second))); err != nil {
		t.Errorf("no new window appeared in the open page (newest was window %s): %v", before, err)
	}

	if !strings.Contains(overviewText, "Contention cost") || strings.Contains(overviewText, "not measured in these windows") {
		t.Errorf("overview lacks the contention cost chart, or has no cost in it: %.300q", overviewText)
	}
	if !strings.Contains(sites, "RWMap") {
		t.Errorf("top lock components do not name maplab's RWMap: %.400q", sites)
	}
	if !strings.Contains(rec, "RWMap") || !strings.Contains(rec, "→") && !strings.Contains(rec, "keep") {
		t.Errorf("recommendation does not speak about RWMap: %.400q", rec)
	}
	if frames < 3 || !strings.Contains(flameText, "mutex") {
		t.Errorf("flame graph: %d frames, text %.200q", frames, flameText)
	}
}

func screenshot(t *testing.T, ctx context.Context, path string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}

func text(t *testing.T, ctx context.Context, selector string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(selector)))
	if err != nil {
		t.Fatalf("reading %s: %v", selector, err)
	}
	return s
}

// startMaplab builds and starts testapps/maplab with the agent on a free
// loopback port and 1s windows, and stops it when the test ends.
func startMaplab(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "maplab")
	build := exec.Command("go", "build", "-o", bin, "../../testapps/maplab")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building maplab: %v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin, "-strategy", "rwmutex", "-workload", "write-heavy", "-duration", "0",
		"-goroutines", "16", "-keys", "20000", "-listen", addr, "-interval", "1s")
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting maplab: %v", err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("maplab output:\n%s", logs.String())
		}
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get(fmt.Sprintf("http://%s/debug/contendr/windows", addr))
		if err == nil {
			resp.Body.Close()
			return addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("maplab did not listen on %s: %v", addr, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
