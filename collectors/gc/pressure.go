package gc

import (
	"fmt"
	"slices"

	"github.com/contendr/contendr/collectors/stacks"
	"github.com/contendr/contendr/window"
)

// pauseRing is the length of MemStats.PauseNs: the runtime keeps the last
// 256 pauses only.
const pauseRing = 256

// pressureFromMetrics reads GC pressure from two runtime/metrics samples.
// seconds is the window length (0 when unknown: no per-second rates).
func pressureFromMetrics(m *window.SamplePair, seconds float64) Pressure {
	p := Pressure{Source: "runtime/metrics"}
	lack := func(field, metric string) {
		p.Missing = append(p.Missing, field+": "+metric+" not in both samples")
	}
	gcCPU, okGC := m.Delta(window.MetricCPUGC)
	totalCPU, okTotal := m.Delta(window.MetricCPUTotal)
	switch {
	case !okGC || !okTotal:
		lack("cpu_fraction", window.MetricCPUGC+" or "+window.MetricCPUTotal)
	case totalCPU > 0:
		p.CPUFraction = gcCPU / totalCPU
	}
	if assist, ok := m.Delta(window.MetricCPUGCAssist); !ok || !okGC {
		lack("assist_share", window.MetricCPUGCAssist)
	} else if gcCPU > 0 {
		p.AssistShare = assist / gcCPU
	}
	if pauses, ok := m.HistogramDelta(window.MetricGCPauses); ok {
		p.PauseP50Seconds = pauses.Quantile(0.5)
		p.PauseP99Seconds = pauses.Quantile(0.99)
		p.PauseMaxSeconds = pauses.Max()
	} else {
		for _, field := range []string{"pause_p50_seconds", "pause_p99_seconds", "pause_max_seconds"} {
			lack(field, window.MetricGCPauses)
		}
	}
	if cycles, ok := m.Delta(window.MetricGCCycles); ok {
		p.Cycles = int64(cycles)
		p.CyclesPerSecond = perSecond(cycles, seconds)
	} else {
		lack("cycles", window.MetricGCCycles)
		lack("cycles_per_second", window.MetricGCCycles)
	}
	if bytes, ok := m.Delta(window.MetricAllocBytes); ok {
		p.AllocBytesPerSecond = perSecond(bytes, seconds)
	} else {
		lack("alloc_bytes_per_second", window.MetricAllocBytes)
	}
	if objects, ok := m.Delta(window.MetricAllocObjs); ok {
		p.AllocObjectsPerSecond = perSecond(objects, seconds)
	} else {
		lack("alloc_objects_per_second", window.MetricAllocObjs)
	}
	gauges := []struct {
		field, metric string
		dst           *float64
	}{
		{"heap_live_bytes", window.MetricHeapLive, &p.HeapLiveBytes},
		{"heap_goal_bytes", window.MetricHeapGoal, &p.HeapGoalBytes},
		{"gogc", window.MetricGOGC, &p.GOGC},
		{"gomemlimit", window.MetricGOMEMLIMIT, &p.GOMEMLIMIT},
	}
	for _, g := range gauges {
		if v, ok := m.Last(g.metric); ok {
			*g.dst = v
		} else {
			lack(g.field, g.metric)
		}
	}
	return p
}

// pressureFromMemStats derives what two heap?debug=1 MemStats readings
// allow. The GC CPU fraction comes from cpu (a CPU profile recorded during
// the window) when there is one: MemStats.GCCPUFraction is a lifetime
// average since process start and says nothing about this window.
func pressureFromMemStats(ms *window.MemStatsPair, cpu stacks.CPU, seconds float64) (Pressure, []string) {
	p := Pressure{Source: "memstats"}
	var notes []string
	start, end := ms.Start, ms.End
	if end.NumGC < start.NumGC || end.TotalAlloc < start.TotalAlloc || end.Mallocs < start.Mallocs {
		p.Missing = append(p.Missing, "all: a MemStats counter went down between the readings (the target restarted)")
		return p, []string{"GC figures skipped: the target restarted between the two MemStats readings"}
	}
	cycles := int64(end.NumGC - start.NumGC)
	p.Cycles = cycles
	p.CyclesPerSecond = perSecond(float64(cycles), seconds)
	p.AllocBytesPerSecond = perSecond(float64(end.TotalAlloc-start.TotalAlloc), seconds)
	p.AllocObjectsPerSecond = perSecond(float64(end.Mallocs-start.Mallocs), seconds)
	// HeapAlloc still counts objects that died but are not swept yet: it is
	// the closest MemStats has to /gc/heap/live.
	p.HeapLiveBytes = float64(end.HeapAlloc)
	p.HeapGoalBytes = float64(end.NextGC)

	pauses := pausesBetween(start, end)
	if cycles > pauseRing {
		notes = append(notes, fmt.Sprintf("%d GC cycles in the window but MemStats.PauseNs keeps the last %d: pause figures cover the last %d cycles only", cycles, pauseRing, pauseRing))
	}
	if len(pauses) > 0 {
		p.PauseP50Seconds = quantile(pauses, 0.5) / 1e9
		p.PauseP99Seconds = quantile(pauses, 0.99) / 1e9
		p.PauseMaxSeconds = float64(pauses[len(pauses)-1]) / 1e9
	}

	if !cpu.Present {
		p.Missing = append(p.Missing, "cpu_fraction: no runtime/metrics and no CPU profile in the window (MemStats.GCCPUFraction is a lifetime average, not used)")
	} else if frac, err := gcFractionFromCPU(cpu); err != nil {
		p.Missing = append(p.Missing, "cpu_fraction: "+err.Error())
	} else {
		p.CPUFraction = frac
		p.Estimated = true
		notes = append(notes, "GC CPU fraction estimated from the CPU profile's GC frames over all sampled CPU (busy time), not over GOMAXPROCS × window as runtime/metrics would; stop-the-world pauses are not in it")
	}
	p.Missing = append(p.Missing,
		"assist_share: MemStats has no mark-assist time",
		"gogc: not in MemStats",
		"gomemlimit: not in MemStats")
	return p, notes
}

// pausesBetween returns, sorted, the PauseNs entries of the GC cycles that
// ended between two readings. Cycle n (1-based) is stored at
// PauseNs[(n+255)%256], so only the last 256 cycles are still there.
func pausesBetween(start, end window.MemStats) []uint64 {
	first := uint64(start.NumGC) + 1
	last := uint64(end.NumGC)
	if last >= pauseRing && last-pauseRing+1 > first {
		first = last - pauseRing + 1
	}
	var pauses []uint64
	for n := first; n <= last; n++ {
		pauses = append(pauses, end.PauseNs[(n+pauseRing-1)%pauseRing])
	}
	slices.Sort(pauses)
	return pauses
}

// quantile is the nearest-rank q-quantile of sorted values.
func quantile(sorted []uint64, q float64) float64 {
	rank := int(q*float64(len(sorted)) + 0.999999)
	rank = min(max(rank, 1), len(sorted))
	return float64(sorted[rank-1])
}

// gcFractionFromCPU is the share of a CPU profile's samples whose stack is
// in GC mark work (collectors/stacks names the frames).
func gcFractionFromCPU(cpu stacks.CPU) (float64, error) {
	if cpu.Err != nil {
		return 0, cpu.Err
	}
	if cpu.TotalNanos <= 0 {
		return 0, fmt.Errorf("CPU profile holds no samples")
	}
	return float64(cpu.GCNanos) / float64(cpu.TotalNanos), nil
}

func perSecond(v, seconds float64) float64 {
	if seconds <= 0 {
		return 0
	}
	return v / seconds
}
