package locktrace

import (
	"cmp"
	"maps"
	"slices"
	"strings"

	"github.com/contendr/contendr/collectors/stacks"
)

// finish closes the waits still open at the trace's end (their length
// runs to the end; nobody woke them within the trace) and sorts and bounds
// every list.
func (p *pass) finish() *Diagnosis {
	d := p.d
	open := slices.SortedFunc(maps.Values(p.waits), func(a, b *wait) int { return cmp.Compare(a.g, b.g) })
	for _, w := range open {
		if w.site != nil {
			p.blocked--
			p.charge(w, p.last.Sub(w.start))
		}
	}
	d.Seconds = p.last.Sub(p.first).Seconds()
	d.GOMAXPROCS = p.gomaxprocs
	if d.GOMAXPROCS > 0 && d.Seconds > 0 {
		d.LostPShare = d.LostPSeconds / (float64(d.GOMAXPROCS) * d.Seconds)
	}
	if !p.started {
		d.Notes = append(d.Notes, "the trace holds no events")
	}
	if p.lostBeforeProcs {
		d.Notes = append(d.Notes, "the trace named GOMAXPROCS only after some lock waits began: P-time lost before then is not counted")
	}
	if len(open) > 0 {
		d.Notes = append(d.Notes, "goroutines still blocked when the trace ended are counted up to its end")
	}

	d.Sites = p.sortedSites()
	d.Components = components(d.Sites, d.BlockedSeconds)
	if len(d.Sites) > p.opts.MaxSites {
		d.Notes = append(d.Notes, "only the most blocked sites are listed; the totals count them all")
		d.Sites = d.Sites[:p.opts.MaxSites]
	}
	d.Chains = p.sortedChains()
	for _, kt := range p.other {
		d.OtherBlocking = append(d.OtherBlocking, *kt)
	}
	slices.SortFunc(d.OtherBlocking, func(a, b KindTotal) int { return cmp.Compare(b.BlockedSeconds, a.BlockedSeconds) })
	return d
}

func (p *pass) sortedSites() []*Site {
	sites := slices.Collect(maps.Values(p.sites))
	for _, s := range sites {
		if p.d.BlockedSeconds > 0 {
			s.Share = s.BlockedSeconds / p.d.BlockedSeconds
		}
		s.Stacks = mergeStacks(s.stackTotal, p.opts.MaxStacks)
		for _, h := range s.Holders {
			h.Goroutines = len(h.goroutines)
			h.Stack = heaviestStack(h.stackTotal)
		}
		slices.SortFunc(s.Holders, func(a, b *Holder) int {
			return cmp.Or(cmp.Compare(b.BlockedSeconds, a.BlockedSeconds), cmp.Compare(a.Function, b.Function))
		})
	}
	slices.SortFunc(sites, func(a, b *Site) int {
		return cmp.Or(cmp.Compare(b.BlockedSeconds, a.BlockedSeconds), cmp.Compare(a.Function, b.Function),
			cmp.Compare(a.Kind, b.Kind))
	})
	return sites
}

// mergeStacks joins the stacks that spell the same frames (each trace
// generation numbers its stacks anew) and keeps the n heaviest.
func mergeStacks(byInfo map[*stackInfo]*Stack, n int) []Stack {
	byFrames := map[string]*Stack{}
	for _, st := range byInfo {
		key := strings.Join(st.Frames, "\n")
		if m := byFrames[key]; m != nil {
			m.Waits += st.Waits
			m.BlockedSeconds += st.BlockedSeconds
			continue
		}
		c := *st
		byFrames[key] = &c
	}
	out := []Stack{}
	for _, st := range byFrames {
		out = append(out, *st)
	}
	slices.SortFunc(out, func(a, b Stack) int {
		return cmp.Or(cmp.Compare(b.BlockedSeconds, a.BlockedSeconds), slices.Compare(a.Frames, b.Frames))
	})
	return out[:min(n, len(out))]
}

func heaviestStack(byInfo map[*stackInfo]float64) []string {
	var best *stackInfo
	for info, total := range byInfo {
		if best == nil || total > byInfo[best] || total == byInfo[best] && slices.Compare(info.names, best.names) < 0 {
			best = info
		}
	}
	if best == nil {
		return nil
	}
	return best.names
}

func components(sites []*Site, total float64) []*Component {
	byName := map[string]*Component{}
	for _, s := range sites {
		name := s.Component
		if name == "" {
			name = s.Function
		}
		c := byName[name]
		if c == nil {
			c = &Component{Name: name}
			byName[name] = c
		}
		c.Waits += s.Waits
		c.BlockedSeconds += s.BlockedSeconds
		c.LostPSeconds += s.LostPSeconds
		c.Sites = append(c.Sites, s.Function)
	}
	out := slices.Collect(maps.Values(byName))
	for _, c := range out {
		if total > 0 {
			c.Share = c.BlockedSeconds / total
		}
	}
	slices.SortFunc(out, func(a, b *Component) int {
		return cmp.Or(cmp.Compare(b.BlockedSeconds, a.BlockedSeconds), cmp.Compare(a.Name, b.Name))
	})
	return out
}

func (p *pass) sortedChains() []*Chain {
	slices.SortFunc(p.chains, func(a, b *wait) int {
		if chainLess(a, b) {
			return 1
		}
		if chainLess(b, a) {
			return -1
		}
		return cmp.Compare(a.g, b.g)
	})
	out := []*Chain{}
	for _, tail := range p.chains {
		out = append(out, &Chain{Length: tail.length, SpanSeconds: tail.end.Sub(tail.head).Seconds(),
			BlockedSeconds: tail.total.Seconds(), Links: tail.links})
	}
	return out
}

// Top returns the most blocked site, or nil.
func (d *Diagnosis) Top() *Site {
	if d == nil || len(d.Sites) == 0 {
		return nil
	}
	return d.Sites[0]
}

// Site returns the site of the given function and kind, or nil.
func (d *Diagnosis) Site(function string, kind stacks.Kind) *Site {
	for _, s := range d.Sites {
		if s.Function == function && (kind == "" || s.Kind == kind) {
			return s
		}
	}
	return nil
}
