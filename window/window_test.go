package window

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/pprof/profile"
)

const fixtures = "../testdata/profiles"

func readFixture(t testing.TB, rel string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(fixtures, rel))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func parseFixture(t testing.TB, rel string) *profile.Profile {
	t.Helper()
	p, err := ParseProfile(readFixture(t, rel), 0)
	if err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
	return p
}

func TestDetectKindOnRealProfiles(t *testing.T) {
	for _, set := range []string{"go1.26-hashtriemap/mutex", "go1.26-hashtriemap/rwmutex", "go1.26-hashtriemap/syncmap", "go1.25-legacy-syncmap"} {
		for _, want := range []ProfileKind{Mutex, Block, Allocs} {
			rel := set + "/" + string(want) + ".pb.gz"
			if got := DetectKind(parseFixture(t, rel)); got != want {
				t.Errorf("DetectKind(%s) = %q, want %q", rel, got, want)
			}
		}
	}
}

func TestParseProfileRejectsBadInput(t *testing.T) {
	good := readFixture(t, "go1.26-hashtriemap/mutex/mutex.pb.gz")
	var bomb bytes.Buffer
	if err := (&profile.Profile{SampleType: []*profile.ValueType{{Type: "x", Unit: "y"}}}).Write(&bomb); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		data  []byte
		limit int64
		want  string
	}{
		{"empty", nil, 0, "empty input"},
		{"html", []byte("<!DOCTYPE html><html><body>login</body></html>"), 0, "HTML page"},
		{"truncated gzip", good[:len(good)/2], 0, "truncated or corrupt gzip"},
		{"garbage", []byte("hello, this is not a profile"), 0, "not a pprof profile"},
		{"over the cap", good, 64, "exceeds the size cap"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseProfile(tt.data, tt.limit)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("ParseProfile: err = %v, want it to mention %q", err, tt.want)
			}
		})
	}
	if _, err := ParseProfile(good, 64); !errors.Is(err, ErrTooLarge) {
		t.Errorf("over the cap: err = %v, want ErrTooLarge", err)
	}
}

// contention builds a two-sample contention profile with the given delays.
func contention(t0 int64, delays ...int64) *profile.Profile {
	fn := []*profile.Function{{ID: 1, Name: "main.a"}, {ID: 2, Name: "main.b"}}
	loc := []*profile.Location{{ID: 1, Line: []profile.Line{{Function: fn[0]}}}, {ID: 2, Line: []profile.Line{{Function: fn[1]}}}}
	p := &profile.Profile{
		SampleType: []*profile.ValueType{{Type: "contentions", Unit: "count"}, {Type: "delay", Unit: "nanoseconds"}},
		PeriodType: &profile.ValueType{Type: "contentions", Unit: "count"}, Period: 1,
		Function: fn, Location: loc, TimeNanos: t0,
	}
	for i, d := range delays {
		p.Sample = append(p.Sample, &profile.Sample{Location: []*profile.Location{loc[i]}, Value: []int64{d / 100, d}})
	}
	return p
}

func TestDelta(t *testing.T) {
	start := contention(1e9, 1000, 5000)
	end := contention(3e9, 4000, 5000)
	d, restarted, err := Delta(start, end)
	if err != nil || restarted {
		t.Fatalf("Delta: restarted=%v err=%v", restarted, err)
	}
	// main.b did not change: only main.a's 3000ns remain.
	if len(d.Sample) != 1 || d.Sample[0].Value[1] != 3000 || d.Sample[0].Location[0].Line[0].Function.Name != "main.a" {
		t.Fatalf("Delta samples = %v", d.Sample)
	}
	if d.DurationNanos != 2e9 {
		t.Errorf("DurationNanos = %d, want 2e9", d.DurationNanos)
	}
}

func TestDeltaAfterRestartStartsFreshBaseline(t *testing.T) {
	tests := []struct {
		name       string
		start, end *profile.Profile
	}{
		{"total went down", contention(1, 9000, 9000), contention(2, 100, 200)},
		{"one stack went down", contention(1, 1000, 5000), contention(2, 9000, 10)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, restarted, err := Delta(tt.start, tt.end)
			if err != nil || !restarted {
				t.Fatalf("Delta: restarted=%v err=%v, want a restart", restarted, err)
			}
			for _, s := range d.Sample {
				for _, v := range s.Value {
					if v < 0 {
						t.Fatalf("negative value %d after restart", v)
					}
				}
			}
			if d != tt.end {
				t.Error("after a restart the end profile itself is the new baseline")
			}
		})
	}
}

func TestBundleRoundTrip(t *testing.T) {
	w := &Window{
		ID: "7", Start: time.Unix(100, 0).UTC(), End: time.Unix(110, 0).UTC(),
		Meta: Meta{Source: "in-process", GoVersion: "go1.26.8", GOMAXPROCS: 2, MutexProfileFraction: 5, BlockProfileRate: 1000,
			Labels: map[string]string{"role": "canary"}},
		Metrics: &SamplePair{
			Start: Sample{Values: map[string]float64{MetricMutexWait: 1}, Histograms: map[string]Histogram{
				MetricGCPauses: {Counts: []uint64{1, 2}, Buckets: []float64{math.Inf(-1), 1e-3, math.Inf(1)}}}},
			End: Sample{Values: map[string]float64{MetricMutexWait: 3}, Histograms: map[string]Histogram{
				MetricGCPauses: {Counts: []uint64{1, 5}, Buckets: []float64{math.Inf(-1), 1e-3, math.Inf(1)}}}},
		},
		Notes: []string{"fgprof skipped"},
		Trace: &Trace{Reason: "on demand", CapturedAt: time.Unix(109, 0).UTC(), Bytes: 20, Data: []byte("go 1.26 trace\x00\x00\x00body")},
	}
	w.SetProfile(Mutex, parseFixture(t, "go1.26-hashtriemap/rwmutex/mutex.pb.gz"))
	w.SetProfile(Allocs, parseFixture(t, "go1.26-hashtriemap/rwmutex/allocs.pb.gz"))

	var buf bytes.Buffer
	if err := w.Encode(&buf); err != nil {
		t.Fatal(err)
	}
	if !IsBundle(buf.Bytes()) {
		t.Fatal("encoded bundle does not look like a zip")
	}
	got, err := DecodeBundle(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != "7" || got.Seconds() != 10 || got.Meta.GOMAXPROCS != 2 || got.Meta.Labels["role"] != "canary" || len(got.Notes) != 1 {
		t.Errorf("decoded window = %+v", got)
	}
	if d, ok := got.Metrics.Delta(MetricMutexWait); !ok || d != 2 {
		t.Errorf("mutex wait delta = %v, %v; want 2", d, ok)
	}
	h, ok := got.Metrics.HistogramDelta(MetricGCPauses)
	if !ok || h.Total() != 3 || !math.IsInf(h.Buckets[2], 1) {
		t.Errorf("pause histogram delta = %+v, %v", h, ok)
	}
	if got.Profile(Mutex) == nil || len(got.Profile(Mutex).Sample) != len(w.Profile(Mutex).Sample) {
		t.Error("mutex profile lost in the round trip")
	}
	if got.Profile(Block) != nil {
		t.Error("a block profile appeared from nowhere")
	}
	if got.Trace == nil || !bytes.Equal(got.Trace.Data, w.Trace.Data) || got.Trace.Reason != "on demand" || got.Trace.Bytes != 20 {
		t.Errorf("trace after the round trip: %+v", got.Trace)
	}
}

func TestDecodeBundleRejectsBadInput(t *testing.T) {
	var buf bytes.Buffer
	if err := (&Window{ID: "1"}).Encode(&buf); err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{
		"not a zip": []byte("PK\x03\x04 garbage"),
		"truncated": buf.Bytes()[:buf.Len()/2],
	} {
		if _, err := DecodeBundle(data); err == nil {
			t.Errorf("%s: DecodeBundle succeeded", name)
		}
	}
}

func TestHistogramQuantile(t *testing.T) {
	h := Histogram{Counts: []uint64{0, 90, 9, 1}, Buckets: []float64{math.Inf(-1), 1e-4, 1e-3, 1e-2, math.Inf(1)}}
	for _, tt := range []struct{ q, want float64 }{{0.5, 1e-3}, {0.99, 1e-2}, {1, 1e-2}} {
		if got := h.Quantile(tt.q); got != tt.want {
			t.Errorf("Quantile(%v) = %v, want %v", tt.q, got, tt.want)
		}
	}
	if (Histogram{}).Quantile(0.5) != 0 {
		t.Error("empty histogram quantile should be 0")
	}
}

func FuzzDecodeBundle(f *testing.F) {
	var buf bytes.Buffer
	w := &Window{ID: "1", Meta: Meta{Source: "fuzz"}}
	w.SetProfile(Mutex, contention(1, 10, 20))
	if err := w.Encode(&buf); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add([]byte("PK\x03\x04"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = DecodeBundle(data) // must not panic or allocate without bound
	})
}

func FuzzParseProfile(f *testing.F) {
	var buf bytes.Buffer
	if err := contention(1, 10, 20).Write(&buf); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add([]byte("--- mutex:\ncycles/second=1\nsampling period=1\n1 2 @ 0x1 0x2\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = ParseProfile(data, 1<<20)
	})
}

func TestParseProfileNamesDebug1TextFrames(t *testing.T) {
	p := parseFixture(t, "text/mutex-debug1.txt")
	var names []string
	for _, l := range p.Sample[0].Location {
		for _, line := range l.Line {
			names = append(names, line.Function.Name)
		}
	}
	want := []string{"sync.(*Mutex).Unlock", "main.(*store).set", "main.main.func1"}
	if len(names) < len(want) {
		t.Fatalf("frames = %v, want them to start with %v", names, want)
	}
	for i := range want {
		if names[i] != want[i] {
			t.Fatalf("frames = %v, want them to start with %v", names, want)
		}
	}
	if got := DetectKind(p); got != Mutex {
		t.Errorf("DetectKind = %q, want mutex", got)
	}
}
