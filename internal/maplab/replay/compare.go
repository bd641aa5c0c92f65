package replay

import (
	"fmt"
	"math"
	"slices"

	"golang.org/x/perf/benchmath"

	"github.com/contendr/contendr/canary"
)

// Confidence is the level of the confidence intervals Summarize gives.
const Confidence = 0.95

// DefaultAlpha is the Mann-Whitney level below which two strategies'
// runs are taken to differ.
const DefaultAlpha = 0.05

// MinRunsToCompare is the fewest runs per strategy with which the
// Mann-Whitney test can reach p < 0.05 at all (2/C(8,4) = 0.029, as
// canary.WindowsNeeded computes); with three a side its smallest p is 0.1. MinRunsForInterval is the fewest
// for which benchmath gives a finite 95% interval around a median.
const (
	MinRunsToCompare   = 4
	MinRunsForInterval = 6
)

// Summary is the center and spread of one strategy's runs.
type Summary struct {
	Median float64 `json:"median"`
	// Lo and Hi bound the median at Confidence (benchmath's distribution-
	// free interval); IntervalKnown is false with fewer than
	// MinRunsForInterval runs, and Lo/Hi are then the smallest and largest run.
	Lo            float64 `json:"lo"`
	Hi            float64 `json:"hi"`
	IntervalKnown bool    `json:"interval_known"`
	Min           float64 `json:"min"`
	Max           float64 `json:"max"`
	// Spread is half the range of the runs over the median: "±Spread".
	Spread float64 `json:"spread"`
	N      int     `json:"n"`
}

// Summarize gives the median of values with its confidence interval.
func Summarize(values []float64) Summary {
	if len(values) == 0 {
		return Summary{}
	}
	th := benchmath.DefaultThresholds
	sample := benchmath.NewSample(slices.Clone(values), &th)
	sum := benchmath.AssumeNothing.Summary(sample, Confidence)
	s := Summary{
		Median: sum.Center, Lo: sum.Lo, Hi: sum.Hi,
		Min: sample.Values[0], Max: sample.Values[len(sample.Values)-1], N: len(values),
	}
	s.IntervalKnown = !math.IsInf(s.Lo, 0) && !math.IsInf(s.Hi, 0)
	if !s.IntervalKnown {
		s.Lo, s.Hi = s.Min, s.Max
	}
	if s.Median > 0 {
		s.Spread = (s.Max - s.Min) / 2 / s.Median
	}
	return s
}

// Comparison is a candidate strategy's runs against a baseline's.
type Comparison struct {
	Baseline  string `json:"baseline"`
	Candidate string `json:"candidate"`
	// Ratio is the candidate's median over the baseline's (2 = twice the
	// ops/s). RatioLo and RatioHi are the least and most favourable ratios
	// the two intervals allow; RatioHi is absent (nil) when unbounded (a
	// baseline run made no progress).
	Ratio   float64  `json:"ratio"`
	RatioLo float64  `json:"ratio_lo"`
	RatioHi *float64 `json:"ratio_hi,omitempty"`
	// P is the Mann-Whitney U test's p-value that both sets of runs come
	// from one distribution; below Alpha they differ.
	P     float64 `json:"p"`
	Alpha float64 `json:"alpha"`
	N     [2]int  `json:"n"` // runs of baseline, candidate
	// RunQueue is each side's median share of its runs spent waiting for a
	// CPU (Measured.RunQueueShare): baseline, candidate.
	RunQueue [2]float64 `json:"run_queue"`
}

// BusyRunQueue is the run-queue share above which a comparison says
// nothing about the maps: other processes held the cores for half of the
// runs, and a loaded machine changes which strategy wins, not only by how
// much (testapps/maplab/README.md: three matrices taken at load 10–35
// crowned other strategies than two quiet ones, and disagreed with each
// other). A quiet 2-core machine showed at most 39% (RWMutex, whose own
// threads' wake-ups count), under 10% for the others.
const BusyRunQueue = 0.5

// Compare tests the candidate's runs against the baseline's.
func Compare(baseline, candidate *Measured, alpha float64) Comparison {
	c := Comparison{Baseline: baseline.Strategy, Candidate: candidate.Strategy, Alpha: alpha, P: 1,
		N: [2]int{len(baseline.Runs), len(candidate.Runs)}, RunQueue: [2]float64{baseline.RunQueueShare, candidate.RunQueueShare}}
	b, k := baseline.OpsPerSec, candidate.OpsPerSec
	if b.Median > 0 {
		c.Ratio = k.Median / b.Median
	}
	if b.Hi > 0 {
		c.RatioLo = k.Lo / b.Hi
	}
	if b.Lo > 0 {
		hi := k.Hi / b.Lo
		c.RatioHi = &hi
	}
	if c.N[0] == 0 || c.N[1] == 0 {
		return c
	}
	th := benchmath.DefaultThresholds
	th.CompareAlpha = alpha
	c.P = benchmath.AssumeNothing.Compare(
		benchmath.NewSample(opsOf(baseline.Runs), &th),
		benchmath.NewSample(opsOf(candidate.Runs), &th)).P
	if math.IsNaN(c.P) {
		c.P = 1 // no test was possible (identical runs): nothing tells the two apart
	}
	return c
}

// Differ reports whether the test tells the two apart at Alpha.
func (c Comparison) Differ() bool { return c.P < c.Alpha }

func opsOf(runs []RunResult) []float64 {
	out := make([]float64, len(runs))
	for i, r := range runs {
		out[i] = r.OpsPerSec
	}
	return out
}

// Verdict is what a replay says of "candidate is faster than baseline".
type Verdict string

// Verdicts.
const (
	// Confirmed: the candidate is measurably faster, by at least the
	// minimum gain.
	Confirmed Verdict = "confirmed"
	// Refuted: it is measurably slower, faster by less than the minimum
	// gain, or no faster than the minimum gain even at the edge of the
	// intervals.
	Refuted Verdict = "refuted"
	// CannotTell: the runs spread too wide for the difference; Judgement.Need
	// says what more to measure.
	CannotTell Verdict = "cannot-tell"
)

// Judgement is a verdict with its reason in words.
type Judgement struct {
	Verdict Verdict `json:"verdict"`
	Reason  string  `json:"reason"`
	// Need says what would settle a CannotTell.
	Need string `json:"need,omitempty"`
}

// Judge decides whether c's candidate is faster than its baseline by at
// least minGain (0.05 = 5% more ops/s).
func Judge(c Comparison, minGain float64) Judgement {
	n := min(c.N[0], c.N[1])
	vs := fmt.Sprintf("%s vs %s: %s ops/s (medians; p=%.3g, n=%d+%d)", c.Candidate, c.Baseline, signedPct(c.Ratio-1), c.P, c.N[0], c.N[1])
	minP, need := canary.MinP(c.N[0], c.N[1]), max(canary.WindowsNeeded(c.Alpha), n+1)
	if busy := max(c.RunQueue[0], c.RunQueue[1]); busy > BusyRunQueue {
		more := ""
		if minP >= c.Alpha {
			more = fmt.Sprintf(", and at least %d runs of each strategy (--repeat %d)", need, need)
		}
		return Judgement{CannotTell, fmt.Sprintf("the machine was busy: the runs waited for a CPU %s of the time (median; %s %s, %s %s), so they measure the machine more than the maps (%s)",
			pct(busy), c.Baseline, pct(c.RunQueue[0]), c.Candidate, pct(c.RunQueue[1]), vs),
			fmt.Sprintf("a quieter machine: others must leave the cores to the replay (a run-queue share under %s)%s", pct(BusyRunQueue), more)}
	}
	if minP >= c.Alpha {
		return Judgement{CannotTell, vs + fmt.Sprintf("; with %d+%d runs the test's smallest p is %.3g, not under α=%g", c.N[0], c.N[1], minP, c.Alpha),
			fmt.Sprintf("at least %d runs of each strategy (--repeat %d; %d also give confidence intervals)", need, need, max(need, MinRunsForInterval))}
	}
	switch {
	case c.Differ() && c.Ratio >= 1+minGain:
		return Judgement{Verdict: Confirmed, Reason: fmt.Sprintf("%s is faster: %s", c.Candidate, vs)}
	case c.Differ() && c.Ratio <= 1:
		return Judgement{Verdict: Refuted, Reason: fmt.Sprintf("%s is slower: %s", c.Candidate, vs)}
	case c.Differ():
		return Judgement{Verdict: Refuted, Reason: fmt.Sprintf("%s is faster by less than the minimum gain of %s: %s", c.Candidate, pct(minGain), vs)}
	case c.RatioHi != nil && *c.RatioHi < 1+minGain:
		return Judgement{Verdict: Refuted, Reason: fmt.Sprintf("%s is not measurably faster: even the most favourable edge of the intervals gives %s, under the minimum gain of %s; %s",
			c.Candidate, signedPct(*c.RatioHi-1), pct(minGain), vs)}
	}
	return Judgement{CannotTell, fmt.Sprintf("the runs spread wider than the difference: %s; the intervals allow %s to %s",
		vs, signedPct(c.RatioLo-1), c.ratioHiText()),
		fmt.Sprintf("more runs (--repeat %d) or longer ones (a larger --seconds), on a quieter machine if others share it", 2*n)}
}

func (c Comparison) ratioHiText() string {
	if c.RatioHi == nil {
		return "an unbounded gain"
	}
	return signedPct(*c.RatioHi - 1)
}

func pct(f float64) string { return fmt.Sprintf("%.0f%%", 100*f) }

func signedPct(f float64) string {
	return fmt.Sprintf("%+.0f%%", 100*f)
}
