package canary

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// draw returns n values of a distribution from a fixed seed.
func draw(seed uint64, n int, f func(r *rand.Rand) float64) []float64 {
	r := rand.New(rand.NewPCG(seed, 1))
	out := make([]float64, n)
	for i := range out {
		out[i] = f(r)
	}
	return out
}

// normal is N(mean, sd) clipped at 0, as a cost is.
func normal(mean, sd float64) func(*rand.Rand) float64 {
	return func(r *rand.Rand) float64 { return math.Max(0, mean+sd*r.NormFloat64()) }
}

// pareto is a heavy-tailed figure: scale × a Pareto(α=1.2) draw, whose
// variance is infinite.
func pareto(scale float64) func(*rand.Rand) float64 {
	return func(r *rand.Rand) float64 { return scale * math.Pow(1-r.Float64(), -1/1.2) }
}

func plus(xs []float64, d float64) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = x + d
	}
	return out
}

var costEffect = Effect{Abs: 0.02, Rel: 0.5}

func TestJudge(t *testing.T) {
	tests := []struct {
		name             string
		baseline, canary []float64
		effect           Effect
		max, floor       float64
		want             Verdict
		reason           string // a part of the reason
		more             int
	}{
		{"identical values pass", []float64{.1, .1, .1, .1, .1, .1}, []float64{.1, .1, .1, .1, .1, .1}, costEffect, 0, 0, Pass, "no worse", 0},
		{"same distribution passes", draw(1, 6, normal(.10, .03)), draw(2, 6, normal(.10, .03)), costEffect, 0, 0, Pass, "", 0},
		{"shifted by 3× fails", draw(3, 6, normal(.05, .01)), draw(4, 6, normal(.15, .01)), costEffect, 0, 0, Fail, "worse beyond the minimum effect", 0},
		{"the reverse passes", draw(4, 6, normal(.15, .01)), draw(3, 6, normal(.05, .01)), costEffect, 0, 0, Pass, "no worse", 0},
		{"a small significant shift passes", draw(5, 8, normal(.10, .002)), draw(6, 8, normal(.11, .002)), costEffect, 0, 0, Pass, "within the minimum effect", 0},
		{"a large relative shift of nothing passes", draw(7, 6, normal(.002, .0002)), draw(8, 6, normal(.008, .0002)), costEffect, 0, 0, Pass, "within the minimum effect", 0},
		{"a shift from zero fails", []float64{0, 0, 0, 0, 0, 0}, []float64{.2, .25, .22, .3, .21, .24}, costEffect, 0, 0, Fail, "", 0},
		{"one outlier window passes", []float64{.10, .11, .09, .10, .12, .10}, []float64{.10, .11, .95, .10, .09, .11}, costEffect, 0, 0, Pass, "no worse", 0},
		{"a heavy-tailed shift fails", draw(11, 8, pareto(.02)), plus(draw(12, 8, pareto(.02)), .5), costEffect, 0, 0, Fail, "", 0},
		{"one window a side cannot tell", []float64{.05}, []float64{.30}, costEffect, 0, 0, CannotTell, "take at least 4 windows a side (3 more)", 3},
		{"three windows a side cannot tell, even identical", []float64{.1, .1, .1}, []float64{.1, .1, .1}, costEffect, 0, 0, CannotTell, "smallest p is 0.1", 1},
		{"a large but overlapping difference cannot tell", []float64{.05, .30, .06, .28, .07, .31}, []float64{.29, .08, .30, .27, .31, .06}, costEffect, 0, 0, CannotTell, "overlap too much", 0},
		{"over the limit everywhere fails", []float64{.3, .3, .3, .3, .3, .3}, []float64{.3, .31, .3, .32, .3, .3}, costEffect, .1, 0, Fail, "above the limit of 10.0%", 0},
		{"under the limit passes", []float64{.05, .05, .05, .05, .05, .05}, []float64{.05, .06, .05, .04, .05, .05}, costEffect, .1, 0, Pass, "", 0},
		{"a median over the limit with windows under it cannot tell", []float64{.1, .1, .1, .1, .1, .1}, []float64{.05, .12, .13, .11, .12, .06}, costEffect, .1, 0, CannotTell, "reaches under it", 0},
		{"a shift that stays under the floor passes", draw(3, 6, normal(.004, .001)), draw(4, 6, normal(.06, .005)), costEffect, 0, .10, Pass, "where the figure is healthy", 0},
		{"a shift across the floor fails", draw(3, 6, normal(.05, .01)), draw(4, 6, normal(.15, .01)), costEffect, 0, .10, Fail, "worse beyond", 0},
		{"the floor does not lift the limit", []float64{.3, .3, .3, .3, .3, .3}, []float64{.3, .31, .3, .32, .3, .3}, costEffect, .1, .5, Fail, "above the limit", 0},
		{"not measured on the baseline is skipped", nil, []float64{.1}, costEffect, 0, 0, Skipped, "not measured on the baseline", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Judge(Figure{Name: "contention_cost", Unit: "fraction", Baseline: tt.baseline, Canary: tt.canary, MinEffect: tt.effect, Max: tt.max, Floor: tt.floor}, Config{})
			if r.Verdict != tt.want || !strings.Contains(r.Reason, tt.reason) || r.MoreWindows != tt.more {
				t.Errorf("verdict %s (more windows %d): %s\nwant %s (%d) with %q", r.Verdict, r.MoreWindows, r.Reason, tt.want, tt.more, tt.reason)
			}
			if _, err := json.Marshal(r); err != nil {
				t.Errorf("result does not encode: %v", err)
			}
		})
	}
}

func TestMinP(t *testing.T) {
	for _, tt := range []struct {
		n1, n2 int
		want   float64
	}{{1, 1, 1}, {3, 3, 0.1}, {4, 4, 2.0 / 70}, {6, 6, 2.0 / 924}, {4, 6, 2.0 / 210}, {0, 5, 1}} {
		if got := MinP(tt.n1, tt.n2); math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("MinP(%d, %d) = %g, want %g", tt.n1, tt.n2, got, tt.want)
		}
	}
	for alpha, want := range map[float64]int{0.05: 4, 0.01: 5, 0.1: 4, 0.2: 3} {
		if got := WindowsNeeded(alpha); got != want {
			t.Errorf("WindowsNeeded(%g) = %d, want %d", alpha, got, want)
		}
	}
}

// TestFalseFailRate draws both sides from the same distribution many
// times: the judge may fail no more often than α, and with the minimum
// effect far less.
func TestFalseFailRate(t *testing.T) {
	const trials = 2000
	fails, failsNoEffect := 0, 0
	for i := range trials {
		b := draw(uint64(2*i), 6, normal(.10, .04))
		c := draw(uint64(2*i+1), 6, normal(.10, .04))
		if Judge(Figure{Name: "contention_cost", Unit: "fraction", Baseline: b, Canary: c, MinEffect: costEffect}, Config{}).Verdict == Fail {
			fails++
		}
		if Judge(Figure{Name: "contention_cost", Unit: "fraction", Baseline: b, Canary: c}, Config{}).Verdict == Fail {
			failsNoEffect++
		}
	}
	// One-sided: only a worse canary fails, so about α/2 without an effect.
	if rate := float64(failsNoEffect) / trials; rate > DefaultAlpha {
		t.Errorf("without a minimum effect, %d of %d identical pairs failed (%.3f > α)", failsNoEffect, trials, rate)
	}
	if rate := float64(fails) / trials; fails > failsNoEffect || rate > DefaultAlpha/2 {
		t.Errorf("with the minimum effect, %d of %d identical pairs failed (%d without it)", fails, trials, failsNoEffect)
	}
	// Heavy tails (infinite variance): medians of few windows wander, so
	// the judge may not tell, but it must not fail more often than α/2.
	heavyFails := 0
	for i := range trials {
		b := draw(uint64(2*i), 6, pareto(.05))
		c := draw(uint64(2*i+1), 6, pareto(.05))
		if Judge(Figure{Name: "contention_cost", Unit: "fraction", Baseline: b, Canary: c, MinEffect: costEffect}, Config{}).Verdict == Fail {
			heavyFails++
		}
	}
	if rate := float64(heavyFails) / trials; rate > DefaultAlpha/2 {
		t.Errorf("heavy-tailed identical pairs failed %d of %d times", heavyFails, trials)
	}
}

func TestJudgeAll(t *testing.T) {
	pass := Figure{Name: "contention_cost", Unit: "fraction", Baseline: []float64{.1, .1, .1, .1}, Canary: []float64{.1, .1, .1, .1}, MinEffect: costEffect}
	fail := Figure{Name: "gc_cpu_fraction", Unit: "fraction", Baseline: []float64{.01, .01, .01, .01}, Canary: []float64{.3, .3, .3, .3}, MinEffect: costEffect}
	few := Figure{Name: "gc_pause_p99_seconds", Unit: "seconds", Baseline: []float64{.001}, Canary: []float64{.001}}
	none := Figure{Name: "component_cost", Component: "x.(*M)", Unit: "fraction"}
	for _, tt := range []struct {
		name    string
		figures []Figure
		want    Verdict
		reasons int
	}{
		{"all pass", []Figure{pass, none}, Pass, 0},
		{"one fails", []Figure{pass, fail, few}, Fail, 1},
		{"one cannot tell", []Figure{pass, few}, CannotTell, 1},
		{"nothing judged", []Figure{none}, Skipped, 1},
	} {
		d := JudgeAll(tt.figures, Config{})
		if d.Verdict != tt.want || len(d.Reasons) != tt.reasons || d.Schema != Schema {
			t.Errorf("%s: verdict %s, reasons %q; want %s with %d", tt.name, d.Verdict, d.Reasons, tt.want, tt.reasons)
		}
	}
}

// TestFloorsNeedATrade: a canary figure under its healthy level passes
// only when another figure of the canary improved; when everything got
// worse the floor is set aside and the figure is judged.
func TestFloorsNeedATrade(t *testing.T) {
	at := func(v float64) []float64 {
		return []float64{v - 0.004, v - 0.002, v, v + 0.001, v + 0.002, v + 0.004}
	}
	cost := func(base, can float64) Figure {
		return Figure{Name: "contention_cost", Unit: "fraction", Baseline: at(base), Canary: at(can),
			MinEffect: Effect{Abs: 0.02, Rel: 1.5}, Floor: 0.10}
	}
	gc := func(base, can float64) Figure {
		return Figure{Name: "gc_cpu_fraction", Unit: "fraction", Baseline: at(base), Canary: at(can),
			MinEffect: Effect{Abs: 0.005, Rel: 1.5}, Floor: 0.10}
	}
	for _, tt := range []struct {
		name    string
		figures []Figure
		want    Verdict
		reason  string
	}{
		{"a trade: less contention for more GC under its floor", []Figure{cost(0.22, 0.07), gc(0.004, 0.06)}, Pass, ""},
		{"everything worse, each under its floor", []Figure{cost(0.03, 0.08), gc(0.004, 0.04)}, Fail, "not a trade"},
		{"no change", []Figure{cost(0.05, 0.05), gc(0.01, 0.01)}, Pass, ""},
		{"worse above the floor says nothing of trades", []Figure{cost(0.05, 0.14), gc(0.01, 0.01)}, Fail, "worse beyond the minimum effect"},
	} {
		d := JudgeAll(tt.figures, Config{})
		reasons := strings.Join(d.Reasons, "; ")
		if d.Verdict != tt.want || !strings.Contains(reasons, tt.reason) || (tt.reason != "not a trade" && strings.Contains(reasons, "not a trade")) {
			t.Errorf("%s: %s %q, want %s mentioning %q", tt.name, d.Verdict, d.Reasons, tt.want, tt.reason)
		}
	}
}
