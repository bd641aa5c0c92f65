package mutex

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/google/pprof/profile"

	"github.com/contendr/contendr/window"
)

// DefaultTopStacks is how many stacks a site keeps as evidence when
// Options.TopStacks is not set.
const DefaultTopStacks = 3

// Options tune Collect.
type Options struct {
	// TopStacks is how many of a site's heaviest stacks are kept as
	// evidence (DefaultTopStacks when ≤ 0).
	TopStacks int
}

// Collect finds the lock sites of a window and its lock fraction. It reads
// the mutex profile (holders), the block profile (waiters), runtime/metrics
// and, when runtime/metrics are missing, a CPU profile; any of them may be
// absent, and Result.Notes says what that leaves unknown. It is a pure
// function of the window.
//
// Figures, per site and side:
//   - DelaySeconds and Contentions sum the delay and contentions sample
//     types of every stack that resolves to the site. Profile values are
//     already scaled by the runtime for its sampling rate.
//   - …PerSecond divides them by the window's length.
//   - Share divides the delay by the side's total of the same class: lock
//     sites by the side's lock delay, channel/select/WaitGroup/Cond sites
//     by the side's other blocking, runtime sites by the side's
//     runtime-internal lock delay.
//   - Fraction is the site's part of LockFraction.Value: the site's delay
//     over its side's total of lock and runtime-lock delay, times
//     LockFraction.Value. It equals delay / (wait + user CPU) when the
//     profile and /sync/mutex/wait/total agree on the total wait; they
//     measure it differently (the profile samples, and the mutex profile
//     attributes at unlock time), so the profile says where and the
//     metric says how much, and a side's fractions sum to the lock
//     fraction instead of overshooting it. Fraction is 0 for channel,
//     select, WaitGroup and Cond sites, which are not lock waits, and when
//     the lock fraction is unknown.
func Collect(w *window.Window, opts Options) (*Result, error) {
	if w == nil {
		return nil, errors.New("collecting lock sites: no window")
	}
	if opts.TopStacks <= 0 {
		opts.TopStacks = DefaultTopStacks
	}
	reader := newStackReader()
	holders, err := readSide(reader, w.Profile(window.Mutex), Holder)
	if err != nil {
		return nil, fmt.Errorf("reading the mutex profile of window %q: %w", w.ID, err)
	}
	waiters, err := readSide(reader, w.Profile(window.Block), Waiter)
	if err != nil {
		return nil, fmt.Errorf("reading the block profile of window %q: %w", w.ID, err)
	}

	res := &Result{}
	res.WindowSeconds = windowSeconds(w)
	if res.WindowSeconds <= 0 {
		res.Notes = append(res.Notes, "the window has no duration, so every per-second figure is 0")
	}
	var notes []string
	res.MutexProfileEnabled, notes = profilingState(window.Mutex, w.Meta.MutexProfileFraction, holders)
	res.Notes = append(res.Notes, notes...)
	res.BlockProfileEnabled, notes = profilingState(window.Block, w.Meta.BlockProfileRate, waiters)
	res.Notes = append(res.Notes, notes...)
	if w.Meta.Restarted {
		res.Notes = append(res.Notes, "the target restarted during the window: its profiles hold only what happened since the restart")
	}
	for _, s := range []*side{holders, waiters} {
		if s.negative > 0 {
			res.Notes = append(res.Notes, fmt.Sprintf("ignored %d %s-side samples with negative values (a broken delta)", s.negative, s.side))
		}
	}

	res.LockFraction = lockFraction(w, res.WindowSeconds, holders, waiters, res.MutexProfileEnabled, res.BlockProfileEnabled)
	lockFraction := 0.0
	if res.LockFraction.Known {
		lockFraction = res.LockFraction.Value
	}
	for _, s := range []*side{holders, waiters} {
		sites, runtime := s.build(res.WindowSeconds, lockFraction, opts.TopStacks)
		res.Sites = append(res.Sites, sites...)
		res.Runtime = append(res.Runtime, runtime...)
	}
	slices.SortFunc(res.Sites, compareSites)
	slices.SortFunc(res.Runtime, compareSites)
	res.Components = components(res.Sites, holders, waiters, res.WindowSeconds)
	return res, nil
}

// windowSeconds is the window's length, or the profiles' own duration for
// windows built from files without start and end times.
func windowSeconds(w *window.Window) float64 {
	if s := w.Seconds(); s > 0 {
		return s
	}
	for _, k := range []window.ProfileKind{window.Mutex, window.Block, window.CPU} {
		if p := w.Profile(k); p != nil && p.DurationNanos > 0 {
			return float64(p.DurationNanos) / 1e9
		}
	}
	return 0
}

// side accumulates one profile's stacks into sites.
type side struct {
	side    Side
	present bool // the window has the profile
	samples int  // samples with a positive delay
	// totals are delay nanoseconds per class.
	totals   [3]int64
	sites    map[siteKey]*siteAcc
	negative int
}

type siteKey struct {
	function, primitive string
	kind                Kind
}

type siteAcc struct {
	key         siteKey
	component   string
	delay       int64 // nanoseconds
	contentions int64
	stacks      map[string]*stackAcc
}

type stackAcc struct {
	frames      []*frame
	delay       int64
	contentions int64
}

// readSide walks every sample of a contention profile (nil: an absent
// profile) and accumulates it into its site.
func readSide(reader *stackReader, p *profile.Profile, which Side) (*side, error) {
	s := &side{side: which, sites: map[siteKey]*siteAcc{}}
	if p == nil {
		return s, nil
	}
	s.present = true
	delayIdx, contIdx, delayNanos, err := contentionIndexes(p)
	if err != nil {
		return nil, err
	}
	reader.forProfile(p)
	var buf []*frame
	var key []byte
	for _, sample := range p.Sample {
		if delayIdx >= len(sample.Value) {
			return nil, fmt.Errorf("a sample has %d values, want at least %d", len(sample.Value), delayIdx+1)
		}
		delay := sample.Value[delayIdx] * delayNanos
		var contentions int64
		if contIdx >= 0 && contIdx < len(sample.Value) {
			contentions = sample.Value[contIdx]
		}
		if delay < 0 || contentions < 0 {
			s.negative++
			continue
		}
		if delay == 0 && contentions == 0 {
			continue
		}
		buf = reader.frames(sample, buf)
		if len(buf) == 0 {
			continue
		}
		s.samples++
		acc := s.site(buf)
		acc.delay += delay
		acc.contentions += contentions
		s.totals[classOf(acc.key.kind)] += delay

		// Stacks merge by function names (not addresses), keyed by the
		// frames' ids: four bytes a frame, no allocation to look up.
		key = key[:0]
		for _, f := range buf {
			key = binary.LittleEndian.AppendUint32(key, f.id)
		}
		st := acc.stacks[string(key)]
		if st == nil {
			st = &stackAcc{frames: slices.Clone(buf)}
			acc.stacks[string(key)] = st
		}
		st.delay += delay
		st.contentions += contentions
	}
	return s, nil
}

// site resolves a leaf-first stack to its site accumulator.
func (s *side) site(frames []*frame) *siteAcc {
	siteIdx, primIdx := locate(frames)
	kind := KindRuntime
	if !isRuntimeLeaf(frames) {
		// The primitive frames run from the leaf up to the site; when no
		// frame is outside the machinery the site itself is one of them.
		prims := frames[:siteIdx]
		if frames[siteIdx].machinery {
			prims = frames[:siteIdx+1]
		}
		kind = kindOf(prims)
	}
	key := siteKey{function: frames[siteIdx].Name, kind: kind}
	if primIdx >= 0 {
		key.primitive = frames[primIdx].Name
	}
	acc := s.sites[key]
	if acc == nil {
		component := frames[siteIdx].Component
		if kind == KindRuntime {
			component = "runtime"
		}
		acc = &siteAcc{key: key, component: component, stacks: map[string]*stackAcc{}}
		s.sites[key] = acc
	}
	return acc
}

// build turns the accumulators into Sites: user sites and runtime sites.
func (s *side) build(seconds, lockFraction float64, topStacks int) (sites, runtime []*Site) {
	waitTotal := float64(s.totals[classLock] + s.totals[classRuntime])
	for _, acc := range s.sites {
		site := &Site{
			Function:     acc.key.function,
			Component:    acc.component,
			Kind:         acc.key.kind,
			Side:         s.side,
			Primitive:    acc.key.primitive,
			DelaySeconds: float64(acc.delay) / 1e9,
			Contentions:  acc.contentions,
			Stacks:       topStacksOf(acc.stacks, topStacks),
		}
		if seconds > 0 {
			site.DelaySecondsPerSecond = site.DelaySeconds / seconds
			site.ContentionsPerSecond = float64(site.Contentions) / seconds
		}
		site.Share = share(float64(acc.delay), float64(s.totals[classOf(site.Kind)]))
		if classOf(site.Kind) != classBlocking {
			site.Fraction = share(float64(acc.delay), waitTotal) * lockFraction
		}
		if site.Kind == KindRuntime {
			runtime = append(runtime, site)
		} else {
			sites = append(sites, site)
		}
	}
	return sites, runtime
}

func topStacksOf(stacks map[string]*stackAcc, n int) []Stack {
	all := make([]*stackAcc, 0, len(stacks))
	for _, st := range stacks {
		all = append(all, st)
	}
	slices.SortFunc(all, func(a, b *stackAcc) int {
		if c := cmp.Compare(b.delay, a.delay); c != 0 {
			return c
		}
		if c := cmp.Compare(b.contentions, a.contentions); c != 0 {
			return c
		}
		return slices.CompareFunc(a.frames, b.frames, func(x, y *frame) int { return strings.Compare(x.Name, y.Name) })
	})
	out := make([]Stack, 0, min(n, len(all)))
	for _, st := range all[:min(n, len(all))] {
		names := make([]string, len(st.frames))
		for i, f := range st.frames {
			names[i] = f.Name
		}
		out = append(out, Stack{Frames: names, DelaySeconds: float64(st.delay) / 1e9, Contentions: st.contentions})
	}
	return out
}

// compareSites orders by delay, heaviest first, then by name so that equal
// delays still sort the same way every time.
func compareSites(a, b *Site) int {
	if c := cmp.Compare(b.DelaySeconds, a.DelaySeconds); c != 0 {
		return c
	}
	return cmp.Or(
		strings.Compare(string(a.Side), string(b.Side)),
		strings.Compare(a.Function, b.Function),
		strings.Compare(string(a.Kind), string(b.Kind)),
		strings.Compare(a.Primitive, b.Primitive),
	)
}
