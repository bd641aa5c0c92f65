package mutex

import (
	"cmp"
	"slices"
	"strings"
)

// components joins the lock sites of both sides per component. Channel,
// select, WaitGroup and Cond sites stay out: a component is what a map or
// lock strategy is chosen for, and those waits are not lock contention.
func components(sites []*Site, holders, waiters *side, seconds float64) []*Component {
	byName := map[string]*Component{}
	holderDelay, waiterDelay := map[string]float64{}, map[string]float64{}
	holderFraction, waiterFraction := map[string]float64{}, map[string]float64{}
	for _, s := range sites {
		if classOf(s.Kind) != classLock {
			continue
		}
		c := byName[s.Component]
		if c == nil {
			c = &Component{Name: s.Component}
			byName[s.Component] = c
		}
		if !slices.Contains(c.Kinds, s.Kind) {
			c.Kinds = append(c.Kinds, s.Kind)
		}
		switch s.Side {
		case Holder:
			c.Holders = append(c.Holders, s)
			holderDelay[c.Name] += s.DelaySeconds
			holderFraction[c.Name] += s.Fraction
		case Waiter:
			c.Waiters = append(c.Waiters, s)
			waiterDelay[c.Name] += s.DelaySeconds
			waiterFraction[c.Name] += s.Fraction
			switch s.Kind {
			case KindRWMutexRead:
				c.ReadDelaySeconds += s.DelaySeconds
			case KindRWMutexWrite:
				c.WriteDelaySeconds += s.DelaySeconds
			}
		}
	}

	holderTotal := float64(holders.Totals[classLock]) / 1e9
	waiterTotal := float64(waiters.Totals[classLock]) / 1e9
	out := make([]*Component, 0, len(byName))
	for _, c := range byName {
		slices.Sort(c.Kinds)
		slices.SortFunc(c.Holders, compareSites)
		slices.SortFunc(c.Waiters, compareSites)
		// Both sides measure the same waiting from different ends; the
		// larger one is the better-sampled reading of it.
		c.DelaySeconds, c.Share, c.Fraction = holderDelay[c.Name], share(holderDelay[c.Name], holderTotal), holderFraction[c.Name]
		if w := waiterDelay[c.Name]; w > c.DelaySeconds {
			c.DelaySeconds, c.Share, c.Fraction = w, share(w, waiterTotal), waiterFraction[c.Name]
		}
		if seconds > 0 {
			c.DelaySecondsPerSecond = c.DelaySeconds / seconds
		}
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b *Component) int {
		return cmp.Or(cmp.Compare(b.DelaySeconds, a.DelaySeconds), strings.Compare(a.Name, b.Name))
	})
	return out
}

// share is part/total in [0, 1]; summing float delays can overshoot by an
// ulp.
func share(part, total float64) float64 {
	if total <= 0 {
		return 0
	}
	return min(part/total, 1)
}
