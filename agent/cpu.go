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
// pass through it; whoever finds it taken is turned away, never queued.
type cpuGate struct {
	busy sync.Mutex

	mu     sync.Mutex
	holder string
}

// tryAcquire takes the gate for who, or reports who holds it.
func (g *cpuGate) tryAcquire(who string) (holder string, ok bool) {
	if !g.busy.TryLock() {
		g.mu.Lock()
		defer g.mu.Unlock()
		if g.holder == "" {
			return "another CPU-profile-type request", false
		}
		return g.holder, false
	}
	g.mu.Lock()
	g.holder = who
	g.mu.Unlock()
	return "", true
}

func (g *cpuGate) release() {
	g.mu.Lock()
	g.holder = ""
	g.mu.Unlock()
	g.busy.Unlock()
}

// cpuRun is one CPU profile of the agent's duty cycle.
type cpuRun struct {
	buf   bytes.Buffer
	timer *time.Timer
	once  sync.Once
	gate  *cpuGate
}

// stop ends the profile; safe from the timer and the loop at once (the
// second caller waits for the first to finish).
func (r *cpuRun) stop() {
	r.once.Do(func() {
		pprof.StopCPUProfile() // returns after the profile is fully written
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
	if holder, ok := a.cpu.tryAcquire("the agent's CPU profile duty cycle"); !ok {
		a.cpuNote = fmt.Sprintf("cpu profile skipped: %s was running when the window opened", holder)
		return
	}
	run := &cpuRun{gate: &a.cpu}
	if err := pprof.StartCPUProfile(&run.buf); err != nil {
		a.cpu.release()
		a.cpuNote = fmt.Sprintf("cpu profile skipped: the CPU profiler is in use outside the agent (%v)", err)
		return
	}
	run.timer = time.AfterFunc(a.cfg.CPUProfileDuty, run.stop)
	a.cpuRun = run
}

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
	run.stop()
	return run.buf.Bytes(), notes
}

// stopCPU ends a running duty-cycle profile on Stop.
func (a *Agent) stopCPU() {
	a.collectMu.Lock()
	defer a.collectMu.Unlock()
	a.finishCPU()
}
