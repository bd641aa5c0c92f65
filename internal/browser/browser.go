// Package browser starts a headless Chromium for tests that check what a
// user would see (the flame graph page, the web UI), driven through the
// Chrome DevTools Protocol with chromedp.
package browser

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/remote"
)

// candidates are the names Chromium goes by, Debian's first.
var candidates = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"}

// Find returns the path of a Chromium binary: $CONTENDR_CHROMIUM if set,
// otherwise the first candidate on $PATH.
func Find() (string, bool) {
	if p := os.Getenv("CONTENDR_CHROMIUM"); p != "" {
		return p, true
	}
	for _, name := range candidates {
		if p, err := exec.LookPath(name); err == nil {
			return p, true
		}
	}
	return "", false
}

// New starts a headless Chromium for the test and returns a chromedp
// context bound to one tab; the browser is stopped when the test ends.
// Without Chromium the test is skipped, unless CI=true, where a missing
// browser is a failure: CI must run these tests.
func New(t testing.TB) context.Context {
	t.Helper()
	path, ok := Find()
	if !ok {
		if os.Getenv("CI") == "true" {
			t.Fatal("chromium not found on $PATH (install it: apt-get install -y chromium)")
		}
		t.Skip("chromium not installed; skipping the browser test")
	}
	// Flags keep the run hermetic: no sandbox (containers lack the
	// namespaces), no GPU, no network chatter. Without a UserDataDir option
	// chromedp passes --user-data-dir=<a fresh temp dir> and removes it,
	// retrying while Chromium's child processes still write there (a
	// t.TempDir would fail its own cleanup on that race).
	// remote.WebSocket makes chromedp start the browser with
	// --remote-debugging-port=0 and speak CDP over that websocket.
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		remote.WebSocket,
		chromedp.Headless,
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1280, 900),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(allocCtx, chromedp.WithLogf(t.Logf))
	// Bound the whole session so that a hung browser fails the test
	// instead of the package timeout.
	// The limit is generous: a loaded 2-core CI machine is slow.
	ctx, cancelTimeout := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(func() {
		cancelTimeout()
		cancelTab()
		cancelAlloc()
	})
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting chromium %s: %v", path, err)
	}
	return ctx
}

// ArtifactDir is where tests save what a human may want to look at
// (screenshots): $CONTENDR_ARTIFACTS when set, else the test's temp dir.
func ArtifactDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("CONTENDR_ARTIFACTS")
	if dir == "" {
		return t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("creating artifact dir: %v", err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return dir
	}
	return abs
}
