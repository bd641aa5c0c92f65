package analyze

import (
	"testing"

	"github.com/contendr/contendr/collectors/figure"
	"github.com/contendr/contendr/collectors/gc"
)

// TestGrowthCritNeedsACostlyGC: a map that is nearly all of a window's
// allocation is named, but it is critical only when the GC it drives
// costs CPU (xsync's Map allocates an entry per write: 99% of allocation
// at a 5% GC CPU fraction).
func TestGrowthCritNeedsACostlyGC(t *testing.T) {
	for _, tt := range []struct {
		gcCPU float64
		want  Severity
	}{{0.05, SeverityWarn}, {0.30, SeverityCrit}} {
		gcr := &gc.Result{
			WindowSeconds:   10,
			Pressure:        gc.Pressure{Source: "runtime/metrics", CPUFraction: tt.gcCPU, Cycles: 10, AllocBytesPerSecond: 100 << 20},
			Measured:        figure.KnownSet(figure.All...),
			TotalAllocBytes: 1000 << 20,
			MapGrowth: []*gc.MapGrowth{{Component: "x.(*Map[...])", Function: "x.(*Map[...]).Store", Kind: gc.GrowthGoMap,
				Bytes: 990 << 20, BytesPerSecond: 99 << 20, ShareOfAlloc: 0.99}},
		}
		fs := growthFindings(gcr, DefaultThresholds())
		if len(fs) != 1 || fs[0].Severity != tt.want {
			t.Errorf("GC CPU %g: findings %+v, want one %s", tt.gcCPU, fs, tt.want)
		}
	}
}

// TestGrowthOfANegligibleRateIsNoFinding: 74% of 1.3 MiB/s is a share of
// almost nothing (contendr demo's rwmutex map rated it CRIT).
func TestGrowthOfANegligibleRateIsNoFinding(t *testing.T) {
	gcr := &gc.Result{
		WindowSeconds: 10,
		Pressure:      gc.Pressure{Source: "runtime/metrics", CPUFraction: 0.0003, AllocBytesPerSecond: 1.3 * (1 << 20), Cycles: 2},
		Measured:      figure.KnownSet(figure.All...),
		MapGrowth: []*gc.MapGrowth{{Component: "x.(*RWMap)", Function: "x.(*RWMap).Store", Kind: gc.GrowthGoMap,
			Bytes: 10 << 20, BytesPerSecond: 0.96 * (1 << 20), ShareOfAlloc: 0.74}},
	}
	if fs := growthFindings(gcr, DefaultThresholds()); len(fs) != 0 {
		t.Errorf("findings %+v, want none below %d B/s of allocation", fs, MinJudgedAllocRate)
	}
	gcr.Pressure.AllocBytesPerSecond = 2 * MinJudgedAllocRate
	if fs := growthFindings(gcr, DefaultThresholds()); len(fs) != 1 {
		t.Errorf("findings %+v, want one above the floor", fs)
	}
}
