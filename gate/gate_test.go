package gate

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/contendr/contendr/canary"
	"github.com/contendr/contendr/source"
	"github.com/contendr/contendr/window"
)

// windows makes a side of windows with these contention costs and a 2%
// GC CPU fraction each.
func sideOf(costs ...float64) Side {
	s := Side{Target: "t"}
	for _, c := range costs {
		s.Windows = append(s.Windows, Window{Seconds: 1, ContentionCost: ptr(c), GCCPUFraction: ptr(0.02),
			Components: map[string]float64{"example.com/app.(*Cache)": c}})
	}
	return s
}

var defaults = Limits{Alpha: 0.05, MaxRatio: 1.5, MinCost: 0.02, MinGCCPU: 0.05, MinPause: 0.001, Components: 3}

func TestJudgeGate(t *testing.T) {
	withLimit := defaults
	withLimit.MaxCost = 0.10
	tests := []struct {
		name             string
		baseline, canary Side
		cfg              Limits
		want             canary.Verdict
		figures          []canary.Verdict // contention cost, GC CPU, pause p99, the component
	}{
		{"same figures pass", sideOf(.1, .1, .1, .1, .1, .1), sideOf(.1, .1, .1, .1, .1, .1), defaults, canary.Pass,
			[]canary.Verdict{canary.Pass, canary.Pass, canary.Skipped, canary.Pass}},
		{"noise passes", sideOf(.10, .12, .09, .11, .10, .13), sideOf(.11, .09, .12, .10, .14, .10), defaults, canary.Pass, nil},
		{"cost 3× the baseline fails", sideOf(.05, .04, .06, .05, .05, .04), sideOf(.15, .16, .14, .15, .17, .15), defaults, canary.Fail,
			[]canary.Verdict{canary.Fail, canary.Pass, canary.Skipped, canary.Fail}},
		{"the reverse passes", sideOf(.15, .16, .14, .15, .17, .15), sideOf(.05, .04, .06, .05, .05, .04), defaults, canary.Pass, nil},
		{"one window each cannot tell", sideOf(.05), sideOf(.3), defaults, canary.CannotTell, nil},
		{"over an absolute limit fails", sideOf(.3, .3, .3, .3, .3, .3), sideOf(.3, .3, .3, .3, .3, .3), withLimit, canary.Fail, nil},
		{"nothing measured is no data", Side{}, Side{}, defaults, canary.Skipped, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := Judge(tt.baseline, tt.canary, tt.cfg)
			if res.Verdict != tt.want {
				t.Errorf("verdict %s, want %s (reasons %q)", res.Verdict, tt.want, res.Reasons)
			}
			var got []canary.Verdict
			for _, f := range res.Figures {
				got = append(got, f.Verdict)
			}
			if tt.figures != nil && fmt.Sprint(got) != fmt.Sprint(tt.figures) {
				t.Errorf("figure verdicts %v, want %v", got, tt.figures)
			}
			if _, err := json.Marshal(res); err != nil { // no ±Inf may reach the JSON
				t.Errorf("result does not encode: %v", err)
			}
			var buf strings.Builder
			if err := res.WriteText(&buf); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestShortComponent(t *testing.T) {
	for in, want := range map[string]string{
		"github.com/contendr/contendr/internal/maplab/strategy.(*RWMap)": "strategy.(*RWMap)",
		"main.(*Cache)": "main.(*Cache)",
		"example.com/x/cache.(*LRU[go.shape.string/x.y])": "cache.(*LRU[go.shape.string/x.y])",
		"example.com/x/cache":                             "cache",
	} {
		if got := ShortComponent(in); got != want {
			t.Errorf("ShortComponent(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestJudgeTradesAHealthyFigure: a canary whose map strategy takes no
// lock (contention cost 3× lower) but allocates per write (GC CPU 0.4% →
// 6%, under analyze's 10% warn limit) passes with the default floors, and
// fails the GC figure with --strict (no floors); the reverse fails on the
// contention cost either way.
func TestJudgeTradesAHealthyFigure(t *testing.T) {
	side := func(cost, gc float64) Side {
		s := Side{Target: "t"}
		for i := range 6 {
			d := float64(i%3-1) * 0.005
			s.Windows = append(s.Windows, Window{Seconds: 1, ContentionCost: ptr(cost + d), GCCPUFraction: ptr(gc + d/5)})
		}
		return s
	}
	mutex, xsync := side(0.22, 0.004), side(0.077, 0.06)
	floors, strict := DefaultLimits(), DefaultLimits()
	strict.Floors = Floors{}
	for _, tt := range []struct {
		name             string
		baseline, canary Side
		limits           Limits
		want             canary.Verdict
	}{
		{"the faster map passes", mutex, xsync, floors, canary.Pass},
		{"--strict fails its GC rise", mutex, xsync, strict, canary.Fail},
		{"the slower map fails", xsync, mutex, floors, canary.Fail},
		{"the slower map fails --strict", xsync, mutex, strict, canary.Fail},
	} {
		if got := Judge(tt.baseline, tt.canary, tt.limits); got.Verdict != tt.want {
			t.Errorf("%s: verdict %s, want %s (%q)", tt.name, got.Verdict, tt.want, got.Reasons)
		}
	}
}

// TestJudgeStarvedHost: when the OS leaves a side's running Ps without a
// CPU a quarter of the time, GC pauses are skipped with the reason, and
// the other figures still decide.
func TestJudgeStarvedHost(t *testing.T) {
	side := func(pause, wait float64) Side {
		s := Side{Target: "t"}
		for i := range 6 {
			d := float64(i%3) * 0.001
			s.Windows = append(s.Windows, Window{Seconds: 1, ContentionCost: ptr(0.05), GCCPUFraction: ptr(0.02),
				GCPauseP99: ptr(pause + d), HostWait: ptr(wait)})
		}
		return s
	}
	quiet := Judge(side(0.002, 0.01), side(0.020, 0.01), DefaultLimits())
	starvedHost := Judge(side(0.015, 0.4), side(0.090, 0.4), DefaultLimits())
	if quiet.Verdict != canary.Fail {
		t.Errorf("pauses 10× longer on a quiet host: %s, want fail (%q)", quiet.Verdict, quiet.Reasons)
	}
	if starvedHost.Verdict != canary.Pass || starvedHost.Figures[2].Verdict != canary.Skipped ||
		!strings.Contains(starvedHost.Figures[2].Reason, "without a CPU 40% of the time") {
		t.Errorf("starved host: %s, pause figure %s (%s)", starvedHost.Verdict, starvedHost.Figures[2].Verdict, starvedHost.Figures[2].Reason)
	}
}

func TestWindowLength(t *testing.T) {
	for _, c := range []struct {
		total   time.Duration
		windows int
		want    time.Duration
	}{
		{60 * time.Second, 6, 9 * time.Second}, // half a second a round for the fetches
		{20 * time.Second, 10, time.Second},
		{10 * time.Second, 10, time.Second}, // a window is never shorter than 1s
		{9 * time.Second, 10, 0},            // a round's share under a second
		{10 * time.Second, 0, 0},
	} {
		if got := WindowLength(c.total, c.windows); got != c.want {
			t.Errorf("WindowLength(%v, %d) = %v, want %v", c.total, c.windows, got, c.want)
		}
	}
}

// TestMeasureStopsAtTheDeadline checks that a measurement bounded by its
// deadline starts no round that would end past it, and says so.
func TestMeasureStopsAtTheDeadline(t *testing.T) {
	const round = 40 * time.Millisecond
	var mu sync.Mutex
	n := map[string]int{}
	load := func(ctx context.Context, target string, opts source.Options) (*window.Window, error) {
		time.Sleep(round)
		mu.Lock()
		defer mu.Unlock()
		n[target]++
		start := time.Unix(int64(n[target]), 0)
		return &window.Window{ID: strconv.Itoa(n[target]), Start: start, End: start.Add(time.Second)}, nil
	}
	baseline, canarySide, err := Measure(context.Background(), load, Plan{
		Baseline: "b", Canary: "c", Windows: 100, Options: source.Options{Seconds: time.Second},
		Deadline: time.Now().Add(10 * round),
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, side := range []Side{baseline, canarySide} {
		if got := len(side.Windows); got < 2 || got > 10 {
			t.Errorf("%s: %d windows of %v rounds within 10 rounds' time, want between 2 and 10", side.Target, got, round)
		}
		if len(side.Notes) == 0 || !strings.Contains(side.Notes[0], "of 100 windows") {
			t.Errorf("%s: notes %q do not say how many windows it took", side.Target, side.Notes)
		}
	}
}
