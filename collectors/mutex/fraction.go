package mutex

import (
	"fmt"
	"math"
	"strings"

	"github.com/contendr/contendr/collectors/stacks"

	"github.com/contendr/contendr/window"
)

// lockFraction computes Δwait / (Δwait + Δuser_cpu) (DESIGN.md, "Lock
// fraction"), from runtime/metrics when the window has them, else from
// profiles. Each half is read from the best source available:
//
// wait:
//   - /sync/mutex/wait/total: exact, never sampled;
//   - else the block profile's lock waits (sync.Mutex, RWMutex and sync.Map
//     sites; channel, select, WaitGroup and Cond waits are not lock waits);
//   - else the mutex profile's delay, runtime-internal locks included (the
//     metric counts those too).
//
// user CPU:
//   - Δ/cpu/classes/user. The runtime refreshes the /cpu/classes metrics
//     only at the end of each GC cycle, so the delta covers the interval
//     between the last GCs before the window's start and end, which
//     Δ/cpu/classes/total (GOMAXPROCS × that interval) measures. When that
//     interval is within 10% of the window, Δuser is used as is; otherwise
//     it is scaled to the window (user share of the covered interval ×
//     GOMAXPROCS × window) and the value is Estimated;
//   - with no GC during the window (the CPU classes did not move): the CPU
//     profile's total minus GC and scavenger frames;
//   - with neither: GOMAXPROCS × window, the most user CPU there could
//     have been, which makes the value a lower bound (Estimated).
//
// Known is false when either half has no source. The value is clamped to
// [0, 1).
func lockFraction(w *window.Window, cpu stacks.CPU, seconds float64, wait lockWait) LockFraction {
	var lf LockFraction
	if !wait.known {
		lf.Estimated = true
		lf.Reason = wait.reason
		return lf
	}
	lf.WaitSeconds = wait.seconds
	var reasons []string
	if wait.reason != "" {
		reasons = append(reasons, wait.reason)
	}
	waitMeasured := wait.measured
	user, userMeasured, userFrom := userCPU(w, cpu, seconds)
	lf.Estimated = !waitMeasured || !userMeasured
	if userFrom != "" {
		reasons = append(reasons, userFrom)
	}
	lf.Reason = strings.Join(reasons, "; ")
	if user < 0 {
		return lf
	}
	lf.UserCPUSeconds = user
	lf.Value = ratio(lf.WaitSeconds, lf.UserCPUSeconds)
	lf.Known = true
	return lf
}

// lockWait is goroutine-seconds spent waiting for locks over a window.
type lockWait struct {
	seconds         float64
	known, measured bool
	// reason says where an unmeasured wait came from, or why it is unknown.
	reason string
}

// readLockWait reads the window's lock wait from the best source:
// /sync/mutex/wait/total, else the block profile's lock waits, else the
// mutex profile's delay (runtime-internal locks included, as the metric
// counts them).
func readLockWait(w *window.Window, holders, waiters *side, mutexOn, blockOn bool) lockWait {
	if wait, ok := w.Metrics.Delta(window.MetricMutexWait); ok {
		return lockWait{seconds: wait, known: true, measured: true}
	}
	switch {
	case waiters.Present && blockOn:
		return lockWait{seconds: float64(waiters.Totals[classLock]) / 1e9, known: true,
			reason: "lock wait from the block profile's sync.Mutex, RWMutex and sync.Map waits (channel, select, WaitGroup and Cond waits excluded), as the window has no runtime/metrics"}
	case holders.Present && mutexOn:
		return lockWait{seconds: float64(holders.Totals[classLock]+holders.Totals[classRuntime]) / 1e9, known: true,
			reason: "lock wait from the mutex profile's delay, as the window has no runtime/metrics and no usable block profile"}
	}
	return lockWait{reason: "lock wait unknown: no runtime/metrics and no enabled mutex or block profile"}
}

// userCPU returns the window's user CPU seconds (-1 when unknown), whether
// it was measured rather than estimated, and, unless measured, where it
// came from. See lockFraction for the order of sources.
func userCPU(w *window.Window, cpu stacks.CPU, seconds float64) (user float64, measured bool, from string) {
	procs := gomaxprocs(w)
	windowCPU := float64(procs) * seconds
	deltaUser, okUser := w.Metrics.Delta(window.MetricCPUUser)
	deltaTotal, okTotal := w.Metrics.Delta(window.MetricCPUTotal)
	refreshed := okUser && (deltaTotal > 0 || !okTotal && deltaUser > 0)
	switch {
	case refreshed && (!okTotal || windowCPU <= 0):
		return deltaUser, true, "" // nothing to judge the coverage by
	case refreshed:
		covered := deltaTotal / windowCPU
		if covered >= 0.9 && covered <= 1.1 {
			return deltaUser, true, ""
		}
		return deltaUser / deltaTotal * windowCPU, false, fmt.Sprintf(
			"runtime/metrics refresh CPU time only at each GC, and the readings covered %.3gs of this %.3gs window: user CPU scaled to the window",
			deltaTotal/float64(procs), seconds)
	}
	noGC := ""
	if okUser {
		noGC = "no GC ran during the window to refresh runtime/metrics' CPU time; "
	}
	if cpu.Present {
		if cpu.Err == nil {
			user := float64(cpu.TotalNanos-cpu.GCNanos-cpu.BackgroundNanos) / 1e9
			return user, false, noGC + "user CPU from the CPU profile minus GC and scavenger frames"
		}
		noGC += fmt.Sprintf("the CPU profile is unusable (%v); ", cpu.Err)
	}
	if okUser && windowCPU > 0 {
		return windowCPU, false, noGC + fmt.Sprintf("user CPU taken as GOMAXPROCS (%d) × window, its upper bound, so the lock fraction is a lower bound", procs)
	}
	if okUser {
		return -1, false, noGC + "no CPU profile, and GOMAXPROCS or the window's length is unknown: user CPU unknown, so no lock fraction"
	}
	return -1, false, "user CPU unknown: no runtime/metrics and no CPU profile, so no lock fraction"
}

// gomaxprocs is GOMAXPROCS at the window's end, from runtime/metrics or the
// window's metadata; 0 when unknown.
func gomaxprocs(w *window.Window) int {
	if v, ok := w.Metrics.Last(window.MetricGOMAXPROCS); ok && v > 0 {
		return int(v)
	}
	return max(w.Meta.GOMAXPROCS, 0)
}

// ratio is wait/(wait+user) clamped to [0, 1): 0 when nothing ran or
// waited, and below 1 because some user code must run to take a lock.
func ratio(wait, user float64) float64 {
	if wait <= 0 || wait+user <= 0 || math.IsNaN(wait+user) {
		return 0
	}
	return min(wait/(wait+user), math.Nextafter(1, 0))
}

// profilingState says whether a contention profile was being recorded,
// from the rate in force (0 = off, window.Unknown = not known) and from
// what the profile holds, with a note when an empty profile could be
// misread as "no contention".
func profilingState(kind window.ProfileKind, rate int, s *side) (enabled bool, notes []string) {
	enable := enableHint(kind)
	switch {
	case rate == 0 && s.Samples > 0:
		return true, []string{fmt.Sprintf("the target reports %s profiling off (%s), yet the %s profile has samples: it was on for part of the window only",
			kind, rateName(kind), kind)}
	case rate == 0:
		return false, []string{fmt.Sprintf("%s profiling is off on the target (%s is 0), so the %s profile is empty whatever the contention: enable it with %s, or embed the contendr agent, which sets it",
			kind, rateName(kind), kind, enable)}
	case rate > 0 && !s.Present:
		return true, []string{fmt.Sprintf("the window has no %s profile", kind)}
	case rate > 0:
		return true, nil
	case s.Samples > 0:
		return true, nil // rate unknown, but samples prove it was on
	}
	return false, []string{fmt.Sprintf("the %s profile is absent or empty and the target's %s is unknown: either no contention or %s profiling disabled (enable it with %s, or embed the contendr agent)",
		kind, rateName(kind), kind, enable)}
}

func rateName(kind window.ProfileKind) string {
	if kind == window.Mutex {
		return "runtime.SetMutexProfileFraction"
	}
	return "runtime.SetBlockProfileRate"
}

func enableHint(kind window.ProfileKind) string {
	if kind == window.Mutex {
		return "runtime.SetMutexProfileFraction(5)"
	}
	return "runtime.SetBlockProfileRate(10000) (one sample per 10µs spent blocked)"
}
