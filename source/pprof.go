package source

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/google/pprof/profile"

	"github.com/contendr/contendr/window"
)

// loadURL tells an agent from a plain pprof server and reads a window from
// either; only an agent has a previous window.
func loadURL(ctx context.Context, target, rawURL string, opts Options, withPrevious bool) (w, previous *window.Window, err error) {
	f, err := newFetcher(target, rawURL, opts)
	if err != nil {
		return nil, nil, err
	}
	if opts.Live {
		w, err = f.loadPprof(ctx)
		return w, nil, err
	}
	_, agent, err := f.agentWindows(ctx)
	if err != nil {
		return nil, nil, err
	}
	if agent {
		return f.loadAgent(ctx, withPrevious)
	}
	w, err = f.loadPprof(ctx)
	return w, nil, err
}

// wholeSeconds rounds d up to the whole seconds that ?seconds= takes.
func wholeSeconds(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}

// job is one profile fetched while the window runs.
type job struct {
	kind     window.ProfileKind
	endpoint string
	// optional jobs add a note when they fail instead of failing the load.
	optional bool
	// why an optional job's failure matters, for the note.
	missing string
}

type fetched struct {
	profiles map[window.ProfileKind]*profile.Profile
	notes    []string
}

// fetchAll runs the jobs concurrently, each waiting wait. The first failure
// of a required job cancels the others and is returned.
func (f *fetcher) fetchAll(ctx context.Context, jobs []job, wait time.Duration) (*fetched, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu       sync.Mutex
		out      = &fetched{profiles: map[window.ProfileKind]*profile.Profile{}}
		firstErr error
		wg       sync.WaitGroup
	)
	for _, j := range jobs {
		wg.Go(func() {
			p, err := f.profile(ctx, j.endpoint, wait, j.kind)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				out.profiles[j.kind] = p
			case j.optional && !errors.Is(err, ErrCanceled):
				out.notes = append(out.notes, fmt.Sprintf("no %s profile (%s): %s", j.kind, j.missing, oneLine(err.Error())))
			case firstErr == nil:
				firstErr = err
				cancel()
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	return out, nil
}

// loadPprof measures a window on a plain net/http/pprof server: the
// runtime's own ?seconds= deltas of the mutex, block and allocs profiles,
// run in parallel, a CPU profile over the same seconds, and MemStats from
// heap?debug=1 at both ends.
func (f *fetcher) loadPprof(ctx context.Context) (*window.Window, error) {
	seconds := wholeSeconds(f.opts.Seconds)
	wait := time.Duration(seconds) * time.Second
	w := &window.Window{Meta: window.Meta{
		Source:               f.target,
		GoVersion:            f.opts.GoVersion,
		GOMAXPROCS:           f.opts.GOMAXPROCS,
		MutexProfileFraction: window.Unknown,
		BlockProfileRate:     window.Unknown,
		MemProfileRate:       window.Unknown,
	}}

	// The heap endpoint answers without a window to wait for: it is also
	// the check that net/http/pprof is there at all. A contendr agent also
	// serves its runtime/metrics reading: taken at both ends, the live
	// window has what the agent's own windows have. Each end's requests
	// run at once: on a busy target every request waits for a CPU, and
	// in turn they would stretch the window's ends apart from the
	// profiles' seconds (and a gate of ten windows by seconds more).
	var (
		startMem    window.MemStats
		memRate     int
		memErr      error
		startSample window.Sample
		fromAgent   bool
		wg          sync.WaitGroup
	)
	wg.Go(func() { startMem, memRate, memErr = f.memStats(ctx) })
	wg.Go(func() { startSample, fromAgent = f.agentSample(ctx) })
	wg.Wait()
	if memErr != nil && !isParseError(memErr) {
		return nil, memErr
	}

	q := "?seconds=" + strconv.Itoa(seconds)
	jobs := []job{
		{kind: window.Mutex, endpoint: "/debug/pprof/mutex" + q},
		{kind: window.Block, endpoint: "/debug/pprof/block" + q},
		{kind: window.Allocs, endpoint: "/debug/pprof/allocs" + q},
	}
	if f.opts.wants(window.CPU) || !f.opts.DisableCPU {
		jobs = append(jobs, job{kind: window.CPU, endpoint: "/debug/pprof/profile" + q,
			optional: !f.opts.wants(window.CPU), missing: "the lock fraction cannot be estimated without user CPU"})
	}
	if f.opts.wants(window.Fgprof) {
		jobs = append(jobs, job{kind: window.Fgprof, endpoint: "/debug/fgprof" + q})
	}
	start := time.Now()
	stop := startProgress(ctx, f.opts.Progress, wait)
	got, err := f.fetchAll(ctx, jobs, wait)
	stop()
	if err != nil {
		return nil, err
	}
	w.ID = "pprof-" + start.UTC().Format("20060102T150405Z")
	w.Start, w.End = start, time.Now()
	// The server measured the deltas: its duration is the window's length.
	if d := got.profiles[window.Mutex].DurationNanos; d > 0 {
		w.End = start.Add(time.Duration(d))
	}
	for k, p := range got.profiles {
		w.SetProfile(k, p)
	}
	w.Notes = append(w.Notes, got.notes...)

	end := f.windowEnd(ctx, fromAgent, w.Meta.GoVersion == "")
	if end.sampleOK {
		w.Metrics = &window.SamplePair{Start: startSample, End: end.sample}
		if n, ok := w.Metrics.Last(window.MetricGOMAXPROCS); ok && n > 0 && w.Meta.GOMAXPROCS == 0 {
			w.Meta.GOMAXPROCS = int(n)
		}
		if w.Meta.GoVersion == "" {
			w.Meta.GoVersion = end.goVersion
		}
	}
	switch {
	case memErr == nil && end.memErr == nil:
		w.MemStats = &window.MemStatsPair{Start: startMem, End: end.mem}
		if end.mem.NumGC < startMem.NumGC || end.mem.TotalAlloc < startMem.TotalAlloc {
			w.Meta.Restarted = true
			w.Note("the target restarted during the window (MemStats counters went down): GC figures are unavailable")
			w.MemStats = nil
		}
	case end.memErr != nil && !isParseError(end.memErr):
		return nil, end.memErr
	default:
		w.Note("no GC figures: heap?debug=1 carries no runtime.MemStats block (" + oneLine(errors.Join(memErr, end.memErr).Error()) + ")")
	}
	if memRate > 0 {
		w.Meta.MemProfileRate = memRate
	}
	if p := w.Profile(window.Allocs); p != nil && p.Period > 0 {
		w.Meta.MemProfileRate = int(p.Period)
	}
	w.Meta.MutexProfileFraction = end.mutexFraction
	if end.goroutinesErr != nil {
		return nil, end.goroutinesErr
	}
	if p := end.goroutines; p != nil {
		w.Meta.Goroutines = int(window.SampleSum(p, 0))
		if f.opts.wants(window.Goroutine) {
			w.SetProfile(window.Goroutine, p)
		}
	}
	if end.heapErr != nil {
		return nil, end.heapErr
	}
	if end.heap != nil {
		w.SetProfile(window.Heap, end.heap)
	}
	f.noteEmpty(w)
	if w.Meta.GoVersion == "" {
		w.Note("Go version unknown for a plain pprof target (pass --go-version); map advice assumes the newest Go")
	}
	return w, nil
}

// parseError marks a heap?debug=1 answer without a usable MemStats block:
// the window goes on without GC figures.
type parseError struct{ err error }

func (e parseError) Error() string { return e.err.Error() }
func (e parseError) Unwrap() error { return e.err }

func isParseError(err error) bool {
	var pe parseError
	return errors.As(err, &pe)
}

// heapHeader is the first line of heap?debug=1; its last number is twice
// runtime.MemProfileRate (runtime/pprof writeHeapInternal).
var heapHeader = regexp.MustCompile(`^heap profile: .* @ heap/(\d+)`)

// memStats reads runtime.MemStats from heap?debug=1, stamped with the time
// it was fetched, and the MemProfileRate from its header (0 if absent).
func (f *fetcher) memStats(ctx context.Context) (window.MemStats, int, error) {
	const endpoint = "/debug/pprof/heap?debug=1"
	resp, err := f.get(ctx, endpoint, 0)
	if err != nil {
		return window.MemStats{}, 0, err
	}
	now := time.Now()
	if looksLikeHTML(resp.body) {
		return window.MemStats{}, 0, &Error{Target: f.target, Kind: ErrNotProfile,
			What: "GET " + endpoint + ": got an HTML page instead of a heap profile",
			Hint: "check that the URL points at a Go pprof server (http://host:port or http://host:port/debug/pprof/)"}
	}
	ms, err := window.ParseMemStats(resp.body)
	if err != nil {
		return window.MemStats{}, 0, parseError{err}
	}
	ms.Time = now
	rate := 0
	if m := heapHeader.FindSubmatch(resp.body); m != nil {
		if n, err := strconv.Atoi(string(m[1])); err == nil {
			rate = n / 2
		}
	}
	return ms, rate, nil
}

var samplingPeriod = regexp.MustCompile(`(?m)^sampling period=(-?\d+)`)

// mutexFraction reads runtime.SetMutexProfileFraction from the header of
// mutex?debug=1 (runtime/pprof writeProfileInternal prints "sampling
// period="); only the first few KiB are read. It returns window.Unknown
// when the header is missing.
func (f *fetcher) mutexFraction(ctx context.Context) int {
	head, err := f.head(ctx, "/debug/pprof/mutex?debug=1", 4096)
	if err != nil {
		return window.Unknown
	}
	m := samplingPeriod.FindSubmatch(head)
	if m == nil {
		return window.Unknown
	}
	n, err := strconv.Atoi(string(m[1]))
	if err != nil || n < 0 {
		return window.Unknown
	}
	return n
}

// windowEnd is what is read once a window's profiles are in: the agent's
// runtime/metrics reading and Go version, MemStats, the mutex sampling
// fraction, the goroutine count (and profile), the heap snapshot.
type windowEnd struct {
	sample        window.Sample
	sampleOK      bool
	goVersion     string
	mem           window.MemStats
	memErr        error
	mutexFraction int
	goroutines    *profile.Profile
	goroutinesErr error
	heap          *profile.Profile
	heapErr       error
}

// windowEnd reads a window's end, every request at once. The goroutine
// profile and the heap snapshot fail the window only when they were asked
// for.
func (f *fetcher) windowEnd(ctx context.Context, fromAgent, wantGoVersion bool) windowEnd {
	var (
		e  windowEnd
		wg sync.WaitGroup
	)
	if fromAgent {
		wg.Go(func() { e.sample, e.sampleOK = f.agentSample(ctx) })
		if wantGoVersion {
			wg.Go(func() { _, e.goVersion = f.agentProcess(ctx) })
		}
	}
	wg.Go(func() { e.mem, _, e.memErr = f.memStats(ctx) })
	wg.Go(func() { e.mutexFraction = f.mutexFraction(ctx) })
	wg.Go(func() {
		p, err := f.profile(ctx, "/debug/pprof/goroutine", 0, window.Goroutine)
		switch {
		case err == nil:
			e.goroutines = p
		case f.opts.wants(window.Goroutine) || errors.Is(err, ErrCanceled):
			e.goroutinesErr = err
		}
	})
	if f.opts.wants(window.Heap) {
		wg.Go(func() { e.heap, e.heapErr = f.profile(ctx, "/debug/pprof/heap", 0, window.Heap) })
	}
	wg.Wait()
	return e
}

// heapSnapshot adds the heap profile (in-use memory at the window's end,
// with the cumulative allocation beside it) when it was asked for: no
// window holds it otherwise.
func (f *fetcher) heapSnapshot(ctx context.Context, w *window.Window) error {
	if !f.opts.wants(window.Heap) || w.Profile(window.Heap) != nil {
		return nil
	}
	p, err := f.profile(ctx, "/debug/pprof/heap", 0, window.Heap)
	if err != nil {
		return err
	}
	w.SetProfile(window.Heap, p)
	return nil
}

// noteEmpty explains empty contention profiles: with the runtime's
// defaults (both rates 0) they are always empty, which must not read as
// "no contention".
func (f *fetcher) noteEmpty(w *window.Window) {
	const enable = "enable it in the target with runtime.SetMutexProfileFraction(5) and runtime.SetBlockProfileRate(1000000), or embed the contendr agent"
	if p := w.Profile(window.Mutex); p != nil && len(p.Sample) == 0 {
		switch fr := w.Meta.MutexProfileFraction; {
		case fr == 0:
			w.Note("mutex profiling is off in the target (mutex profile fraction 0), so the mutex profile is empty; " + enable)
		case fr > 0:
			w.Note(fmt.Sprintf("no mutex contention was sampled during the window (1 in %d events sampled)", fr))
		default:
			w.Note("the mutex profile is empty: no contention, or mutex profiling is off (the runtime's default); " + enable)
		}
	}
	if p := w.Profile(window.Block); p != nil && len(p.Sample) == 0 {
		w.Note("the block profile is empty: nothing blocked, or block profiling is off (the runtime's default); " + enable)
	}
}

// agentSample reads a contendr agent's runtime/metrics reading; ok is false
// for any other server (which answers 404, or something that is not one).
func (f *fetcher) agentSample(ctx context.Context) (s window.Sample, ok bool) {
	resp, err := f.get(ctx, agentSample, 0)
	if err != nil || json.Unmarshal(resp.body, &s) != nil || s.Time.IsZero() || len(s.Values) == 0 {
		return window.Sample{}, false
	}
	return s, true
}
