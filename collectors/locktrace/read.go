package locktrace

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"golang.org/x/exp/trace"

	"github.com/contendr/contendr/collectors/stacks"
	"github.com/contendr/contendr/window"
)

// Errors Read returns, wrapped with the parser's cause; each message says
// what to do, for a caller that names the file in front of it.
var (
	// ErrNotTrace: the bytes do not start with a Go execution trace header.
	ErrNotTrace = errors.New("not a Go execution trace (no \"go 1.N trace\" header); " +
		"record one with runtime/trace, go test -trace, /debug/pprof/trace or a contendr agent's flight recorder")
	// ErrUnsupported: a trace version golang.org/x/exp/trace cannot read.
	ErrUnsupported = errors.New("unsupported trace version: contendr reads traces from " + SupportedVersions +
		"; record it with a supported Go or open it with that Go's `go tool trace`")
	// ErrCorrupt: the trace ends early or its events do not hold together.
	ErrCorrupt = errors.New("truncated or corrupt trace; record or download it again " +
		"(a flight-recorder snapshot is complete only when WriteTo returned without error)")
)

// header is the prefix every Go execution trace starts with.
const header = "go 1."

// Options bound what a Diagnosis keeps.
type Options struct {
	// MaxSites, MaxStacks (per site) and MaxChains bound the lists kept
	// (defaults 20, 5, 5).
	MaxSites, MaxStacks, MaxChains int
}

func (o Options) withDefaults() Options {
	if o.MaxSites <= 0 {
		o.MaxSites = 20
	}
	if o.MaxStacks <= 0 {
		o.MaxStacks = 5
	}
	if o.MaxChains <= 0 {
		o.MaxChains = 5
	}
	return o
}

// Read parses a whole trace and diagnoses its lock waits in one pass.
// Memory grows with the goroutines and distinct stacks, not with the
// events.
func Read(r io.Reader, opts Options) (*Diagnosis, error) {
	br := bufio.NewReader(r)
	version, err := readVersion(br)
	if err != nil {
		return nil, err
	}
	tr, err := trace.NewReader(br)
	if err != nil {
		return nil, classify(err)
	}
	p := newPass(opts.withDefaults())
	p.d.GoVersion = version
	for {
		ev, err := tr.ReadEvent()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, classify(err)
		}
		p.event(ev)
	}
	return p.finish(), nil
}

// ErrNoTrace: the window holds no trace.
var ErrNoTrace = errors.New("holds no execution trace; capture one with the agent's flight recorder " +
	"(Config.FlightRecorder, POST /debug/contendr/trace) or runtime/trace")

// FromWindow diagnoses the window's trace.
func FromWindow(w *window.Window, opts Options) (*Diagnosis, error) {
	if w == nil || w.Trace == nil || len(w.Trace.Data) == 0 {
		return nil, ErrNoTrace
	}
	return Read(bytes.NewReader(w.Trace.Data), opts)
}

// readVersion peeks the header's version ("go 1.26 trace") without
// consuming it.
func readVersion(br *bufio.Reader) (string, error) {
	head, _ := br.Peek(16)
	if !window.IsTrace(head) {
		return "", ErrNotTrace
	}
	minor, _, ok := strings.Cut(string(head[len(header):]), " ")
	if !ok {
		return "", ErrNotTrace
	}
	return "go1." + minor, nil
}

// classify maps the parser's error onto ours, keeping it as the cause.
func classify(err error) error {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "unsupported trace version"):
		return fmt.Errorf("%w (%s)", ErrUnsupported, msg)
	case strings.Contains(msg, "bad file format"):
		return fmt.Errorf("%w (%s)", ErrNotTrace, msg)
	}
	return fmt.Errorf("%w (%s)", ErrCorrupt, firstLine(msg))
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// pass is the state of one read of a trace.
type pass struct {
	opts Options
	d    *Diagnosis

	frames *stacks.Reader
	stacks map[trace.Stack]*stackInfo

	first, last trace.Time
	started     bool
	gomaxprocs  int
	running     int
	// waits are the goroutines blocked on sync now.
	waits map[trace.GoID]*wait
	// blocked counts lock waits now, in total and per site.
	blocked       int
	blockedAtSite map[*Site]int
	// lastWait is each goroutine's last finished lock wait, for chains.
	lastWait map[trace.GoID]*wait

	sites  map[siteKey]*Site
	other  map[stacks.Kind]*KindTotal
	chains []*wait

	lostBeforeProcs bool
}

type siteKey struct {
	function string
	kind     stacks.Kind
}

// stackInfo is a trace stack parsed once.
type stackInfo struct {
	names     []string
	frames    []trace.StackFrame
	site      *stacks.Frame
	primitive string
	kind      stacks.Kind
	// lock: a wait with this stack is a lock wait; otherwise the kind is
	// a non-lock sync wait (WaitGroup, Cond) or not sync at all.
	lock bool
}

// wait is one goroutine's wait on sync.
type wait struct {
	g          trace.GoID
	start, end trace.Time
	stack      *stackInfo
	site       *Site // nil for a non-lock wait
	wokenBy    trace.GoID
	// The chain ending in this wait: its length, first block, summed
	// waits and latest links (this wait first). A wait extends the chain
	// of the goroutine that woke it when that goroutine was itself blocked
	// on a lock while this one waited.
	length int
	head   trace.Time
	total  time.Duration
	links  []Link
}

func newPass(opts Options) *pass {
	return &pass{
		opts:          opts,
		d:             &Diagnosis{profile: newSyncProfile()},
		frames:        stacks.NewReader(),
		stacks:        map[trace.Stack]*stackInfo{},
		waits:         map[trace.GoID]*wait{},
		blockedAtSite: map[*Site]int{},
		lastWait:      map[trace.GoID]*wait{},
		sites:         map[siteKey]*Site{},
		other:         map[stacks.Kind]*KindTotal{},
	}
}

func (p *pass) event(ev trace.Event) {
	p.advance(ev.Time())
	switch ev.Kind() {
	case trace.EventMetric:
		if m := ev.Metric(); m.Name == "/sched/gomaxprocs:threads" {
			p.gomaxprocs = int(m.Value.Uint64())
		}
	case trace.EventStateTransition:
		st := ev.StateTransition()
		if st.Resource.Kind == trace.ResourceGoroutine {
			p.goroutine(ev, st)
		}
	}
}

// advance moves the clock to t, charging the P-time lost since the last
// event: min(idle Ps, goroutines blocked on locks) over the interval,
// split among the sites by their blocked goroutines.
func (p *pass) advance(t trace.Time) {
	if !p.started {
		p.first, p.last, p.started = t, t, true
		return
	}
	dt := t.Sub(p.last).Seconds()
	if t > p.last {
		p.last = t
	}
	if dt <= 0 || p.blocked == 0 {
		return
	}
	if p.gomaxprocs == 0 {
		p.lostBeforeProcs = true
		return
	}
	idle := p.gomaxprocs - p.running
	if idle <= 0 {
		return
	}
	lost := float64(min(idle, p.blocked)) * dt
	p.d.LostPSeconds += lost
	for s, n := range p.blockedAtSite {
		s.LostPSeconds += lost * float64(n) / float64(p.blocked)
	}
}

func (p *pass) goroutine(ev trace.Event, st trace.StateTransition) {
	from, to := st.Goroutine()
	if from == to {
		return // a new generation restating a known goroutine's state
	}
	g := st.Resource.Goroutine()
	if from == trace.GoRunning {
		p.running = max(p.running-1, 0)
	}
	if to == trace.GoRunning {
		p.running++
	}
	if from == trace.GoWaiting {
		if w := p.waits[g]; w != nil {
			p.wake(w, ev, to)
		}
	}
	if to == trace.GoWaiting {
		p.block(g, ev.Time(), from, st)
	}
}

// block opens a wait when a goroutine blocks on sync, or when the trace
// starts with it already blocked under a lock primitive (its wait is then
// counted from the trace's start).
func (p *pass) block(g trace.GoID, t trace.Time, from trace.GoState, st trace.StateTransition) {
	var info *stackInfo
	switch {
	case from == trace.GoRunning && (st.Reason == "sync" || st.Reason == "sync.(*Cond).Wait"):
		info = p.stack(st.Stack)
		if st.Reason != "sync" {
			info.lock = false
		}
	case from == trace.GoUndetermined && st.Stack != trace.NoStack:
		info = p.stack(st.Stack)
		if !info.lock || info.kind == stacks.KindOther {
			return // blocked at the start, but not certainly on a lock
		}
	default:
		return
	}
	w := &wait{g: g, start: t, stack: info}
	if info.lock {
		w.site = p.site(info)
		p.blocked++
		p.blockedAtSite[w.site]++
	}
	p.waits[g] = w
}

// wake closes a goroutine's wait: its length goes to its site, the waker
// to the site's holders, and the wait joins a chain when the waker was
// itself blocked on a lock meanwhile.
func (p *pass) wake(w *wait, ev trace.Event, to trace.GoState) {
	delete(p.waits, w.g)
	w.end = ev.Time()
	length := w.end.Sub(w.start)
	if w.site == nil {
		kt := p.other[w.stack.kind]
		if kt == nil {
			kt = &KindTotal{Kind: w.stack.kind}
			p.other[w.stack.kind] = kt
		}
		kt.Waits++
		kt.BlockedSeconds += length.Seconds()
		return
	}
	p.blocked--
	if p.blockedAtSite[w.site]--; p.blockedAtSite[w.site] == 0 {
		delete(p.blockedAtSite, w.site)
	}
	p.charge(w, length)
	if to != trace.GoRunnable {
		return // destroyed or otherwise left the wait: nobody woke it
	}
	w.wokenBy = ev.Goroutine()
	if w.wokenBy != trace.NoGoroutine {
		p.hold(w, ev.Stack(), length)
	}
	p.chain(w, length)
}

func (p *pass) charge(w *wait, length time.Duration) {
	s := w.site
	s.Waits++
	s.BlockedSeconds += length.Seconds()
	s.MaxWaitSeconds = max(s.MaxWaitSeconds, length.Seconds())
	st := s.stackTotal[w.stack]
	if st == nil {
		st = &Stack{Frames: w.stack.names}
		s.stackTotal[w.stack] = st
	}
	st.Waits++
	st.BlockedSeconds += length.Seconds()
	p.d.LockWaits++
	p.d.BlockedSeconds += length.Seconds()
	p.d.profile.add(w.stack, length)
}

// hold credits the waker's unlocking stack with the wait it ended.
func (p *pass) hold(w *wait, stack trace.Stack, length time.Duration) {
	info := p.stack(stack)
	function, component := "(no stack)", ""
	if info.site != nil {
		function, component = info.site.Name, info.site.Component
	}
	h := findHolder(w.site, function)
	if h == nil {
		h = &Holder{Function: function, Component: component,
			goroutines: map[int64]struct{}{}, stackTotal: map[*stackInfo]float64{}}
		w.site.Holders = append(w.site.Holders, h)
	}
	h.Waits++
	h.BlockedSeconds += length.Seconds()
	h.goroutines[int64(w.wokenBy)] = struct{}{}
	h.stackTotal[info] += length.Seconds()
}

func findHolder(s *Site, function string) *Holder {
	for _, h := range s.Holders {
		if h.Function == function {
			return h
		}
	}
	return nil
}

// maxLinks bounds the links a chain keeps: a convoy that lasts the whole
// trace is one chain of every hand-off, and its latest links say enough.
const maxLinks = 8

// chain links w to the waker's last lock wait when that wait overlapped
// w's: w queued behind a goroutine that was itself queued.
func (p *pass) chain(w *wait, length time.Duration) {
	w.length, w.head, w.total = 1, w.start, length
	link := Link{Goroutine: int64(w.g), Site: w.site.Function, WaitSeconds: length.Seconds(), WokenBy: int64(w.wokenBy)}
	prev := p.lastWait[w.wokenBy]
	if prev != nil && prev.end > w.start && prev.end <= w.end {
		w.length, w.head, w.total = prev.length+1, min(prev.head, w.start), prev.total+length
		w.links = append([]Link{link}, prev.links[:min(len(prev.links), maxLinks-1)]...)
	} else {
		prev = nil
		w.links = []Link{link}
	}
	p.lastWait[w.g] = w
	if w.length >= 2 {
		p.keepChain(w, prev)
	}
}

// keepChain keeps the MaxChains longest chains; a chain that extends a
// kept one replaces it.
func (p *pass) keepChain(w, prev *wait) {
	if i := slices.Index(p.chains, prev); i >= 0 {
		p.chains[i] = w
		return
	}
	if len(p.chains) < p.opts.MaxChains {
		p.chains = append(p.chains, w)
		return
	}
	worst := 0
	for i, c := range p.chains {
		if chainLess(c, p.chains[worst]) {
			worst = i
		}
	}
	if chainLess(p.chains[worst], w) {
		p.chains[worst] = w
	}
}

// chainLess orders chains by length, then by their summed wait.
func chainLess(a, b *wait) bool {
	if a.length != b.length {
		return a.length < b.length
	}
	return a.total < b.total
}

// stack parses a trace stack once.
func (p *pass) stack(s trace.Stack) *stackInfo {
	if info, ok := p.stacks[s]; ok {
		return info
	}
	info := &stackInfo{kind: stacks.KindOther}
	for f := range s.Frames() {
		info.names = append(info.names, f.Func)
		info.frames = append(info.frames, f)
	}
	if len(info.names) > 0 {
		frames := p.frames.FramesOf(info.names)
		siteIdx, primIdx := stacks.Locate(frames)
		info.site = frames[siteIdx]
		if primIdx >= 0 {
			info.primitive = frames[primIdx].Name
		}
		prims := frames[:siteIdx]
		if frames[siteIdx].Machinery {
			prims = frames[:siteIdx+1]
		}
		info.kind = stacks.KindOf(prims)
		if stacks.IsRuntimeLeaf(frames) || info.kind == stacks.KindOther && !inSync(prims) {
			// The runtime's own semaphores (gcMarkDone, a GC start's
			// worldsema under a malloc) block with the same "sync"
			// reason: no user lock.
			info.kind = stacks.KindRuntime
		}
	}
	info.lock = stacks.ClassOf(info.kind) == stacks.ClassLock && info.kind != stacks.KindRuntime
	p.stacks[s] = info
	return info
}

// inSync tells whether a stack's primitive frames pass through the sync
// packages, as every user lock's do.
func inSync(prims []*stacks.Frame) bool {
	for _, f := range prims {
		if f.Pkg == "sync" || f.Pkg == "internal/sync" {
			return true
		}
	}
	return false
}

func (p *pass) site(info *stackInfo) *Site {
	function, component := "(no stack)", ""
	if info.site != nil {
		function, component = info.site.Name, info.site.Component
	}
	key := siteKey{function: function, kind: info.kind}
	s := p.sites[key]
	if s == nil {
		s = &Site{Function: function, Component: component, Kind: info.kind, Primitive: info.primitive,
			Holders: []*Holder{}, stackTotal: map[*stackInfo]*Stack{}}
		p.sites[key] = s
	}
	return s
}
