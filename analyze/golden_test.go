package analyze

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/contendr/contendr/collectors/gc"
	"github.com/contendr/contendr/collectors/mutex"
	"github.com/contendr/contendr/window"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// windowStart is a fixed time so that reports are byte-for-byte stable.
var windowStart = time.Date(2026, 11, 25, 20, 0, 0, 0, time.UTC)

// fixtureWindow builds a window from one folder of the committed profiles
// (../testdata/profiles, see its README), as `contendr analyze DIR` would:
// profile files, no runtime/metrics, a fixed length.
func fixtureWindow(t *testing.T, dir, goVersion string, seconds float64) *window.Window {
	t.Helper()
	w := &window.Window{
		ID:    filepath.Base(dir),
		Start: windowStart,
		End:   windowStart.Add(time.Duration(seconds * float64(time.Second))),
		Meta: window.Meta{
			Source: "testdata/profiles/" + dir, GoVersion: goVersion, GOMAXPROCS: 2, NumCPU: 2, Goroutines: 65,
			MutexProfileFraction: 1, BlockProfileRate: 1, MemProfileRate: 4096,
		},
	}
	for _, k := range []window.ProfileKind{window.Mutex, window.Block, window.Allocs} {
		data, err := os.ReadFile(filepath.Join("..", "testdata", "profiles", dir, string(k)+".pb.gz"))
		if err != nil {
			t.Fatal(err)
		}
		p, err := window.ParseProfile(data, 0)
		if err != nil {
			t.Fatalf("parsing %s/%s: %v", dir, k, err)
		}
		w.SetProfile(k, p)
	}
	return w
}

// withMetrics adds runtime/metrics readings to a fixture window, as an agent
// would record them, so that the lock fraction and GC figures are exact.
// waitSeconds is chosen close to the fixture's total mutex delay (go tool
// pprof -top), as the runtime's own counter would be.
func withMetrics(w *window.Window, waitSeconds, userCPU, gcCPU, totalCPU float64) *window.Window {
	start := window.Sample{Time: w.Start, Values: map[string]float64{
		window.MetricMutexWait: 100, window.MetricCPUUser: 1000, window.MetricCPUGC: 50, window.MetricCPUGCAssist: 10,
		window.MetricCPUTotal: 2000, window.MetricCPUIdle: 0, window.MetricGCCycles: 10, window.MetricAllocBytes: 1e9, window.MetricAllocObjs: 1e7,
	}, Histograms: map[string]window.Histogram{
		window.MetricGCPauses: {Counts: []uint64{0, 5, 5, 0}, Buckets: []float64{0, 5e-5, 2e-4, 8e-4, 5e-3}},
	}}
	end := window.Sample{Time: w.End, Values: map[string]float64{
		window.MetricMutexWait: 100 + waitSeconds, window.MetricCPUUser: 1000 + userCPU, window.MetricCPUGC: 50 + gcCPU,
		window.MetricCPUGCAssist: 10 + gcCPU/4, window.MetricCPUTotal: 2000 + totalCPU, window.MetricGCCycles: 70,
		window.MetricAllocBytes: 1e9 + 6e9, window.MetricAllocObjs: 1e7 + 9e7, window.MetricHeapLive: 64 << 20,
		window.MetricHeapGoal: 128 << 20, window.MetricGOGC: 100, window.MetricGOMEMLIMIT: float64(1<<63 - 1),
		window.MetricCPUIdle: max(totalCPU-userCPU-gcCPU, 0),
	}, Histograms: map[string]window.Histogram{
		window.MetricGCPauses: {Counts: []uint64{0, 70, 45, 5}, Buckets: []float64{0, 5e-5, 2e-4, 8e-4, 5e-3}},
	}}
	w.Metrics = &window.SamplePair{Start: start, End: end}
	return w
}

type goldenCase struct {
	name  string
	input func(t *testing.T) (Input, *mutex.Result, *gc.Result)
}

// collected runs the real collectors, as Analyze does.
func collected(in Input) func(t *testing.T) (Input, *mutex.Result, *gc.Result) {
	return func(t *testing.T) (Input, *mutex.Result, *gc.Result) {
		lock, err := mutex.Collect(in.Window, mutex.Options{})
		if err != nil {
			t.Fatal(err)
		}
		gcr, err := gc.Collect(in.Window, in.Previous)
		if err != nil {
			t.Fatal(err)
		}
		return in, lock, gcr
	}
}

func goldenCases(t *testing.T) []goldenCase {
	return []goldenCase{
		{"fixture-mutex-files", collected(Input{Window: fixtureWindow(t, "go1.26-hashtriemap/mutex", "go1.26.8", 30)})},
		{"fixture-rwmutex-agent", collected(Input{Window: withMetrics(fixtureWindow(t, "go1.26-hashtriemap/rwmutex", "go1.26.8", 30), 25, 50, 6, 60)})},
		{"fixture-syncmap-agent", collected(Input{Window: withMetrics(fixtureWindow(t, "go1.26-hashtriemap/syncmap", "go1.26.8", 30), 52, 42, 16, 60)})},
		{"fixture-legacy-syncmap-agent", collected(Input{Window: withMetrics(fixtureWindow(t, "go1.25-legacy-syncmap", "go1.25.0", 80), 4522, 110, 45, 160)})},
		{"hand-rwmutex-write-heavy", handRWMutexWriteHeavy},
		{"hand-legacy-go1.23", handLegacyGo123},
		{"hand-quiet", handQuiet},
		{"hand-profiling-off", handProfilingOff},
	}
}

func TestGolden(t *testing.T) {
	for _, tc := range goldenCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			in, lock, gcr := tc.input(t)
			r := Build(in, lock, gcr, DefaultThresholds())
			for _, format := range []struct {
				ext   string
				write func(*Report, *bytes.Buffer) error
			}{
				{"txt", func(r *Report, b *bytes.Buffer) error { return r.WriteText(b) }},
				{"verbose.txt", func(r *Report, b *bytes.Buffer) error { return r.WriteTextVerbose(b) }},
				{"json", func(r *Report, b *bytes.Buffer) error { return r.WriteJSON(b) }},
				{"md", func(r *Report, b *bytes.Buffer) error { return r.WriteMarkdown(b) }},
			} {
				var got bytes.Buffer
				if err := format.write(r, &got); err != nil {
					t.Fatal(err)
				}
				path := filepath.Join("testdata", "golden", tc.name+"."+format.ext)
				if *update {
					if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(path, got.Bytes(), 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (run go test -update to create it)", err)
				}
				if !bytes.Equal(got.Bytes(), want) {
					t.Errorf("%s differs from the golden file; run go test ./analyze -update and review the diff\n--- got ---\n%s", path, got.String())
				}
			}
		})
	}
}
