package gc

import (
	"cmp"
	"slices"

	"github.com/contendr/contendr/collectors/stacks"
	"github.com/contendr/contendr/internal/symbol"
)

// mapGrowth turns the attribution's allocation by map growth (how a sample
// is recognised as growth: collectors/stacks, growth.go) into MapGrowth
// entries sorted by bytes, with the window's total alloc_space and notes.
// prev, the previous window's attribution, may be nil; with it, each
// entry's in-use growth across the two windows is set.
func mapGrowth(g stacks.Growth, prev *stacks.Attribution, seconds float64) ([]*MapGrowth, int64, []string, error) {
	if !g.Present {
		return nil, 0, []string{"map growth skipped: the window has no allocs profile"}, nil
	}
	if g.Err != nil {
		return nil, 0, nil, g.Err
	}
	byKey := map[stacks.GrowthKey]*MapGrowth{}
	for key, bytes := range g.Bytes {
		byKey[key] = &MapGrowth{
			Component: symbol.Component(key.Function), Function: key.Function, Kind: key.Kind, Inferred: key.Inferred,
			Bytes: bytes, Objects: g.Objects[key],
		}
	}
	growth := mergeCopyLoops(byKey, g.MakesMaps)
	for _, m := range growth {
		m.BytesPerSecond = perSecond(float64(m.Bytes), seconds)
		m.ObjectsPerSecond = perSecond(float64(m.Objects), seconds)
		if g.AllocBytes > 0 {
			m.ShareOfAlloc = float64(m.Bytes) / float64(g.AllocBytes)
		}
	}
	var notes []string
	if prev != nil {
		notes = append(notes, inUseGrowth(growth, g, prev.Growth)...)
	}
	if slices.ContainsFunc(growth, func(m *MapGrowth) bool { return m.Inferred }) {
		notes = append(notes, "Go map growth marked inferred: runtime/pprof hides runtime frames at the top of allocation stacks, so allocation in a function that takes a sync.Mutex/RWMutex is taken as the growth of the map it guards")
	}
	slices.SortFunc(growth, func(a, b *MapGrowth) int {
		return cmp.Or(cmp.Compare(b.Bytes, a.Bytes), cmp.Compare(a.Component, b.Component),
			cmp.Compare(a.Function, b.Function), cmp.Compare(a.Kind, b.Kind))
	})
	return growth, g.AllocBytes, notes, nil
}

// mergeCopyLoops turns the Go map growth of a function that also makes a new
// map into copy-on-write growth: the writer copies the map by hand.
func mergeCopyLoops(byKey map[stacks.GrowthKey]*MapGrowth, makesMaps map[string]bool) []*MapGrowth {
	merged := map[stacks.GrowthKey]*MapGrowth{}
	for key, g := range byKey {
		if key.Kind == GrowthGoMap && !key.Inferred && makesMaps[key.Function] {
			key.Kind, g.Kind = GrowthCOWClone, GrowthCOWClone
		}
		if into := merged[key]; into != nil {
			into.Bytes += g.Bytes
			into.Objects += g.Objects
			continue
		}
		merged[key] = g
	}
	out := make([]*MapGrowth, 0, len(merged))
	for _, g := range merged {
		out = append(out, g)
	}
	return out
}

// inUseGrowth sets InUseGrowthBytes from the in-use bytes that the same
// function's growth holds at the end of each window: the heap snapshot when
// the window has one, else the allocs profile's inuse_space.
func inUseGrowth(growth []*MapGrowth, now, before stacks.Growth) []string {
	if err := cmp.Or(now.InUseErr, before.InUseErr); err != nil {
		return []string{"in-use growth skipped: " + err.Error()}
	}
	for _, g := range growth {
		key := stacks.GrowthKey{Function: g.Function, Kind: g.Kind, Inferred: g.Inferred}
		g.InUseGrowthBytes = now.InUse[key] - before.InUse[key]
		if g.Kind == GrowthCOWClone { // a copy loop's share was Go map growth before merging
			loop := stacks.GrowthKey{Function: g.Function, Kind: GrowthGoMap}
			g.InUseGrowthBytes += now.InUse[loop] - before.InUse[loop]
		}
	}
	return nil
}
