package agent

import (
	"bytes"
	"fmt"
	"runtime/pprof"
	"sync"
	"time"
)

// cpuGate lets one CPU-profile-type activity run at a time: the CPU
// profiler and the execution tracer are process-wide, and fgprof's sampling
// of every stack is costly enough not to stack up. /debug/pprof/profile,
// /debug/pprof/trace, /debug/fgprof and the agent's own CPU duty cycle all
// pass through it. A user's request that finds the duty cycle running stops
// it and goes ahead (a user's profile must never fail because of the
// agent); one that finds another user's request is turned away, never
// queued.
type cpuGate struct {
	mu     sync.Mutex
	held   bool
	holder string
	// yield, set while the duty cycle holds the gate, stops its slice and
	// releases the gate; it is told who asked.
	yield func(requester string)
}

// tryAcquire takes the gate for who, or reports who holds it. It never
// preempts anyone: the duty cycle uses it.
func (g *cpuGate) tryAcquire(who string) (holder string, ok bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.held {
		return g.holder, false
	}
	g.held, g.holder, g.yield = true, who, nil
	return "", true
}

// acquireYielding takes the gate for a user's request, first stopping the
// duty cycle's slice if that is what holds it.
func (g *cpuGate) acquireYielding(who string) (holder string, ok bool) {
	g.mu.Lock()
	// A loop, not an if: a window may open and start a new slice between
	// the yield and the relock.
	for g.held && g.yield != nil {
		yield := g.yield
		g.mu.Unlock()
		yield(who) // returns once the profiler is stopped and the gate released
		g.mu.Lock()
	}
	defer g.mu.Unlock()
	if g.held {
		return g.holder, false
	}
	g.held, g.holder, g.yield = true, who, nil
	return "", true
}

// yieldTo makes the current holder (the duty cycle) give way to user
// requests by calling yield.
func (g *cpuGate) yieldTo(yield func(requester string)) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.yield = yield
}

func (g *cpuGate) release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.held, g.holder, g.yield = false, "", nil
}

// cpuRun is one CPU profile of the agent's duty cycle.
type cpuRun struct {
	buf     bytes.Buffer
	started time.Time
	duty    time.Duration
	timer   *time.Timer
	once    sync.Once
	gate    *cpuGate

	// Set by stop, read after it (once orders them).
	stopped time.Time
	// yieldedTo is the user's request that cut the profile short, if any.
	yieldedTo string
}

// stop ends the profile; safe from the timer, a user's request and the loop
// at once (later callers wait for the first to finish). requester is the
// user's request that asked for the profiler, "" otherwise.
func (r *cpuRun) stop(requester string) {
	r.once.Do(func() {
		pprof.StopCPUProfile() // returns after the profile is fully written
		r.stopped = time.Now()
		r.yieldedTo = requester
		r.gate.release()
	})
}

// startCPU starts the open window's CPU profile for CPUProfileDuty, unless
// the duty is off or the profiler is busy (then the window says so).
// Called with collectMu held.
func (a *Agent) startCPU() {
	a.cpuNote = ""
	if a.cfg.CPUProfileDuty <= 0 {
		return
	}
	if holder, ok := a.cpu.tryAcquire(dutyCycleHolder); !ok {
		a.cpuNote = fmt.Sprintf("cpu profile skipped: %s was running when the window opened", holder)
		return
	}
	run := &cpuRun{gate: &a.cpu, duty: a.cfg.CPUProfileDuty}
	if err := pprof.StartCPUProfile(&run.buf); err != nil {
		a.cpu.release()
		a.cpuNote = fmt.Sprintf("cpu profile skipped: the application holds the CPU profiler, "+
			"so the agent leaves it alone for this window (%v)", err)
		return
	}
	run.started = time.Now()
	run.timer = time.AfterFunc(run.duty, func() { run.stop("") })
	a.cpu.yieldTo(run.stop)
	a.cpuRun = run
}

// dutyCycleHolder names the duty cycle to those it turns away.
const dutyCycleHolder = "the agent's CPU profile duty cycle"

// finishCPU ends the open window's CPU profile (early, if the window closes
// before the duty is over) and returns it with the notes about it. Called
// with collectMu held.
func (a *Agent) finishCPU() ([]byte, []string) {
	var notes []string
	if a.cpuNote != "" {
		notes = append(notes, a.cpuNote)
	}
	run := a.cpuRun
	a.cpuRun = nil
	if run == nil {
		return nil, notes
	}
	run.timer.Stop()
	run.stop("")
	if run.yieldedTo != "" {
		covered := run.stopped.Sub(run.started)
		notes = append(notes, fmt.Sprintf("cpu profile cut short: it covers %.1fs of its %.1fs duty, "+
			"stopped so that %s could have the CPU profiler", covered.Seconds(), run.duty.Seconds(), run.yieldedTo))
		a.metrics.cpuYields.Inc()
	}
	return run.buf.Bytes(), notes
}

// stopCPU ends a running duty-cycle profile on Stop.
func (a *Agent) stopCPU() {
	a.collectMu.Lock()
	defer a.collectMu.Unlock()
	a.finishCPU()
}
