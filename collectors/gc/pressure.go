package gc

import (
	"fmt"
	"slices"

	"github.com/contendr/contendr/collectors/figure"
	"github.com/contendr/contendr/collectors/stacks"
	"github.com/contendr/contendr/window"
)

// pauseRing is the length of MemStats.PauseNs: the runtime keeps the last
// 256 pauses only.
const pauseRing = 256

// pressureFromMetrics reads GC pressure from two runtime/metrics samples.
// seconds is the window length (0 when unknown: no per-second rates).
func pressureFromMetrics(m *window.SamplePair, seconds float64) (Pressure, figure.Set) {
	p := Pressure{Source: "runtime/metrics"}
	got := figure.Set{}
	lack := func(metric string, figures ...figure.Figure) {
		got.Miss(metric+" not in both runtime/metrics samples", figures...)
	}
	gcCPU, okGC := m.Delta(window.MetricCPUGC)
	totalCPU, okTotal := m.Delta(window.MetricCPUTotal)
	switch {
	case !okGC || !okTotal:
		lack(window.MetricCPUGC+" or "+window.MetricCPUTotal, figure.GCCPUFraction)
	default:
		// The CPU classes move only when a GC ends (golang/go#59749): no
		// movement means no GC finished, and its CPU share is 0.
		if totalCPU > 0 {
			p.CPUFraction = gcCPU / totalCPU
		}
		got.Know(figure.GCCPUFraction)
	}
	if assist, ok := m.Delta(window.MetricCPUGCAssist); !ok || !okGC {
		lack(window.MetricCPUGCAssist, figure.GCAssistShare)
	} else {
		if gcCPU > 0 {
			p.AssistShare = assist / gcCPU
		}
		got.Know(figure.GCAssistShare)
	}
	if pauses, ok := m.HistogramDelta(window.MetricGCPauses); ok {
		p.PauseP50Seconds = pauses.Quantile(0.5)
		p.PauseP99Seconds = pauses.Quantile(0.99)
		p.PauseMaxSeconds = pauses.Max()
		got.Know(figure.GCPauseP50, figure.GCPauseP99, figure.GCPauseMax)
	} else {
		lack(window.MetricGCPauses, figure.GCPauseP50, figure.GCPauseP99, figure.GCPauseMax)
	}
	if cycles, ok := m.Delta(window.MetricGCCycles); ok {
		p.Cycles = int64(cycles)
		p.CyclesPerSecond = perSecond(cycles, seconds)
		got.Know(figure.GCCycles)
	} else {
		lack(window.MetricGCCycles, figure.GCCycles)
	}
	bytes, okBytes := m.Delta(window.MetricAllocBytes)
	objects, okObjects := m.Delta(window.MetricAllocObjs)
	switch {
	case !okBytes || !okObjects:
		lack(window.MetricAllocBytes+" or "+window.MetricAllocObjs, figure.AllocRate)
	case seconds <= 0:
		got.Miss("the window's length is unknown", figure.AllocRate)
	default:
		p.AllocBytesPerSecond = perSecond(bytes, seconds)
		p.AllocObjectsPerSecond = perSecond(objects, seconds)
		got.Know(figure.AllocRate)
	}
	gauges := []struct {
		fig    figure.Figure
		metric string
		dst    *float64
	}{
		{figure.HeapLive, window.MetricHeapLive, &p.HeapLiveBytes},
		{figure.HeapGoal, window.MetricHeapGoal, &p.HeapGoalBytes},
		{figure.GOGC, window.MetricGOGC, &p.GOGC},
		{figure.GOMEMLIMIT, window.MetricGOMEMLIMIT, &p.GOMEMLIMIT},
	}
	for _, g := range gauges {
		if v, ok := m.Last(g.metric); ok {
			*g.dst = v
			got.Know(g.fig)
		} else {
			lack(g.metric, g.fig)
		}
	}
	return p, got
}

// pressureFromMemStats derives what two heap?debug=1 MemStats readings
// allow. The GC CPU fraction comes from cpu (a CPU profile recorded during
// the window) when there is one: MemStats.GCCPUFraction is a lifetime
// average since process start and says nothing about this window.
func pressureFromMemStats(ms *window.MemStatsPair, cpu stacks.CPU, seconds float64) (Pressure, figure.Set, []string) {
	p := Pressure{Source: "memstats"}
	got := figure.Set{}
	var notes []string
	start, end := ms.Start, ms.End
	if end.NumGC < start.NumGC || end.TotalAlloc < start.TotalAlloc || end.Mallocs < start.Mallocs {
		got.Miss("a MemStats counter went down between the readings (the target restarted)", figure.GC...)
		return p, got, []string{"GC figures skipped: the target restarted between the two MemStats readings"}
	}
	cycles := int64(end.NumGC - start.NumGC)
	p.Cycles = cycles
	p.CyclesPerSecond = perSecond(float64(cycles), seconds)
	got.Know(figure.GCCycles)
	if seconds > 0 {
		p.AllocBytesPerSecond = perSecond(float64(end.TotalAlloc-start.TotalAlloc), seconds)
		p.AllocObjectsPerSecond = perSecond(float64(end.Mallocs-start.Mallocs), seconds)
		got.Know(figure.AllocRate)
	} else {
		got.Miss("the window's length is unknown", figure.AllocRate)
	}
	// HeapAlloc still counts objects that died but are not swept yet: it is
	// the closest MemStats has to /gc/heap/live.
	p.HeapLiveBytes = float64(end.HeapAlloc)
	got.Estimate(figure.HeapLive, "MemStats.HeapAlloc, which still counts dead objects not yet swept")
	p.HeapGoalBytes = float64(end.NextGC)
	got.Know(figure.HeapGoal)

	pauses := pausesBetween(start, end)
	if cycles > pauseRing {
		notes = append(notes, fmt.Sprintf("%d GC cycles in the window but MemStats.PauseNs keeps the last %d: pause figures cover the last %d cycles only", cycles, pauseRing, pauseRing))
	}
	if len(pauses) > 0 {
		p.PauseP50Seconds = quantile(pauses, 0.5) / 1e9
		p.PauseP99Seconds = quantile(pauses, 0.99) / 1e9
		p.PauseMaxSeconds = float64(pauses[len(pauses)-1]) / 1e9
		got.Know(figure.GCPauseP50, figure.GCPauseP99, figure.GCPauseMax)
		if cycles > pauseRing {
			for _, f := range []figure.Figure{figure.GCPauseP50, figure.GCPauseP99, figure.GCPauseMax} {
				got.Estimate(f, fmt.Sprintf("from the last %d of %d cycles (MemStats.PauseNs keeps %d)", pauseRing, cycles, pauseRing))
			}
		}
	} else {
		got.Miss("no GC cycle ended during the window", figure.GCPauseP50, figure.GCPauseP99, figure.GCPauseMax)
	}

	if !cpu.Present {
		got.Miss("no runtime/metrics and no CPU profile in the window (MemStats.GCCPUFraction is a lifetime average, not used)", figure.GCCPUFraction)
	} else if frac, err := gcFractionFromCPU(cpu); err != nil {
		got.Miss(err.Error(), figure.GCCPUFraction)
	} else {
		p.CPUFraction = frac
		got.Estimate(figure.GCCPUFraction, "from the CPU profile's GC frames over all sampled CPU (busy time), not over GOMAXPROCS × window as runtime/metrics would; stop-the-world pauses are not in it")
	}
	got.Miss("MemStats has no mark-assist time", figure.GCAssistShare)
	got.Miss("not in MemStats", figure.GOGC, figure.GOMEMLIMIT)
	return p, got, notes
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
