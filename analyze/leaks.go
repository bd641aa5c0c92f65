package analyze

import "strings"

// textLeaks prints the goroutines the window's leak profile found, those
// leaked on locks first: a deadlock, apart from contention.
func (r *Report) textLeaks(p *printer) {
	l := r.Leaks
	if l == nil {
		return
	}
	p.f("\nLEAKED GOROUTINES (goroutine leak profile) — %d, %d of them on locks\n", l.Goroutines, l.OnLocks)
	for i, s := range l.Sites {
		if i == maxSiteFindings {
			p.f("  … %d more sites (--format json lists them)\n", len(l.Sites)-i)
			break
		}
		what := "blocked forever on " + string(s.Kind)
		if s.Lock {
			what = "LOCK never released: " + string(s.Kind)
		}
		p.f("  %6d  %s  [%s]\n", s.Goroutines, s.Function, what)
		if s.Lock && len(s.Stack) > 0 {
			p.f("          %s\n", strings.Join(s.Stack[:min(len(s.Stack), 4)], " ← "))
		}
	}
}
