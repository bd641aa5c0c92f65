package gate

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/contendr/contendr/source"
	"github.com/contendr/contendr/window"
)

// Loader loads one window of a target; source.Load in use, a fake in tests.
type Loader func(ctx context.Context, target string, opts source.Options) (*window.Window, error)

// Plan is what Measure measures.
type Plan struct {
	Baseline, Canary string
	// Windows per side.
	Windows int
	// Options for every load; Options.Seconds is each window's length and
	// Options.Live should be set, so that an agent is measured from its
	// pprof endpoints over that length rather than serve its own windows.
	Options source.Options
	// Progress, when set, is told what is being measured.
	Progress func(string)
	// Deadline, when set, bounds the whole measurement: no round starts
	// that the last one's length says would end after it.
	Deadline time.Time
}

// fetchAllowance is what each round keeps of its share of the whole
// measurement for fetching the window's profiles: on a busy 2-core target
// (64 goroutines in tight loops) the pprof endpoints took 1.2–1.6s to
// answer for a 1s window, and the reads at its two ends 0.2s each.
const fetchAllowance = 500 * time.Millisecond

// WindowLength splits a whole measurement of total into windows of whole
// seconds, both sides measured at once, each round leaving fetchAllowance
// of its share for the fetches (a window is at least 1s); it is 0 when the
// rounds' shares would be shorter than a second.
func WindowLength(total time.Duration, windows int) time.Duration {
	if windows < 1 {
		return 0
	}
	share := total / time.Duration(windows)
	if share < time.Second {
		return 0
	}
	return max(time.Second, (share - fetchAllowance).Truncate(time.Second))
}

// Measure takes p.Windows windows of each side, the baseline's and the
// canary's of each round at the same time, so that both sides see the same
// stretch of the machine's load and of the traffic (what Kayenta compares:
// baseline and canary over one interval). A target that serves the same
// window again (a bundle, profile files) gives one.
func Measure(ctx context.Context, load Loader, p Plan) (baseline, canarySide Side, err error) {
	say := p.Progress
	if say == nil {
		say = func(string) {}
	}
	baseline.Target, canarySide.Target = p.Baseline, p.Canary
	sides := [2]*Side{&baseline, &canarySide}
	names := [2]string{"baseline", "canary"}
	seen := [2]map[string]bool{{}, {}}
	done := [2]bool{}
	noProcs := [2]bool{}
	var lastRound time.Duration
	for i := range p.Windows {
		if done[0] && done[1] {
			break
		}
		if !p.Deadline.IsZero() && i > 0 && time.Now().Add(lastRound).After(p.Deadline) {
			for _, side := range sides {
				side.Notes = append(side.Notes, fmt.Sprintf("took %d of %d windows: each round took %.2gs (a window of %v and its fetches), and another would have run past the measurement's bound; give more --seconds or fewer --windows",
					i, p.Windows, lastRound.Seconds(), p.Options.Seconds))
			}
			break
		}
		roundStart := time.Now()
		say(fmt.Sprintf("gate: window %d of %d a side (%v)", i+1, p.Windows, p.Options.Seconds))
		var (
			got  [2]*window.Window
			errs [2]error
			wg   sync.WaitGroup
		)
		for s := range sides {
			if !done[s] {
				wg.Go(func() { got[s], errs[s] = load(ctx, sides[s].Target, p.Options) })
			}
		}
		wg.Wait()
		for s, side := range sides {
			if done[s] {
				continue
			}
			if errs[s] != nil {
				return baseline, canarySide, fmt.Errorf("%s: %w", names[s], errs[s])
			}
			w := got[s]
			key := w.ID + "@" + w.Start.String()
			if seen[s][key] {
				done[s] = true
				side.Notes = append(side.Notes, "the target serves one window only (a bundle or profile files): it cannot decide")
				continue
			}
			seen[s][key] = true
			noProcs[s] = noProcs[s] || w.Meta.GOMAXPROCS == 0
			gw, err := FiguresOf(side.Target, w)
			if err != nil {
				return baseline, canarySide, fmt.Errorf("%s: %w", names[s], err)
			}
			side.Windows = append(side.Windows, gw)
		}
		lastRound = time.Since(roundStart)
	}
	for s, side := range sides {
		if noProcs[s] {
			side.Notes = append(side.Notes, "GOMAXPROCS unknown (a plain pprof target, not a contendr agent): the contention cost cannot be measured")
		}
		lower := 0
		for _, w := range side.Windows {
			if w.CostLowerBound {
				lower++
			}
		}
		if lower > 0 {
			side.Notes = append(side.Notes, fmt.Sprintf("the contention cost of %d of %d windows is a lower bound (no CPU profile)", lower, len(side.Windows)))
		}
	}
	return baseline, canarySide, nil
}
