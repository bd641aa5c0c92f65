package analyze

import (
	"strings"
	"testing"
)

func TestAttachMeasurement(t *testing.T) {
	r := &Report{Recommendations: []Recommendation{
		{Component: "main.(*A)", Current: StrategyMutex, Recommended: StrategyKeep, ExpectedGain: "none"},
		{Component: "main.(*B)", Current: StrategyMutex, Recommended: StrategyXsync, ExpectedGain: "up to 14% of the CPU capacity",
			GainSource: GainSource{Kind: GainFromMaplab, Detail: "the maplab matrix on 2 cores"}},
	}}
	m := GainMeasurement{Verdict: "confirmed", Against: StrategyXsync, Machine: "linux/amd64, GOMAXPROCS 32, 32 CPUs", Date: "2026-12-01T22:00:00Z",
		CurrentOpsPerSec: 2e6, RecommendedOpsPerSec: 6e6, Ratio: 3, P: 0.002, Runs: 6, RunSeconds: 1}
	if r.AttachMeasurement("main.(*C)", m) {
		t.Error("an absent component took a measurement")
	}
	keep := m
	keep.Verdict, keep.Ratio = "confirmed", 0.5
	if !r.AttachMeasurement("main.(*A)", keep) || !strings.HasPrefix(r.Recommendations[0].ExpectedGain, "measured on linux/amd64, GOMAXPROCS 32, 32 CPUs: keep mutex confirmed, xsync ran -50% ops/s vs mutex") {
		t.Errorf("a keep measured: %q", r.Recommendations[0].ExpectedGain)
	}
	if !r.AttachMeasurement("main.(*B)", m) {
		t.Fatal("main.(*B) took no measurement")
	}
	rec := r.Recommendations[1]
	want := "measured on linux/amd64, GOMAXPROCS 32, 32 CPUs: xsync ran +200% ops/s vs mutex (medians 6.00M vs 2.00M ops/s, p=0.002, 6 runs each) — confirmed — before this measurement: up to 14% of the CPU capacity"
	if rec.ExpectedGain != want || rec.GainSource.Kind != GainFromVerify || rec.Measured == nil {
		t.Errorf("got %q (%+v)\nwant %q", rec.ExpectedGain, rec.GainSource, want)
	}
	// A second measurement replaces the first, keeping the window's text once.
	m.Verdict, m.Ratio = "refuted", 0.9
	r.AttachMeasurement("main.(*B)", m)
	if got := r.Recommendations[1].ExpectedGain; strings.Count(got, "before this measurement") != 1 || !strings.Contains(got, "refuted") {
		t.Errorf("re-attached: %q", got)
	}
	if !strings.Contains(r.Recommendations[1].gainText(), "[source: contendr verify on linux/amd64") {
		t.Errorf("rendered: %q", r.Recommendations[1].gainText())
	}
}
