package agent

// The agent serves the /debug/pprof endpoints itself rather than through
// net/http/pprof: importing that package registers its handlers on
// http.DefaultServeMux in init, and a host serving DefaultServeMux on a
// public port would then expose unauthenticated profiles — the exposure this
// agent's contract rules out. The behaviour follows net/http/pprof (same
// paths, parameters, content types and file names), with two differences:
// ?gc= is ignored (the agent never forces a garbage collection) and
// ?seconds= deltas are offered for the cumulative profiles only.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"math"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/contendr/contendr/window"
)

const pprofPrefix = "/debug/pprof/"

// pprofIndex lists the profiles at /debug/pprof/ and serves the named ones
// below it.
func pprofIndex(w http.ResponseWriter, r *http.Request) {
	if name := strings.TrimPrefix(r.URL.Path, pprofPrefix); name != "" {
		pprofNamed(w, r, name)
		return
	}
	type entry struct {
		name  string
		count int
	}
	var entries []entry
	for _, p := range pprof.Profiles() {
		entries = append(entries, entry{p.Name(), p.Count()})
	}
	for _, name := range []string{"cmdline", "profile", "symbol", "trace"} {
		entries = append(entries, entry{name, -1})
	}
	slices.SortFunc(entries, func(a, b entry) int { return strings.Compare(a.name, b.name) })

	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	var b strings.Builder
	b.WriteString("<html><head><title>/debug/pprof/</title></head><body>\n<p>/debug/pprof/ (contendr agent)</p>\n<table>\n")
	for _, e := range entries {
		count := ""
		if e.count >= 0 {
			count = strconv.Itoa(e.count)
		}
		name := html.EscapeString(e.name)
		fmt.Fprintf(&b, "<tr><td>%s</td><td><a href=\"%s?debug=1\">%s</a></td></tr>\n", count, name, name)
	}
	b.WriteString("</table>\n<p><a href=\"goroutine?debug=2\">full goroutine stack dump</a></p>\n</body></html>\n")
	io.WriteString(w, b.String())
}

// pprofNamed serves one runtime/pprof profile: as a proto by default, as
// text with ?debug=N, or as a delta over ?seconds=N.
func pprofNamed(w http.ResponseWriter, r *http.Request, name string) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	p := pprof.Lookup(name)
	if p == nil {
		http.Error(w, fmt.Sprintf("unknown profile %q: see /debug/pprof/ for the list", name), http.StatusNotFound)
		return
	}
	debug, _ := strconv.Atoi(r.FormValue("debug"))
	if s := r.FormValue("seconds"); s != "" {
		if debug != 0 {
			http.Error(w, "seconds and debug params are incompatible", http.StatusBadRequest)
			return
		}
		pprofDelta(w, r, window.ProfileKind(name), s)
		return
	}
	var buf bytes.Buffer
	if err := p.WriteTo(&buf, debug); err != nil {
		http.Error(w, fmt.Sprintf("writing the %s profile: %v", name, err), http.StatusInternalServerError)
		return
	}
	if debug != 0 {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	} else {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s"`, name))
	}
	w.Write(buf.Bytes())
}

// pprofDelta serves the difference of a cumulative profile over ?seconds=.
func pprofDelta(w http.ResponseWriter, r *http.Request, kind window.ProfileKind, secondsParam string) {
	seconds, err := strconv.ParseInt(secondsParam, 10, 64)
	if err != nil || seconds <= 0 {
		http.Error(w, `invalid value for "seconds": must be a positive integer`, http.StatusBadRequest)
		return
	}
	if kind != window.Heap && !slices.Contains(cumulativeKinds, kind) {
		http.Error(w, fmt.Sprintf(`"seconds" is not supported for the %s profile: only mutex, block, allocs and heap accumulate`, kind),
			http.StatusBadRequest)
		return
	}
	duration := time.Duration(seconds) * time.Second
	extendWriteDeadline(w, duration)
	start, err := readProfile(kind)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	if err := sleep(r.Context(), duration); err != nil {
		http.Error(w, fmt.Sprintf("request ended before the %s delta was taken: %v", kind, err), http.StatusRequestTimeout)
		return
	}
	end, err := readProfile(kind)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	delta, _, err := window.DeltaWith(start, end, window.DeltaOptions{InUseAtEnd: kind == window.Heap || kind == window.Allocs})
	if err != nil {
		http.Error(w, fmt.Sprintf("computing the %s delta: %v", kind, err), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-delta"`, kind))
	if err := delta.Write(w); err != nil {
		http.Error(w, fmt.Sprintf("writing the %s delta: %v", kind, err), http.StatusInternalServerError)
	}
}

// pprofCmdline serves the command line, arguments separated by NUL bytes.
func pprofCmdline(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, strings.Join(os.Args, "\x00"))
}

// pprofProfile serves a CPU profile of ?seconds= (default 30).
func pprofProfile(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	seconds, err := strconv.ParseInt(r.FormValue("seconds"), 10, 64)
	if r.FormValue("seconds") == "" {
		seconds, err = 30, nil
	}
	if err != nil || seconds <= 0 {
		http.Error(w, `invalid value for "seconds": must be a positive integer`, http.StatusBadRequest)
		return
	}
	duration := time.Duration(seconds) * time.Second
	extendWriteDeadline(w, duration)
	var buf bytes.Buffer
	if err := pprof.StartCPUProfile(&buf); err != nil {
		// The profiler is process-wide; something outside the agent holds it.
		http.Error(w, fmt.Sprintf("could not enable CPU profiling: %v", err), http.StatusConflict)
		return
	}
	err = sleep(r.Context(), duration)
	pprof.StopCPUProfile()
	if err != nil {
		http.Error(w, fmt.Sprintf("request ended before the CPU profile was complete: %v", err), http.StatusRequestTimeout)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", `attachment; filename="profile"`)
	w.Write(buf.Bytes())
}

// pprofTrace serves an execution trace of ?seconds= (default 1).
func pprofTrace(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	seconds, err := strconv.ParseFloat(r.FormValue("seconds"), 64)
	if r.FormValue("seconds") == "" {
		seconds, err = 1, nil
	}
	// !(seconds > 0) also refuses NaN, which would otherwise become a
	// negative duration and a write deadline in the past.
	if err != nil || !(seconds > 0) || math.IsInf(seconds, 0) {
		http.Error(w, `invalid value for "seconds": must be a positive number`, http.StatusBadRequest)
		return
	}
	duration := time.Duration(seconds * float64(time.Second))
	extendWriteDeadline(w, duration)
	var buf bytes.Buffer
	if err := trace.Start(&buf); err != nil {
		http.Error(w, fmt.Sprintf("could not enable tracing: %v", err), http.StatusConflict)
		return
	}
	err = sleep(r.Context(), duration)
	trace.Stop()
	if err != nil {
		http.Error(w, fmt.Sprintf("request ended before the trace was complete: %v", err), http.StatusRequestTimeout)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", `attachment; filename="trace"`)
	w.Write(buf.Bytes())
}

// pprofSymbol maps program counters to function names, the protocol `go
// tool pprof` speaks: GET reports that symbols are available; POST (or a
// query) holds addresses joined by '+'.
func pprofSymbol(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	var b strings.Builder
	b.WriteString("num_symbols: 1\n")
	query := r.URL.RawQuery
	if r.Method == http.MethodPost {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, fmt.Sprintf("reading the addresses to symbolize: %v", err), http.StatusBadRequest)
			return
		}
		query = string(body)
	}
	for word := range strings.SplitSeq(query, "+") {
		pc, err := strconv.ParseUint(word, 0, 64)
		if err != nil {
			continue
		}
		if fn := runtime.FuncForPC(uintptr(pc)); fn != nil {
			fmt.Fprintf(&b, "%#x %s\n", pc, fn.Name())
		}
	}
	io.WriteString(w, b.String())
}

// extendWriteDeadline lets a long profile outlive the server's WriteTimeout
// where the server allows it, with the server's own margin: on a starved
// host (load 25 on 2 cores, 64 busy goroutines in the process) reading and
// diffing a profile after a 1s delta took longer than a 10s margin, and
// the client saw its connection closed mid-response.
func extendWriteDeadline(w http.ResponseWriter, d time.Duration) {
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(d + writeMargin))
}

// writeMargin is how long a response may take beyond the profile's seconds.
const writeMargin = 30 * time.Second

// sleep waits d, or less if the request ends first.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return errors.Join(ctx.Err(), context.Cause(ctx))
	}
}
