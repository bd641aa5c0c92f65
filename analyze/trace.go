package analyze

import (
	"fmt"
	"strings"

	"github.com/contendr/contendr/collectors/locktrace"
	"github.com/contendr/contendr/window"
)

// traceOf diagnoses the window's execution trace; nil without one.
func traceOf(w *window.Window) (*locktrace.Diagnosis, error) {
	if w.Trace == nil || len(w.Trace.Data) == 0 {
		return nil, nil
	}
	d, err := locktrace.FromWindow(w, locktrace.Options{})
	if err != nil {
		return nil, fmt.Errorf("reading the execution trace: %w", err)
	}
	return d, nil
}

// traceOnly tells a window that holds a trace and nothing else (a trace
// file): the collectors have nothing to read.
func traceOnly(w *window.Window) bool {
	return w.Trace != nil && len(w.Profiles) == 0 && w.Metrics == nil && w.MemStats == nil
}

// traceReport is the report on a trace alone. Its one finding is the
// contention cost's lower bound the trace measures exactly, the P-time
// lost to locks: CPU inside lock primitives is not in a trace.
func traceReport(in Input, d *locktrace.Diagnosis, th Thresholds) *Report {
	w := *in.Window
	w.Meta.GOMAXPROCS = d.GOMAXPROCS
	if w.Meta.GoVersion == "" {
		w.Meta.GoVersion = d.GoVersion
	}
	r := Build(Input{Window: &w, Target: in.Target}, nil, nil, th)
	r.Window.Seconds = d.Seconds
	r.Window.Profiles = []string{"trace"}
	r.Trace = d
	f := judge("contention_cost", d.LostPShare, th.ContentionCost, unitFraction)
	f.LowerBound = true
	f.Message = fmt.Sprintf("Ps stood idle while goroutines waited on locks for %s of the CPU capacity, %s: "+
		"the idle part of the contention cost, exact from the trace; its CPU in lock primitives needs a CPU profile",
		pct(d.LostPShare), f.against())
	r.Findings = []Finding{f}
	r.Recommendations = []Recommendation{}
	r.Notes = append([]string{"from an execution trace alone: lock figures are exact, the CPU in lock primitives and GC figures are not in it"},
		d.Notes...)
	r.WorstSeverity = r.Worst()
	r.Verdict = traceVerdict(r.WorstSeverity, d)
	return r
}

func traceVerdict(sev Severity, d *locktrace.Diagnosis) string {
	s := fmt.Sprintf("%s: locks left %s of the Ps idle (at least that much contention cost)", strings.ToUpper(string(sev)), pct(d.LostPShare))
	if top := d.Top(); top != nil {
		s += fmt.Sprintf("; goroutines waited %s on locks, %s of it at %s", dur(d.BlockedSeconds), pct(top.Share), top.Function)
		if len(top.Holders) > 0 {
			s += ", held by " + top.Holders[0].Function
		}
	}
	return s
}

// textTrace prints the trace's diagnosis: lock sites with their holders,
// the lost P-time and the longest chains.
func (r *Report) textTrace(p *printer) {
	d := r.Trace
	if d == nil {
		return
	}
	p.f("\nTRACE (exact, %s of %s, GOMAXPROCS %d)\n", dur(d.Seconds), d.GoVersion, d.GOMAXPROCS)
	p.f("  P-time lost to locks  %s (%s of GOMAXPROCS × trace)\n", dur(d.LostPSeconds), pct(d.LostPShare))
	p.f("  blocked on locks      %s in %d waits\n", dur(d.BlockedSeconds), d.LockWaits)
	for i, s := range d.Sites {
		if i == maxSiteFindings {
			p.f("  … %d more sites (--format json lists them)\n", len(d.Sites)-i)
			break
		}
		p.f("  %5s  %s  [%s]  %s blocked in %d waits (longest %s), %s P-time lost\n",
			pct(s.Share), s.Function, s.Kind, dur(s.BlockedSeconds), s.Waits, dur(s.MaxWaitSeconds), dur(s.LostPSeconds))
		for j, h := range s.Holders {
			if j == 3 {
				break
			}
			p.f("         woken by %s (%s): %s of the wait\n", h.Function, plural(h.Goroutines, "goroutine"), dur(h.BlockedSeconds))
		}
	}
	for i, c := range d.Chains {
		if i == 3 {
			break
		}
		p.f("  chain of %d waits behind waits over %s (%s blocked), latest:", c.Length, dur(c.SpanSeconds), dur(c.BlockedSeconds))
		for _, l := range c.Links {
			p.f(" g%d", l.Goroutine)
		}
		p.f(" at %s\n", c.Links[0].Site)
	}
	for _, o := range d.OtherBlocking {
		p.f("  not locks: %s waits %s in %d waits\n", o.Kind, dur(o.BlockedSeconds), o.Waits)
	}
}

// fromTraceOnly tells a report on a trace alone (traceReport).
func (r *Report) fromTraceOnly() bool {
	return r.Trace != nil && len(r.Window.Profiles) == 1 && r.Window.Profiles[0] == "trace"
}

// markdownTrace is textTrace as a Markdown section.
func (r *Report) markdownTrace(p *printer) {
	d := r.Trace
	if d == nil {
		return
	}
	p.f("### Execution trace (exact, %s, GOMAXPROCS %d)\n\n", dur(d.Seconds), d.GOMAXPROCS)
	p.f("- P-time lost to locks **%s** (%s of GOMAXPROCS × trace)\n", dur(d.LostPSeconds), pct(d.LostPShare))
	p.f("- blocked on locks %s in %d waits\n\n", dur(d.BlockedSeconds), d.LockWaits)
	if len(d.Sites) > 0 {
		p.f("| share | site | kind | blocked | waits | P-time lost | woken by |\n|---|---|---|---|---|---|---|\n")
		for i, s := range d.Sites {
			if i == maxSiteFindings {
				break
			}
			woken := ""
			if len(s.Holders) > 0 {
				woken = mdCode(s.Holders[0].Function)
			}
			p.f("| %s | %s | %s | %s | %d | %s | %s |\n", pct(s.Share), mdCode(s.Function), s.Kind, dur(s.BlockedSeconds), s.Waits, dur(s.LostPSeconds), woken)
		}
		p.f("\n")
	}
	if len(d.Chains) > 0 {
		c := d.Chains[0]
		p.f("Longest chain: %d waits behind waits over %s at %s.\n\n", c.Length, dur(c.SpanSeconds), mdCode(c.Links[0].Site))
	}
}
