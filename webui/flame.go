package webui

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/contendr/contendr/flame"
	"github.com/contendr/contendr/window"
)

// serveFlame answers GET flame?target=N&window=REF&kind=K[&sample=S] with
// a flame graph fragment (flame.WriteHTMLFragment) that the page turns
// into an interactive graph with flame's own script. With base=REF (a
// window of the same target, or "previous") or base_target=M (that
// target's window base=REF, its latest by default) the graph is the
// differential one, base → this window.
func (h *handler) serveFlame(w http.ResponseWriter, r *http.Request) {
	i, ok := h.targetIndex(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	kind := window.ProfileKind(q.Get("kind"))
	if kind == "" {
		kind = window.Mutex
	}
	win, err := h.window(i, q.Get("window"))
	if err != nil {
		writeJSONError(w, http.StatusNotFound, err.Error())
		return
	}
	g, err := graph(win, kind, q.Get("sample"))
	if err != nil {
		writeJSONError(w, http.StatusNotFound, err.Error())
		return
	}
	title := fmt.Sprintf("%s — %s, window %s", h.opts.Targets[i].Name, kind, win.ID)

	if q.Has("base") || q.Has("base_target") {
		baseTarget, baseWin, err := h.baseWindow(i, win, q.Get("base_target"), q.Get("base"))
		if err != nil {
			writeJSONError(w, http.StatusNotFound, err.Error())
			return
		}
		base, err := graph(baseWin, kind, q.Get("sample"))
		if err != nil {
			writeJSONError(w, http.StatusNotFound, "base: "+err.Error())
			return
		}
		if g, err = flame.Diff(base, g); err != nil {
			writeJSONError(w, http.StatusUnprocessableEntity, "comparing the two profiles: "+err.Error())
			return
		}
		title = fmt.Sprintf("%s: %s window %s → %s window %s", kind,
			h.opts.Targets[baseTarget].Name, baseWin.ID, h.opts.Targets[i].Name, win.ID)
	}

	var buf bytes.Buffer
	if err := flame.WriteHTMLFragment(&buf, g, flame.Options{Title: title}); err != nil {
		writeJSONError(w, http.StatusInternalServerError, err.Error())
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(buf.Bytes())
}

// baseWindow resolves the base of a diff: a window of another target
// (canary against baseline) or of the same one ("previous" is the window
// before win).
func (h *handler) baseWindow(i int, win *window.Window, targetParam, ref string) (int, *window.Window, error) {
	target := i
	if targetParam != "" {
		n, err := strconv.Atoi(targetParam)
		if err != nil || n < 0 || n >= len(h.opts.Targets) {
			return 0, nil, fmt.Errorf("no base target %q", targetParam)
		}
		target = n
	}
	if ref != "previous" {
		w, err := h.window(target, ref)
		return target, w, err
	}
	windows, _ := h.opts.Targets[target].Source.Windows()
	for j := len(windows) - 1; j > 0; j-- {
		if windows[j] == win {
			return target, windows[j-1], nil
		}
	}
	return 0, nil, fmt.Errorf("window %s has no previous window to compare with", win.ID)
}

// graph builds kind's flame graph, or says in words why there is none.
func graph(win *window.Window, kind window.ProfileKind, sample string) (*flame.Graph, error) {
	p := win.Profile(kind)
	if p == nil {
		return nil, fmt.Errorf("window %s holds no %s profile: %s", win.ID, kind, missingReason(win, kind))
	}
	g, err := flame.Build(p, sample)
	if errors.Is(err, flame.ErrEmpty) {
		return nil, fmt.Errorf("the %s profile of window %s is empty: %s", kind, win.ID, emptyReason(win, kind))
	}
	if err != nil {
		return nil, fmt.Errorf("building the %s flame graph: %w", kind, err)
	}
	return g, nil
}

func missingReason(win *window.Window, kind window.ProfileKind) string {
	switch {
	case kind == window.CPU:
		return "the agent records a CPU profile only with Config.CPUProfileDuty set; `contendr serve` takes one from a plain pprof target unless told not to"
	case kind == window.Mutex && win.Meta.MutexProfileFraction == 0,
		kind == window.Block && win.Meta.BlockProfileRate == 0:
		return "profiling is disabled in the target (rate 0)"
	}
	for _, n := range win.Notes {
		if bytes.Contains([]byte(n), []byte(kind)) {
			return n
		}
	}
	return "the target did not provide it"
}

func emptyReason(win *window.Window, kind window.ProfileKind) string {
	switch {
	case kind == window.Mutex && win.Meta.MutexProfileFraction == 0,
		kind == window.Block && win.Meta.BlockProfileRate == 0:
		return "profiling is disabled in the target (rate 0)"
	case kind == window.Mutex || kind == window.Block:
		return "no contention was sampled during the window"
	}
	return "nothing was sampled during the window"
}
