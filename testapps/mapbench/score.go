package main

import (
	"fmt"
	"strings"

	"golang.org/x/perf/benchmath"
)

// strategyImpl maps contendr's strategy names to this package's
// implementations. It is the only place the two vocabularies meet.
var strategyImpl = map[string]Impl{
	"mutex":   ImplLocked,
	"rwmutex": ImplRW,
	"sharded": ImplSharded,
	"syncmap": ImplSync,
	"cow":     ImplSnapshot,
	"xsync":   ImplXsync,
}

func strategyOf(impl Impl) string {
	for s, i := range strategyImpl {
		if i == impl {
			return s
		}
	}
	return ""
}

// nearBest is how close to the best measured ops/s advice must land to be
// correct: within 10%.
const nearBest = 0.90

// Score is the verdict on one case's advice.
type Score struct {
	// Change is true when contendr advised a strategy other than the
	// current one; Advised is the implementation its advice lands on (the
	// current one when it advised no change).
	Change  bool `json:"change"`
	Advised Impl `json:"advised"`
	Best    Impl `json:"best"`
	// Correct: the advised implementation's median ops/s is within 10% of
	// the best's. Regret = best ops/s ÷ advised ops/s (1 is perfect).
	Correct bool    `json:"correct"`
	Regret  float64 `json:"regret"`
	// Miss says why the advice missed, in numbers; Identity notes a
	// current strategy contendr read wrong (correct or not).
	Miss     string `json:"miss,omitempty"`
	Identity string `json:"identity,omitempty"`
	// P is the Mann-Whitney U test's p-value for the advised and the best
	// implementation's runs differing (1 when they are the same or there
	// are too few runs): a miss with P ≥ 0.05 is one the measurements
	// cannot tell from a hit.
	P float64 `json:"p_advised_vs_best"`
}

// alpha is the significance level at which two implementations' runs are
// told apart.
const alpha = 0.05

// Distinct reports whether the runs tell the advised implementation from
// the best at alpha.
func (s Score) Distinct() bool { return s.P < alpha }

// score judges advice (found or not) for a case whose current
// implementation is current, against the measured throughputs.
func score(measured []Throughput, current Impl, advice Recommendation, found bool) (Score, error) {
	ops := make(map[Impl]float64, len(measured))
	runs := make(map[Impl][]float64, len(measured))
	s := Score{P: 1}
	for _, t := range measured {
		ops[t.Impl], runs[t.Impl] = t.Median, t.Runs
		if s.Best == "" || t.Median > ops[s.Best] {
			s.Best = t.Impl
		}
	}
	if ops[current] <= 0 || ops[s.Best] <= 0 {
		return s, fmt.Errorf("no throughput measured for %s", current)
	}
	s.Advised = current
	said := "no advice about the map"
	if found {
		if advice.Current != "" && strategyImpl[advice.Current] != current {
			s.Identity = fmt.Sprintf("contendr read the current strategy as %s; it is %s (%s)", advice.Current, strategyOf(current), current)
		}
		switch rec := advice.Recommended; {
		case rec == "" || rec == "keep" || rec == advice.Current:
			said = fmt.Sprintf("keep (rule %s)", advice.Rule)
		default:
			impl, ok := strategyImpl[rec]
			if !ok {
				s.Change = true
				s.Miss = fmt.Sprintf("advised %q, a strategy this harness does not measure (rule %s)", rec, advice.Rule)
				return s, nil
			}
			s.Change, s.Advised = impl != current, impl
			said = fmt.Sprintf("advised %s (rule %s)", rec, advice.Rule)
		}
	}
	s.Regret = ops[s.Best] / ops[s.Advised]
	if s.Advised != s.Best && len(runs[s.Advised]) > 1 && len(runs[s.Best]) > 1 {
		th := &benchmath.DefaultThresholds
		s.P = benchmath.AssumeNothing.Compare(benchmath.NewSample(runs[s.Advised], th), benchmath.NewSample(runs[s.Best], th)).P
	}
	s.Correct = ops[s.Advised] >= nearBest*ops[s.Best]
	if !s.Correct {
		s.Miss = fmt.Sprintf("%s: %s at %s ops/s is %.0f%% below the best, %s (%s) at %s ops/s",
			said, s.Advised, si(ops[s.Advised]), 100*(1-ops[s.Advised]/ops[s.Best]), s.Best, strategyOf(s.Best), si(ops[s.Best]))
		if !s.Distinct() {
			s.Miss += fmt.Sprintf(" (the runs cannot tell them apart: U test p = %.2f)", s.P)
		}
		if found && len(advice.Reasons) > 0 {
			s.Miss += "; contendr's reason: " + strings.Join(advice.Reasons, " ")
		}
	}
	return s, nil
}

// si writes ops/s with an SI prefix: 1.23M, 456k.
func si(v float64) string {
	switch {
	case v >= 1e9:
		return fmt.Sprintf("%.2fG", v/1e9)
	case v >= 1e6:
		return fmt.Sprintf("%.2fM", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.1fk", v/1e3)
	}
	return fmt.Sprintf("%.0f", v)
}
