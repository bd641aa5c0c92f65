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
			Pressure:        gc.Pressure{Source: "runtime/metrics", CPUFraction: tt.gcCPU, Cycles: 10},
			Measured:        figure.KnownSet(figure.All...),
			TotalAllocBytes: 1000,
			MapGrowth: []*gc.MapGrowth{{Component: "x.(*Map[...])", Function: "x.(*Map[...]).Store", Kind: gc.GrowthGoMap,
				Bytes: 990, BytesPerSecond: 99, ShareOfAlloc: 0.99}},
		}
		fs := growthFindings(gcr, DefaultThresholds())
		if len(fs) != 1 || fs[0].Severity != tt.want {
			t.Errorf("GC CPU %g: findings %+v, want one %s", tt.gcCPU, fs, tt.want)
		}
	}
}
