package agent

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/bits"
	"regexp"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"runtime/pprof"
	"slices"
	"strconv"
	"time"

	"github.com/contendr/contendr/internal/procstat"

	"github.com/google/pprof/profile"

	"github.com/contendr/contendr/window"
)

// cumulativeKinds are the profiles the runtime accumulates since process
// start; a window holds their difference between its two ends.
var cumulativeKinds = []window.ProfileKind{window.Mutex, window.Block, window.Allocs}

// baseline is the open window's start: the instant, the runtime/metrics
// sample and the cumulative profiles read then.
type baseline struct {
	time            time.Time
	sample          window.Sample
	readings        map[window.ProfileKind]*reading
	ratesGeneration int
}

// readBaseline reads what a window starting now needs. A profile that cannot
// be read is left out; the window that ends this baseline then notes it.
func (a *Agent) readBaseline(now time.Time) baseline {
	b := baseline{
		time:            now,
		sample:          a.readMetrics(now),
		readings:        map[window.ProfileKind]*reading{},
		ratesGeneration: a.currentRates().generation,
	}
	for _, kind := range cumulativeKinds {
		if r, err := a.readCumulative(kind, now); err == nil {
			b.readings[kind] = r
		} else {
			a.log.Warn("contendr agent: reading the first baseline", "profile", kind, "err", err)
		}
	}
	return b
}

// collectTimeout bounds one collection: at least 5s so that a slow but
// healthy read is not cut short, at most 30s.
func (a *Agent) collectTimeout() time.Duration {
	return min(max(a.cfg.Interval, 5*time.Second), 30*time.Second)
}

// closeWindow ends the open window, keeps it, and opens the next one. On
// error the open window's baseline stays, so the next window spans both
// intervals instead of leaving a gap.
func (a *Agent) closeWindow() (*window.Window, error) {
	a.collectMu.Lock()
	defer a.collectMu.Unlock()

	cpu, cpuNotes := a.finishCPU()
	ctx, cancel := context.WithTimeout(context.Background(), a.collectTimeout())
	defer cancel()

	// Locked to its thread, the collection's CPU time is the thread's.
	runtime.LockOSThread()
	began := time.Now()
	cpuBefore, cpuOK := threadCPUTime()
	allocatedBefore := readAllocatedBytes()
	w, next, err := a.collectSafely(ctx, cpu, cpuNotes)
	var judged windowResults
	var alertErr error
	if err == nil {
		// Judging the window is part of the agent's cost: inside the timing.
		judged, alertErr = a.judgeWindow(w, a.Latest())
	}
	cost := collectionCost{wall: time.Since(began), allocated: readAllocatedBytes() - allocatedBefore}
	if cpuAfter, ok := threadCPUTime(); ok && cpuOK {
		cost.cpu = cpuAfter - cpuBefore
	}
	runtime.UnlockOSThread()
	a.metrics.observe(cost, err)

	if err != nil {
		a.logCollectError(err)
	} else {
		a.lastID++
		a.base = next
		a.keep(w, judged.lock)
	}
	if alertErr != nil {
		a.metrics.errors.Inc()
		a.logCollectError(alertErr)
	}
	a.startCPU()
	return w, err
}

// panicError is a panic recovered during a collection.
type panicError struct {
	value any
	stack []byte
}

func (e *panicError) Error() string {
	return fmt.Sprintf("panic during window collection: %v", e.value)
}

// collectSafely runs collect, turning a panic into an error: the host must
// never crash because of its profiling agent.
func (a *Agent) collectSafely(ctx context.Context, cpu []byte, cpuNotes []string) (w *window.Window, next baseline, err error) {
	defer func() {
		if r := recover(); r != nil {
			w, err = nil, &panicError{value: r, stack: debug.Stack()}
		}
	}()
	if a.collectHook != nil {
		a.collectHook()
	}
	return a.collect(ctx, cpu, cpuNotes)
}

// logCollectError logs the first panic and the first error in full; later
// ones only at debug level (all are counted in
// contendr_agent_collect_errors_total), so that a persistent failure does not
// flood the host's logs.
func (a *Agent) logCollectError(err error) {
	if pe, ok := err.(*panicError); ok {
		a.panics++
		if a.panics == 1 {
			a.log.Error("contendr agent: recovered a panic in window collection; collection continues, "+
				"later panics are only counted in contendr_agent_collect_errors_total",
				"panic", fmt.Sprint(pe.value), "stack", string(pe.stack))
			return
		}
		a.log.Debug("contendr agent: recovered a panic in window collection", "panic", fmt.Sprint(pe.value), "count", a.panics)
		return
	}
	a.failures++
	if a.failures == 1 {
		a.log.Warn("contendr agent: window collection failed; collection continues, "+
			"later failures are only counted in contendr_agent_collect_errors_total", "err", err)
		return
	}
	a.log.Debug("contendr agent: window collection failed", "err", err, "count", a.failures)
}

// collect reads the end of the open window and returns the window and the
// baseline of the next one.
func (a *Agent) collect(ctx context.Context, cpu []byte, cpuNotes []string) (*window.Window, baseline, error) {
	from := a.base
	now := time.Now()
	rates := a.currentRates()
	next := baseline{
		time:            now,
		sample:          a.readMetrics(now),
		readings:        map[window.ProfileKind]*reading{},
		ratesGeneration: rates.generation,
	}
	w := &window.Window{
		ID:      strconv.Itoa(a.lastID + 1),
		Start:   from.time,
		End:     now,
		Meta:    a.meta(rates),
		Metrics: &window.SamplePair{Start: from.sample, End: next.sample},
	}
	if from.ratesGeneration != rates.generation {
		w.Note(fmt.Sprintf("sampling rates changed during the window; mutex fraction and block rate are now %d and %d",
			rates.MutexProfileFraction, rates.BlockProfileRate))
	}

	// estimate bounds the bundle's size: see capSize.
	estimate := len(cpu) + windowJSONAllowance
	for _, kind := range cumulativeKinds {
		if err := ctx.Err(); err != nil {
			return nil, from, fmt.Errorf("collecting window %s before the %s profile: %w", w.ID, kind, err)
		}
		cur, err := a.readCumulative(kind, now)
		if err != nil {
			w.Note(fmt.Sprintf("%s profile missing: %v", kind, err))
			continue
		}
		next.readings[kind] = cur
		start, ok := from.readings[kind]
		if !ok {
			w.Note(fmt.Sprintf("%s profile has no baseline: it holds everything since process start", kind))
		}
		d := a.symbolizer(kind).deltaOf(start, cur)
		if d.restarted {
			w.Meta.Restarted = true
			w.Note(fmt.Sprintf("%s profile counters went down since the last window: its baseline restarted "+
				"and it holds everything since process start", kind))
		}
		if d.cut > 0 {
			w.Note(fmt.Sprintf("%s profile: %d stacks deeper than %d frames were cut to their %d innermost",
				kind, d.cut, maxPublicDepth, maxPublicDepth))
		}
		estimate += d.bound
		w.SetProfile(kind, d.p)
	}

	w.Notes = append(w.Notes, cpuNotes...)
	if len(cpu) > 0 {
		if p, err := window.ParseProfile(cpu, 0); err != nil {
			w.Note(fmt.Sprintf("cpu profile missing: %v", err))
		} else {
			w.SetProfile(window.CPU, p)
		}
	}

	estimate += a.collectLeaks(w) // leaks.go

	if err := ctx.Err(); err != nil {
		return nil, from, fmt.Errorf("collecting window %s before capping its size: %w", w.ID, err)
	}
	if err := a.capSize(w, estimate); err != nil {
		return nil, from, fmt.Errorf("collecting window %s: %w", w.ID, err)
	}
	return w, next, nil
}

// symbolizer returns kind's symbolizer, made on first use.
func (a *Agent) symbolizer(kind window.ProfileKind) *symbolizer {
	if a.syms == nil {
		a.syms = map[window.ProfileKind]*symbolizer{}
	}
	s, ok := a.syms[kind]
	if !ok {
		s = &symbolizer{}
		a.syms[kind] = s
	}
	return s
}

func (a *Agent) meta(r rates) window.Meta {
	return window.Meta{
		Source:               "in-process",
		GoVersion:            runtime.Version(),
		GOMAXPROCS:           runtime.GOMAXPROCS(0),
		NumCPU:               runtime.NumCPU(),
		Goroutines:           runtime.NumGoroutine(),
		MutexProfileFraction: r.MutexProfileFraction,
		BlockProfileRate:     r.BlockProfileRate,
		MemProfileRate:       runtime.MemProfileRate,
		Labels:               a.cfg.Labels,
	}
}

// agentWaits matches the agent's own waiting points: its collection loop
// idling in select between windows, CollectNow, and handlers sleeping
// through a profile's duration. Their samples are dropped from contention
// profiles: the loop blocks in select for a whole interval every window,
// which would otherwise show up in the host's block profile as if it were
// the host's (fgprof leaves its own frames out for the same reason).
var agentWaits = regexp.MustCompile(`^github\.com/contendr/contendr/agent\.(\(\*Agent\)\.|sleep$)`)

// readProfile reads a cumulative runtime profile as runtime/pprof writes
// it (never forcing a GC: the allocs profile is read as it stands, up to
// the last completed cycle).
func readProfile(kind window.ProfileKind) (*profile.Profile, error) {
	rp := pprof.Lookup(string(kind))
	if rp == nil {
		return nil, fmt.Errorf("the runtime has no %s profile", kind)
	}
	var buf bytes.Buffer
	if err := rp.WriteTo(&buf, 0); err != nil {
		return nil, fmt.Errorf("writing the runtime's %s profile: %w", kind, err)
	}
	p, err := window.ParseProfile(buf.Bytes(), 0)
	if err != nil {
		return nil, fmt.Errorf("reading the runtime's %s profile: %w", kind, err)
	}
	return p, nil
}

// machineIdleSeconds is the machine's idle CPU time since boot (0 off
// Linux): with the process CPU it tells Ps whose threads slept while cores
// were free from Ps other processes kept off the CPU.
func machineIdleSeconds() float64 {
	if c, ok := procstat.Read(); ok {
		return c.Idle.Seconds()
	}
	return 0
}

// readMetrics samples every runtime/metrics name a window carries; names
// this Go version lacks are left out.
func (a *Agent) readMetrics(now time.Time) window.Sample {
	samples := make([]metrics.Sample, len(window.MetricNames))
	for i, name := range window.MetricNames {
		samples[i].Name = name
	}
	metrics.Read(samples)
	out := window.Sample{Time: now, Values: map[string]float64{}, ProcessCPUSeconds: processCPUSeconds(), MachineIdleSeconds: machineIdleSeconds(), Sched: a.sched.read()}
	for _, s := range samples {
		switch s.Value.Kind() {
		case metrics.KindUint64:
			out.Values[s.Name] = float64(s.Value.Uint64())
		case metrics.KindFloat64:
			out.Values[s.Name] = s.Value.Float64()
		case metrics.KindFloat64Histogram:
			h := s.Value.Float64Histogram()
			if out.Histograms == nil {
				out.Histograms = map[string]window.Histogram{}
			}
			// The runtime reuses its slices on the next Read: copy them.
			out.Histograms[s.Name] = window.Histogram{
				Counts:  slices.Clone(h.Counts),
				Buckets: slices.Clone(h.Buckets),
			}
		}
	}
	return out
}

// readAllocatedBytes is the process's cumulative heap allocation. Its
// difference around a collection approximates what the collection
// allocated (other goroutines allocate meanwhile too).
func readAllocatedBytes() uint64 {
	s := []metrics.Sample{{Name: window.MetricAllocBytes}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}

// windowJSONAllowance is room for a bundle's window.json (metrics samples
// with their histograms, notes): about 15 KB in practice.
const windowJSONAllowance = 256 << 10

// capSize drops a window's largest profiles until its bundle fits
// WindowMaxBytes, noting each one dropped. Encoding a bundle only to measure
// it costs about a third of a collection's allocation, so it is skipped when
// the estimate, which bounds the bundle from above, is under the cap: the
// profiles already encoded (CPU, goroutine leaks) count at their size, the
// window's deltas at their bound (windowDelta.bound), window.json at
// windowJSONAllowance.
func (a *Agent) capSize(w *window.Window, estimate int) error {
	if estimate <= a.cfg.WindowMaxBytes {
		return nil
	}
	for {
		size, err := encodedSize(w)
		if err != nil {
			return err
		}
		if size <= int64(a.cfg.WindowMaxBytes) || len(w.Profiles) == 0 {
			return nil
		}
		kind, kindSize, err := largestProfile(w)
		if err != nil {
			return err
		}
		w.DeleteProfile(kind)
		w.Note(fmt.Sprintf("%s profile dropped (%d bytes): the window bundle was %d bytes, over the cap of %d bytes (Config.WindowMaxBytes)",
			kind, kindSize, size, a.cfg.WindowMaxBytes))
	}
}

// varintLen is the length of v as a protobuf varint.
func varintLen(v uint64) int { return (bits.Len64(v|1) + 6) / 7 }

func encodedSize(w *window.Window) (int64, error) {
	var c countingWriter
	if err := w.Encode(&c); err != nil {
		return 0, fmt.Errorf("measuring the window bundle: %w", err)
	}
	return int64(c), nil
}

func largestProfile(w *window.Window) (window.ProfileKind, int64, error) {
	var largest window.ProfileKind
	var largestSize int64 = -1
	for _, kind := range window.Kinds {
		p := w.Profile(kind)
		if p == nil {
			continue
		}
		size := int64(len(w.ProfileBytes(kind)))
		if size == 0 {
			var c countingWriter
			if err := p.Write(&c); err != nil {
				return "", 0, fmt.Errorf("measuring the %s profile: %w", kind, err)
			}
			size = int64(c)
		}
		if size > largestSize {
			largest, largestSize = kind, size
		}
	}
	return largest, largestSize, nil
}

type countingWriter int64

func (c *countingWriter) Write(p []byte) (int, error) {
	*c += countingWriter(len(p))
	return len(p), nil
}

var _ io.Writer = (*countingWriter)(nil)
