package agent

import (
	"runtime"
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
