package mutex

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/contendr/contendr/collectors/stacks"
	"github.com/contendr/contendr/window"
)

// Cost is the contention cost (DESIGN.md, "Contention cost"): the share of
// the process's CPU capacity, GOMAXPROCS × window, that synchronization
// cost it —
//
//	(sync CPU + idle lost) ÷ (GOMAXPROCS × window)
//
// where sync CPU is CPU spent inside lock primitives (from the CPU
// profile) and idle lost is P-time left idle while goroutines waited on
// locks, min(idle, wait). Unlike the lock wait share it does not count a
// goroutine blocked on a lock when another goroutine ran in its place: with
// more runnable goroutines than Ps, that wait costs latency, not
// throughput.
type Cost struct {
	// Value is the process-wide cost in [0, 1].
	Value float64 `json:"value"`
	// Known is false when GOMAXPROCS or the window's length is unknown, or
	// neither half has a source.
	Known bool `json:"known"`
	// Estimated is set when a half was not measured directly: no CPU
	// profile (then LowerBound: idle lost only), idle time from the OS's
	// accounting or the CPU profile, idle time scaled from readings that
	// covered part of the window. Reason says which.
	Estimated  bool   `json:"estimated"`
	LowerBound bool   `json:"lower_bound,omitempty"`
	Reason     string `json:"reason,omitempty"`

	// CapacitySeconds is GOMAXPROCS × window.
	CapacitySeconds float64 `json:"capacity_seconds"`
	// SyncCPUSeconds is CPU inside user-visible lock primitives over the
	// window (scaled from the CPU profile's duration when it covered part
	// of the window: CPUProfileSeconds). SyncCPUKnown is false without a
	// usable CPU profile.
	SyncCPUSeconds    float64 `json:"sync_cpu_seconds"`
	SyncCPUKnown      bool    `json:"sync_cpu_known"`
	CPUProfileSeconds float64 `json:"cpu_profile_seconds,omitempty"`
	// RuntimeLockCPUSeconds is CPU in the runtime's internal locks,
	// reported apart and not in Value: no user code chose those locks.
	RuntimeLockCPUSeconds float64 `json:"runtime_lock_cpu_seconds"`
	// IdleSeconds is P-seconds no goroutine ran, from IdleSource.
	IdleSeconds float64    `json:"idle_seconds"`
	IdleSource  IdleSource `json:"idle_source,omitempty"`
	// OffCPUSeconds is P-seconds the runtime counted busy while the
	// process's threads were off the CPU and the machine had idle cores to
	// run them on: capacity − IdleSeconds − the process CPU the OS
	// accounted, at most the machine's idle CPU time. A lock handed from
	// thread to thread through futex sleeps and wake-ups leaves Ps "busy"
	// this way (maplab's RWMutex map at 64 goroutines on 2 Ps: both Ps
	// busy at every sample and by /cpu/classes/idle, 55% of the capacity
	// used, the machine 44% idle). Time other processes took is not free
	// cores and is not counted. 0 without both OS readings (Linux).
	OffCPUSeconds float64 `json:"off_cpu_seconds,omitempty"`
	// WaitSeconds is goroutine-seconds blocked on locks (as in
	// LockFraction); IdleLostSeconds = min(IdleSeconds + OffCPUSeconds,
	// WaitSeconds).
	WaitSeconds     float64 `json:"wait_seconds"`
	IdleLostSeconds float64 `json:"idle_lost_seconds"`
}

// IdleSource says where a window's idle P-time was read.
type IdleSource string

const (
	// IdleRuntime: Δ/cpu/classes/idle, the runtime's own idle-P time.
	IdleRuntime IdleSource = "runtime/metrics"
	// IdleSampled: the agent's samples of /sched/goroutines/running.
	IdleSampled IdleSource = "scheduler-samples"
	// IdleOS: capacity minus the process CPU the OS accounted.
	IdleOS IdleSource = "os-process-cpu"
	// IdleCPUProfile: capacity minus the CPU profile's total.
	IdleCPUProfile IdleSource = "cpu-profile"
)

// Waiters is how many goroutines were blocked on locks, on average over
// the window (Δwait ÷ window): a latency figure, not a share of time lost.
// Runnable, when the runtime reports it (Go ≥1.26), says whether work was
// ready: goroutines runnable on average over the window (the agent's
// scheduler samples), else at its end. Runnable ≫ 0 means the CPU was
// saturated and lock waits mostly replaced run-queue waits.
type Waiters struct {
	Average       float64 `json:"average"`
	Known         bool    `json:"known"`
	Runnable      float64 `json:"runnable"`
	RunnableKnown bool    `json:"runnable_known"`
}

// contentionCost computes the window's cost. wait is the lock wait the lock
// fraction used (waitKnown false when it had no source); the CPU half
// comes from the attribution's CPU profile account.
func contentionCost(w *window.Window, cpu stacks.CPU, seconds float64, wait lockWait) Cost {
	var c Cost
	procs := gomaxprocs(w)
	if procs <= 0 || seconds <= 0 {
		c.Estimated = true
		c.Reason = "GOMAXPROCS or the window's length is unknown, so the CPU capacity the cost is a share of is unknown"
		return c
	}
	c.CapacitySeconds = float64(procs) * seconds
	var reasons []string

	scale := 1.0
	switch {
	case !cpu.Present:
		reasons = append(reasons, "no CPU profile: CPU spent inside lock primitives is unknown, so the cost counts idle Ps only and is a lower bound")
	case cpu.Err != nil:
		reasons = append(reasons, fmt.Sprintf("the CPU profile is unusable (%v): CPU inside lock primitives unknown, so the cost is a lower bound", cpu.Err))
	default:
		c.SyncCPUKnown = true
		if cpu.ProfileNanos > 0 {
			c.CPUProfileSeconds = float64(cpu.ProfileNanos) / 1e9
			if c.CPUProfileSeconds < 0.9*seconds {
				scale = seconds / c.CPUProfileSeconds
			}
		}
		c.SyncCPUSeconds = float64(cpu.SyncNanos) * scale / 1e9
		c.RuntimeLockCPUSeconds = float64(cpu.RuntimeLockNanos) * scale / 1e9
	}

	idleKnown := false
	c.IdleSeconds, c.IdleSource, idleKnown, reasons = idleTime(w, cpu, seconds, c.CapacitySeconds, scale, reasons)
	if idleKnown && (c.IdleSource == IdleRuntime || c.IdleSource == IdleSampled) {
		c.OffCPUSeconds = offCPU(w, c.CapacitySeconds, c.IdleSeconds)
	}
	waitKnown := wait.known
	switch {
	case !waitKnown:
		reasons = append(reasons, wait.reason+", so no idle time is blamed on locks")
	case idleKnown:
		c.WaitSeconds = wait.seconds
		c.IdleLostSeconds = min(c.IdleSeconds+c.OffCPUSeconds, wait.seconds)
	default:
		c.WaitSeconds = wait.seconds
	}
	if waitKnown && !wait.measured && c.IdleLostSeconds > 0 {
		reasons = append(reasons, wait.reason)
	}

	c.Known = c.SyncCPUKnown || (idleKnown && waitKnown)
	c.LowerBound = c.Known && (!c.SyncCPUKnown || !idleKnown || !waitKnown)
	c.Estimated = c.LowerBound || len(reasons) > 0
	c.Reason = strings.Join(reasons, "; ")
	if c.Known {
		c.Value = clamp01((c.SyncCPUSeconds + c.IdleLostSeconds) / c.CapacitySeconds)
	}
	return c
}

// idleTime reads the window's idle P-seconds from the best source: the
// runtime's /cpu/classes/idle when GCs refreshed it over (nearly) the whole
// window (the /cpu/classes counters move only when a GC ends,
// golang/go#59749); else the agent's samples of the scheduler's running
// goroutines (Go ≥1.26), scaled to the window; else /cpu/classes/idle over
// the part of the window it covered; else capacity minus the process CPU
// the OS accounted, else capacity minus the CPU profile's total. The last
// two count CPU taken by other processes or a cgroup quota as idle.
func idleTime(w *window.Window, cpu stacks.CPU, seconds, capacity, scale float64, reasons []string) (float64, IdleSource, bool, []string) {
	idle, okIdle := w.Metrics.Delta(window.MetricCPUIdle)
	total, okTotal := w.Metrics.Delta(window.MetricCPUTotal)
	if okIdle && okTotal && total > 0 {
		covered := total / capacity
		if covered >= 0.9 && covered <= 1.1 {
			return idle, IdleRuntime, true, reasons
		}
	}
	if d, ok := w.Metrics.SchedDelta(); ok && d.CoveredSeconds >= 0.5*seconds {
		return d.IdlePSeconds * seconds / d.CoveredSeconds, IdleSampled, true, reasons
	}
	if okIdle && okTotal && total > 0 {
		if covered := total / capacity; covered >= 0.5 {
			return idle / total * capacity, IdleRuntime, true, append(reasons, fmt.Sprintf(
				"runtime/metrics refresh CPU time only at each GC, and the readings covered %.3gs of this %.3gs window: idle time scaled to the window",
				total*seconds/capacity, seconds))
		}
	}
	stolen := "which also counts CPU taken by other processes or a cgroup quota as idle"
	if runnable, ok := w.Metrics.Last(window.MetricRunnable); ok && runnable > 0 {
		stolen += fmt.Sprintf(" (%g goroutines were runnable at the window's end: work was ready, so idle Ps are suspect)", runnable)
	}
	if used, ok := w.Metrics.ProcessCPUDelta(); ok {
		return max(capacity-used, 0), IdleOS, true, append(reasons,
			"idle time is GOMAXPROCS × window minus the process CPU the OS accounted, "+stolen)
	}
	if cpu.Present && cpu.Err == nil && cpu.TotalNanos > 0 {
		used := float64(cpu.TotalNanos) * scale / 1e9
		return max(capacity-used, 0), IdleCPUProfile, true, append(reasons,
			"idle time is GOMAXPROCS × window minus the CPU profile's total, "+stolen)
	}
	return 0, "", false, append(reasons, "idle P-time unknown (no GC refreshed runtime/metrics during the window, no OS CPU accounting, no CPU profile): no idle time is blamed on locks")
}

// offCPU is the P-time the runtime's account (idle, from the runtime or
// the scheduler samples) counts busy but the process did not spend on a
// CPU, as far as the machine had idle cores over the window: the Ps' threads
// were asleep, not waiting for a CPU other processes held. Sources that
// derive idle time from the process CPU already hold it.
func offCPU(w *window.Window, capacity, idle float64) float64 {
	used, okUsed := w.Metrics.ProcessCPUDelta()
	free, okFree := w.Metrics.MachineIdleDelta()
	if !okUsed || !okFree {
		return 0
	}
	return max(min(capacity-idle-used, free), 0)
}

// lockWaiters is Δwait ÷ window with the saturation context.
func lockWaiters(w *window.Window, seconds float64, wait lockWait) Waiters {
	var out Waiters
	if wait.known && seconds > 0 {
		out.Average, out.Known = wait.seconds/seconds, true
	}
	if d, ok := w.Metrics.SchedDelta(); ok {
		out.Runnable, out.RunnableKnown = d.RunnableSeconds/d.CoveredSeconds, true
		return out
	}
	out.Runnable, out.RunnableKnown = w.Metrics.Last(window.MetricRunnable)
	return out
}

func clamp01(v float64) float64 { return min(max(v, 0), 1) }

// MinComponentSyncCPU is the share of the CPU capacity a component must
// spend inside lock primitives to be listed without any sampled
// contention: below it, an uncontended lock's fast path is noise.
const MinComponentSyncCPU = 0.01

// costComponents sets each component's cost and adds the components that
// spend CPU in lock primitives without any contention sampled. Sorted by
// cost, then delay.
func costComponents(comps []*Component, attr *stacks.Attribution, cost Cost) []*Component {
	byName := map[string]*Component{}
	for _, c := range comps {
		byName[c.Name] = c
	}
	scale := 1.0
	if cost.SyncCPUKnown && attr.CPU.SyncNanos > 0 {
		scale = cost.SyncCPUSeconds / (float64(attr.CPU.SyncNanos) / 1e9)
	}
	for name, sc := range attr.Components {
		if sc.SyncCPUNanos <= 0 {
			continue
		}
		syncCPU := float64(sc.SyncCPUNanos) / 1e9 * scale
		c := byName[name]
		if c == nil {
			if cost.CapacitySeconds <= 0 || syncCPU < MinComponentSyncCPU*cost.CapacitySeconds || name == "runtime" {
				continue
			}
			c = &Component{Name: name, Holders: []*Site{}, Waiters: []*Site{}}
			byName[name] = c
			comps = append(comps, c)
		}
		c.SyncCPUSeconds = syncCPU
		for kind := range sc.SyncCPUKinds {
			if !slices.Contains(c.Kinds, kind) && classOf(kind) == classLock {
				c.Kinds = append(c.Kinds, kind)
			}
		}
	}
	for _, c := range comps {
		c.IdleLostSeconds = cost.IdleLostSeconds * c.Share
		if cost.CapacitySeconds > 0 {
			c.Cost = clamp01((c.SyncCPUSeconds + c.IdleLostSeconds) / cost.CapacitySeconds)
		}
		slices.Sort(c.Kinds)
	}
	slices.SortFunc(comps, func(a, b *Component) int {
		return cmp.Or(cmp.Compare(b.Cost, a.Cost), cmp.Compare(b.DelaySeconds, a.DelaySeconds), strings.Compare(a.Name, b.Name))
	})
	return comps
}
