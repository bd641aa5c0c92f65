package agent

import (
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"testing"
	"time"
)

// TestSchedSamplerIntegrates: the counters cover the time between the
// readings and never count more idle Ps than there are.
func TestSchedSamplerIntegrates(t *testing.T) {
	s := newSchedSampler()
	if s == nil {
		t.Skip("this Go version lacks /sched/goroutines/running")
	}
	t0 := time.Now()
	for i := range 11 {
		s.sample(t0.Add(time.Duration(i) * 10 * time.Millisecond))
	}
	c := s.read()
	if c.Samples != 11 || c.CoveredSeconds < 0.0999 || c.CoveredSeconds > 0.1001 {
		t.Errorf("counters %+v, want 11 samples covering 100ms", c)
	}
	if procs := float64(max(1, schedProcs())); c.IdlePSeconds < 0 || c.IdlePSeconds > procs*c.CoveredSeconds+1e-9 {
		t.Errorf("idle P-seconds %g beyond GOMAXPROCS × covered time", c.IdlePSeconds)
	}
}

// TestSchedSamplerIdleWithProfiler: goroutines that sleep between short
// bursts leave the Ps idle, and the sampler must say so while a CPU
// profile and os/signal run — both park a goroutine in the runtime as if
// in a system call for as long as they run, which once read as two busy
// Ps throughout.
func TestSchedSamplerIdleWithProfiler(t *testing.T) {
	s := newSchedSampler()
	if s == nil {
		t.Skip("this Go version lacks /sched/goroutines/running")
	}
	if err := pprof.StartCPUProfile(io.Discard); err != nil {
		t.Skipf("a CPU profile is already running: %v", err)
	}
	defer pprof.StopCPUProfile()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt)
	defer signal.Stop(sig)

	stop := make(chan struct{})
	defer close(stop)
	for range 2 {
		go func() {
			for {
				select {
				case <-stop:
					return
				case <-time.After(2 * time.Millisecond):
				}
			}
		}()
	}
	go s.run(stop)
	time.Sleep(500 * time.Millisecond)
	c := s.read()
	if c.Samples < 10 {
		t.Fatalf("%d samples in 500ms, want ≥10", c.Samples)
	}
	procs := float64(max(1, schedProcs()))
	if idle := c.IdlePSeconds / (procs * c.CoveredSeconds); idle < 0.5 {
		t.Errorf("sampled idle share %.2f of the Ps while the goroutines slept, want ≥ 0.5 (%+v)", idle, *c)
	}
}

// BenchmarkSchedSample is the cost of one reading of the scheduler
// sampler, which runs 50 times a second in every agent.
func BenchmarkSchedSample(b *testing.B) {
	s := newSchedSampler()
	if s == nil {
		b.Skip("this Go version lacks /sched/goroutines/running")
	}
	now := time.Now()
	for b.Loop() {
		now = now.Add(schedSamplePeriod)
		s.sample(now)
	}
}

func schedProcs() int { return runtime.GOMAXPROCS(0) }
