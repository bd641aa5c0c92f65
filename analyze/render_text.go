package analyze

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/contendr/contendr/collectors/figure"
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

// WriteTextVerbose writes the whole report for a terminal (--verbose): the
// verdict first, then each finding against its limit, who holds and who
// waits on each contended lock, GC pressure, map growth, a recommendation
// per component with its reasons and evidence, and the notes that qualify
// all of it. Names drop their shared module prefix, as in WriteText.
func (r *Report) WriteTextVerbose(w io.Writer) error {
	var b strings.Builder
	p := &printer{w: &b}
	short := r.shortener()
	header := fmt.Sprintf("contendr report for %s\n  %s\n", orDefault(r.Target.Source, "an unnamed target"), r.describeTarget())
	if short.prefix != "" {
		header += "  names below drop the prefix " + short.prefix + "\n"
	}
	p.f("\n%s\n", r.Verdict)

	p.f("\nFINDINGS\n")
	if len(r.Findings) == 0 {
		p.f("  none: the window held nothing to judge\n")
	}
	for _, f := range r.Findings {
		p.f("  %-4s  %s = %s  (warn %s, crit %s)\n", f.Severity, f.shortName(), f.formatValue(), f.formatLimit(f.Warn), f.formatLimit(f.Crit))
		p.f("        %s\n", f.Message)
	}

	if r.fromTraceOnly() {
		r.textTrace(p) // nothing else was measured
	} else {
		r.textLocks(p)
		r.textTrace(p)
		r.textLeaks(p)
		r.textGC(p)
		r.textGrowth(p)
		r.textRecommendations(p)
	}

	if len(r.Notes) > 0 {
		p.f("\nNOTES\n")
		for _, n := range r.Notes {
			p.f("  - %s\n", n)
		}
	}
	if _, err := io.WriteString(w, header+short.text(b.String())); err != nil {
		return fmt.Errorf("writing report as text: %w", err)
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

// componentFraction is a component's lock wait share, or "unknown" when
// the window had no denominator for it.
func (r *Report) componentFraction(c LockComponent) string {
	if !r.Lock.Known {
		return "unknown"
	}
	return pct(c.Fraction)
}

// componentCost is a component's part of the contention cost: "12.0%",
// "≥ 1.00%" for a lower bound, "unknown".
func (r *Report) componentCost(c LockComponent) string {
	switch {
	case !r.Lock.CostKnown:
		return "unknown"
	case r.Lock.CostLowerBound:
		return "≥ " + pct(c.Cost)
	}
	return pct(c.Cost)
}

// lockSource says where the lock wait share came from.
func (r *Report) lockSource() string {
	if r.Lock.Estimated {
		return "estimated: " + orDefault(r.Lock.EstimateReason, "no runtime/metrics")
	}
	return fmt.Sprintf("%.3gs waiting, %.3gs user CPU", r.Lock.WaitSeconds, r.Lock.UserCPUSeconds)
}

// costHeadline is the contention cost in one line, with its two halves.
func (r *Report) costHeadline() string {
	l := r.Lock
	if !l.CostKnown {
		return "contention cost unknown"
	}
	d := l.CostDetail
	sync := "CPU in lock primitives unknown"
	if d.SyncCPUKnown {
		sync = dur(d.SyncCPUSeconds) + " CPU in lock primitives"
	}
	idle := "idle Ps unknown"
	switch {
	case l.waitUnknown():
		idle = "no lock wait to blame idle Ps on"
	case d.IdleSource != "":
		idle = dur(d.IdleLostSeconds) + " of Ps idle while goroutines waited on locks"
	}
	return fmt.Sprintf("contention cost %s of the CPU capacity (%s + %s, of %s)", l.costText(), sync, idle, dur(d.CapacitySeconds))
}

// waitUnknown says the cost had no lock wait to blame idle Ps on: the only
// half a lower bound can lack when both CPU and idle time are known.
func (l LockSection) waitUnknown() bool {
	return l.CostLowerBound && l.CostDetail.SyncCPUKnown && l.CostDetail.IdleSource != ""
}

// componentCostDetail is the two halves of a component's cost, "" when
// the cost is unknown.
func (r *Report) componentCostDetail(c LockComponent) string {
	if !r.Lock.CostKnown {
		return ""
	}
	cpu := "CPU in locks unknown"
	if r.Lock.CostDetail.SyncCPUKnown {
		cpu = dur(c.SyncCPUSeconds) + " CPU in locks"
	}
	return fmt.Sprintf(" (%s, %s idle)", cpu, dur(c.IdleLostSeconds))
}

// costEstimate says why the cost is estimated, "" when it is not.
func (r *Report) costEstimate() string {
	l := r.Lock
	switch {
	case !l.CostKnown && l.CostReason != "":
		return "unknown because " + l.CostReason
	case l.CostLowerBound:
		return "a lower bound: " + orDefault(l.CostReason, "a half had no source")
	case l.CostEstimated:
		return "estimated: " + orDefault(l.CostReason, "a half was not measured directly")
	}
	return ""
}

// waitersLine is the lock waiters with the saturation context; "" when
// unknown.
func (r *Report) waitersLine() string {
	l := r.Lock
	if !l.WaitersKnown {
		return ""
	}
	s := fmt.Sprintf("lock waiters: %s goroutines blocked on locks on average (latency, not throughput)", trim(l.Waiters))
	if l.RunnableKnown {
		s += fmt.Sprintf("; %s runnable on average", trim(l.Runnable))
		switch {
		case l.Runnable >= 1 && l.offCPUHandoffs():
			s += ", yet the Ps' threads slept off the CPU handing locks on: the locks, not the CPU, held the work back"
		case l.Runnable >= 1:
			s += ": the CPU was saturated, and lock waits mostly replaced run-queue waits"
		case l.CostDetail.IdleLostSeconds >= 0.01*l.CostDetail.CapacitySeconds && l.CostDetail.IdleLostSeconds > 0:
			s += ": little work was ready while Ps idled, so the locks serialized the work"
		}
	}
	return s
}

// offCPUHandoffs says a tenth of the capacity or more went to Ps whose
// threads slept off the CPU while cores were free: goroutines can be
// runnable then without the CPU being saturated.
func (l LockSection) offCPUHandoffs() bool {
	d := l.CostDetail
	return d.CapacitySeconds > 0 && d.OffCPUSeconds >= 0.1*d.CapacitySeconds
}

// waitShareLine is the old lock fraction, labelled for what it is.
func (r *Report) waitShareLine() string {
	if !r.Lock.Known {
		return "lock wait share unknown"
	}
	return fmt.Sprintf("lock wait share %s of goroutine wait + user CPU time (%s) — not time lost: it counts waits that replaced a wait for a CPU",
		pct(r.Lock.Fraction), r.lockSource())
}

func (r *Report) textLocks(p *printer) {
	p.f("\nLOCK CONTENTION — %s\n", r.costHeadline())
	if e := r.costEstimate(); e != "" {
		p.f("  %s\n", e)
	}
	if w := r.waitersLine(); w != "" {
		p.f("  %s\n", w)
	}
	p.f("  %s\n", r.waitShareLine())
	if len(r.Lock.Components) == 0 {
		p.f("  no contended user lock sites in the window\n")
	}
	for _, c := range r.Lock.Components {
		p.f("  %s  cost %s%s, lock wait share %s, %s of lock delay, %s  [%s]\n",
			c.Name, r.componentCost(c), r.componentCostDetail(c), r.componentFraction(c), pct(c.Share),
			delayText(c.DelaySecondsPerSecond, c.DelaySeconds), strings.Join(c.Kinds, ", "))
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
	if len(r.Lock.Runtime) > 0 || r.Lock.CostDetail.RuntimeLockCPUSeconds > 0 {
		heaviest := ""
		if len(r.Lock.Runtime) > 0 {
			heaviest = ", heaviest " + r.Lock.Runtime[0].Function
		}
		cpu := "CPU unknown"
		if r.Lock.CostDetail.SyncCPUKnown {
			cpu = dur(r.Lock.CostDetail.RuntimeLockCPUSeconds) + " CPU"
		}
		p.f("  runtime-internal locks: %s, not in the cost%s (not user code)\n", cpu, heaviest)
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
	if r.Measured.Has(figure.GCCPUFraction) {
		p.f("  GC CPU %s of all CPU%s\n", pct(g.CPUFraction), r.assistText(", mark assists %s of it"))
	}
	if r.Measured.Has(figure.GCPauseP99) {
		p.f("  pauses p50 %s, p99 %s, max %s over %d cycles (%.3g/s)\n",
			dur(g.PauseP50Seconds), dur(g.PauseP99Seconds), dur(g.PauseMaxSeconds), g.Cycles, g.CyclesPerSecond)
	}
	if r.Measured.Has(figure.AllocRate) {
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
		p.f("    expected gain: %s\n", rec.gainText())
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
