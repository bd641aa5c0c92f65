package mutex

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/pprof/profile"

	"github.com/contendr/contendr/window"
)

// cpuOnly builds a CPU profile of the given leaf-first stacks and CPU
// nanoseconds, lasting seconds.
func cpuOnly(seconds float64, samples map[int64][]string) *profile.Profile {
	p := &profile.Profile{
		SampleType:    []*profile.ValueType{{Type: "samples", Unit: "count"}, {Type: "cpu", Unit: "nanoseconds"}},
		PeriodType:    &profile.ValueType{Type: "cpu", Unit: "nanoseconds"},
		Period:        10_000_000,
		DurationNanos: int64(seconds * 1e9),
	}
	for ns, stack := range samples {
		s := &profile.Sample{Value: []int64{ns / 10_000_000, ns}}
		for _, name := range stack {
			fn := &profile.Function{ID: uint64(len(p.Function) + 1), Name: name}
			loc := &profile.Location{ID: uint64(len(p.Location) + 1), Line: []profile.Line{{Function: fn}}}
			p.Function, p.Location = append(p.Function, fn), append(p.Location, loc)
			s.Location = append(s.Location, loc)
		}
		p.Sample = append(p.Sample, s)
	}
	return p
}

func costTestWindow(seconds float64, start, end map[string]float64) *window.Window {
	t0 := time.Unix(1000, 0)
	w := &window.Window{ID: "w", Start: t0, End: t0.Add(time.Duration(seconds * float64(time.Second))),
		Meta: window.Meta{GOMAXPROCS: 2, MutexProfileFraction: 5, BlockProfileRate: 10000}}
	if start != nil {
		w.Metrics = &window.SamplePair{Start: window.Sample{Values: start}, End: window.Sample{Values: end}}
	}
	return w
}

// TestContentionCost covers the cost's halves and its marks: CPU inside
// lock primitives (scaled from a CPU profile that covered part of the
// window), idle Ps blamed on locks only up to the lock wait, and the
// lower bound without a CPU profile.
func TestContentionCost(t *testing.T) {
	lockCPU := map[int64][]string{
		1e9: {"internal/sync.(*Mutex).lockSlow", "sync.(*Mutex).Lock", "main.(*Cache).Set", "main.worker"},
		2e9: {"runtime.mapassign_fast64", "main.(*Cache).Set", "main.worker"},
	}
	// A 10s window on 2 Ps: capacity 20s. GCs refreshed /cpu/classes over
	// the whole window: 5s of it idle. Goroutines waited 30s on locks.
	metricsStart := map[string]float64{window.MetricMutexWait: 0, window.MetricCPUIdle: 0, window.MetricCPUTotal: 0, window.MetricCPUUser: 0}
	metricsEnd := map[string]float64{window.MetricMutexWait: 30, window.MetricCPUIdle: 5, window.MetricCPUTotal: 20, window.MetricCPUUser: 15}

	t.Run("profile of part of the window", func(t *testing.T) {
		w := costTestWindow(10, metricsStart, metricsEnd)
		w.SetProfile(window.CPU, cpuOnly(2.5, lockCPU)) // 1s of lock CPU in 2.5s: 4s over the window
		r, err := Collect(w, Options{})
		if err != nil {
			t.Fatal(err)
		}
		c := r.Cost
		if !c.Known || c.Estimated || c.IdleSource != IdleRuntime || c.SyncCPUSeconds != 4 || c.IdleLostSeconds != 5 {
			t.Fatalf("cost %+v, want sync CPU 4s (scaled), idle lost 5s (all idle: wait exceeds it), from runtime/metrics", c)
		}
		if math.Abs(c.Value-9.0/20) > 1e-9 {
			t.Errorf("cost %g, want (4+5)/20", c.Value)
		}
		if r.Waiters.Average != 3 {
			t.Errorf("lock waiters %g, want 30s of waiting over 10s = 3", r.Waiters.Average)
		}
	})
	t.Run("idle capped by the wait", func(t *testing.T) {
		end := map[string]float64{window.MetricMutexWait: 2, window.MetricCPUIdle: 5, window.MetricCPUTotal: 20, window.MetricCPUUser: 15}
		w := costTestWindow(10, metricsStart, end)
		w.SetProfile(window.CPU, cpuOnly(10, lockCPU))
		r, _ := Collect(w, Options{})
		if r.Cost.IdleLostSeconds != 2 || r.Cost.SyncCPUSeconds != 1 {
			t.Errorf("cost %+v, want idle lost capped at the 2s of lock wait, sync CPU 1s", r.Cost)
		}
	})
	t.Run("no CPU profile: a lower bound", func(t *testing.T) {
		w := costTestWindow(10, metricsStart, metricsEnd)
		r, _ := Collect(w, Options{})
		c := r.Cost
		if !c.Known || !c.LowerBound || !c.Estimated || c.Value != 5.0/20 || !strings.Contains(c.Reason, "no CPU profile") {
			t.Errorf("cost %+v, want a marked lower bound of idle lost only (5/20)", c)
		}
	})
	t.Run("no GC refresh: idle from the OS, said so", func(t *testing.T) {
		w := costTestWindow(10, metricsStart, metricsStart) // /cpu/classes did not move
		w.Metrics.End.Values = map[string]float64{window.MetricMutexWait: 30}
		w.Metrics.Start.ProcessCPUSeconds, w.Metrics.End.ProcessCPUSeconds = 100, 112 // 12s used of 20s
		w.SetProfile(window.CPU, cpuOnly(10, lockCPU))
		r, _ := Collect(w, Options{})
		c := r.Cost
		if c.IdleSource != IdleOS || c.IdleSeconds != 8 || !c.Estimated || !strings.Contains(c.Reason, "other processes") {
			t.Errorf("cost %+v, want 8s idle from the OS's accounting, estimated, saying other processes count as idle", c)
		}
	})
	t.Run("scheduler samples beat the OS", func(t *testing.T) {
		w := costTestWindow(10, metricsStart, metricsStart)
		w.Metrics.End.Values = map[string]float64{window.MetricMutexWait: 30}
		w.Metrics.Start.ProcessCPUSeconds, w.Metrics.End.ProcessCPUSeconds = 100, 112
		w.Metrics.Start.Sched = &window.SchedCounters{Samples: 1}
		w.Metrics.End.Sched = &window.SchedCounters{IdlePSeconds: 1, RunnableSeconds: 300, CoveredSeconds: 10, Samples: 501}
		w.SetProfile(window.CPU, cpuOnly(10, lockCPU))
		r, _ := Collect(w, Options{})
		if c := r.Cost; c.IdleSource != IdleSampled || c.IdleSeconds != 1 || c.Estimated {
			t.Errorf("cost %+v, want 1s idle from the scheduler samples (the OS's 8s counted CPU others took)", c)
		}
		if r.Waiters.Runnable != 30 || !r.Waiters.RunnableKnown {
			t.Errorf("waiters %+v, want 30 goroutines runnable on average", r.Waiters)
		}
	})
	// The runtime counts a P busy while its thread sleeps in a futex
	// handing a lock on; the OS's process CPU and the machine's idle CPU
	// tell that from a machine whose other processes held the cores.
	offCPU := func(machineIdle float64) Cost {
		w := costTestWindow(10, metricsStart, metricsStart)
		w.Metrics.End.Values = map[string]float64{window.MetricMutexWait: 30}
		w.Metrics.Start.ProcessCPUSeconds, w.Metrics.End.ProcessCPUSeconds = 100, 112 // 12s used of 20s
		w.Metrics.Start.MachineIdleSeconds, w.Metrics.End.MachineIdleSeconds = 500, 500+machineIdle
		w.Metrics.Start.Sched = &window.SchedCounters{Samples: 1}
		w.Metrics.End.Sched = &window.SchedCounters{IdlePSeconds: 1, CoveredSeconds: 10, Samples: 501}
		w.SetProfile(window.CPU, cpuOnly(10, lockCPU))
		r, _ := Collect(w, Options{})
		return r.Cost
	}
	t.Run("Ps off-CPU with cores free count", func(t *testing.T) {
		// 20s capacity − 1s sampled idle − 12s used: 7s off-CPU, and the
		// machine had 9s of idle CPU to run it.
		if c := offCPU(9); c.OffCPUSeconds != 7 || c.IdleLostSeconds != 8 || c.IdleSeconds != 1 || c.Value != (1+8)/20.0 {
			t.Errorf("cost %+v, want 7s off-CPU added to the 1s idle, all of it lost to the 30s of lock wait", c)
		}
	})
	t.Run("Ps off-CPU while others held the cores do not", func(t *testing.T) {
		if c := offCPU(2); c.OffCPUSeconds != 2 || c.IdleLostSeconds != 3 {
			t.Errorf("cost %+v, want off-CPU time limited to the machine's 2s of idle CPU", c)
		}
		if c := offCPU(0.001); c.OffCPUSeconds > 0.001 {
			t.Errorf("cost %+v, want no off-CPU time on a machine with no idle CPU", c)
		}
	})
	t.Run("unknown capacity", func(t *testing.T) {
		w := &window.Window{}
		w.SetProfile(window.CPU, cpuOnly(10, lockCPU))
		r, _ := Collect(w, Options{})
		if r.Cost.Known || !r.Cost.Estimated || r.Cost.Reason == "" {
			t.Errorf("cost %+v, want unknown with a reason", r.Cost)
		}
	})
}

// TestComponentCostWithoutContention: readers that only RLock an RWMutex
// spend CPU on its reader count with an empty mutex profile; the component
// is listed with its cost and the read-lock kind, so the advice sees it.
func TestComponentCostWithoutContention(t *testing.T) {
	w := costTestWindow(10, map[string]float64{window.MetricMutexWait: 0}, map[string]float64{window.MetricMutexWait: 0})
	w.SetProfile(window.Mutex, contentionProfile())
	w.SetProfile(window.CPU, cpuOnly(10, map[int64][]string{
		6e9:  {"sync.(*RWMutex).RLock", "main.(*Index).Get", "main.worker"},
		4e9:  {"sync.(*RWMutex).RUnlock", "main.(*Index).Get", "main.worker"},
		10e9: {"internal/runtime/maps.runtime_mapaccess2_fast64", "main.(*Index).Get", "main.worker"},
	}))
	r, err := Collect(w, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Components) != 1 {
		t.Fatalf("components %+v, want main.(*Index) alone", r.Components)
	}
	c := r.Components[0]
	if c.Name != "main.(*Index)" || c.SyncCPUSeconds != 10 || c.Cost != 0.5 || len(c.Kinds) != 1 || c.Kinds[0] != KindRWMutexRead {
		t.Errorf("component %+v, want main.(*Index) with 10s of RLock/RUnlock CPU, cost 50%%, kind rwmutex-read", c)
	}
}
