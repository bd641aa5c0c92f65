package agent

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/contendr/contendr/window"
)

// traceSummary is a window's trace in /debug/contendr/windows.
type traceSummary struct {
	Reason     string    `json:"reason"`
	CapturedAt time.Time `json:"captured_at"`
	Bytes      int       `json:"bytes"`
	// Path serves the trace alone (`go tool trace` opens it).
	Path string `json:"path"`
}

// serveWindowTrace serves a kept window's execution trace.
func (a *Agent) serveWindowTrace(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	win := a.window(id)
	switch {
	case win == nil:
		writeJSONError(w, http.StatusNotFound, fmt.Sprintf("no window %q: this agent keeps the last %d windows; "+
			"see /debug/contendr/windows for their ids", id, a.cfg.Windows))
	case win.Trace == nil:
		writeJSONError(w, http.StatusNotFound, fmt.Sprintf("window %s has no trace: %s", id, a.noTraceReason()))
	default:
		writeTrace(w, win.Trace, "contendr-window-"+id+".trace")
	}
}

// noTraceReason says why windows go without traces.
func (a *Agent) noTraceReason() string {
	switch {
	case a.rec == nil:
		return "the flight recorder is off; start the agent with Config.FlightRecorder set"
	case a.rec.off != "":
		return a.rec.off
	}
	return "a window holds a trace when a contention alert fired in it or a snapshot was asked for (POST /debug/contendr/trace)"
}

// serveTraceSnapshot writes a flight-recorder snapshot now: the response
// is the trace, and the window open now keeps it when it closes. At most
// one snapshot per cooldown, alerts' included.
func (a *Agent) serveTraceSnapshot(w http.ResponseWriter, r *http.Request) {
	if a.rec == nil || a.rec.off != "" {
		writeJSONError(w, http.StatusConflict, "no trace snapshot: "+a.noTraceReason())
		return
	}
	t, err := a.rec.snapshot("on demand", time.Now())
	switch {
	case errors.Is(err, errCooldown):
		w.Header().Set("Retry-After", strconv.Itoa(int(a.rec.cfg.Cooldown.Seconds())))
		writeJSONError(w, http.StatusTooManyRequests, err.Error())
		return
	case err != nil:
		writeJSONError(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	a.rec.keepPending(t)
	a.log.Info("contendr agent: trace snapshot on demand", "bytes", t.Bytes, "remote", r.RemoteAddr)
	writeTrace(w, t, "contendr-"+t.CapturedAt.UTC().Format("20060102T150405Z")+".trace")
}

func writeTrace(w http.ResponseWriter, t *window.Trace, filename string) {
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s"`, filename))
	w.Header().Set("Content-Length", strconv.Itoa(len(t.Data)))
	w.Write(t.Data)
}
