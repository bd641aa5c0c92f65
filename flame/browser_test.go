package flame

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/contendr/contendr/internal/browser"
)

// TestHTMLInBrowser opens the interactive page in headless Chromium and uses
// it as a reader would: the graph shows, a search reports a matched share, a
// click zooms, the callers view and the icicle toggle work. It saves
// screenshots for a human to look at.
func TestHTMLInBrowser(t *testing.T) {
	ctx := browser.New(t)
	g := buildFixture(t, "go1.25-legacy-syncmap/mutex.pb.gz", "")
	page := filepath.Join(t.TempDir(), "flame.html")
	if err := os.WriteFile(page, render(t, func(w io.Writer) error { return WriteHTML(w, g, Options{}) }), 0o644); err != nil {
		t.Fatal(err)
	}
	artifacts := browser.ArtifactDir(t)
	screenshot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot: %v", err)
		}
		path := filepath.Join(artifacts, name)
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s", path)
	}
	eval := func(expr string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
		if err != nil {
			t.Fatalf("evaluating %s: %v", expr, err)
		}
		return v
	}
	num := func(expr string) float64 {
		t.Helper()
		f, err := strconv.ParseFloat(eval(expr), 64)
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		return f
	}

	if err := chromedp.Do(ctx,
		chromedp.Navigate("file://"+page),
		chromedp.WaitVisible(chromedp.CSS(".cf-frame")),
	); err != nil {
		t.Fatalf("loading the page: %v", err)
	}
	if n := num(`String(document.querySelectorAll(".cf-frame").length)`); n < 10 {
		t.Fatalf("%v frames in the DOM, want a graph", n)
	}
	if errs := eval(`String(window.ContendrFlame === undefined)`); errs != "false" {
		t.Fatal("the page script did not run")
	}

	// Hover: the details line says what the frame costs in real units.
	if err := chromedp.Do(ctx, hoverFrame(`sync.(*Mutex).Unlock`)); err != nil {
		t.Fatal(err)
	}
	details := eval(`document.querySelector(".cf-details").textContent`)
	if !strings.Contains(details, "sync.(*Mutex).Unlock") || !strings.Contains(details, "% of total") || !strings.Contains(details, " s") {
		t.Errorf("hover details = %q, want name, seconds and share", details)
	}

	// Search: the matched share appears and frames are highlighted.
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS(".cf-search"), `sync\.\(\*Mutex\)`)); err != nil {
		t.Fatal(err)
	}
	matched := eval(`document.querySelector(".cf-matched").textContent`)
	share := matchedPercent(t, matched)
	if share <= 0 || share > 100 {
		t.Errorf("matched text %q, want a share in (0, 100]", matched)
	}
	if n := num(`String(document.querySelectorAll(".cf-frame.cf-match").length)`); n == 0 {
		t.Error("search highlighted no frame")
	}
	screenshot("flame-search.png")

	// Click: the clicked frame fills the chart's width.
	widthOf := `String(Math.max(...Array.from(document.querySelectorAll(".cf-frame")).filter(f => f.cfNode.name === "sync.(*Map).Swap").map(f => f.getBoundingClientRect().width)))`
	before := num(widthOf)
	chartWidth := num(`String(document.querySelector(".cf-chart").getBoundingClientRect().width)`)
	if err := chromedp.Do(ctx, clickFrame(`sync.(*Map).Swap`)); err != nil {
		t.Fatal(err)
	}
	after := num(widthOf)
	if !(after > before) || after < chartWidth-2 {
		t.Errorf("zoom: frame width %.1f → %.1f px, want the chart's %.1f px", before, after, chartWidth)
	}
	screenshot("flame-zoomed.png")

	// Callers of the selected frame: the view inverts at it.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(".cf-callers"))); err != nil {
		t.Fatal(err)
	}
	if view := eval(`document.querySelector(".cf-view").textContent`); !strings.Contains(view, "Callers of sync.(*Map).Swap") {
		t.Errorf("callers view says %q", view)
	}
	top := `String(document.querySelector(".cf-frame").style.top)`
	callersTop := eval(top)
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(".cf-icicle"))); err != nil {
		t.Fatal(err)
	}
	if eval(top) == callersTop {
		t.Error("the icicle toggle did not move the frames")
	}
	screenshot("flame-callers.png")

	// Reset returns to the whole graph.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(".cf-reset"))); err != nil {
		t.Fatal(err)
	}
	if view := eval(`document.querySelector(".cf-view").textContent`); view != "" {
		t.Errorf("after reset the view still says %q", view)
	}
}

// matchedPercent reads "matched 12.3% of total" as 12.3.
func matchedPercent(t *testing.T, text string) float64 {
	t.Helper()
	_, rest, ok := strings.Cut(text, "matched ")
	pct, _, ok2 := strings.Cut(rest, "%")
	f, err := strconv.ParseFloat(pct, 64)
	if !ok || !ok2 || err != nil {
		return -1
	}
	return f
}

// framePoint finds the centre of the widest drawn frame named name.
func framePoint(name string) string {
	return `(() => {
		const f = Array.from(document.querySelectorAll(".cf-frame")).filter(f => f.cfNode.name === ` + strconv.Quote(name) + `)
			.sort((a, b) => b.getBoundingClientRect().width - a.getBoundingClientRect().width)[0];
		if (!f) return null;
		f.scrollIntoView({block: "center"});
		const r = f.getBoundingClientRect();
		return [r.left + r.width / 2, r.top + r.height / 2];
	})()`
}

// clickFrame clicks the frame named name with the mouse, as a user would.
func clickFrame(name string) chromedp.Action[chromedp.Void] {
	return mouseAt(name, chromedp.MouseClickXY)
}

// hoverFrame moves the mouse onto the frame named name.
func hoverFrame(name string) chromedp.Action[chromedp.Void] {
	return mouseAt(name, func(x, y float64, _ ...chromedp.MouseOption) chromedp.Action[chromedp.Void] {
		return chromedp.MouseEvent(chromedp.MouseMoved, x, y)
	})
}

// mouseAt locates the frame named name and runs a mouse action at its centre.
func mouseAt(name string, act func(x, y float64, opts ...chromedp.MouseOption) chromedp.Action[chromedp.Void]) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tgt *chromedp.Target) error {
		xy, err := chromedp.Evaluate[[]float64](framePoint(name))(ctx, tgt)
		if err != nil {
			return fmt.Errorf("locating frame %s: %w", name, err)
		}
		if len(xy) != 2 {
			return fmt.Errorf("no drawn frame named %s", name)
		}
		_, err = act(xy[0], xy[1])(ctx, tgt)
		return err
	})
}

// TestDiffHTMLInBrowser opens a differential page: frames are coloured by
// change and the vanished stacks are listed.
func TestDiffHTMLInBrowser(t *testing.T) {
	ctx := browser.New(t)
	base := buildFixture(t, "go1.25-legacy-syncmap/mutex.pb.gz", "")
	target := buildFixture(t, "go1.26-hashtriemap/syncmap/mutex.pb.gz", "")
	d, err := Diff(base, target)
	if err != nil {
		t.Fatal(err)
	}
	page := filepath.Join(t.TempDir(), "diff.html")
	if err := os.WriteFile(page, render(t, func(w io.Writer) error { return WriteHTML(w, d, Options{Icicle: true}) }), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx,
		chromedp.Navigate("file://"+page),
		chromedp.WaitVisible(chromedp.CSS(".cf-frame")),
		chromedp.Click(chromedp.CSS(".cf-vanished summary")),
	); err != nil {
		t.Fatalf("loading the page: %v", err)
	}
	got, err := chromedp.Run(ctx, chromedp.Evaluate[[]int](`[
		document.querySelectorAll(".cf-frame").length,
		new Set(Array.from(document.querySelectorAll(".cf-frame")).map(f => f.style.background)).size,
		document.querySelectorAll(".cf-vanished li").length]`))
	if err != nil {
		t.Fatal(err)
	}
	if got[0] == 0 || got[1] < 3 || got[2] == 0 {
		t.Errorf("%d frames in %d colours, %d vanished stacks listed; want frames in several colours and a list", got[0], got[1], got[2])
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(browser.ArtifactDir(t), "flame-diff.png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}

// TestSVGScriptInBrowser opens the standalone SVG itself, where its script
// runs: a click on a frame zooms it to the full width and "Reset zoom"
// brings the whole graph back.
func TestSVGScriptInBrowser(t *testing.T) {
	ctx := browser.New(t)
	g := buildFixture(t, "go1.25-legacy-syncmap/mutex.pb.gz", "")
	page := filepath.Join(t.TempDir(), "flame.svg")
	if err := os.WriteFile(page, render(t, func(w io.Writer) error { return WriteSVG(w, g, Options{}) }), 0o644); err != nil {
		t.Fatal(err)
	}
	const frame = `Array.from(document.querySelectorAll("g.f")).find(g => g.getAttribute("data-n") === "sync.(*Map).Swap").querySelector("rect")`
	width := func() float64 {
		t.Helper()
		w, err := chromedp.Run(ctx, chromedp.Evaluate[float64](frame+`.getBoundingClientRect().width`))
		if err != nil {
			t.Fatal(err)
		}
		return w
	}
	if err := chromedp.Do(ctx, chromedp.Navigate("file://"+page), chromedp.WaitReady(chromedp.CSS("g.f"))); err != nil {
		t.Fatalf("loading the SVG: %v", err)
	}
	before := width()
	xy, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](`(() => { const r = `+frame+`.getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2]; })()`))
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.MouseClickXY(xy[0], xy[1])); err != nil {
		t.Fatal(err)
	}
	zoomed := width()
	if zoomed < 1170 || zoomed <= before {
		t.Errorf("clicked frame is %.1f px wide after zoom (was %.1f), want the full 1180 px", zoomed, before)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#reset"))); err != nil {
		t.Fatal(err)
	}
	if w := width(); w != before {
		t.Errorf("after reset the frame is %.1f px wide, want %.1f", w, before)
	}
}
