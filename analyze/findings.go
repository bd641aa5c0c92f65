package analyze

import (
	"fmt"

	"github.com/contendr/contendr/collectors/figure"
	"github.com/contendr/contendr/collectors/gc"
	"github.com/contendr/contendr/collectors/mutex"
	"github.com/contendr/contendr/window"
)

// Finding units.
const (
	unitFraction = "fraction"
	unitSeconds  = "seconds"
	unitRate     = "rate"
)

// judge builds a finding of v against level.
func judge(id string, v float64, level Level, unit string) Finding {
	sev := level.Severity(v)
	return Finding{ID: id, Severity: sev, Value: v, Threshold: level.Limit(sev),
		Warn: level.Warn, Crit: level.Crit, Unit: unit}
}

// against says how a value stands to its limit, for messages.
func (f Finding) against() string {
	format := pct
	if f.Unit == unitSeconds {
		format = dur
	}
	switch f.Severity {
	case SeverityCrit:
		return "at or above the crit limit " + format(f.Crit)
	case SeverityWarn:
		return "at or above the warn limit " + format(f.Warn)
	}
	return "below the warn limit " + format(f.Warn)
}

// shortName names a finding in a verdict: "lock_fraction",
// "site_fraction main.(*Cache)".
func (f Finding) shortName() string {
	if f.Component != "" {
		return f.ID + " " + f.Component
	}
	return f.ID
}

// findings judges each headline number against its threshold. A component
// is never judged worse than the process: when the lock fraction is below
// warn no lock finding rises above ok.
func findings(w *window.Window, lock *mutex.Result, gcr *gc.Result, th Thresholds) []Finding {
	out := []Finding{}
	out = append(out, profilingFindings(w, lock, th)...)
	out = append(out, lockFindings(lock, th)...)
	out = append(out, gcFindings(gcr, th)...)
	out = append(out, growthFindings(gcr, th)...)
	return out
}

// profilingFindings say when a profile was off, so that "no sites" is not
// read as "no contention", and how to turn it on.
func profilingFindings(w *window.Window, lock *mutex.Result, th Thresholds) []Finding {
	if lock == nil {
		return nil
	}
	// Blind where it matters: warn when the process is known to wait on
	// locks (or we cannot tell), ok when locks are known to be cheap.
	sev := SeverityWarn
	if c := lock.Cost; c.Known && !c.LowerBound && c.Value < th.ContentionCost.Warn {
		sev = SeverityOK
	}
	var out []Finding
	if disabled(lock.MutexProfileEnabled, w.Meta.MutexProfileFraction, w.Profile(window.Mutex) != nil) {
		out = append(out, Finding{
			ID: FindingProfilingDisabled, Severity: sev, Value: float64(max(w.Meta.MutexProfileFraction, 0)),
			Threshold: 1, Warn: 1, Crit: 1, Unit: unitRate, Component: "mutex",
			Message: "mutex profiling was off (runtime.SetMutexProfileFraction is 0), so lock holders cannot be named: " +
				"call runtime.SetMutexProfileFraction(5) in the target, or embed the contendr agent, which sets it",
		})
	}
	if disabled(lock.BlockProfileEnabled, w.Meta.BlockProfileRate, w.Profile(window.Block) != nil) {
		out = append(out, Finding{
			ID: FindingProfilingDisabled, Severity: sev, Value: float64(max(w.Meta.BlockProfileRate, 0)),
			Threshold: 1, Warn: 1, Crit: 1, Unit: unitRate, Component: "block",
			Message: "block profiling was off (runtime.SetBlockProfileRate is 0), so lock waiters cannot be named: " +
				"call runtime.SetBlockProfileRate(10000) (one event per 10µs blocked) in the target, or embed the contendr agent",
		})
	}
	return out
}

// disabled trusts a known rate first, then the collector's verdict; an
// unknown rate with no profile at all is a gap the notes explain, not a
// disabled profiler.
func disabled(collectorEnabled bool, rate int, present bool) bool {
	switch {
	case rate == 0:
		return true
	case rate == window.Unknown:
		return present && !collectorEnabled
	}
	return !collectorEnabled && present
}

// allocRate is the window's allocation in bytes per second: measured, or
// else read back from a growth's rate and share; false when unknown.
func allocRate(gcr *gc.Result, cg *componentGrowth) (float64, bool) {
	if gcr.Measured.Has(figure.AllocRate) {
		return gcr.Pressure.AllocBytesPerSecond, true
	}
	if cg.BytesPerSecond > 0 && cg.Share > 0 {
		return cg.BytesPerSecond / cg.Share, true
	}
	return 0, false
}

// lockFindings judge the contention cost, process-wide and per
// component. A lower bound below the warn limit judges nothing (it cannot
// say the cost is low), so it raises no finding: the lock section and the
// notes say what is missing. The lock wait share is quoted as context.
func lockFindings(lock *mutex.Result, th Thresholds) []Finding {
	if lock == nil || !lock.Cost.Known {
		return nil
	}
	c := lock.Cost
	head := judge(FindingContentionCost, c.Value, th.ContentionCost, unitFraction)
	head.Estimated, head.LowerBound = c.Estimated, c.LowerBound
	if c.LowerBound && head.Severity == SeverityOK {
		return nil
	}
	at := ""
	if c.LowerBound {
		at = "at least "
	}
	head.Message = fmt.Sprintf("locks cost %s%s of the CPU capacity (GOMAXPROCS × window = %s): %s, %s; %s%s",
		at, pct(c.Value), dur(c.CapacitySeconds), syncCPUText(c), idleLostText(c), head.against(), estimateText(c))
	if lf := lock.LockFraction; lf.Known {
		head.Message += fmt.Sprintf("; context, not time lost: lock wait share %s", pct(lf.Value))
		if lock.Waiters.Known {
			head.Message += fmt.Sprintf(", %s goroutines blocked on locks on average", trim(lock.Waiters.Average))
		}
	}
	out := []Finding{head}

	for _, comp := range lock.Components[:min(len(lock.Components), maxSiteFindings)] {
		if comp.Cost <= 0 {
			continue
		}
		f := judge(FindingComponentCost, comp.Cost, th.ComponentCost, unitFraction)
		f.Severity = minSeverity(f.Severity, head.Severity)
		f.Threshold = th.ComponentCost.Limit(f.Severity)
		f.Component, f.Estimated, f.LowerBound = comp.Name, c.Estimated, c.LowerBound
		f.Message = fmt.Sprintf("%s alone: its locks cost %s%s of the CPU capacity (%s CPU in lock primitives, %s of Ps idle while it was %s of all lock delay), %s%s",
			comp.Name, at, pct(comp.Cost), dur(comp.SyncCPUSeconds), dur(comp.IdleLostSeconds), pct(comp.Share), f.against(), holderWaiter(comp))
		out = append(out, f)
	}

	if c.SyncCPUKnown && c.RuntimeLockCPUSeconds > 0 && c.CapacitySeconds > 0 {
		v := c.RuntimeLockCPUSeconds / c.CapacitySeconds
		f := judge(FindingRuntimeLockCost, v, th.ComponentCost, unitFraction)
		f.Severity = minSeverity(f.Severity, head.Severity)
		f.Threshold = th.ComponentCost.Limit(f.Severity)
		f.Component, f.Estimated = "runtime", c.Estimated
		f.Message = fmt.Sprintf("runtime-internal locks (scheduler, allocator, channels' runtime locks) took %s of the CPU capacity, %s; "+
			"not in the contention cost and not user code — reduce goroutine churn or allocation rather than changing a map", pct(v), f.against())
		out = append(out, f)
	}
	return out
}

// syncCPUText is the CPU half of a cost, in words.
func syncCPUText(c mutex.Cost) string {
	if !c.SyncCPUKnown {
		return "CPU inside lock primitives unknown (no CPU profile)"
	}
	return dur(c.SyncCPUSeconds) + " CPU inside lock primitives"
}

// idleLostText is the idle half of a cost, in words.
func idleLostText(c mutex.Cost) string {
	switch {
	case c.IdleSource == "":
		return "idle Ps unknown"
	case c.LowerBound && c.SyncCPUKnown:
		return fmt.Sprintf("lock wait unknown, so none of the %s of idle Ps is blamed on locks", dur(c.IdleSeconds))
	}
	offCPU := ""
	if c.OffCPUSeconds > 0 {
		offCPU = fmt.Sprintf(" + %s of Ps whose threads slept off the CPU while cores were free", dur(c.OffCPUSeconds))
	}
	return fmt.Sprintf("%s of Ps idle while goroutines waited on locks (idle %s from %s%s, lock wait %s)",
		dur(c.IdleLostSeconds), dur(c.IdleSeconds), c.IdleSource, offCPU, dur(c.WaitSeconds))
}

// estimateText says why a cost is estimated, for a message.
func estimateText(c mutex.Cost) string {
	switch {
	case c.LowerBound:
		return " (a lower bound: " + orDefault(c.Reason, "a half had no source") + ")"
	case c.Estimated:
		return " (estimated: " + orDefault(c.Reason, "a half was not measured directly") + ")"
	}
	return ""
}

// holderWaiter says who makes whom wait in one component, for a message.
func holderWaiter(c *mutex.Component) string {
	if hw := holdsWaits(holderAndWaiter(c)); hw != "" {
		return "; " + hw
	}
	return ""
}

func gcFindings(gcr *gc.Result, th Thresholds) []Finding {
	g := gcSection(gcr)
	if !g.Known {
		return nil
	}
	got := gcr.Measured
	est := func(f figure.Figure) string {
		if st := got.Get(f); st.State == figure.Estimated {
			return " (estimated " + st.Reason + ")"
		}
		return ""
	}
	var out []Finding
	if got.Has(figure.GCCPUFraction) {
		f := judge(FindingGCCPUFraction, g.CPUFraction, th.GCCPUFraction, unitFraction)
		f.Estimated = got.Estimated(figure.GCCPUFraction)
		assists := ""
		if got.Has(figure.GCAssistShare) {
			assists = fmt.Sprintf(" (%s of it in mark assists that stall allocating goroutines)", pct(g.AssistShare))
		}
		f.Message = fmt.Sprintf("the GC used %s of all CPU in the window%s, %s%s",
			pct(g.CPUFraction), assists, f.against(), est(figure.GCCPUFraction))
		out = append(out, f)
	}
	if got.Has(figure.GCPauseP99) && (g.Cycles > 0 || g.PauseP99Seconds > 0) {
		f := judge(FindingGCPauseP99, g.PauseP99Seconds, th.GCPauseP99, unitSeconds)
		f.Estimated = got.Estimated(figure.GCPauseP99)
		f.Message = fmt.Sprintf("99%% of stop-the-world GC pauses were at most %s (max %s, %d cycles), %s%s",
			dur(g.PauseP99Seconds), dur(g.PauseMaxSeconds), g.Cycles, f.against(), est(figure.GCPauseP99))
		out = append(out, f)
	}
	return out
}

// MinJudgedAllocRate is the allocation rate below which no map growth
// share is judged: a share of almost nothing is not a finding. Why 10 MiB/s:
// at GOGC=100 the heap goal is twice the live heap, so each cycle marks
// about as many bytes as were allocated since the last one, and marking
// runs at the order of 1 GB/s per core — below 10 MiB/s the GC a map's
// growth can drive costs under about 1% of one core. Measured: maplab's
// rwmutex map on write-heavy allocated 1.3 MiB/s, 100% of it map growth,
// with the GC at 0.025% of the CPU (contendr analyze, GOMAXPROCS 2).
const MinJudgedAllocRate = 10 << 20

// growthFindings judges each component's map growth by its share of the
// window's allocation. A share says where the allocation goes, not what it
// costs: below MinJudgedAllocRate it is not judged at all, and when the
// GC's CPU fraction is measured and below its warn limit, a growth finding
// is at most a warning, however large its share.
func growthFindings(gcr *gc.Result, th Thresholds) []Finding {
	g := gcSection(gcr)
	cheapGC := gcr != nil && gcr.Measured.Has(figure.GCCPUFraction) && g.CPUFraction < th.GCCPUFraction.Warn
	var out []Finding
	for _, cg := range growthByComponent(gcr) {
		if len(out) == maxSiteFindings || cg.Share <= 0 {
			break
		}
		if rate, ok := allocRate(gcr, cg); ok && rate < MinJudgedAllocRate {
			continue
		}
		f := judge(FindingMapGrowthShare, cg.Share, th.MapGrowthShare, unitFraction)
		f.Component = cg.Component
		top := cg.Entries[0]
		capped := ""
		if cheapGC && f.Severity == SeverityCrit {
			f.Severity, f.Threshold = SeverityWarn, th.MapGrowthShare.Warn
			capped = fmt.Sprintf("; a warning, not critical: the GC took %s of the CPU, below its warn limit %s", pct(g.CPUFraction), pct(th.GCCPUFraction.Warn))
		}
		f.Message = fmt.Sprintf("%s's map grew or copied itself for %s of all allocation (%s, mostly %s in %s), %s%s",
			cg.Component, pct(cg.Share), bytesText(cg.BytesPerSecond, cg.Bytes), top.Kind, top.Function, f.against(), capped)
		out = append(out, f)
	}
	return out
}
