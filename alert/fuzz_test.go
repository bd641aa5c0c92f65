package alert_test

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/contendr/contendr/alert"
)

// FuzzEvaluator feeds the alert package what it takes from outside: a rule
// (metric and severity names, thresholds, the counts) as a config file or
// flag would give it, and a run of window figures that may be NaN, ±Inf,
// negative or huge, with arbitrary component names. NewEvaluator must
// refuse a bad rule with an error, never a panic; a good one must keep
// every rule instance alternating firing → resolved, and every event must
// render as one line and marshal to JSON.
func FuzzEvaluator(f *testing.F) {
	f.Add("lock_fraction", "crit", 0.2, 0.1, uint8(1), uint8(1), "main.(*Cache)", encodeFloats(0.5, 0.01, 0.5))
	f.Add("contention_cost", "crit", 0.3, 0.2, uint8(2), uint8(2), "", encodeFloats(0.5, 0.5, 0.01, 0.01))
	f.Add("component_cost", "warn", 0.05, 0.0, uint8(1), uint8(1), "main.(*Cache)", encodeFloats(0.1, math.NaN(), 0))
	f.Add("site_fraction", "warn", 0.025, 0.0, uint8(3), uint8(3), "main.(*Cache)\nx", encodeFloats(1, 1, 1, 0, 0, 0))
	f.Add("gc_pause_p99", "", 0.001, 2.0, uint8(0), uint8(0), "", encodeFloats(math.Inf(1), math.NaN(), -1))
	f.Add("nope", "page", -1.0, math.NaN(), uint8(255), uint8(2), "../../etc", encodeFloats(math.MaxFloat64))
	f.Fuzz(func(t *testing.T, metric, severity string, threshold, clear float64, forN, resolveN uint8, site string, figures []byte) {
		ev, err := alert.NewEvaluator(alert.Config{
			Rules:        []alert.Rule{{Metric: alert.Metric(metric), Severity: alert.Severity(severity), Threshold: threshold, Clear: clear}},
			For:          int(forN % 8),
			ResolveAfter: int(resolveN % 8),
			Logger:       quietLogger(),
		})
		if err != nil {
			if ev != nil {
				t.Fatalf("NewEvaluator returned an evaluator and the error %v", err)
			}
			return
		}
		defer ev.Close()
		firing := map[string]bool{}
		for i := 0; len(figures) >= 8 && i < 64; i++ {
			x := math.Float64frombits(binary.LittleEndian.Uint64(figures))
			figures = figures[8:]
			v := alert.Values{ContentionCost: x, ComponentCosts: map[string]float64{site: x, site + "'": -x},
				LockFraction: x, GCCPUFraction: x, GCPauseP99Seconds: x, MapGrowthShare: x,
				SiteFractions: map[string]float64{site: x, site + "'": -x}}
			for _, e := range ev.Observe(win(i+1), v) {
				key := e.Rule + "\x00" + e.Site
				switch e.State {
				case alert.Firing:
					if firing[key] {
						t.Fatalf("window %d: %s fired twice without resolving", i+1, key)
					}
				case alert.Resolved:
					if !firing[key] {
						t.Fatalf("window %d: %s resolved without firing", i+1, key)
					}
				default:
					t.Fatalf("event with state %q", e.State)
				}
				firing[key] = e.State == alert.Firing
				if math.IsNaN(e.Value) {
					t.Fatalf("window %d: an event on an unknown (NaN) value: %+v", i+1, e)
				}
				if s := e.String(); strings.Count(s, "\n") > strings.Count(e.Site, "\n") {
					t.Fatalf("event line %q breaks beyond its site name", s)
				}
				if _, err := json.Marshal(sanitized(e)); err != nil {
					t.Fatalf("event %+v does not marshal: %v", e, err)
				}
			}
		}
	})
}

// sanitized is e as a JSON consumer gets it: encoding/json refuses ±Inf,
// which a figure may legitimately be (a zero denominator), so the check
// is on everything else.
func sanitized(e alert.Event) alert.Event {
	if math.IsInf(e.Value, 0) {
		e.Value = 0
	}
	if math.IsInf(e.Threshold, 0) {
		e.Threshold = 0
	}
	return e
}

func encodeFloats(xs ...float64) []byte {
	b := make([]byte, 0, 8*len(xs))
	for _, x := range xs {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(x))
	}
	return b
}
