package analyze

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
)

// WriteJSON writes the report as indented JSON (schema contendr.report/v1,
// docs/report-schema.md).
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("writing report as JSON: %w", err)
	}
	return nil
}

// printer remembers the first write error, so that renderers read as a
// sequence of lines rather than a sequence of error checks.
type printer struct {
	w   io.Writer
	err error
}

func (p *printer) f(format string, a ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, a...)
	}
}

// WriteText writes the report for a terminal: the verdict first, then each
// finding against its limit, who holds and who waits on each contended
// lock, GC pressure, map growth, a recommendation per component, and the
// notes that qualify all of it.
func (r *Report) WriteText(w io.Writer) error {
	p := &printer{w: w}
	p.f("contendr report for %s\n", orDefault(r.Target.Source, "an unnamed target"))
	p.f("  %s\n\n", r.describeTarget())
	p.f("%s\n", r.Verdict)

	p.f("\nFINDINGS\n")
	if len(r.Findings) == 0 {
		p.f("  none: the window held nothing to judge\n")
	}
	for _, f := range r.Findings {
		p.f("  %-4s  %s = %s  (warn %s, crit %s)\n", f.Severity, f.shortName(), f.formatValue(), f.formatLimit(f.Warn), f.formatLimit(f.Crit))
		p.f("        %s\n", f.Message)
	}

	r.textLocks(p)
	r.textGC(p)
	r.textGrowth(p)
	r.textRecommendations(p)

	if len(r.Notes) > 0 {
		p.f("\nNOTES\n")
		for _, n := range r.Notes {
			p.f("  - %s\n", n)
		}
	}
	if p.err != nil {
		return fmt.Errorf("writing report as text: %w", p.err)
	}
	return nil
}

// describeTarget is the one-line context: version, cores, load, window.
func (r *Report) describeTarget() string {
	var parts []string
	parts = append(parts, orDefault(r.Target.GoVersion, "Go version unknown"))
	if r.Target.GOMAXPROCS > 0 {
		parts = append(parts, fmt.Sprintf("GOMAXPROCS %d", r.Target.GOMAXPROCS))
	}
	if r.Target.Goroutines > 0 {
		parts = append(parts, fmt.Sprintf("%d goroutines", r.Target.Goroutines))
	}
	win := "window length unknown"
	if r.Window.Seconds > 0 {
		win = "window " + dur(r.Window.Seconds)
	}
	if len(r.Window.Profiles) > 0 {
		win += " (" + strings.Join(r.Window.Profiles, ", ") + ")"
	}
	parts = append(parts, win)
	if len(r.Target.Labels) > 0 {
		var labels []string
		for _, k := range slices.Sorted(maps.Keys(r.Target.Labels)) {
			labels = append(labels, k+"="+r.Target.Labels[k])
		}
		parts = append(parts, strings.Join(labels, " "))
	}
	return strings.Join(parts, ", ")
}

func (f Finding) formatValue() string { return f.formatLimit(f.Value) }

func (f Finding) formatLimit(v float64) string {
	switch f.Unit {
	case unitSeconds:
		return dur(v)
	case unitRate:
		return trim(v)
	}
	return pct(v)
}

// minSiteShare hides sites below 0.1% of their side's delay from the
// human-readable reports (JSON keeps them): a reader acts on the big ones.
const minSiteShare = 0.001

// sitesOf returns a component's visible sites on one side, heaviest first.
func (r *Report) sitesOf(component, side string) []LockSite {
	var out []LockSite
	for _, s := range r.Lock.Sites {
		if s.Component == component && s.Side == side && s.Share >= minSiteShare {
			out = append(out, s)
		}
	}
	return out
}

// componentFraction is a component's lock fraction, or "unknown" when the
// window had no denominator for it.
func (r *Report) componentFraction(c LockComponent) string {
	if !r.Lock.Known {
		return "unknown share"
	}
	return pct(c.Fraction)
}

// lockSource says where the lock fraction came from.
func (r *Report) lockSource() string {
	if r.Lock.Estimated {
		return "estimated: " + orDefault(r.Lock.EstimateReason, "no runtime/metrics")
	}
	return fmt.Sprintf("%.3gs waiting, %.3gs user CPU", r.Lock.WaitSeconds, r.Lock.UserCPUSeconds)
}

func (r *Report) textLocks(p *printer) {
	p.f("\nLOCK CONTENTION")
	if r.Lock.Known {
		p.f(" — %s of goroutine time waiting (%s)", pct(r.Lock.Fraction), r.lockSource())
	} else {
		p.f(" — lock fraction unknown")
	}
	p.f("\n")
	if len(r.Lock.Components) == 0 {
		p.f("  no contended user lock sites in the window\n")
	}
	for _, c := range r.Lock.Components {
		p.f("  %s  %s of goroutine time, %s of lock delay, %s  [%s]\n",
			c.Name, r.componentFraction(c), pct(c.Share), delayText(c.DelaySecondsPerSecond, c.DelaySeconds), strings.Join(c.Kinds, ", "))
		if hw := holdsWaits(c.Holder, c.Waiter); hw != "" {
			p.f("    %s\n", hw)
		}
		for _, side := range []string{"holder", "waiter"} {
			for _, s := range firstN(r.sitesOf(c.Name, side), 3) {
				p.f("    %-6s  %s  %s, %s via %s\n", side, s.Function, delayText(s.DelaySecondsPerSecond, s.DelaySeconds),
					contentionsText(s.ContentionsPerSecond, s.Contentions), orDefault(s.Primitive, s.Kind))
			}
		}
	}
	if len(r.Lock.Runtime) > 0 {
		var total float64
		for _, s := range r.Lock.Runtime {
			total += s.Fraction
		}
		share := pct(total) + " of goroutine time"
		if !r.Lock.Known {
			share = "an unknown share of goroutine time"
		}
		p.f("  runtime-internal locks: %s, heaviest %s (not user code)\n", share, r.Lock.Runtime[0].Function)
	}
}

func (r *Report) textGC(p *printer) {
	g := r.GC
	p.f("\nGC PRESSURE")
	if !g.Known {
		p.f(" — unknown (no runtime/metrics or MemStats in the window)\n")
		return
	}
	src := g.Source
	if g.Estimated {
		src += ", estimated"
	}
	p.f(" (%s)\n", src)
	if !g.missing("cpu_fraction") {
		p.f("  GC CPU %s of all CPU, mark assists %s of it\n", pct(g.CPUFraction), pct(g.AssistShare))
	}
	if !g.missing("pause_p99_seconds") {
		p.f("  pauses p50 %s, p99 %s, max %s over %d cycles (%.3g/s)\n",
			dur(g.PauseP50Seconds), dur(g.PauseP99Seconds), dur(g.PauseMaxSeconds), g.Cycles, g.CyclesPerSecond)
	}
	if !g.missing("alloc_bytes_per_second") {
		p.f("  allocating %s/s (%.3g objects/s); heap live %s of goal %s; %s\n",
			bytesHuman(g.AllocBytesPerSecond), g.AllocObjectsPerSecond, bytesHuman(g.HeapLiveBytes), bytesHuman(g.HeapGoalBytes), gcSettings(g))
	}
}

// gcSettings formats GOGC and GOMEMLIMIT as a user would set them.
func gcSettings(g GCSection) string {
	gogc := "GOGC unknown"
	switch {
	case g.GOGC < 0:
		gogc = "GOGC off"
	case g.GOGC > 0:
		gogc = fmt.Sprintf("GOGC %.0f", g.GOGC)
	}
	limit := "GOMEMLIMIT unknown"
	switch {
	case g.GOMEMLIMIT >= 1<<62:
		limit = "no GOMEMLIMIT"
	case g.GOMEMLIMIT > 0:
		limit = "GOMEMLIMIT " + bytesHuman(g.GOMEMLIMIT)
	}
	return gogc + ", " + limit
}

func (r *Report) textGrowth(p *printer) {
	p.f("\nDIRTY-MAP GROWTH (allocation maps spend growing or copying themselves)\n")
	if len(r.MapGrowth) == 0 {
		p.f("  no map growth or copying attributed to a component\n")
	}
	for _, g := range r.MapGrowth {
		p.f("  %s  %s  %s, %s of allocation, in %s\n", g.Component, g.Kind, bytesText(g.BytesPerSecond, g.Bytes), pct(g.ShareOfAlloc), g.Function)
	}
}

func (r *Report) textRecommendations(p *printer) {
	p.f("\nRECOMMENDATIONS\n")
	if len(r.Recommendations) == 0 {
		p.f("  none: no component guards or grows a map in this window\n")
	}
	for _, rec := range r.Recommendations {
		p.f("  %s: %s\n", rec.Component, rec.headline())
		for _, reason := range rec.Reasons {
			p.f("    why: %s\n", reason)
		}
		for _, e := range rec.Evidence {
			p.f("    evidence: %s\n", e)
		}
		p.f("    expected gain: %s\n", rec.ExpectedGain)
		if rec.Decide != "" {
			p.f("    to decide: %s\n", rec.Decide)
		}
	}
}

// headline is "rwmutex → sharded (confidence 0.75)" or "keep mutex".
func (rec Recommendation) headline() string {
	if rec.Recommended == StrategyKeep {
		return fmt.Sprintf("keep %s (confidence %.2f)", rec.Current, rec.Confidence)
	}
	return fmt.Sprintf("%s → %s (confidence %.2f)", rec.Current, rec.Recommended, rec.Confidence)
}
