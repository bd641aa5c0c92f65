// Package canary holds the canary judge: given a figure measured over
// several windows of the baseline and of the canary (contention cost, GC CPU
// share, GC pause p99, a component's cost), it decides pass, fail or cannot
// tell from the two distributions, not from one ratio of two noisy numbers.
//
// A figure fails when the canary is worse by a rank test across windows —
// the Mann-Whitney U test of golang.org/x/perf/benchmath, the one Kayenta
// and benchstat use — at level Alpha, and when its median exceeds the
// baseline's by at least a minimum effect, absolute and relative, so that a
// real but negligible difference does not fail a build. It cannot tell when
// too few windows were taken for the test to reach Alpha at all (with n
// windows a side the smallest p-value is 2 ÷ C(2n, n): 0.1 for 3, 0.029 for
// 4), or when the medians differ by more than the minimum effect but the
// windows overlap too much to say so. Otherwise it passes.
//
// Everything here is a pure function of the samples: the windows are taken
// by the caller (cmd/contendr gate).
package canary

import (
	"fmt"
	"math"
	"slices"

	"golang.org/x/perf/benchmath"
)

// Schema names the JSON encoding of a Decision.
const Schema = "contendr.gate/v2"

// Verdict is the judgement of one figure or of the whole canary.
type Verdict string

// Verdicts. Skipped figures were not measured on one side and judge
// nothing.
const (
	Pass       Verdict = "pass"
	Fail       Verdict = "fail"
	CannotTell Verdict = "cannot-tell"
	Skipped    Verdict = "skipped"
)

// Defaults of Config.
const (
	DefaultAlpha      = 0.05
	DefaultConfidence = 0.95
)

// Config sets the test's levels; zero fields take the defaults.
type Config struct {
	// Alpha is the level under which the rank test's p-value says the
	// canary's windows differ from the baseline's (default 0.05).
	Alpha float64 `json:"alpha"`
	// Confidence is the level of the intervals around each median
	// (default 0.95; benchmath needs 6 windows for a finite 95% interval).
	Confidence float64 `json:"confidence"`
}

func (c Config) withDefaults() Config {
	if !(c.Alpha > 0 && c.Alpha < 1) {
		c.Alpha = DefaultAlpha
	}
	if !(c.Confidence > 0 && c.Confidence < 1) {
		c.Confidence = DefaultConfidence
	}
	return c
}

// Effect is how much worse the canary's median must be than the
// baseline's before a difference can fail: by more than Abs (in the
// figure's unit) and by more than Rel of the baseline's median (0.5: half
// as much again). A zero baseline median passes Rel for any increase.
type Effect struct {
	Abs float64 `json:"abs"`
	Rel float64 `json:"rel"`
}

// Figure is one measured quantity over the windows of both sides, where
// higher is worse. A window that did not measure the figure is left out
// of its side's values.
type Figure struct {
	// Name says what it is: contention_cost, gc_cpu_fraction,
	// gc_pause_p99_seconds, component_cost.
	Name string `json:"name"`
	// Component names the component of a component_cost figure.
	Component string `json:"component,omitempty"`
	// Unit is "fraction" (of CPU capacity or CPU time) or "seconds".
	Unit     string    `json:"unit"`
	Baseline []float64 `json:"-"`
	Canary   []float64 `json:"-"`
	// MinEffect is what a difference must exceed to fail.
	MinEffect Effect `json:"min_effect"`
	// Max, when positive, is an absolute limit on the canary's median: it
	// fails when the whole confidence interval of the median is above it.
	Max float64 `json:"max,omitempty"`
	// SkipReason, when set, says why the figure is not judged though it
	// may have been measured (it is skipped with that reason).
	SkipReason string `json:"skip_reason,omitempty"`
	// Floor, when positive, is the level under which the figure is healthy
	// whatever the baseline's: a canary median under it passes, however
	// it compares. It lets a change trade a healthy figure for a better
	// one (xsync's map: GC CPU 0.4% → 6% of capacity, under a 10% warn
	// limit, for a contention cost 3× lower) without failing the build.
	// JudgeAll honours it only for such a trade: when another figure of
	// the canary is better beyond its minimum effect.
	Floor float64 `json:"floor,omitempty"`
	// setAside is the Floor JudgeAll set aside because nothing improved.
	setAside float64
}

// Summary is one side's windows of a figure.
type Summary struct {
	N      int     `json:"n"`
	Median float64 `json:"median"`
	// Lo and Hi bound the median at Confidence; absent (nil) when the
	// windows are too few for a finite interval.
	Lo         *float64  `json:"lo,omitempty"`
	Hi         *float64  `json:"hi,omitempty"`
	Confidence float64   `json:"confidence"`
	Min        float64   `json:"min"`
	Max        float64   `json:"max"`
	Values     []float64 `json:"values"`
}

// Result is the judgement of one figure.
type Result struct {
	Figure
	Baseline Summary `json:"baseline"`
	Canary   Summary `json:"canary"`
	// Delta is the canary's median minus the baseline's; Ratio the
	// canary's median over the baseline's (absent when that is zero).
	Delta float64  `json:"delta"`
	Ratio *float64 `json:"ratio,omitempty"`
	// P is the Mann-Whitney U test's two-sided p-value; MinP the smallest
	// p-value the test can give with these numbers of windows.
	P     float64 `json:"p"`
	MinP  float64 `json:"min_p"`
	Alpha float64 `json:"alpha"`
	// Verdict, with the Reason in one sentence.
	Verdict Verdict `json:"verdict"`
	Reason  string  `json:"reason"`
	// MoreWindows is how many more windows a side would take for the test
	// to be able to decide, when it could not (too few windows).
	MoreWindows int `json:"more_windows,omitempty"`
}

// Decision is the whole canary's judgement.
type Decision struct {
	Schema string `json:"schema"`
	// Verdict is fail when any figure fails, pass when every judged figure
	// passes, cannot tell otherwise; skipped when no figure was judged.
	Verdict Verdict  `json:"verdict"`
	Reasons []string `json:"reasons"`
	Config  Config   `json:"config"`
	Figures []Result `json:"figures"`
}

// MinP is the smallest two-sided p-value the Mann-Whitney U test can give
// for samples of n1 and n2 values without ties: every canary value above
// every baseline value, 2 ÷ C(n1+n2, n1).
func MinP(n1, n2 int) float64 {
	if n1 <= 0 || n2 <= 0 {
		return 1
	}
	// C(n1+n2, n1), exact in a float64 for the window counts a gate takes.
	c := 1.0
	for i := 1; i <= n1; i++ {
		c = c * float64(n2+i) / float64(i)
	}
	return math.Min(1, 2/c)
}

// WindowsNeeded is the fewest windows per side, equal on both sides, with
// which the rank test can reach p < alpha: 4 for 0.05, 5 for 0.01.
func WindowsNeeded(alpha float64) int {
	n := 1
	for MinP(n, n) >= alpha {
		n++
	}
	return n
}

// Judge decides one figure.
func Judge(f Figure, cfg Config) Result {
	cfg = cfg.withDefaults()
	r := Result{Figure: f, Alpha: cfg.Alpha, P: 1}
	r.Baseline = summarize(f.Baseline, cfg.Confidence)
	r.Canary = summarize(f.Canary, cfg.Confidence)
	r.MinP = MinP(r.Baseline.N, r.Canary.N)
	switch {
	case f.SkipReason != "":
		r.Verdict, r.Reason = Skipped, f.SkipReason
		return r
	case r.Baseline.N == 0 && r.Canary.N == 0:
		r.Verdict, r.Reason = Skipped, "measured on neither side"
		return r
	case r.Baseline.N == 0:
		r.Verdict, r.Reason = Skipped, "not measured on the baseline"
		return r
	case r.Canary.N == 0:
		r.Verdict, r.Reason = Skipped, "not measured on the canary"
		return r
	}
	base, can := r.Baseline.Median, r.Canary.Median
	r.Delta = can - base
	if base != 0 {
		r.Ratio = ptr(can / base)
	}
	if r.Baseline.N > 0 && r.Canary.N > 0 {
		th := benchmath.DefaultThresholds
		th.CompareAlpha = cfg.Alpha
		b := benchmath.NewSample(slices.Clone(f.Baseline), &th)
		c := benchmath.NewSample(slices.Clone(f.Canary), &th)
		r.P = benchmath.AssumeNothing.Compare(b, c).P
	}

	worse := r.Delta > f.MinEffect.Abs && (base <= 0 || r.Delta > f.MinEffect.Rel*base)
	significant := r.P < cfg.Alpha && r.Delta > 0
	limitFail := f.Max > 0 && r.Canary.Lo != nil && *r.Canary.Lo > f.Max
	effect := fmt.Sprintf("canary %s against baseline %s (%s, p=%.3g, %d+%d windows)",
		format(can, f.Unit), format(base, f.Unit), deltaString(r.Delta, r.Ratio, f.Unit), r.P, r.Baseline.N, r.Canary.N)

	switch {
	case r.MinP >= cfg.Alpha:
		need := WindowsNeeded(cfg.Alpha)
		r.MoreWindows = max(need-min(r.Baseline.N, r.Canary.N), 1)
		r.Verdict = CannotTell
		r.Reason = fmt.Sprintf("%s: with %d+%d windows the rank test's smallest p is %.3g, not under α=%g; take at least %d windows a side (%d more)",
			effect, r.Baseline.N, r.Canary.N, r.MinP, cfg.Alpha, need, r.MoreWindows)
	case f.Floor > 0 && can < f.Floor && !limitFail:
		r.Verdict = Pass
		r.Reason = fmt.Sprintf("%s: the canary's median is under %s, where the figure is healthy", effect, format(f.Floor, f.Unit))
	case significant && worse:
		r.Verdict = Fail
		r.Reason = fmt.Sprintf("%s: worse beyond the minimum effect (%s)", effect, effectString(f.MinEffect, f.Unit))
		if f.setAside > 0 && can < f.setAside {
			r.Reason += fmt.Sprintf("; its level under %s is healthy, but no figure of the canary improved: not a trade", format(f.setAside, f.Unit))
		}
	case limitFail:
		r.Verdict = Fail
		r.Reason = fmt.Sprintf("canary %s: its median's %.0f%% interval [%s, %s] is above the limit of %s",
			format(can, f.Unit), 100*r.Canary.Confidence, format(*r.Canary.Lo, f.Unit), format(*r.Canary.Hi, f.Unit), format(f.Max, f.Unit))
	case worse:
		r.Verdict = CannotTell
		r.Reason = fmt.Sprintf("%s: the medians differ by more than the minimum effect (%s) but the windows overlap too much to say the canary is worse; take more windows",
			effect, effectString(f.MinEffect, f.Unit))
	case f.Max > 0 && can > f.Max:
		r.Verdict = CannotTell
		r.Reason = fmt.Sprintf("canary %s: the median is above the limit of %s but its interval reaches under it; take more windows",
			format(can, f.Unit), format(f.Max, f.Unit))
	case significant:
		r.Verdict = Pass
		r.Reason = fmt.Sprintf("%s: worse, but within the minimum effect (%s)", effect, effectString(f.MinEffect, f.Unit))
	default:
		r.Verdict = Pass
		r.Reason = effect + ": no worse"
	}
	return r
}

// JudgeAll decides every figure and the canary.
func JudgeAll(figures []Figure, cfg Config) Decision {
	cfg = cfg.withDefaults()
	d := Decision{Schema: Schema, Config: cfg}
	var fails, undecided, passes int
	figures = tradesOnly(figures, cfg)
	for _, f := range figures {
		r := Judge(f, cfg)
		d.Figures = append(d.Figures, r)
		switch r.Verdict {
		case Fail:
			fails++
			d.Reasons = append(d.Reasons, r.Label()+": "+r.Reason)
		case CannotTell:
			undecided++
		case Pass:
			passes++
		}
	}
	switch {
	case fails > 0:
		d.Verdict = Fail
	case undecided > 0:
		d.Verdict = CannotTell
		for _, r := range d.Figures {
			if r.Verdict == CannotTell {
				d.Reasons = append(d.Reasons, r.Label()+": "+r.Reason)
			}
		}
	case passes > 0:
		d.Verdict = Pass
	default:
		d.Verdict = Skipped
		for _, r := range d.Figures {
			d.Reasons = append(d.Reasons, r.Label()+": "+r.Reason)
		}
	}
	return d
}

// tradesOnly sets aside the floor of every figure when no figure of the
// canary is better than the baseline's beyond its minimum effect (by the
// same test that fails a worse one, sides swapped): a figure under its
// healthy level passes as the price of an improvement, not when nothing
// improved. Two maplab processes sharing 2 cores showed why: xsync's map,
// measured 1.8× slower than the Mutex map there, read a contention cost
// of 8–15% against 2–6% and more GC, and passed 5 gates of 20 whenever
// its cost's median fell under the 10% floor.
func tradesOnly(figures []Figure, cfg Config) []Figure {
	var improved []string
	for _, f := range figures {
		if f.SkipReason != "" {
			continue
		}
		mirror := Figure{Name: f.Name, Unit: f.Unit, Baseline: f.Canary, Canary: f.Baseline, MinEffect: f.MinEffect}
		if Judge(mirror, cfg).Verdict == Fail {
			improved = append(improved, mirror.Label())
		}
	}
	if len(improved) > 0 {
		return figures
	}
	out := slices.Clone(figures)
	for i := range out {
		out[i].setAside, out[i].Floor = out[i].Floor, 0
	}
	return out
}

// Label names a figure for people: "contention cost", "component cost of
// X".
func (f Figure) Label() string {
	label, ok := map[string]string{
		"contention_cost":      "contention cost",
		"gc_cpu_fraction":      "GC CPU fraction",
		"gc_pause_p99_seconds": "GC pause p99",
		"component_cost":       "component cost",
	}[f.Name]
	if !ok {
		label = f.Name
	}
	if f.Component != "" {
		label += " of " + f.Component
	}
	return label
}

func summarize(values []float64, confidence float64) Summary {
	s := Summary{N: len(values), Values: slices.Clone(values), Confidence: confidence}
	if s.Values == nil {
		s.Values = []float64{}
	}
	if len(values) == 0 {
		return s
	}
	sample := benchmath.NewSample(slices.Clone(values), &benchmath.DefaultThresholds)
	sum := benchmath.AssumeNothing.Summary(sample, confidence)
	s.Median, s.Confidence = sum.Center, sum.Confidence
	if !math.IsInf(sum.Lo, 0) && !math.IsInf(sum.Hi, 0) {
		s.Lo, s.Hi = ptr(sum.Lo), ptr(sum.Hi)
	}
	s.Min, s.Max = sample.Values[0], sample.Values[len(sample.Values)-1]
	return s
}

func ptr(f float64) *float64 { return &f }

// Format prints a value of a figure's unit: fractions as percentages with
// enough digits for small values, seconds in ms or µs.
func Format(v float64, unit string) string { return format(v, unit) }

func format(v float64, unit string) string {
	if unit == "seconds" {
		switch a := math.Abs(v); {
		case a == 0:
			return "0s"
		case a < 1e-3:
			return fmt.Sprintf("%.3gµs", v*1e6)
		case a < 1:
			return fmt.Sprintf("%.3gms", v*1e3)
		default:
			return fmt.Sprintf("%.3gs", v)
		}
	}
	switch p := v * 100; {
	case math.IsInf(p, 0) || math.IsNaN(p):
		return fmt.Sprint(p)
	case p == 0 || math.Abs(p) >= 1:
		return fmt.Sprintf("%.1f%%", p)
	default:
		return fmt.Sprintf("%.2g%%", p)
	}
}

func deltaString(delta float64, ratio *float64, unit string) string {
	d := format(delta, unit)
	if unit == "fraction" {
		d = fmt.Sprintf("%.2g points", delta*100)
		if math.Abs(delta*100) >= 1 {
			d = fmt.Sprintf("%.1f points", delta*100)
		}
	}
	if delta >= 0 {
		d = "+" + d
	}
	if ratio != nil {
		d += fmt.Sprintf(", %.2f×", *ratio)
	}
	return d
}

func effectString(e Effect, unit string) string {
	abs := format(e.Abs, unit)
	if unit == "fraction" {
		abs = fmt.Sprintf("%g points", e.Abs*100)
	}
	return fmt.Sprintf("more than %s and %g× the baseline", abs, 1+e.Rel)
}
