package analyze

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/contendr/contendr/collectors/figure"
	"github.com/contendr/contendr/collectors/gc"
	"github.com/contendr/contendr/collectors/mutex"
	"github.com/contendr/contendr/window"
)

// Input is what a report is about: the window analyzed, the window before
// it (for in-use growth across windows; may be nil) and the target as the
// user named it (a URL or path; Window.Meta.Source when empty).
type Input struct {
	Window   *window.Window
	Previous *window.Window
	Target   string
}

// Report size limits: enough to act on, small enough for a PR comment.
const (
	maxSites           = 20
	maxComponents      = 10
	maxRecommendations = 8
	maxStackFrames     = 12
	maxSiteFindings    = 5
)

// Build judges collector results against th. lock and gcr may be nil (a
// collector failed or had nothing to read); the report then says so. It is
// a pure function: the window is only read, for its metadata and for the
// CPU and contention stacks that measure each component's workload.
func Build(in Input, lock *mutex.Result, gcr *gc.Result, th Thresholds) *Report {
	w := in.Window
	if w == nil {
		w = &window.Window{}
	}
	lock, reconciled := reconcile(lock)
	r := &Report{
		Schema:          Schema,
		Measured:        measuredOf(lock, gcr),
		Target:          targetOf(in, w),
		Window:          windowInfo(w, lock, gcr),
		Lock:            lockSection(lock),
		GC:              gcSection(gcr),
		MapGrowth:       mapGrowth(gcr),
		Findings:        []Finding{},
		Recommendations: []Recommendation{},
		Notes:           []string{},
	}
	r.Findings = findings(w, lock, gcr, th)
	r.Recommendations = recommend(w, lock, gcr, th)
	r.Notes = notes(w, lock, gcr)
	if reconciled != "" {
		r.Notes = append(r.Notes, reconciled)
	}
	r.WorstSeverity = r.Worst()
	r.Verdict = verdict(r)
	return r
}

func targetOf(in Input, w *window.Window) Target {
	t := Target{
		Source:     w.Meta.Source,
		GoVersion:  w.Meta.GoVersion,
		GOMAXPROCS: w.Meta.GOMAXPROCS,
		NumCPU:     w.Meta.NumCPU,
		Goroutines: w.Meta.Goroutines,
		Labels:     w.Meta.Labels,
	}
	if in.Target != "" {
		t.Source = in.Target
	}
	if t.Labels == nil {
		t.Labels = map[string]string{}
	}
	return t
}

func windowInfo(w *window.Window, lock *mutex.Result, gcr *gc.Result) WindowInfo {
	info := WindowInfo{
		ID:             w.ID,
		Seconds:        w.Seconds(),
		Restarted:      w.Meta.Restarted,
		Profiles:       []string{},
		RuntimeMetrics: w.Metrics != nil,
	}
	if !w.Start.IsZero() && !w.End.IsZero() {
		start, end := w.Start.UTC(), w.End.UTC()
		info.Start, info.End = &start, &end
	}
	// Hand-built or file windows may lack times; the collectors know the
	// length they used.
	if info.Seconds <= 0 && lock != nil {
		info.Seconds = lock.WindowSeconds
	}
	if info.Seconds <= 0 && gcr != nil {
		info.Seconds = gcr.WindowSeconds
	}
	for _, k := range window.Kinds {
		if w.Profile(k) != nil {
			info.Profiles = append(info.Profiles, string(k))
		}
	}
	return info
}

func lockSection(lock *mutex.Result) LockSection {
	s := LockSection{Sites: []LockSite{}, Components: []LockComponent{}, Runtime: []LockSite{}}
	if lock == nil {
		return s
	}
	c := lock.Cost
	s.Cost, s.CostKnown, s.CostEstimated, s.CostLowerBound, s.CostReason = c.Value, c.Known, c.Estimated, c.LowerBound, c.Reason
	s.CostDetail = CostDetail{
		CapacitySeconds: c.CapacitySeconds, SyncCPUSeconds: c.SyncCPUSeconds, SyncCPUKnown: c.SyncCPUKnown,
		CPUProfileSeconds: c.CPUProfileSeconds, RuntimeLockCPUSeconds: c.RuntimeLockCPUSeconds,
		IdleSeconds: c.IdleSeconds, IdleSource: string(c.IdleSource), OffCPUSeconds: c.OffCPUSeconds,
		WaitSeconds: c.WaitSeconds, IdleLostSeconds: c.IdleLostSeconds,
	}
	s.Waiters, s.WaitersKnown = lock.Waiters.Average, lock.Waiters.Known
	s.Runnable, s.RunnableKnown = lock.Waiters.Runnable, lock.Waiters.RunnableKnown
	lf := lock.LockFraction
	s.Fraction, s.Known, s.Estimated, s.EstimateReason = lf.Value, lf.Known, lf.Estimated, lf.Reason
	s.WaitSeconds, s.UserCPUSeconds = lf.WaitSeconds, lf.UserCPUSeconds
	s.MutexProfileEnabled, s.BlockProfileEnabled = lock.MutexProfileEnabled, lock.BlockProfileEnabled
	for _, site := range lock.Sites[:min(len(lock.Sites), maxSites)] {
		s.Sites = append(s.Sites, lockSite(site))
	}
	for _, site := range lock.Runtime[:min(len(lock.Runtime), maxSites)] {
		s.Runtime = append(s.Runtime, lockSite(site))
	}
	for _, c := range lock.Components[:min(len(lock.Components), maxComponents)] {
		lc := LockComponent{
			Name:                  c.Name,
			Kinds:                 kindStrings(c.Kinds),
			DelaySecondsPerSecond: c.DelaySecondsPerSecond,
			DelaySeconds:          componentDelay(c),
			Cost:                  c.Cost,
			SyncCPUSeconds:        c.SyncCPUSeconds,
			IdleLostSeconds:       c.IdleLostSeconds,
			Fraction:              c.Fraction,
			Share:                 c.Share,
			ReadDelaySeconds:      c.ReadDelaySeconds,
			WriteDelaySeconds:     c.WriteDelaySeconds,
		}
		lc.Holder, lc.Waiter = holderAndWaiter(c)
		s.Components = append(s.Components, lc)
	}
	return s
}

// reconcile keeps per-component fractions consistent with the process-wide
// lock fraction. Both divide by wait + user CPU, but the delay comes from
// the profiles and the process figure from the runtime's counter (or an
// estimate); when the profiles cover more than the counter — a user-CPU
// estimate, cumulative profiles without a delta — a component could show
// 120% of goroutine time. The counter is the authority for the total, the
// profiles for how it splits: fraction = share × lock fraction. The
// caller's result is not modified; the note says what was done.
func reconcile(lock *mutex.Result) (*mutex.Result, string) {
	if lock == nil || !lock.LockFraction.Known || len(lock.Components) == 0 {
		return lock, ""
	}
	lf := lock.LockFraction.Value
	top := lock.Components[0]
	if top.Fraction <= max(lf*1.25, lf+0.02) {
		return lock, ""
	}
	note := fmt.Sprintf("the profiles and the lock counter disagree: the profiles put %s at %s of goroutine time, more than the process-wide %s; "+
		"component and site fractions are shown as their share of lock delay × the process-wide lock fraction", top.Name, pct(top.Fraction), pct(lf))
	out := *lock
	scaled := map[*mutex.Site]*mutex.Site{}
	scale := func(sites []*mutex.Site) []*mutex.Site {
		res := make([]*mutex.Site, len(sites))
		for i, s := range sites {
			if scaled[s] == nil {
				c := *s
				c.Fraction = s.Share * lf
				scaled[s] = &c
			}
			res[i] = scaled[s]
		}
		return res
	}
	out.Sites = scale(lock.Sites)
	out.Components = make([]*mutex.Component, len(lock.Components))
	for i, c := range lock.Components {
		cc := *c
		cc.Fraction = c.Share * lf
		cc.Holders, cc.Waiters = scale(c.Holders), scale(c.Waiters)
		out.Components[i] = &cc
	}
	return &out, note
}

// componentDelay is a component's delay over the window: the larger side's
// total, as the collector does for the rate.
func componentDelay(c *mutex.Component) float64 {
	var holders, waiters float64
	for _, s := range c.Holders {
		holders += s.DelaySeconds
	}
	for _, s := range c.Waiters {
		waiters += s.DelaySeconds
	}
	return max(holders, waiters)
}

// holderAndWaiter names the heaviest holder and the heaviest waiter that
// is not the holder itself, so that "Set holds the lock that Get waits on"
// names two parties whenever the profiles show two.
func holderAndWaiter(c *mutex.Component) (holder, waiter string) {
	if len(c.Holders) > 0 {
		holder = c.Holders[0].Function
	}
	for _, s := range c.Waiters {
		if s.Function != holder {
			return holder, s.Function
		}
	}
	if len(c.Waiters) > 0 {
		waiter = c.Waiters[0].Function
	}
	return holder, waiter
}

// holdsWaits says who makes whom wait, in words.
func holdsWaits(holder, waiter string) string {
	switch {
	case holder != "" && holder == waiter:
		return holder + " contends with itself: goroutines running it both hold and wait on the lock"
	case holder != "" && waiter != "":
		return holder + " holds the lock that " + waiter + " waits on"
	case holder != "":
		return "held by " + holder
	case waiter != "":
		return waiter + " waits on it"
	}
	return ""
}

func lockSite(site *mutex.Site) LockSite {
	ls := LockSite{
		Component:             site.Component,
		Function:              site.Function,
		Kind:                  string(site.Kind),
		Side:                  string(site.Side),
		Primitive:             site.Primitive,
		DelaySecondsPerSecond: site.DelaySecondsPerSecond,
		ContentionsPerSecond:  site.ContentionsPerSecond,
		DelaySeconds:          site.DelaySeconds,
		Contentions:           site.Contentions,
		Share:                 site.Share,
		Fraction:              site.Fraction,
	}
	if len(site.Stacks) > 0 {
		frames := site.Stacks[0].Frames
		ls.Stack = slices.Clone(frames[:min(len(frames), maxStackFrames)])
	}
	return ls
}

func kindStrings(kinds []mutex.Kind) []string {
	out := make([]string, len(kinds))
	for i, k := range kinds {
		out[i] = string(k)
	}
	return out
}

func gcSection(gcr *gc.Result) GCSection {
	if gcr == nil {
		return GCSection{}
	}
	p := gcr.Pressure
	return GCSection{
		Known:                 p.Source != "",
		Source:                p.Source,
		Estimated:             slices.ContainsFunc(figure.GC, gcr.Measured.Estimated),
		CPUFraction:           p.CPUFraction,
		AssistShare:           p.AssistShare,
		PauseP50Seconds:       p.PauseP50Seconds,
		PauseP99Seconds:       p.PauseP99Seconds,
		PauseMaxSeconds:       p.PauseMaxSeconds,
		Cycles:                p.Cycles,
		CyclesPerSecond:       p.CyclesPerSecond,
		AllocBytesPerSecond:   p.AllocBytesPerSecond,
		AllocObjectsPerSecond: p.AllocObjectsPerSecond,
		HeapLiveBytes:         p.HeapLiveBytes,
		HeapGoalBytes:         p.HeapGoalBytes,
		GOGC:                  p.GOGC,
		GOMEMLIMIT:            p.GOMEMLIMIT,
		Missing:               missingText(gcr.Measured, figure.GC),
	}
}

// missingText says, "figure: reason", which of figures got lacks: the
// report's old GC "missing" list, kept for its readers (Report.Measured
// holds the same, typed).
func missingText(got figure.Set, figures []figure.Figure) []string {
	var out []string
	for _, f := range figures {
		if st := got.Get(f); !st.Has() {
			out = append(out, string(f)+": "+st.Reason)
		}
	}
	return out
}

// missingByReason says which of figures got lacks, grouped by reason:
// "gogc, gomemlimit (not in MemStats); …".
func missingByReason(got figure.Set, figures []figure.Figure) string {
	var reasons []string
	byReason := map[string][]string{}
	for _, f := range figures {
		if st := got.Get(f); !st.Has() {
			if byReason[st.Reason] == nil {
				reasons = append(reasons, st.Reason)
			}
			byReason[st.Reason] = append(byReason[st.Reason], string(f))
		}
	}
	parts := make([]string, len(reasons))
	for i, r := range reasons {
		parts[i] = strings.Join(byReason[r], ", ") + " (" + r + ")"
	}
	return strings.Join(parts, "; ")
}

// measuredOf is what the window measured, from both collectors.
func measuredOf(lock *mutex.Result, gcr *gc.Result) figure.Set {
	if gcr == nil {
		got := figure.Set{}
		got.Miss("the GC collector did not run on this window", append(slices.Clone(figure.GC), figure.MapGrowth)...)
		return figure.Merge(lock.Measured(), got)
	}
	return figure.Merge(lock.Measured(), gcr.Measured)
}

func mapGrowth(gcr *gc.Result) []MapGrowth {
	out := []MapGrowth{}
	if gcr == nil {
		return out
	}
	for _, g := range gcr.MapGrowth {
		out = append(out, MapGrowth{
			Component:        g.Component,
			Function:         g.Function,
			Kind:             string(g.Kind),
			Bytes:            g.Bytes,
			BytesPerSecond:   g.BytesPerSecond,
			ObjectsPerSecond: g.ObjectsPerSecond,
			ShareOfAlloc:     g.ShareOfAlloc,
			InUseGrowthBytes: g.InUseGrowthBytes,
			Inferred:         g.Inferred,
		})
	}
	return out
}

// growthByComponent sums map growth per component, largest share first.
type componentGrowth struct {
	Component      string
	Share          float64
	BytesPerSecond float64
	Bytes          int64
	Kinds          []gc.GrowthKind
	Entries        []*gc.MapGrowth
}

func growthByComponent(gcr *gc.Result) []*componentGrowth {
	if gcr == nil {
		return nil
	}
	byName := map[string]*componentGrowth{}
	var out []*componentGrowth
	for _, g := range gcr.MapGrowth {
		cg := byName[g.Component]
		if cg == nil {
			cg = &componentGrowth{Component: g.Component}
			byName[g.Component] = cg
			out = append(out, cg)
		}
		cg.Share += g.ShareOfAlloc
		cg.BytesPerSecond += g.BytesPerSecond
		cg.Bytes += g.Bytes
		if !slices.Contains(cg.Kinds, g.Kind) {
			cg.Kinds = append(cg.Kinds, g.Kind)
		}
		cg.Entries = append(cg.Entries, g)
	}
	slices.SortStableFunc(out, func(a, b *componentGrowth) int { return cmp.Compare(b.Share, a.Share) })
	return out
}

// notes gathers what the window and the collectors say they lack, once
// each, in that order.
func notes(w *window.Window, lock *mutex.Result, gcr *gc.Result) []string {
	out := []string{}
	add := func(n string) {
		if n != "" && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	if w.Meta.Restarted {
		add("the target restarted during the window: its counters start from a new baseline, so this window covers less than its length")
	}
	for _, n := range w.Notes {
		add(n)
	}
	if w.Meta.MemProfileRate == 0 && w.Profile(window.Allocs) == nil {
		add("allocation profiling was off (runtime.MemProfileRate = 0), so map growth cannot be attributed: " +
			"leave MemProfileRate at its default (one sample per 512 KiB) in the target")
	}
	if lock == nil {
		add("no lock figures: the mutex collector did not run on this window")
	} else {
		switch c := lock.Cost; {
		case !c.Known:
			add("the contention cost is unknown: " + orDefault(c.Reason, "the window has neither a CPU profile nor idle time and lock wait to compute it from"))
		case c.LowerBound:
			add("the contention cost is a lower bound: " + orDefault(c.Reason, "a half of it had no source"))
		case c.Estimated:
			add("the contention cost is an estimate: " + orDefault(c.Reason, "a half of it was not measured directly"))
		}
		lf := lock.LockFraction
		switch {
		case !lf.Known:
			add("the lock wait share is unknown: the window has neither runtime/metrics nor a mutex/block profile with a CPU profile to estimate it from")
		case lf.Estimated:
			add("the lock wait share is an estimate: " + orDefault(lf.Reason, "the window had no runtime/metrics"))
		}
		for _, n := range lock.Notes {
			add(n)
		}
	}
	if gcr == nil {
		add("no GC figures: the GC collector did not run on this window")
	} else {
		for _, f := range figure.GC {
			if st := gcr.Measured.Get(f); st.State == figure.Estimated {
				add(fmt.Sprintf("%s is estimated: %s", f, st.Reason))
			}
		}
		if missing := missingByReason(gcr.Measured, figure.GC); missing != "" {
			add("GC figures the source could not provide: " + missing)
		}
		for _, n := range gcr.Notes {
			add(n)
		}
	}
	return out
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// verdict says, in the words an engineer would use in a review: how bad,
// where the time goes, what crossed its limit and what to fix first. The
// contention cost is the headline; the lock waiters are latency context.
func verdict(r *Report) string {
	var where []string
	l := r.Lock
	switch {
	case l.CostKnown:
		s := fmt.Sprintf("locks cost %s of the CPU capacity%s", l.costText(), l.costQualifier())
		if len(l.Components) > 0 && l.Cost > 0 && l.Components[0].Cost >= 0.5*l.Cost {
			s += fmt.Sprintf(", %s of it in %s", pct(min(l.Components[0].Cost/l.Cost, 1)), l.Components[0].Name)
		}
		if l.WaitersKnown {
			s += fmt.Sprintf(" (%s goroutines blocked on locks on average)", trim(l.Waiters))
		}
		where = append(where, s)
	case len(l.Components) > 0:
		c := l.Components[0]
		where = append(where, fmt.Sprintf("the contention cost is unknown, but %s accounts for %s of all lock delay (%s)",
			c.Name, pct(c.Share), delayText(c.DelaySecondsPerSecond, c.DelaySeconds)))
	default:
		where = append(where, "the contention cost is unknown")
	}
	if r.Measured.Has(figure.GCCPUFraction) {
		where = append(where, fmt.Sprintf("the GC takes %s of CPU", pct(r.GC.CPUFraction)))
	}

	var sb strings.Builder
	sb.WriteString(strings.ToUpper(string(r.WorstSeverity)) + ": " + strings.Join(where, "; "))
	if r.WorstSeverity == SeverityOK {
		sb.WriteString(". Nothing crosses a warn limit")
	} else {
		var over []string
		for _, f := range r.Findings {
			if f.Severity != SeverityOK {
				over = append(over, fmt.Sprintf("%s (%s)", f.shortName(), f.Severity))
			}
		}
		sb.WriteString(". Over the limit: " + strings.Join(unique(over), ", "))
	}
	for _, rec := range r.Recommendations {
		if rec.Recommended == StrategyKeep {
			continue
		}
		fmt.Fprintf(&sb, ". Fix first: %s %s → %s", rec.Component, rec.Current, rec.Recommended)
		// Say what the change is aimed at, not what it will win: the
		// component's cost is an upper bound of the gain.
		if g := rec.Gain.Cost; g > 0 {
			at := ""
			if r.Lock.CostLowerBound {
				at = "at least "
			}
			fmt.Fprintf(&sb, " (its locks cost %s%s of the CPU capacity)", at, pct(g))
		} else if g := rec.Gain.AllocShare; g > 0 {
			fmt.Fprintf(&sb, " (its map growth is %s of allocation)", pct(g))
		}
		break
	}
	sb.WriteString(".")
	return sb.String()
}

// costText is the cost as a reader should quote it: "at least 2.00%" for
// a lower bound.
func (l LockSection) costText() string {
	if l.CostLowerBound {
		return "at least " + pct(l.Cost)
	}
	return pct(l.Cost)
}

// costQualifier marks an estimate in a sentence: " (estimated)".
func (l LockSection) costQualifier() string {
	switch {
	case l.CostLowerBound:
		return " (a lower bound)"
	case l.CostEstimated:
		return " (estimated)"
	}
	return ""
}

func unique(xs []string) []string {
	var out []string
	for _, x := range xs {
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}
