package analyze

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/contendr/contendr/collectors/stacks"
	"github.com/contendr/contendr/internal/symbol"

	"github.com/contendr/contendr/collectors/gc"
	"github.com/contendr/contendr/collectors/mutex"
	"github.com/contendr/contendr/window"
)

// candidate is one component a recommendation may speak about.
type candidate struct {
	name   string
	lock   *mutex.Component // nil when no contention or lock CPU was listed
	growth *componentGrowth // nil when no growth was seen
	// cpuShare is the part of the window's sampled CPU the component spent
	// in lock primitives and in its own map operations; 0 below
	// MinCandidateCPUShare or without a CPU profile.
	cpuShare float64
	weight   float64 // for ordering: component cost (or lock wait share) + growth share, else cpuShare
}

// MinCandidateCPUShare is the part of the window's sampled CPU a component
// must spend inside lock primitives and its own map operations (the
// runtime's map, sync.Map, maps.Clone directly under its frames) to be
// considered when nothing else — contention, map growth — names it. A
// strategy change gives back at most that CPU, and maplab's repeated runs
// of one cell differ by more than 5% on this machine, so below it no
// advice could be told from noise; above it an uncontended lock's fast
// path (an RWMutex whose readers bounce one cache line, golang/go#17973)
// is a real cost that no mutex profile shows.
const MinCandidateCPUShare = 0.05

// recommend picks a map strategy for every component that guards a map
// (lock kinds) or grows one (map growth), heaviest first.
func recommend(w *window.Window, lock *mutex.Result, gcr *gc.Result, th Thresholds) []Recommendation {
	out := []Recommendation{}
	for _, c := range candidates(lock, gcr) {
		if len(out) == maxRecommendations {
			break
		}
		if rec, ok := recommendOne(w, lock, c, th); ok {
			out = append(out, rec)
		}
	}
	return out
}

func candidates(lock *mutex.Result, gcr *gc.Result) []*candidate {
	byName := map[string]*candidate{}
	var out []*candidate
	get := func(name string) *candidate {
		if c := byName[name]; c != nil {
			return c
		}
		c := &candidate{name: name}
		byName[name] = c
		out = append(out, c)
		return c
	}
	if lock != nil {
		// The cost ranks components by what their locks cost the process;
		// without it, the lock wait share is the only ranking there is.
		costed := lock.Cost.Known && !lock.Cost.LowerBound
		for _, lc := range lock.Components {
			if guardsMap(lc) {
				c := get(lc.Name)
				c.lock = lc
				if costed {
					c.weight += lc.Cost
				} else {
					c.weight += lc.Fraction
				}
			}
		}
	}
	for _, cg := range growthByComponent(gcr) {
		c := get(cg.Component)
		c.growth = cg
		c.weight += cg.Share
	}
	for _, cc := range cpuCandidates(lock) {
		c := get(cc.name)
		c.cpuShare = cc.share
		if c.weight == 0 {
			c.weight = cc.share
		}
	}
	slices.SortStableFunc(out, func(a, b *candidate) int { return cmp.Compare(b.weight, a.weight) })
	return out
}

type cpuCandidate struct {
	name  string
	share float64
}

// cpuCandidates are the user components whose CPU inside lock primitives
// and their own map operations reaches MinCandidateCPUShare of the
// window's sampled CPU, by name.
func cpuCandidates(lock *mutex.Result) []cpuCandidate {
	if lock == nil || lock.Attribution == nil || !lock.Attribution.CPU.Present || lock.Attribution.CPU.TotalNanos <= 0 {
		return nil
	}
	total := float64(lock.Attribution.CPU.TotalNanos)
	var out []cpuCandidate
	for name, sc := range lock.Attribution.Components {
		share := float64(sc.SyncCPUNanos+sc.MapCPUNanos) / total
		if share >= MinCandidateCPUShare && userComponent(name) {
			out = append(out, cpuCandidate{name, share})
		}
	}
	slices.SortFunc(out, func(a, b cpuCandidate) int { return strings.Compare(a.name, b.name) })
	return out
}

// userComponent tells a component of user code (main, or a module path)
// from the runtime's and the standard library's.
func userComponent(name string) bool {
	pkg := symbol.Parse(name + ".f").Pkg
	first, _, _ := strings.Cut(pkg, "/")
	return pkg == "main" || strings.Contains(first, ".")
}

// recommendOne measures the component's workload, runs the rule table and
// writes the recommendation with its evidence. It declines (ok false) a
// component that shows no sign of guarding a map and is not contended — a
// logger's mutex needs no map advice.
func recommendOne(w *window.Window, lock *mutex.Result, c *candidate, th Thresholds) (Recommendation, bool) {
	var growth []*gc.MapGrowth
	if c.growth != nil {
		growth = c.growth.Entries
	}
	var sc *stacks.Component
	if lock != nil && lock.Attribution != nil {
		sc = lock.Attribution.Component(c.name)
	}
	current, currentWhy := currentStrategy(identityOf(c, sc, growth))
	wl, tally := measureWorkload(w, lock, c, th)
	if current == StrategyCOW {
		wl.clonesHideMix()
	}
	// Map frames, map-like method names (Get, Store, …) or the strategy
	// itself say the lock guards a map.
	mapEvidence := c.growth != nil || current == StrategySyncMap || current == StrategySyncMapLegacy ||
		current == StrategyCOW || current == StrategySharded || tally.cpu.Total() > 0 || tally.contention.Total() > 0 ||
		(sc != nil && sc.MapCPUNanos > 0)
	if !mapEvidence && !wl.Contention.AtLeast(SeverityWarn) {
		return Recommendation{}, false
	}
	f := &facts{
		Component:      c.name,
		Current:        current,
		Go:             parseGoVersion(w.Meta.GoVersion),
		Mix:            wl.Mix,
		ReadShare:      wl.ReadShare,
		MixSource:      wl.ReadShareSource,
		MixNote:        wl.MixNote,
		Regime:         wl.Regime,
		MultiOp:        wl.MultiOpMethods,
		Class:          classifyRegime(wl.Regime, w.Meta.GOMAXPROCS, w.Meta.Goroutines),
		CPUShare:       c.cpuShare,
		Contention:     wl.Contention,
		Cost:           wl.Cost,
		CostKnown:      lock != nil && lock.Cost.Known,
		CostLowerBound: lock != nil && lock.Cost.LowerBound,
		Fraction:       wl.Fraction,
		Growth:         th.MapGrowthShare.Severity(wl.GrowthShare),
		GrowthShare:    wl.GrowthShare,
		Range:          wl.Range,
		Goroutines:     wl.Goroutines,
		Procs:          wl.GOMAXPROCS,
		SyncMapFrames:  usesSyncMap(lock, c),
	}
	if cpu := tally.cpu.Total(); cpu > 0 {
		f.RLockCPUShare = tally.cpuRLock / cpu
	}
	if c.growth != nil {
		f.GrowthKinds = c.growth.Kinds
	}
	// A component is never more contended than the process (the same cap
	// the findings apply).
	switch {
	case lock != nil && costMeasured(lock):
		f.Contention = minSeverity(f.Contention, th.ContentionCost.Severity(lock.Cost.Value))
	case lock != nil && lock.LockFraction.Known && !(c.lock == nil && c.cpuShare > 0):
		// The wait share cannot cap a component judged by its lock CPU
		// alone: uncontended reader-count traffic waits on nothing.
		f.Contention = minSeverity(f.Contention, th.LockFraction.Severity(lock.LockFraction.Value))
	}
	wl.Contention = f.Contention
	wl.RegimeClass = f.Class.Name()

	r := decide(f)
	rec := Recommendation{
		Component:   c.name,
		Current:     current,
		Recommended: r.Recommend(f),
		Rule:        r.ID,
		Confidence:  confidence(r, f, lock),
		Reasons:     []string{r.Reason(f)},
		Evidence:    evidence(c, f, currentWhy, wl, tally, lock),
		Workload:    wl,
	}
	if rec.Recommended == rec.Current {
		rec.Recommended = StrategyKeep
	}
	rec.Reasons = append(rec.Reasons, workloadReasons(f)...)
	if rec.Recommended != StrategyKeep {
		if r.FixesLock {
			rec.Gain.Cost = f.Cost
			if lock != nil && lock.Cost.Known {
				rec.Gain.Cost = min(f.Cost, lock.Cost.Value)
			}
			rec.Gain.LockFraction = f.Fraction
			// A component cannot give back more than the process waits.
			if lock != nil && lock.LockFraction.Known {
				rec.Gain.LockFraction = min(f.Fraction, lock.LockFraction.Value)
			}
		}
		if r.FixesGrowth {
			rec.Gain.AllocShare = f.GrowthShare
		}
	}
	rec.ExpectedGain = expectedGain(rec, f)
	rec.GainSource = gainSource(rec, f)
	if rec.Recommended == StrategyKeep {
		rec.Decide = whatWouldDecide(r, f, w, lock)
	}
	if atomicityChanges(rec.Current, rec.Recommended) && len(f.MultiOp) > 0 {
		rec.Reasons = append(rec.Reasons, fmt.Sprintf("%s's %s both read and write its map: under one lock such a method is atomic, "+
			"and %s makes each operation atomic on its own key only — keep a lock (or a LoadOrStore/Compute call) around the compound update, "+
			"or the change alters what the code guarantees", c.name, strings.Join(f.MultiOp, ", "), rec.Recommended))
		rec.Confidence = round(rec.Confidence*0.7, 2)
	}
	if !mapEvidence {
		rec.Reasons = append(rec.Reasons, "no map frame was seen under this component: the advice assumes its lock guards a map")
		rec.Confidence = round(rec.Confidence*0.7, 2)
	}
	rec.Evidence = append(rec.Evidence, "rule "+r.ID+" — source: "+r.Source)
	return rec, true
}

// atomicityChanges tells a move from one lock over the whole map to a
// strategy whose operations are atomic per key only.
func atomicityChanges(from, to Strategy) bool {
	wholeMap := from == StrategyMutex || from == StrategyRWMutex || from == StrategyUnknown
	perKey := to == StrategySyncMap || to == StrategyXsync || to == StrategySharded
	return wholeMap && perKey
}

// workloadTally keeps the raw weights behind a Workload for evidence.
type workloadTally struct {
	cpu        stacks.MapWork
	cpuRLock   float64
	contention stacks.MapWork
}

// measureWorkload estimates a component's read/write/delete/range mix,
// growth, range use and the regime it ran in. The CPU profile comes first:
// CPU samples in read vs write map operations weigh the work as it ran,
// lock-free reads included. Only a window without a CPU profile falls back
// to contention — RLock vs Lock waits, else the contention stacks'
// operations weighted by delay — and then the workload says so: reads that
// take no lock (sync.Map, xsync, COW) never wait, so contention counts
// only the writes.
func measureWorkload(w *window.Window, lock *mutex.Result, c *candidate, th Thresholds) (Workload, workloadTally) {
	wl := Workload{Mix: "unknown", Contention: SeverityOK, Goroutines: w.Meta.Goroutines, GOMAXPROCS: w.Meta.GOMAXPROCS}
	var t workloadTally
	if c.lock != nil {
		wl.Cost = c.lock.Cost
		wl.Fraction = c.lock.Fraction
		if lock != nil && !lock.LockFraction.Known {
			wl.Fraction, wl.FractionLowerBound = fractionLowerBound(lock, c.lock, w.Meta.GOMAXPROCS)
		}
		// A lower bound of the cost (no CPU profile) cannot say a lock is
		// cheap: the wait share, which over-counts, decides then.
		if lock != nil && costMeasured(lock) {
			wl.Contention = th.ComponentCost.Severity(wl.Cost)
		} else {
			wl.Contention = th.SiteFraction.Severity(wl.Fraction)
		}
	}
	if c.growth != nil {
		wl.GrowthShare = c.growth.Share
		wl.GrowthBytesPerSecond = c.growth.BytesPerSecond
		for _, k := range c.growth.Kinds {
			wl.GrowthKinds = append(wl.GrowthKinds, string(k))
		}
	}

	cpuProfile := lock != nil && lock.Attribution != nil && lock.Attribution.CPU.Present && lock.Attribution.CPU.TotalNanos > 0
	var sc *stacks.Component
	if lock != nil && lock.Attribution != nil {
		sc = lock.Attribution.Component(c.name)
		t.cpu, t.cpuRLock, t.contention = sc.CPUWork, float64(sc.RLockCPUNanos), sc.ContentionWork
	}
	if t.contention.Total() == 0 && c.lock != nil {
		t.contention = tallySiteStacks(c.lock, c.name)
	}
	wl.Range = t.cpu.Range > 0 || t.contention.Range > 0
	wl.Regime = measureRegime(w, lock, sc)
	if c.lock == nil && cpuProfile && sc != nil {
		// Listed for its CPU alone (no contention sampled, below the
		// collector's listing floor or the capacity unknown): its lock CPU
		// judges it, over the capacity when known, else over the CPU the
		// profile sampled, which can only overstate it.
		wl.Contention = th.ComponentCost.Severity(wl.Regime.LockCPUShare)
		if wl.Regime.LockCPUOfCapacity > 0 {
			wl.Contention = th.ComponentCost.Severity(wl.Regime.LockCPUOfCapacity)
		}
	}

	switch share, ok := t.cpu.ReadShare(); {
	case ok:
		wl.ReadShare, wl.ReadShareSource = share, "cpu-profile"
		wl.DeleteShare, wl.RangeShare = t.cpu.Delete/t.cpu.Total(), t.cpu.Range/t.cpu.Total()
		wl.MixNote = "CPU-weighted: an operation counts by the CPU it took, so costlier writes weigh more than their count"
	case cpuProfile:
		// A CPU profile that does not show the mix is not replaced by
		// contention, which would show the writes alone.
		wl.MixNote = "the CPU profile classifies too little of this component's CPU as map reads or writes to tell its mix; contention stacks are not used instead: they miss reads that take no lock"
	case c.lock != nil && c.lock.ReadDelaySeconds+c.lock.WriteDelaySeconds > 0:
		wl.ReadShare = c.lock.ReadDelaySeconds / (c.lock.ReadDelaySeconds + c.lock.WriteDelaySeconds)
		wl.ReadShareSource = "rwmutex-contention"
		wl.MixNote = "no CPU profile: the mix is RLock vs Lock waiting time, which counts only the operations that waited"
	default:
		if share, ok := t.contention.ReadShare(); ok {
			wl.ReadShare, wl.ReadShareSource = share, "contention-stacks"
			wl.DeleteShare, wl.RangeShare = t.contention.Delete/t.contention.Total(), t.contention.Range/t.contention.Total()
			wl.MixNote = "no CPU profile: the mix is read from contention stacks by delay, and reads that take no lock (sync.Map, xsync, COW) never appear there"
		}
	}
	wl.ReadShare, wl.DeleteShare, wl.RangeShare = round(wl.ReadShare, 4), round(wl.DeleteShare, 4), round(wl.RangeShare, 4)
	wl.Mix = mixOf(wl.ReadShare, wl.ReadShareSource != "")
	wl.MultiOpMethods = multiOpMethods(sc)
	return wl, t
}

// multiOpMethods lists the component's methods seen over more than one
// kind of map operation in the CPU profile.
func multiOpMethods(sc *stacks.Component) []string {
	if sc == nil {
		return nil
	}
	var out []string
	for m, ops := range sc.MapOpsByMethod {
		reads := ops&(1<<stacks.OpRead|1<<stacks.OpRange) != 0
		writes := ops&(1<<stacks.OpWrite|1<<stacks.OpDelete) != 0
		if reads && writes {
			out = append(out, m)
		}
	}
	slices.Sort(out)
	return out
}

// measureRegime reads how the window's goroutines ran: per P, whether the
// Ps were busy, and how much of the CPU the component's own map and lock
// work took (the rest ran outside its lock).
func measureRegime(w *window.Window, lock *mutex.Result, sc *stacks.Component) Regime {
	var r Regime
	procs := w.Meta.GOMAXPROCS
	if procs > 0 && w.Meta.Goroutines > 0 {
		r.GoroutinesPerP = round(float64(w.Meta.Goroutines)/float64(procs), 2)
	}
	if lock != nil {
		if lock.Waiters.RunnableKnown {
			r.Runnable, r.RunnableKnown = round(lock.Waiters.Runnable, 2), true
		}
		if lock.Waiters.Known {
			r.LockWaiters, r.LockWaitersKnown = round(lock.Waiters.Average, 2), true
		}
		if c := lock.Cost; c.CapacitySeconds > 0 && c.IdleSource != "" {
			r.Busy, r.BusyKnown, r.BusySource = round(min(max(1-c.IdleSeconds/c.CapacitySeconds, 0), 1), 3), true, string(c.IdleSource)
		}
	}
	osIdle := false
	if lock != nil {
		if busy, ok := osBusy(w, lock.Cost.CapacitySeconds); ok && busy < idleOSBusy {
			r.Busy, r.BusyKnown, r.BusySource, osIdle = round(busy, 3), true, string(mutex.IdleOS), true
		}
	}
	// Ps busy, or goroutines waiting for one: either way the CPU was the
	// limit (maplab's tight loops); idle Ps with nothing runnable mean the
	// goroutines were waiting elsewhere (I/O, timers). The runtime's own
	// idle accounting decides alone when the window has it: the runnable
	// gauge is read by the agent's 50 Hz sampler, woken by a timer in the
	// same timer run as goroutines sleeping between operations, so it sees
	// them runnable at the moment they wake (maplab's I/O regime at one
	// goroutine per P read 1.05 runnable on average with its Ps 98.7%
	// idle). The other idle sources are estimates, and there the gauge
	// still tells a saturated P. The sampler's running count is biased the
	// same way, and so is the runtime's idle account where threads slept
	// holding a P; the process CPU the OS accounted is not, and a process
	// that used under idleOSBusy of the capacity while the machine had the
	// rest free was not held back by its Ps (maplab's I/O regime at 32
	// goroutines per P: the samples read 44% busy and 5.2 runnable, the
	// process used 9.6% of the capacity, the machine was 90% idle).
	r.Saturated = !osIdle && ((r.BusyKnown && r.Busy >= saturatedBusy) ||
		(r.BusySource != string(mutex.IdleRuntime) && r.RunnableKnown && procs > 0 && r.Runnable >= float64(procs)/2))
	if lock == nil || lock.Attribution == nil || sc == nil {
		return r
	}
	cpu := lock.Attribution.CPU
	if !cpu.Present || cpu.TotalNanos <= 0 {
		return r
	}
	total := float64(cpu.TotalNanos)
	r.CPUKnown = true
	r.ComponentCPUShare = round(sc.CPUWork.All/total, 4)
	r.LockCPUShare = round(float64(sc.SyncCPUNanos)/total, 4)
	r.MapCPUShare = round(float64(sc.MapCPUNanos)/total, 4)
	if sc.CPUWork.All > 0 {
		r.RLockCPUShare = round(float64(sc.RLockCPUNanos)/sc.CPUWork.All, 4)
	}
	if lock.Cost.CapacitySeconds > 0 && lock.Cost.SyncCPUKnown && cpu.SyncNanos > 0 {
		r.LockCPUOfCapacity = round(float64(sc.SyncCPUNanos)/float64(cpu.SyncNanos)*lock.Cost.SyncCPUSeconds/lock.Cost.CapacitySeconds, 4)
	}
	return r
}

// idleOSBusy is the share of the capacity below which a process the OS
// accounted, on a machine with the rest free, waited for something other
// than its Ps: the middle, on a log scale, of the gap between maplab's and
// mapbench's I/O windows (the process used 1–10% of the capacity; above
// that only copy-on-write windows, copying the map between waits) and
// their tight-loop and CPU-work windows (52% and up) — 96 mapbench and
// 170 maplab windows of 2026-12-02/03.
const idleOSBusy = 0.25

// osBusy is the share of capacity (GOMAXPROCS × window, in seconds) the
// process used by the OS's account, when the machine's idle time shows
// that most of the rest was free: where other processes took the cores,
// the process's low use says it was kept off them, not that it waited.
func osBusy(w *window.Window, capacity float64) (float64, bool) {
	used, okUsed := w.Metrics.ProcessCPUDelta()
	free, okFree := w.Metrics.MachineIdleDelta()
	if !okUsed || !okFree || capacity <= 0 || free < 0.5*(capacity-used) {
		return 0, false
	}
	return min(used/capacity, 1), true
}

// saturatedBusy is the busy share of the capacity from which the Ps count
// as saturated: maplab's tight loops keep it above 0.9 when they have the
// cores, its I/O regime below 0.5.
const saturatedBusy = 0.75

// costMeasured says whether the window's contention cost can judge a
// component: known, and not a lower bound.
func costMeasured(lock *mutex.Result) bool { return lock.Cost.Known && !lock.Cost.LowerBound }

// fractionLowerBound stands in for a component's lock fraction when the
// window cannot give one (profile files without a CPU profile): user CPU
// is at most GOMAXPROCS per second, so delay ÷ (all delay + GOMAXPROCS)
// is a lower bound of the true fraction.
func fractionLowerBound(lock *mutex.Result, lc *mutex.Component, procs int) (float64, bool) {
	if procs <= 0 {
		return 0, false
	}
	var all float64
	for _, c := range lock.Components {
		all += c.DelaySecondsPerSecond
	}
	return lc.DelaySecondsPerSecond / (all + float64(procs)), true
}

// tallySiteStacks classifies the evidence stacks the mutex collector kept,
// for windows whose raw profiles are gone (hand-built results).
func tallySiteStacks(lc *mutex.Component, component string) stacks.MapWork {
	var t stacks.MapWork
	reader := stacks.NewReader()
	for _, sites := range [][]*mutex.Site{lc.Holders, lc.Waiters} {
		for _, s := range sites {
			for _, st := range s.Stacks {
				t.Add(stacks.MapWorkOf(reader.FramesOf(st.Frames), component, st.DelaySeconds))
			}
		}
	}
	return t
}

// usesSyncMap tells a real sync.Map from a hand-written read/dirty map:
// the lock kinds, or sync.(*Map) frames in the allocation stacks under the
// component. Without an allocation profile the collector's growth kind is
// trusted (it names sync.(*Map).dirtyLocked).
func usesSyncMap(lock *mutex.Result, c *candidate) bool {
	if c.lock != nil && (slices.Contains(c.lock.Kinds, mutex.KindSyncMapLegacy) || slices.Contains(c.lock.Kinds, mutex.KindSyncMap)) {
		return true
	}
	if lock == nil || lock.Attribution == nil || !lock.Attribution.Growth.Present {
		return true
	}
	return lock.Attribution.Component(c.name).SyncMapAllocs
}

// confidence scales a rule's base confidence by how well the window
// measured what the rule relies on.
func confidence(r rule, f *facts, lock *mutex.Result) float64 {
	c := r.Confidence
	switch f.MixSource {
	case "cpu-profile":
	case "rwmutex-contention":
		c *= 0.9
	case "contention-stacks":
		c *= 0.85
	default:
		c *= 0.75
	}
	if lock != nil && lock.LockFraction.Estimated {
		c *= 0.9
	}
	if !f.Go.Known && (f.Current == StrategySyncMap || f.Current == StrategySyncMapLegacy) {
		c *= 0.8
	}
	if r.ID == "maplab-regime" {
		if !f.Class.Measured {
			c *= 0.8
		}
		// A choice the runs did not settle is a point estimate; one taken
		// from wider rows than the window's regime is borrowed.
		switch rc, _ := f.regimeChoice(); {
		case !rc.settled:
			c *= 0.8
		case len(rc.unsettled) > 0:
			c *= 0.9
		}
		// Weighed against the median strategy, not the current one.
		if f.Current == StrategyUnknown {
			c *= 0.8
		}
	}
	// maplab measured GOMAXPROCS=2; elsewhere its rules are extrapolated.
	if strings.HasPrefix(r.Source, maplabSource) && f.Procs != 2 {
		c *= 0.8
	}
	return round(c, 2)
}

func round(v float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(v*p) / p
}

// evidence lists the numbers and stacks behind a recommendation.
func evidence(c *candidate, f *facts, currentWhy string, wl Workload, t workloadTally, lock *mutex.Result) []string {
	ev := []string{fmt.Sprintf("current strategy %s: %s", f.Current, currentWhy)}
	if c.lock != nil {
		lc := c.lock
		cost := "contention cost unknown"
		if lock != nil && lock.Cost.Known {
			at := ""
			if lock.Cost.LowerBound {
				at = "at least "
			}
			cpu := dur(lc.SyncCPUSeconds) + " CPU in lock primitives"
			if !lock.Cost.SyncCPUKnown {
				cpu = "CPU in lock primitives unknown"
			}
			cost = fmt.Sprintf("contention cost %s%s of the CPU capacity (%s, %s of idle Ps)", at, pct(lc.Cost), cpu, dur(lc.IdleLostSeconds))
		}
		frac := "lock wait share " + pct(lc.Fraction)
		switch {
		case wl.FractionLowerBound:
			frac = fmt.Sprintf("lock wait share at least %s (no CPU profile: bounded by GOMAXPROCS %d)", pct(wl.Fraction), wl.GOMAXPROCS)
		case lock == nil || !lock.LockFraction.Known:
			frac = "lock wait share unknown"
		}
		ev = append(ev, fmt.Sprintf("%s; %s (%s of all lock delay), %s, kinds %s",
			cost, frac, pct(lc.Share), delayText(lc.DelaySecondsPerSecond, componentDelay(lc)), strings.Join(kindStrings(lc.Kinds), ", ")))
		for _, s := range firstN(visible(lc.Holders), 2) {
			ev = append(ev, siteEvidence("holder", s))
		}
		for _, s := range firstN(visible(lc.Waiters), 2) {
			ev = append(ev, siteEvidence("waiter", s))
		}
		if lc.ReadDelaySeconds+lc.WriteDelaySeconds > 0 {
			ev = append(ev, fmt.Sprintf("waiting to read %.3gs, waiting to write %.3gs", lc.ReadDelaySeconds, lc.WriteDelaySeconds))
		}
	}
	if c.growth != nil {
		for _, g := range firstN(c.growth.Entries, 3) {
			ev = append(ev, fmt.Sprintf("growth %s in %s: %s, %s of allocation", g.Kind, g.Function, bytesText(g.BytesPerSecond, g.Bytes), pct(g.ShareOfAlloc)))
		}
	}
	if rg := wl.Regime; rg.CPUKnown && (c.cpuShare > 0 || rg.RLockCPUShare > 0) {
		line := fmt.Sprintf("CPU profile: %s spends %s of the window's sampled CPU inside lock primitives and %s in its own map operations",
			c.name, pct(rg.LockCPUShare), pct(rg.MapCPUShare))
		if rg.RLockCPUShare > 0 {
			line += fmt.Sprintf("; RLock/RUnlock themselves take %s of its CPU samples (the reader count's shared cache line, golang/go#17973)", pct(rg.RLockCPUShare))
		}
		if c.lock == nil || c.lock.DelaySeconds == 0 {
			line += "; the mutex and block profiles show no contention on it: uncontended lock cost that only the CPU profile sees"
		}
		ev = append(ev, line)
	}
	if total := t.cpu.Total(); total > 0 {
		ev = append(ev, fmt.Sprintf("CPU samples under %s: %s reads, %s writes (%s deletes), %s range",
			c.name, pct(t.cpu.Read/total), pct(t.cpu.Write/total), pct(t.cpu.Delete/total), pct(t.cpu.Range/total)))
	}
	if total := t.contention.Total(); total > 0 && wl.ReadShareSource == "contention-stacks" {
		// Shares are of the classified delay; say how much that covers.
		ev = append(ev, fmt.Sprintf("contention delay under %s by operation: %s reads, %s writes, %s range, over the %s of its delay whose stacks name the operation (delay-weighted, not an operation count)",
			c.name, pct(t.contention.Read/total), pct(t.contention.Write/total), pct(t.contention.Range/total), pct(total/t.contention.All)))
	}
	if wl.Goroutines > 0 || wl.GOMAXPROCS > 0 {
		ev = append(ev, fmt.Sprintf("%d goroutines on GOMAXPROCS %d", wl.Goroutines, wl.GOMAXPROCS))
	}
	if line := regimeText(wl.Regime); line != "" {
		ev = append(ev, line)
	}
	return ev
}

// regimeText says in one line what the window measured of its regime.
func regimeText(rg Regime) string {
	var parts []string
	if rg.GoroutinesPerP > 0 {
		parts = append(parts, fmt.Sprintf("%.3g goroutines per P", rg.GoroutinesPerP))
	}
	if rg.BusyKnown {
		parts = append(parts, fmt.Sprintf("Ps %s busy (%s)", pct(rg.Busy), rg.BusySource))
	}
	if rg.RunnableKnown {
		parts = append(parts, fmt.Sprintf("%.3g goroutines runnable on average", rg.Runnable))
	}
	if rg.BusyKnown || rg.RunnableKnown {
		parts = append(parts, map[bool]string{true: "saturated", false: "not saturated"}[rg.Saturated])
	}
	if rg.CPUKnown {
		parts = append(parts, fmt.Sprintf("%s of the sampled CPU runs through the component, %s outside it", pct(rg.ComponentCPUShare), pct(1-rg.ComponentCPUShare)))
	}
	if len(parts) == 0 {
		return ""
	}
	return "regime: " + strings.Join(parts, ", ")
}

func siteEvidence(side string, s *mutex.Site) string {
	line := fmt.Sprintf("%s %s: %s, %s via %s", side, s.Function,
		delayText(s.DelaySecondsPerSecond, s.DelaySeconds), contentionsText(s.ContentionsPerSecond, s.Contentions), orDefault(s.Primitive, string(s.Kind)))
	return line
}

// visible drops sites too small to be evidence (see minSiteShare).
func visible(sites []*mutex.Site) []*mutex.Site {
	var out []*mutex.Site
	for _, s := range sites {
		if s.Share >= minSiteShare {
			out = append(out, s)
		}
	}
	return out
}

func firstN[T any](xs []T, n int) []T { return xs[:min(len(xs), n)] }

// workloadReasons add the workload and Go-version facts the rule relied on.
func workloadReasons(f *facts) []string {
	var out []string
	switch {
	case f.Mix != "unknown":
		line := fmt.Sprintf("workload is %s: %s of map work reads (measured from %s)", f.Mix, pct(f.ReadShare), f.MixSource)
		if f.MixSource != "cpu-profile" && f.MixNote != "" {
			line += "; " + f.MixNote
		}
		out = append(out, line)
	case f.MixNote != "":
		out = append(out, "workload mix unknown: "+f.MixNote)
	}
	if f.Range {
		out = append(out, "Range/iteration runs under this component: a full scan holds the lock (or, in the legacy sync.Map, forces a promotion)")
	}
	if f.Current == StrategySyncMap || f.Current == StrategySyncMapLegacy {
		switch {
		case !f.Go.Known:
		case f.Go.hashTrieSyncMap() && f.Current == StrategySyncMap:
			out = append(out, fmt.Sprintf("target runs %s: sync.Map is the HashTrieMap (Go ≥1.24)", f.Go))
		case f.Go.hashTrieSyncMap() && f.SyncMapFrames:
			out = append(out, fmt.Sprintf("target runs %s, whose sync.Map is the HashTrieMap by default, yet shows the legacy one: it was built with GOEXPERIMENT=nosynchashtriemap", f.Go))
		case !f.Go.hashTrieSyncMap():
			out = append(out, fmt.Sprintf("target runs %s: sync.Map is the legacy read/dirty map (Go ≤1.23)", f.Go))
		}
	}
	if f.Goroutines > 0 && f.Procs > 0 && f.Goroutines > 4*f.Procs && f.contended() {
		out = append(out, fmt.Sprintf("%d goroutines share %d Ps: waiters queue, so every held lock costs many goroutines' time", f.Goroutines, f.Procs))
	}
	return out
}

// expectedGain says in words what the change should give back.
func expectedGain(rec Recommendation, f *facts) string {
	if rec.Recommended == StrategyKeep {
		return "none expected from a strategy change on this window"
	}
	var parts []string
	switch {
	case rec.Gain.Cost > 0 && f.CostLowerBound:
		parts = append(parts, fmt.Sprintf("at least %s of the CPU capacity (a lower bound: CPU inside the lock primitives was not measured), now spent on %s's locks", pct(rec.Gain.Cost), rec.Component))
	case rec.Gain.Cost > 0:
		parts = append(parts, fmt.Sprintf("up to %s of the CPU capacity, now spent inside %s's lock primitives or idle while goroutines waited on them", pct(rec.Gain.Cost), rec.Component))
	case f.Regime.CPUKnown && f.Regime.LockCPUShare > 0 && f.Contention.AtLeast(SeverityWarn):
		parts = append(parts, fmt.Sprintf("up to %s of the CPU the profile sampled, now spent inside %s's lock primitives", pct(f.Regime.LockCPUShare), rec.Component))
	case !f.CostKnown && rec.Gain.LockFraction > 0:
		// No cost to bound it: say what the wait share is, not a gain.
		parts = append(parts, fmt.Sprintf("less waiting on %s's lock (lock wait share %s; the contention cost, which bounds the gain, is unknown)", rec.Component, pct(rec.Gain.LockFraction)))
	}
	if g := rec.Gain.AllocShare; g > 0 {
		parts = append(parts, fmt.Sprintf("up to %s of allocation (and the GC work it drives)", pct(g)))
	}
	if len(parts) == 0 {
		return "a cheaper write or read path; the window does not bound the gain"
	}
	s := strings.Join(parts, ", and ")
	if m := measured(f.Current, rec.Recommended, f); m != "" {
		s += "; " + m
	}
	return s
}

// whatWouldDecide says which data would turn a "keep" into a change.
func whatWouldDecide(r rule, f *facts, w *window.Window, lock *mutex.Result) string {
	if r.ID == "maplab-regime" {
		return fmt.Sprintf("a measurement on the service's machine, not a profile: replay this component's mix and regime "+
			"(maplab -reads, -goroutines-per-p, -between, -key-type) for %s and the strategies maplab ranked next to it; "+
			"a window taken at GOMAXPROCS ≥ %d is judged by the many-core rules", f.Current, manyCores)
	}
	var need []string
	if lock == nil || !lock.MutexProfileEnabled || !lock.BlockProfileEnabled {
		need = append(need, "mutex and block profiles (runtime.SetMutexProfileFraction, runtime.SetBlockProfileRate)")
	}
	if f.Mix == "unknown" {
		need = append(need, "a CPU profile of the same window, to measure the read/write mix")
	}
	if w.Profile(window.Allocs) == nil && f.GrowthShare == 0 {
		need = append(need, "an allocs profile, to see map growth")
	}
	need = append(need, fmt.Sprintf("a window under peak load: a change pays once %s's contention cost reaches the component warn limit or its growth the growth warn limit", f.Component))
	return strings.Join(need, "; ")
}
