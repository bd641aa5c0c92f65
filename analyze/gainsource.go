package analyze

import (
	"fmt"
	"strings"
)

// GainSource says where a recommendation's expected gain comes from.
type GainSource struct {
	// Kind is GainFromVerify, GainFromMaplab, GainFromWindow or GainNone.
	Kind   string `json:"kind"`
	Detail string `json:"detail"`
}

// Gain source kinds.
const (
	// GainFromVerify: contendr verify replayed the component's workload for
	// the current and recommended strategies; Recommendation.Measured holds it.
	GainFromVerify = "verify"
	// GainFromMaplab: the ground truth's medians (maplab's matrix rows and
	// mapbench's cases) for the component's regime and mix, measured on
	// GOMAXPROCS cores elsewhere; Detail names the harnesses.
	GainFromMaplab = "maplab"
	// GainFromWindow: only the window's own bounds (the component's
	// contention cost, its growth share of allocation).
	GainFromWindow = "window"
	// GainNone: no change is advised.
	GainNone = "none"
)

// GainMeasurement is a recommendation measured on a machine: the
// component's workload replayed for its current and recommended
// strategies, interleaved and repeated (contendr verify). Attached to the
// recommendation it becomes the source of its expected gain.
type GainMeasurement struct {
	// Verdict is "confirmed", "refuted" or "cannot-tell"; Reason says why
	// in words, with the figures.
	Verdict string `json:"verdict"`
	Reason  string `json:"reason"`
	// Machine says where it ran ("linux/amd64, GOMAXPROCS 2, 2 CPUs");
	// Date when, RFC 3339.
	Machine    string `json:"machine"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	Date       string `json:"date"`
	// Against is the strategy measured against the current one: the
	// recommended one, or for a keep the alternative that decided.
	Against Strategy `json:"against"`
	// CurrentOpsPerSec and RecommendedOpsPerSec (Against's) are the
	// medians of the runs; Ratio is Against's over current's; P the
	// Mann-Whitney p-value.
	CurrentOpsPerSec     float64 `json:"current_ops_per_sec"`
	RecommendedOpsPerSec float64 `json:"recommended_ops_per_sec"`
	Ratio                float64 `json:"ratio"`
	P                    float64 `json:"p"`
	// Runs is the number of runs per strategy, RunSeconds each one's length.
	Runs       int     `json:"runs"`
	RunSeconds float64 `json:"run_seconds"`
}

// beforeMeasurement separates a measured expected gain from the window's
// own statement of it, which is kept after it.
const beforeMeasurement = " — before this measurement: "

// AttachMeasurement makes m the source of the named component's expected
// gain. It reports false when the report has no recommendation for it.
// Attaching again replaces the earlier measurement.
func (r *Report) AttachMeasurement(component string, m GainMeasurement) bool {
	for i := range r.Recommendations {
		rec := &r.Recommendations[i]
		if rec.Component != component {
			continue
		}
		previous := rec.ExpectedGain
		if _, after, ok := strings.Cut(previous, beforeMeasurement); ok && rec.Measured != nil {
			previous = after
		}
		rec.Measured = &m
		rec.GainSource = GainSource{Kind: GainFromVerify, Detail: fmt.Sprintf("contendr verify on %s, %s, %d interleaved runs of %.2gs per strategy",
			m.Machine, m.Date, m.Runs, m.RunSeconds)}
		rec.ExpectedGain = measuredGainText(rec, m) + beforeMeasurement + previous
		return true
	}
	return false
}

func measuredGainText(rec *Recommendation, m GainMeasurement) string {
	figures := fmt.Sprintf("%s ran %+.0f%% ops/s vs %s (medians %s vs %s ops/s, p=%.3g, %d runs each)",
		m.Against, 100*(m.Ratio-1), rec.Current, FormatOps(m.RecommendedOpsPerSec), FormatOps(m.CurrentOpsPerSec), m.P, m.Runs)
	if rec.Recommended == StrategyKeep {
		return fmt.Sprintf("measured on %s: keep %s %s, %s", m.Machine, rec.Current, m.Verdict, figures)
	}
	switch m.Verdict {
	case "confirmed":
		return fmt.Sprintf("measured on %s: %s — confirmed", m.Machine, figures)
	case "refuted":
		return fmt.Sprintf("measured on %s: no gain to expect here, %s — refuted", m.Machine, figures)
	}
	return fmt.Sprintf("measured on %s: undecided — %s", m.Machine, m.Reason)
}

// FormatOps writes a throughput for people: 6.33M, 84.4k, 666.
func FormatOps(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.2fM", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.1fk", v/1e3)
	}
	return fmt.Sprintf("%.0f", v)
}

// gainSource says where expectedGain took its figures from, for a
// recommendation built from facts f.
func gainSource(rec Recommendation, f *facts) GainSource {
	if rec.Recommended == StrategyKeep {
		return GainSource{Kind: GainNone, Detail: "no strategy change is advised"}
	}
	const verifyHint = " (contendr verify measures the change on your machine)"
	if measured(f.Current, rec.Recommended, f) != "" {
		c, _ := f.regimeChoice()
		return GainSource{Kind: GainFromMaplab, Detail: fmt.Sprintf("%s on %d cores, %s, %s rows%s",
			harnessesText(c.rows), maplab.GOMAXPROCS, c.scope, c.mix, verifyHint)}
	}
	return GainSource{Kind: GainFromWindow, Detail: "this window's bounds, not a measurement of the change" + verifyHint}
}

// gainText is the expected gain with its source, as the renderers show it.
func (rec Recommendation) gainText() string {
	if rec.GainSource.Kind == "" || rec.GainSource.Kind == GainNone {
		return rec.ExpectedGain
	}
	return rec.ExpectedGain + " [source: " + rec.GainSource.Detail + "]"
}
