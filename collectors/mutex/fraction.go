package mutex

import (
	"fmt"
	"math"

	"github.com/google/pprof/profile"

	"github.com/contendr/contendr/window"
)

// lockFraction computes Δwait / (Δwait + Δuser_cpu) (DESIGN.md, "Lock
// fraction").
//
// With runtime/metrics in the window, wait is /sync/mutex/wait/total and
// user CPU /cpu/classes/user: Known, not Estimated. Without them the value
// is estimated:
//   - wait is the block profile's lock waits (sync.Mutex, RWMutex and
//     sync.Map sites; channel, select, WaitGroup and Cond waits are not lock
//     waits and stay out), or, with no usable block profile, the mutex
//     profile's delay including runtime-internal locks (the metric counts
//     those too);
//   - user CPU is the CPU profile's total minus samples in GC and scavenger
//     frames; with no CPU profile the fraction is not Known.
//
// The value is clamped to [0, 1).
func lockFraction(w *window.Window, holders, waiters *side, mutexOn, blockOn bool) LockFraction {
	wait, okWait := w.Metrics.Delta(window.MetricMutexWait)
	user, okUser := w.Metrics.Delta(window.MetricCPUUser)
	if okWait && okUser {
		return LockFraction{Value: ratio(wait, user), Known: true, WaitSeconds: wait, UserCPUSeconds: user}
	}

	lf := LockFraction{Estimated: true}
	var waitFrom string
	switch {
	case waiters.present && blockOn:
		lf.WaitSeconds = float64(waiters.totals[classLock]) / 1e9
		waitFrom = "lock wait from the block profile's sync.Mutex, RWMutex and sync.Map waits (channel, select, WaitGroup and Cond waits excluded)"
	case holders.present && mutexOn:
		lf.WaitSeconds = float64(holders.totals[classLock]+holders.totals[classRuntime]) / 1e9
		waitFrom = "lock wait from the mutex profile's delay (no usable block profile)"
	default:
		lf.Reason = "no runtime/metrics and no enabled mutex or block profile: lock wait unknown"
		return lf
	}

	cpu := w.Profile(window.CPU)
	if cpu == nil {
		lf.Reason = "no runtime/metrics and no CPU profile: user CPU time unknown, so the lock fraction is too (" + waitFrom + ")"
		return lf
	}
	userCPU, err := userCPUSeconds(cpu)
	if err != nil {
		lf.Reason = fmt.Sprintf("no runtime/metrics and the CPU profile is unusable (%v): user CPU time unknown", err)
		return lf
	}
	lf.UserCPUSeconds = userCPU
	lf.Value = ratio(lf.WaitSeconds, lf.UserCPUSeconds)
	lf.Known = true
	lf.Reason = "estimated without runtime/metrics: " + waitFrom + "; user CPU from the CPU profile minus GC and scavenger frames"
	return lf
}

// ratio is wait/(wait+user) clamped to [0, 1): 0 when nothing ran or
// waited, and below 1 because some user code must run to take a lock.
func ratio(wait, user float64) float64 {
	if wait <= 0 || wait+user <= 0 || math.IsNaN(wait+user) {
		return 0
	}
	return min(wait/(wait+user), math.Nextafter(1, 0))
}

// gcFrames are the runtime functions whose CPU time is GC or scavenger work
// rather than user code (/cpu/classes/gc and /cpu/classes/scavenge in
// runtime/metrics terms). runtime._GC is the pseudo-frame a CPU profile
// records for GC work with no goroutine stack.
var gcFrames = map[string]bool{
	"runtime.gcBgMarkWorker":    true,
	"runtime.gcAssistAlloc":     true,
	"runtime.gcAssistAlloc1":    true,
	"runtime.gcDrain":           true,
	"runtime.gcDrainN":          true,
	"runtime.gcMarkDone":        true,
	"runtime.gcMarkTermination": true,
	"runtime.markroot":          true,
	"runtime.bgsweep":           true,
	"runtime.bgscavenge":        true,
	"runtime._GC":               true,
}

// userCPUSeconds is a CPU profile's total minus its GC samples.
func userCPUSeconds(p *profile.Profile) (float64, error) {
	idx, nanos, err := cpuIndex(p)
	if err != nil {
		return 0, err
	}
	gcLocation := map[*profile.Location]bool{}
	isGC := func(loc *profile.Location) bool {
		if gc, ok := gcLocation[loc]; ok {
			return gc
		}
		gc := false
		for _, line := range loc.Line {
			if line.Function != nil && gcFrames[line.Function.Name] {
				gc = true
			}
		}
		gcLocation[loc] = gc
		return gc
	}
	var user int64
	for _, s := range p.Sample {
		if idx >= len(s.Value) || s.Value[idx] <= 0 {
			continue
		}
		gc := false
		for _, loc := range s.Location {
			if isGC(loc) {
				gc = true
				break
			}
		}
		if !gc {
			user += s.Value[idx] * nanos
		}
	}
	return float64(user) / 1e9, nil
}

// profilingState says whether a contention profile was being recorded,
// from the rate in force (0 = off, window.Unknown = not known) and from
// what the profile holds, with a note when an empty profile could be
// misread as "no contention".
func profilingState(kind window.ProfileKind, rate int, s *side) (enabled bool, notes []string) {
	enable := enableHint(kind)
	switch {
	case rate == 0 && s.samples > 0:
		return true, []string{fmt.Sprintf("the target reports %s profiling off (%s), yet the %s profile has samples: it was on for part of the window only",
			kind, rateName(kind), kind)}
	case rate == 0:
		return false, []string{fmt.Sprintf("%s profiling is off on the target (%s is 0), so the %s profile is empty whatever the contention: enable it with %s, or embed the contendr agent, which sets it",
			kind, rateName(kind), kind, enable)}
	case rate > 0 && !s.present:
		return true, []string{fmt.Sprintf("the window has no %s profile", kind)}
	case rate > 0:
		return true, nil
	case s.samples > 0:
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
