package gc

import (
	"math"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/contendr/contendr/collectors/figure"
	"github.com/contendr/contendr/internal/symbol"
	"github.com/contendr/contendr/window"
)

// readMemStats parses a captured heap?debug=1 response (see
// testdata/capture-main.go.txt) and dates it by its last GC.
func readMemStats(t *testing.T, name string) window.MemStats {
	t.Helper()
	data, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := window.ParseMemStats(data)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	ms.Time = time.Unix(0, int64(ms.LastGC))
	return ms
}

func TestPressureFromMemStats(t *testing.T) {
	a := readMemStats(t, "heap-debug1-a.txt") // NumGC 155
	b := readMemStats(t, "heap-debug1-b.txt") // NumGC 403: 248 cycles, ring intact
	c := readMemStats(t, "heap-debug1-c.txt") // NumGC 1225: 1070 cycles, ring wrapped
	tests := []struct {
		name       string
		start, end window.MemStats
		cycles     int64
		pauses     int // ring entries used
		wrapped    bool
	}{
		{"within the ring", a, b, 248, 248, false},
		{"ring wrapped", a, c, 1070, 256, true},
		{"no GC between", c, c, 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &window.Window{ID: tt.name, MemStats: &window.MemStatsPair{Start: tt.start, End: tt.end}}
			r, err := Collect(w, nil)
			if err != nil {
				t.Fatal(err)
			}
			p := r.Pressure
			seconds := tt.end.Time.Sub(tt.start.Time).Seconds()
			if p.Source != "memstats" || p.Cycles != tt.cycles {
				t.Errorf("source %q cycles %d, want memstats and %d", p.Source, p.Cycles, tt.cycles)
			}
			if seconds > 0 {
				wantAlloc := float64(tt.end.TotalAlloc-tt.start.TotalAlloc) / seconds
				if math.Abs(p.AllocBytesPerSecond-wantAlloc) > 1e-6*wantAlloc {
					t.Errorf("alloc %.0f B/s, want %.0f", p.AllocBytesPerSecond, wantAlloc)
				}
				if want := float64(tt.cycles) / seconds; math.Abs(p.CyclesPerSecond-want) > 1e-9*want {
					t.Errorf("cycles/s %v, want %v", p.CyclesPerSecond, want)
				}
			}
			pauses := pausesBetween(tt.start, tt.end)
			if len(pauses) != tt.pauses {
				t.Errorf("%d pauses read from the ring, want %d", len(pauses), tt.pauses)
			}
			if tt.pauses > 0 {
				if !(p.PauseP50Seconds > 0 && p.PauseP50Seconds <= p.PauseP99Seconds && p.PauseP99Seconds <= p.PauseMaxSeconds) {
					t.Errorf("pauses p50 %v p99 %v max %v not ordered and positive", p.PauseP50Seconds, p.PauseP99Seconds, p.PauseMaxSeconds)
				}
				// The newest pause is in the window and no older one is.
				newest := float64(tt.end.PauseNs[(tt.end.NumGC+255)%256]) / 1e9
				if newest > p.PauseMaxSeconds {
					t.Errorf("newest pause %v above max %v", newest, p.PauseMaxSeconds)
				}
			}
			wrapNote := strings.Contains(strings.Join(r.Notes, "\n"), "keeps the last 256")
			if wrapNote != tt.wrapped {
				t.Errorf("ring-wrap note present = %v, want %v; notes %q", wrapNote, tt.wrapped, r.Notes)
			}
			if p.HeapGoalBytes != float64(tt.end.NextGC) || p.HeapLiveBytes != float64(tt.end.HeapAlloc) {
				t.Errorf("heap live %v goal %v, want HeapAlloc %d NextGC %d", p.HeapLiveBytes, p.HeapGoalBytes, tt.end.HeapAlloc, tt.end.NextGC)
			}
			// GCCPUFraction (lifetime) must never stand in for the window.
			if p.CPUFraction != 0 || r.Measured.Has(figure.GCCPUFraction) {
				t.Errorf("cpu fraction %v (%+v): want 0 and missing without a CPU profile", p.CPUFraction, r.Measured.Get(figure.GCCPUFraction))
			}
		})
	}
}

// TestPausesBetweenRingOrder checks the index arithmetic on a ring whose
// entries say which cycle wrote them.
func TestPausesBetweenRingOrder(t *testing.T) {
	var end window.MemStats
	end.NumGC = 600
	for n := uint64(1); n <= 600; n++ { // the runtime overwrites as it goes
		end.PauseNs[(n+255)%256] = n
	}
	got := pausesBetween(window.MemStats{NumGC: 590}, end)
	if len(got) != 10 || got[0] != 591 || got[9] != 600 {
		t.Errorf("cycles 591..600: got %v", got)
	}
	got = pausesBetween(window.MemStats{NumGC: 10}, end)
	if len(got) != 256 || got[0] != 345 || got[255] != 600 {
		t.Errorf("wrapped: got %d entries %d..%d, want 256 entries 345..600", len(got), got[0], got[len(got)-1])
	}
}

func TestPressureFromMemStatsRestarted(t *testing.T) {
	a := readMemStats(t, "heap-debug1-a.txt")
	c := readMemStats(t, "heap-debug1-c.txt")
	r, err := Collect(&window.Window{MemStats: &window.MemStatsPair{Start: c, End: a}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.Pressure.Cycles != 0 || r.Pressure.AllocBytesPerSecond != 0 || r.Measured.Has(figure.GCCycles) {
		t.Errorf("restarted target: got %+v, %+v, want every GC figure missing", r.Pressure, r.Measured)
	}
}

// metricsSample builds a runtime/metrics reading; pauses are counts per
// bucket of the edges below.
func metricsSample(at time.Time, values map[string]float64, pauses []uint64) window.Sample {
	return window.Sample{Time: at, Values: values, Histograms: map[string]window.Histogram{
		window.MetricGCPauses: {Counts: pauses, Buckets: []float64{math.Inf(-1), 1e-5, 1e-4, 1e-3, 1e-2, math.Inf(1)}},
	}}
}

func TestPressureFromMetrics(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 21, 0, 0, 0, time.UTC)
	start := metricsSample(t0, map[string]float64{
		window.MetricCPUTotal: 100, window.MetricCPUGC: 5, window.MetricCPUGCAssist: 1,
		window.MetricGCCycles: 40, window.MetricAllocBytes: 1e9, window.MetricAllocObjs: 1e6,
	}, []uint64{0, 10, 60, 10, 0})
	end := metricsSample(t0.Add(10*time.Second), map[string]float64{
		window.MetricCPUTotal: 120, window.MetricCPUGC: 8, window.MetricCPUGCAssist: 2.5,
		window.MetricGCCycles: 90, window.MetricAllocBytes: 3e9, window.MetricAllocObjs: 5e6,
		window.MetricHeapLive: 64 << 20, window.MetricHeapGoal: 128 << 20,
		window.MetricGOGC: 100, window.MetricGOMEMLIMIT: math.MaxInt64,
	}, []uint64{0, 10, 158, 11, 1}) // 100 new pauses: 98 in [1e-4,1e-3), 1 below 1e-2, 1 above
	w := &window.Window{Start: t0, End: t0.Add(10 * time.Second), Metrics: &window.SamplePair{Start: start, End: end}}
	r, err := Collect(w, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := Pressure{
		CPUFraction: 3.0 / 20, AssistShare: 1.5 / 3,
		PauseP50Seconds: 1e-3, PauseP99Seconds: 1e-2, PauseMaxSeconds: 1e-2,
		Cycles: 50, CyclesPerSecond: 5, AllocBytesPerSecond: 2e8, AllocObjectsPerSecond: 4e5,
		HeapLiveBytes: 64 << 20, HeapGoalBytes: 128 << 20, GOGC: 100, GOMEMLIMIT: math.MaxInt64,
		Source: "runtime/metrics",
	}
	got := r.Pressure
	if lacking := r.Measured.Lacking(); !slices.Equal(lacking, []figure.Figure{figure.MapGrowth}) {
		t.Errorf("missing %q, want only map growth missing (no allocs profile)", lacking)
	}
	if !approxEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}

	// A sample without the GC metrics leaves them zero and says so.
	delete(w.Metrics.End.Values, window.MetricCPUGC)
	delete(w.Metrics.End.Histograms, window.MetricGCPauses)
	r, err = Collect(w, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []figure.Figure{figure.GCCPUFraction, figure.GCAssistShare, figure.GCPauseP99} {
		if r.Measured.Has(f) {
			t.Errorf("%s not missing: %+v", f, r.Measured)
		}
	}
	if r.Pressure.CPUFraction != 0 || r.Pressure.PauseP99Seconds != 0 || !r.Measured.Has(figure.GCCycles) {
		t.Errorf("partial metrics: got %+v", r.Pressure)
	}
}

func approxEqual(a, b Pressure) bool {
	close := func(x, y float64) bool { return math.Abs(x-y) <= 1e-9*math.Max(1, math.Abs(y)) }
	return close(a.CPUFraction, b.CPUFraction) && close(a.AssistShare, b.AssistShare) &&
		close(a.PauseP50Seconds, b.PauseP50Seconds) && close(a.PauseP99Seconds, b.PauseP99Seconds) &&
		close(a.PauseMaxSeconds, b.PauseMaxSeconds) && a.Cycles == b.Cycles &&
		close(a.CyclesPerSecond, b.CyclesPerSecond) && close(a.AllocBytesPerSecond, b.AllocBytesPerSecond) &&
		close(a.AllocObjectsPerSecond, b.AllocObjectsPerSecond) && a.HeapLiveBytes == b.HeapLiveBytes &&
		a.HeapGoalBytes == b.HeapGoalBytes && a.GOGC == b.GOGC && a.GOMEMLIMIT == b.GOMEMLIMIT &&
		a.Source == b.Source
}

func TestComponent(t *testing.T) {
	tests := []struct{ fn, want string }{
		{"main.(*Cache).Set", "main.(*Cache)"},
		{"main.(*Cache).Set.func1", "main.(*Cache)"},
		{"main.Cache.Get", "main.Cache"},
		{"main.main.func1", "main"},
		{"main.worker", "main"},
		{"github.com/acme/svc/store.(*Shard).Put", "github.com/acme/svc/store.(*Shard)"},
		{"github.com/acme/svc/store.(*Map[go.shape.string,go.shape.*uint8]).Store", "github.com/acme/svc/store.(*Map[...])"},
		{"example.com/x.(*T[go.shape.func() example.com/y.Z]).M", "example.com/x.(*T[...])"},
		{"internal/sync.newEntryNode[go.shape.interface {},go.shape.interface {}]", "internal/sync"},
		// The linker escapes dots in the last path element.
		{"gopkg.in/yaml%2ev3.(*decoder).unmarshal", "gopkg.in/yaml%2ev3.(*decoder)"},
		{"nodots", "nodots"},
	}
	for _, tt := range tests {
		if got := symbol.Component(tt.fn); got != tt.want {
			t.Errorf("component(%q) = %q, want %q", tt.fn, got, tt.want)
		}
	}
}
