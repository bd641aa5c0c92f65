package webui

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/contendr/contendr/analyze"
	"github.com/contendr/contendr/collectors/figure"
	"github.com/contendr/contendr/source"
	"github.com/contendr/contendr/window"
)

// Target statuses, for the page to say why a panel is empty.
const (
	statusOK          = "ok"
	statusEmpty       = "empty"       // no window yet
	statusUnreachable = "unreachable" // the last poll failed and nothing is kept
	statusStale       = "stale"       // the last poll failed; older windows are shown
	statusDisabled    = "disabled"    // mutex and block profiling are off
)

// point is one window of a target's series.
type point struct {
	ID      string    `json:"id"`
	Start   time.Time `json:"start"`
	End     time.Time `json:"end"`
	Seconds float64   `json:"seconds"`
	// ContentionCost, the headline series, LockFraction (the lock wait
	// share, a secondary line: context, not time lost) and GCCPUFraction
	// are null when the window could not measure them. CostReason says why
	// an estimated or lower-bound cost is one.
	ContentionCost *float64 `json:"contention_cost"`
	CostEstimated  bool     `json:"cost_estimated,omitempty"`
	CostLowerBound bool     `json:"cost_lower_bound,omitempty"`
	CostReason     string   `json:"cost_reason,omitempty"`
	LockFraction   *float64 `json:"lock_fraction"`
	LockEstimated  bool     `json:"lock_estimated,omitempty"`
	GCCPUFraction  *float64 `json:"gc_cpu_fraction"`
	// Measured says which figures the window measured, estimated or
	// lacked, and why (the report's account).
	Measured         figure.Set       `json:"measured,omitempty"`
	Worst            analyze.Severity `json:"worst"`
	Restarted        bool             `json:"restarted,omitempty"`
	Profiles         []string         `json:"profiles"`
	AnalysisProblems string           `json:"analysis_error,omitempty"`
}

// targetSummary is one target on the overview.
type targetSummary struct {
	Index   int               `json:"index"`
	Name    string            `json:"name"`
	Labels  map[string]string `json:"labels"`
	Status  string            `json:"status"`
	Message string            `json:"message,omitempty"`
	Series  []point           `json:"series"`
	// Latest is the report on the newest window (nil without one).
	Latest *analyze.Report `json:"latest"`
}

// overview is the body of GET api/overview.
type overview struct {
	RefreshSeconds float64            `json:"refresh_seconds"`
	Thresholds     analyze.Thresholds `json:"thresholds"`
	Targets        []targetSummary    `json:"targets"`
}

// targetDetail is the body of GET api/target.
type targetDetail struct {
	targetSummary
	RefreshSeconds float64            `json:"refresh_seconds"`
	Thresholds     analyze.Thresholds `json:"thresholds"`
	// Window is the window the report is about; Report is its analysis.
	Window string          `json:"window"`
	Report *analyze.Report `json:"report"`
	// Pprof links each profile of the window to pprof's web UI.
	Pprof map[string]string `json:"pprof"`
	// Peers are the other targets, for a canary-versus-baseline diff.
	Peers []peer `json:"peers"`
}

type peer struct {
	Index  int               `json:"index"`
	Name   string            `json:"name"`
	Labels map[string]string `json:"labels"`
}

// snapshot is what one target holds at one moment, analyzed.
type snapshot struct {
	windows []*window.Window
	reports []*analyze.Report // reports[i] analyzes windows[i]; nil when it failed
	errs    []error
	pollErr error
}

func (h *handler) serveOverview(w http.ResponseWriter, r *http.Request) {
	body := overview{RefreshSeconds: h.opts.Refresh.Seconds(), Thresholds: h.thresholds, Targets: []targetSummary{}}
	for i := range h.opts.Targets {
		snap := h.snapshot(i)
		body.Targets = append(body.Targets, h.summarize(i, snap))
	}
	writeJSON(w, http.StatusOK, body)
}

func (h *handler) serveTarget(w http.ResponseWriter, r *http.Request) {
	i, ok := h.targetIndex(w, r)
	if !ok {
		return
	}
	snap := h.snapshot(i)
	body := targetDetail{
		targetSummary:  h.summarize(i, snap),
		RefreshSeconds: h.opts.Refresh.Seconds(),
		Thresholds:     h.thresholds,
		Pprof:          map[string]string{},
		Peers:          []peer{},
	}
	body.Latest = nil // the report below is the one to read
	if at := snap.find(r.URL.Query().Get("window")); at >= 0 {
		win := snap.windows[at]
		body.Window = win.ID
		body.Report = snap.reports[at]
		for _, k := range window.Kinds {
			if win.Profile(k) != nil {
				body.Pprof[string(k)] = fmt.Sprintf("pprof/%d/%s/%s/", i, windowRef(win), k)
			}
		}
	}
	for j, t := range h.opts.Targets {
		if j != i {
			body.Peers = append(body.Peers, peer{Index: j, Name: t.Name, Labels: h.labels(j, h.snapshot(j))})
		}
	}
	writeJSON(w, http.StatusOK, body)
}

// serveReport answers with the bare report contract (contendr.report/v1) on
// one window, for tools that want exactly what `contendr analyze --format
// json` writes.
func (h *handler) serveReport(w http.ResponseWriter, r *http.Request) {
	i, ok := h.targetIndex(w, r)
	if !ok {
		return
	}
	snap := h.snapshot(i)
	at := snap.find(r.URL.Query().Get("window"))
	if at < 0 {
		writeJSONError(w, http.StatusNotFound, h.summarize(i, snap).Message)
		return
	}
	if snap.reports[at] == nil {
		writeJSONError(w, http.StatusUnprocessableEntity, snap.errs[at].Error())
		return
	}
	writeJSON(w, http.StatusOK, snap.reports[at])
}

// targetIndex reads ?target=N, answering 404 itself when it names none.
func (h *handler) targetIndex(w http.ResponseWriter, r *http.Request) (int, bool) {
	i, err := strconv.Atoi(r.URL.Query().Get("target"))
	if err != nil || i < 0 || i >= len(h.opts.Targets) {
		writeJSONError(w, http.StatusNotFound, fmt.Sprintf("no target %q: this dashboard has %d (0 to %d)",
			r.URL.Query().Get("target"), len(h.opts.Targets), len(h.opts.Targets)-1))
		return 0, false
	}
	return i, true
}

// snapshot reads target i's windows and analyzes each one not analyzed
// before.
func (h *handler) snapshot(i int) snapshot {
	windows, pollErr := h.opts.Targets[i].Source.Windows()
	snap := snapshot{windows: windows, pollErr: pollErr}
	snap.reports = make([]*analyze.Report, len(windows))
	snap.errs = make([]error, len(windows))
	for j, win := range windows {
		var previous *window.Window
		if j > 0 {
			previous = windows[j-1]
		}
		snap.reports[j], snap.errs[j] = h.analyze(i, win, previous)
	}
	h.forget(i, windows)
	return snap
}

// analyze returns the cached report on win or makes it.
func (h *handler) analyze(target int, win, previous *window.Window) (*analyze.Report, error) {
	key := windowKey(target, win)
	h.reportsMu.Lock()
	report, ok := h.reports[key]
	h.reportsMu.Unlock()
	if ok {
		return report, nil
	}
	report, err := analyze.Analyze(analyze.Input{Window: win, Previous: previous, Target: h.opts.Targets[target].Name}, h.thresholds)
	if err != nil {
		return nil, fmt.Errorf("analyzing window %s: %w", win.ID, err)
	}
	h.reportsMu.Lock()
	h.reports[key] = report
	h.reportsMu.Unlock()
	return report, nil
}

// forget drops the cached reports of target's windows no longer kept, so
// that the cache stays as bounded as the windows are.
func (h *handler) forget(target int, kept []*window.Window) {
	keep := make(map[string]bool, len(kept))
	for _, w := range kept {
		keep[windowKey(target, w)] = true
	}
	prefix := strconv.Itoa(target) + "/"
	h.reportsMu.Lock()
	defer h.reportsMu.Unlock()
	for key := range h.reports {
		if len(key) > len(prefix) && key[:len(prefix)] == prefix && !keep[key] {
			delete(h.reports, key)
		}
	}
}

// windowKey identifies a window across polls: an agent that restarted
// numbers its windows from 1 again, so the start time joins the ID.
func windowKey(target int, w *window.Window) string {
	return strconv.Itoa(target) + "/" + windowRef(w)
}

// windowRef names a window in URLs: its ID and start, path-safe.
func windowRef(w *window.Window) string {
	return fmt.Sprintf("%s@%d", sanitize(w.ID), w.Start.UnixNano())
}

// sanitize keeps an ID to characters that need no escaping in a path.
func sanitize(id string) string {
	b := []byte(id)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			b[i] = '_'
		}
	}
	return string(b)
}

// find returns the index of the window named by ref — an ID or a
// windowRef — or of the latest for "", -1 when there is none.
func (s snapshot) find(ref string) int {
	if ref == "" {
		return len(s.windows) - 1
	}
	for j := len(s.windows) - 1; j >= 0; j-- {
		if s.windows[j].ID == ref || windowRef(s.windows[j]) == ref {
			return j
		}
	}
	return -1
}

func (h *handler) summarize(i int, snap snapshot) targetSummary {
	t := h.opts.Targets[i]
	sum := targetSummary{Index: i, Name: t.Name, Labels: h.labels(i, snap), Status: statusOK, Series: []point{}}
	for j, win := range snap.windows {
		sum.Series = append(sum.Series, seriesPoint(win, snap.reports[j], snap.errs[j]))
	}
	if n := len(snap.reports); n > 0 {
		sum.Latest = snap.reports[n-1]
	}
	sum.Status, sum.Message = status(snap, sum.Latest)
	return sum
}

// labels are the newest window's labels (service, version, role).
func (h *handler) labels(i int, snap snapshot) map[string]string {
	if n := len(snap.windows); n > 0 && snap.windows[n-1].Meta.Labels != nil {
		return snap.windows[n-1].Meta.Labels
	}
	return map[string]string{}
}

func seriesPoint(win *window.Window, report *analyze.Report, err error) point {
	p := point{ID: win.ID, Start: win.Start, End: win.End, Seconds: win.Seconds(), Restarted: win.Meta.Restarted, Profiles: []string{}}
	for _, k := range window.Kinds {
		if win.Profile(k) != nil {
			p.Profiles = append(p.Profiles, string(k))
		}
	}
	if err != nil {
		p.AnalysisProblems = err.Error()
		return p
	}
	p.Worst = report.Worst()
	p.Measured = report.Measured
	if l := report.Lock; report.Measured.Has(figure.ContentionCost) {
		p.ContentionCost = &report.Lock.Cost
		p.CostEstimated, p.CostLowerBound, p.CostReason = l.CostEstimated, l.CostLowerBound, l.CostReason
	}
	if report.Measured.Has(figure.LockFraction) {
		p.LockFraction = &report.Lock.Fraction
		p.LockEstimated = report.Lock.Estimated
	}
	if report.Measured.Has(figure.GCCPUFraction) {
		p.GCCPUFraction = &report.GC.CPUFraction
	}
	return p
}

// status says, in words for the page, why a target shows what it shows.
func status(snap snapshot, latest *analyze.Report) (string, string) {
	if len(snap.windows) == 0 {
		if snap.pollErr != nil && !errors.Is(snap.pollErr, source.ErrNoWindow) {
			return statusUnreachable, snap.pollErr.Error()
		}
		return statusEmpty, "No window yet: the first arrives when the target closes its first interval."
	}
	if snap.pollErr != nil {
		return statusStale, "Showing the windows kept so far; the last poll failed: " + snap.pollErr.Error()
	}
	if latest != nil {
		for _, f := range latest.Findings {
			if f.ID == analyze.FindingProfilingDisabled {
				return statusDisabled, f.Message
			}
		}
	}
	return statusOK, ""
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "encoding the response: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(append(body, '\n'))
}

func writeJSONError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

// window returns target i's window named by ref (the latest for ""),
// without analyzing anything: the flame and pprof views need only its
// profiles.
func (h *handler) window(i int, ref string) (*window.Window, error) {
	windows, pollErr := h.opts.Targets[i].Source.Windows()
	s := snapshot{windows: windows, pollErr: pollErr}
	if at := s.find(ref); at >= 0 {
		return windows[at], nil
	}
	if len(windows) == 0 {
		_, msg := status(s, nil)
		return nil, errors.New(msg)
	}
	return nil, fmt.Errorf("no window %q in %s: it keeps %d windows, the oldest of which may have been dropped",
		ref, h.opts.Targets[i].Name, len(windows))
}
