package mutex

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/pprof/profile"

	"github.com/contendr/contendr/window"
)

// cpuProfile builds a CPU profile with one sample per stack, value
// nanos[i] cpu nanoseconds.
func cpuProfile(nanos []int64, stacks ...stack) *profile.Profile {
	p := contentionProfile(stacks...)
	p.SampleType = []*profile.ValueType{{Type: "samples", Unit: "count"}, {Type: "cpu", Unit: "nanoseconds"}}
	p.PeriodType = &profile.ValueType{Type: "cpu", Unit: "nanoseconds"}
	for i, s := range p.Sample {
		s.Value = []int64{1, nanos[i]}
	}
	return p
}

func metricsPair(wait0, user0, wait1, user1 float64) *window.SamplePair {
	return &window.SamplePair{
		Start: window.Sample{Values: map[string]float64{window.MetricMutexWait: wait0, window.MetricCPUUser: user0}},
		End:   window.Sample{Values: map[string]float64{window.MetricMutexWait: wait1, window.MetricCPUUser: user1}},
	}
}

var (
	lockWaitStack = stack{{"sync.(*Mutex).Lock", "main.(*C).Get"}}
	chanWait      = stack{{"runtime.chanrecv1"}, {"main.consume"}}
	unlock        = stack{{"sync.(*Mutex).Unlock", "main.(*C).Get"}}
	rtUnlock      = stack{{"runtime.unlock", "runtime.semrelease1"}, {"main.f"}}
)

func TestLockFraction(t *testing.T) {
	const ms = int64(time.Millisecond)
	// Block profile: 1000 ns lock wait, 2000 ns channel wait (not a lock
	// wait). Mutex profile: 1000 ns user lock, 2000 ns runtime lock.
	block := func() *profile.Profile { return contentionProfile(lockWaitStack, chanWait) }
	mutex := func() *profile.Profile { return contentionProfile(unlock, rtUnlock) }
	// 3 ms of user code, 1 ms in the GC worker, 1 ms as runtime._GC.
	cpu := func() *profile.Profile {
		return cpuProfile([]int64{3 * ms, ms, ms},
			stack{{"main.(*C).Get"}},
			stack{{"runtime.scanobject"}, {"runtime.gcDrain"}, {"runtime.gcBgMarkWorker"}},
			stack{{"runtime._GC"}})
	}
	// Windows are 2 s long at GOMAXPROCS 2: 4 CPU-seconds of capacity.
	tests := []struct {
		name      string
		metrics   *window.SamplePair
		profiles  map[window.ProfileKind]*profile.Profile
		want      LockFraction
		reasonHas []string
	}{
		{"runtime/metrics", metricsPair(1, 10, 3, 16), map[window.ProfileKind]*profile.Profile{window.Block: block(), window.CPU: cpu()},
			LockFraction{Value: 0.25, Known: true, WaitSeconds: 2, UserCPUSeconds: 6}, nil},
		{"runtime/metrics refreshed over the window", withCPUTotal(metricsPair(1, 10, 3, 13), 100, 104),
			map[window.ProfileKind]*profile.Profile{window.CPU: cpu()},
			LockFraction{Value: 0.4, Known: true, WaitSeconds: 2, UserCPUSeconds: 3}, nil},
		{"last refresh long before the window: user share scaled to it", withCPUTotal(metricsPair(1, 10, 3, 30), 100, 140), nil,
			LockFraction{Value: 0.5, Known: true, Estimated: true, WaitSeconds: 2, UserCPUSeconds: 2},
			[]string{"only at each GC", "scaled"}},
		{"no GC in the window: user CPU from the CPU profile", withCPUTotal(metricsPair(1, 10, 3, 10), 100, 100),
			map[window.ProfileKind]*profile.Profile{window.Block: block(), window.CPU: cpu()},
			LockFraction{Value: 2 / (2 + 3e-3), Known: true, Estimated: true, WaitSeconds: 2, UserCPUSeconds: 3e-3},
			[]string{"no GC", "CPU profile"}},
		{"no GC and no CPU profile: a lower bound", withCPUTotal(metricsPair(1, 10, 3, 10), 100, 100), nil,
			LockFraction{Value: 2.0 / 6, Known: true, Estimated: true, WaitSeconds: 2, UserCPUSeconds: 4},
			[]string{"no GC", "lower bound"}},
		{"all wait, no user CPU, stays below 1", withCPUTotal(metricsPair(0, 5, 5, 5), 100, 104), nil,
			LockFraction{Value: math.Nextafter(1, 0), Known: true, WaitSeconds: 5}, nil},
		{"idle", withCPUTotal(metricsPair(1, 1, 1, 1), 100, 104), nil,
			LockFraction{Known: true}, nil},
		{"block profile and CPU profile", nil, map[window.ProfileKind]*profile.Profile{window.Block: block(), window.Mutex: mutex(), window.CPU: cpu()},
			LockFraction{Value: 1e-6 / (1e-6 + 3e-3), Known: true, Estimated: true, WaitSeconds: 1e-6, UserCPUSeconds: 3e-3},
			[]string{"block profile", "CPU profile"}},
		{"mutex profile only, runtime locks included", nil, map[window.ProfileKind]*profile.Profile{window.Mutex: mutex(), window.CPU: cpu()},
			LockFraction{Value: 3e-6 / (3e-6 + 3e-3), Known: true, Estimated: true, WaitSeconds: 3e-6, UserCPUSeconds: 3e-3},
			[]string{"mutex profile", "CPU profile"}},
		{"a restart invalidates the wait metric", metricsPair(5, 10, 1, 16), map[window.ProfileKind]*profile.Profile{window.Block: block(), window.CPU: cpu()},
			LockFraction{Value: 1e-6 / (1e-6 + 6), Known: true, Estimated: true, WaitSeconds: 1e-6, UserCPUSeconds: 6},
			[]string{"block profile"}},
		{"no CPU profile", nil, map[window.ProfileKind]*profile.Profile{window.Block: block()},
			LockFraction{Estimated: true, WaitSeconds: 1e-6}, []string{"no CPU profile"}},
		{"nothing at all", nil, nil,
			LockFraction{Estimated: true}, []string{"no runtime/metrics"}},
	}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &window.Window{Start: start, End: start.Add(2 * time.Second), Metrics: tt.metrics, Profiles: tt.profiles,
				Meta: window.Meta{MutexProfileFraction: 1, BlockProfileRate: 1, GOMAXPROCS: 2}}
			res, err := Collect(w, Options{})
			if err != nil {
				t.Fatal(err)
			}
			got := res.LockFraction
			if got.Known != tt.want.Known || got.Estimated != tt.want.Estimated ||
				!near(got.Value, tt.want.Value) || !near(got.WaitSeconds, tt.want.WaitSeconds) || !near(got.UserCPUSeconds, tt.want.UserCPUSeconds) {
				t.Errorf("lock fraction %+v, want %+v", got, tt.want)
			}
			if got.Value < 0 || got.Value >= 1 {
				t.Errorf("value %v outside [0, 1)", got.Value)
			}
			for _, s := range tt.reasonHas {
				if !strings.Contains(got.Reason, s) {
					t.Errorf("reason %q does not mention %q", got.Reason, s)
				}
			}
			if !got.Estimated && got.Reason != "" {
				t.Errorf("measured value carries a reason: %q", got.Reason)
			}
		})
	}
}

func withCPUTotal(p *window.SamplePair, start, end float64) *window.SamplePair {
	p.Start.Values[window.MetricCPUTotal] = start
	p.End.Values[window.MetricCPUTotal] = end
	return p
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-12*math.Max(1, math.Abs(b)) }

// TestSiteFigures checks per-second, share and fraction arithmetic on a
// 2-second window measured with runtime/metrics.
func TestSiteFigures(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	w := &window.Window{Start: start, End: start.Add(2 * time.Second),
		Metrics: metricsPair(0, 0, 3e-6, 3e-6), // denominator 6 µs
		Meta:    window.Meta{MutexProfileFraction: 1, BlockProfileRate: 1}}
	// Waiters: Get 1 µs, Set 2 µs (both main.(*C)), channel 3 µs.
	w.SetProfile(window.Block, contentionProfile(lockWaitStack, stack{{"sync.(*Mutex).Lock", "main.(*C).Set"}}, chanWait))
	// Holders: Get 1 µs, runtime 2 µs.
	w.SetProfile(window.Mutex, contentionProfile(unlock, rtUnlock))
	res, err := Collect(w, Options{})
	if err != nil {
		t.Fatal(err)
	}
	find := func(side Side, fn string) *Site {
		for _, s := range res.Sites {
			if s.Side == side && s.Function == fn {
				return s
			}
		}
		t.Fatalf("no %s site %s", side, fn)
		return nil
	}
	set := find(Waiter, "main.(*C).Set")
	if !near(set.DelaySecondsPerSecond, 1e-6) || !near(set.ContentionsPerSecond, 1) || !near(set.Share, 2.0/3) || !near(set.Fraction, 1.0/3) {
		t.Errorf("Set: %+v, want 1e-6 s/s, 1/s, share 2/3 of lock waits, fraction 1/3", set)
	}
	if ch := find(Waiter, "main.consume"); ch.Kind != KindChan || !near(ch.Share, 1) {
		t.Errorf("channel site %+v: share is of the side's non-lock blocking", ch)
	}
	if len(res.Runtime) != 1 || !near(res.Runtime[0].DelaySecondsPerSecond, 1e-6) || !near(res.Runtime[0].Share, 1) {
		t.Errorf("runtime sites %+v", res.Runtime)
	}
	if len(res.Components) != 1 {
		t.Fatalf("components %v, want main.(*C) alone (channel waits are not lock sites)", componentNames(res.Components))
	}
	c := res.Components[0]
	// The waiter side (3 µs) outweighs the holder side (1 µs).
	if c.Name != "main.(*C)" || !near(c.DelaySeconds, 3e-6) || !near(c.DelaySecondsPerSecond, 1.5e-6) || !near(c.Fraction, 0.5) || !near(c.Share, 1) ||
		len(c.Holders) != 1 || len(c.Waiters) != 2 || c.Waiters[0].Function != "main.(*C).Set" {
		t.Errorf("component %+v", c)
	}
}

func TestProfilingNotes(t *testing.T) {
	tests := []struct {
		name          string
		mutexRate     int
		mutex         *profile.Profile
		wantEnabled   bool
		wantNoteHas   string
		wantNoNoteFor bool
	}{
		{"off", 0, contentionProfile(), false, "runtime.SetMutexProfileFraction(5)", false},
		{"off and absent", 0, nil, false, "contendr agent", false},
		{"off yet samples", 0, contentionProfile(unlock), true, "part of the window", false},
		{"on", 5, contentionProfile(), true, "", true},
		{"on but absent", 5, nil, true, "no mutex profile", false},
		{"unknown with samples", window.Unknown, contentionProfile(unlock), true, "", true},
		{"unknown and empty", window.Unknown, contentionProfile(), false, "either no contention or mutex profiling disabled", false},
		{"unknown and absent", window.Unknown, nil, false, "either no contention or mutex profiling disabled", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &window.Window{Meta: window.Meta{MutexProfileFraction: tt.mutexRate, BlockProfileRate: 1}}
			w.SetProfile(window.Block, contentionProfile(lockWaitStack))
			if tt.mutex != nil {
				w.SetProfile(window.Mutex, tt.mutex)
			}
			res, err := Collect(w, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if res.MutexProfileEnabled != tt.wantEnabled || !res.BlockProfileEnabled {
				t.Errorf("enabled mutex %v block %v, want %v true", res.MutexProfileEnabled, res.BlockProfileEnabled, tt.wantEnabled)
			}
			var mutexNotes []string
			for _, n := range res.Notes {
				if strings.Contains(n, "mutex") {
					mutexNotes = append(mutexNotes, n)
				}
			}
			if tt.wantNoNoteFor && len(mutexNotes) > 0 {
				t.Errorf("unexpected notes %q", mutexNotes)
			}
			if tt.wantNoteHas != "" && !strings.Contains(strings.Join(mutexNotes, "\n"), tt.wantNoteHas) {
				t.Errorf("notes %q do not say %q", mutexNotes, tt.wantNoteHas)
			}
		})
	}
}

func TestBlockProfilingOffNote(t *testing.T) {
	w := &window.Window{Meta: window.Meta{MutexProfileFraction: 1, BlockProfileRate: 0}}
	w.SetProfile(window.Block, contentionProfile())
	res, err := Collect(w, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.BlockProfileEnabled {
		t.Error("block profiling reported on at rate 0")
	}
	if !strings.Contains(strings.Join(res.Notes, "\n"), "runtime.SetBlockProfileRate(") {
		t.Errorf("notes %q do not say how to enable block profiling", res.Notes)
	}
}

func TestCollectRejectsNil(t *testing.T) {
	if _, err := Collect(nil, Options{}); err == nil {
		t.Error("Collect(nil) returned no error")
	}
}
