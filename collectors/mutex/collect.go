package mutex

import (
	"cmp"

	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/contendr/contendr/collectors/stacks"
	"github.com/contendr/contendr/internal/symbol"

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
	return CollectFrom(w, stacks.Attribute(w), opts)
}

// CollectFrom is Collect over the window's stack attribution, for callers
// that share one attribution between collectors.
func CollectFrom(w *window.Window, attr *stacks.Attribution, opts Options) (*Result, error) {
	if w == nil || attr == nil {
		return nil, errors.New("collecting lock sites: no window")
	}
	if opts.TopStacks <= 0 {
		opts.TopStacks = DefaultTopStacks
	}
	if err := attr.Holders.Err; err != nil {
		return nil, fmt.Errorf("reading the mutex profile of window %q: %w", w.ID, err)
	}
	if err := attr.Waiters.Err; err != nil {
		return nil, fmt.Errorf("reading the block profile of window %q: %w", w.ID, err)
	}
	holders := &side{Contention: attr.Holders, side: Holder}
	waiters := &side{Contention: attr.Waiters, side: Waiter}

	res := &Result{Attribution: attr}
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
		if s.Negative > 0 {
			res.Notes = append(res.Notes, fmt.Sprintf("ignored %d %s-side samples with negative values (a broken delta)", s.Negative, s.side))
		}
	}

	wait := readLockWait(w, holders, waiters, res.MutexProfileEnabled, res.BlockProfileEnabled)
	res.LockFraction = lockFraction(w, attr.CPU, res.WindowSeconds, wait)
	res.Cost = contentionCost(w, attr.CPU, res.WindowSeconds, wait)
	res.Waiters = lockWaiters(w, res.WindowSeconds, wait)
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
	res.Components = costComponents(res.Components, attr, res.Cost)
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

// side is one profile's sites (holders or waiters) as the attribution
// grouped them.
type side struct {
	*stacks.Contention
	side Side
}

// build turns the accumulators into Sites: user sites and runtime sites.
func (s *side) build(seconds, lockFraction float64, topStacks int) (sites, runtime []*Site) {
	waitTotal := float64(s.Totals[classLock] + s.Totals[classRuntime])
	var names []string
	for _, acc := range s.Sites {
		// The standard library's own waits — net/http's connection
		// plumbing on a sync.Cond (every HTTP server, the agent's own
		// included), a pprof handler sleeping out ?seconds= — are no site
		// anyone can change: they stay in the totals, never in the list.
		if classOf(acc.Key.Kind) == classBlocking && stacks.IsStd(symbol.Package(acc.Key.Function)) {
			continue
		}
		site := &Site{
			Function:     acc.Key.Function,
			Component:    acc.Component,
			Kind:         acc.Key.Kind,
			Side:         s.side,
			Primitive:    acc.Key.Primitive,
			DelaySeconds: float64(acc.Delay) / 1e9,
			Contentions:  acc.Contentions,
			Stacks:       topStacksOf(acc, topStacks, &names),
		}
		if seconds > 0 {
			site.DelaySecondsPerSecond = site.DelaySeconds / seconds
			site.ContentionsPerSecond = float64(site.Contentions) / seconds
		}
		site.Share = share(float64(acc.Delay), float64(s.Totals[classOf(site.Kind)]))
		if classOf(site.Kind) != classBlocking {
			site.Fraction = share(float64(acc.Delay), waitTotal) * lockFraction
		}
		if site.Kind == KindRuntime {
			runtime = append(runtime, site)
		} else {
			sites = append(sites, site)
		}
	}
	return sites, runtime
}

// topStacksOf is the site's n heaviest stacks, their names cut from
// names, a slab shared by the stacks of a result (one allocation for
// thousands of sites, not one per stack).
func topStacksOf(site *stacks.Site, n int, names *[]string) []Stack {
	top := site.Top(n)
	out := make([]Stack, 0, len(top))
	for _, st := range top {
		if len(*names)+st.Len() > cap(*names) {
			*names = make([]string, 0, max(4096, st.Len()))
		}
		start := len(*names)
		*names = st.AppendNames(*names)
		frames := (*names)[start:len(*names):len(*names)]
		out = append(out, Stack{Frames: frames, DelaySeconds: float64(st.Delay) / 1e9, Contentions: st.Contentions})
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
