// Package leaks reads a window's goroutine leak profile (Go 1.26 built with
// GOEXPERIMENT=goroutineleakprofile) and tells goroutines leaked on locks —
// blocked forever in Mutex.Lock, RLock or a sync.Map's lock, a deadlock
// rather than contention — from those leaked on channels, selects,
// WaitGroups and Conds. Reported apart from the contention cost: a leaked
// goroutine costs memory and a stuck request, not CPU.
package leaks

import (
	"cmp"
	"slices"

	"github.com/contendr/contendr/collectors/stacks"
	"github.com/contendr/contendr/window"
)

// Result is what one leak profile holds.
type Result struct {
	// Goroutines is every leaked goroutine; OnLocks those blocked on a
	// lock primitive.
	Goroutines int `json:"goroutines"`
	OnLocks    int `json:"on_locks"`
	// Sites are where goroutines leaked, lock sites first, then by count.
	Sites []Site `json:"sites"`
}

// Site is one place goroutines leaked at: the first frame above the
// primitive they block in, as for lock sites.
type Site struct {
	Function   string      `json:"function"`
	Component  string      `json:"component"`
	Kind       stacks.Kind `json:"kind"`
	Lock       bool        `json:"lock"`
	Goroutines int         `json:"goroutines"`
	// Stack is one leaked stack at the site from the primitive it blocks
	// in outward (the runtime's frames under it left out).
	Stack []string `json:"stack"`
}

// Collect reads w's goroutine leak profile; nil when it has none.
func Collect(w *window.Window) *Result {
	p := w.Profile(window.GoroutineLeak)
	if p == nil {
		return nil
	}
	r := &Result{Sites: []Site{}}
	reader := stacks.NewReader()
	reader.ForProfile(p)
	bySite := map[string]*Site{}
	var frames []*stacks.Frame
	for _, s := range p.Sample {
		if len(s.Value) == 0 {
			continue
		}
		n := int(s.Value[0])
		frames = reader.Frames(s, frames)
		if len(frames) == 0 {
			continue
		}
		siteIdx, _ := stacks.Locate(frames)
		prims := frames[:siteIdx]
		if frames[siteIdx].Machinery {
			prims = frames[:siteIdx+1]
		}
		kind := stacks.KindOf(prims)
		lock := stacks.ClassOf(kind) == stacks.ClassLock && kind != stacks.KindOther
		key := frames[siteIdx].Name + "\x00" + string(kind)
		site := bySite[key]
		if site == nil {
			site = &Site{Function: frames[siteIdx].Name, Component: frames[siteIdx].Component, Kind: kind, Lock: lock}
			for _, f := range frames[max(siteIdx-1, 0):] { // from the primitive up
				site.Stack = append(site.Stack, f.Name)
			}
			bySite[key] = site
		}
		site.Goroutines += n
		r.Goroutines += n
		if lock {
			r.OnLocks += n
		}
	}
	for _, s := range bySite {
		r.Sites = append(r.Sites, *s)
	}
	slices.SortFunc(r.Sites, func(a, b Site) int {
		if a.Lock != b.Lock {
			if a.Lock {
				return -1
			}
			return 1
		}
		return cmp.Or(cmp.Compare(b.Goroutines, a.Goroutines), cmp.Compare(a.Function, b.Function))
	})
	return r
}
