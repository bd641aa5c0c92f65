package alert_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/contendr/contendr/alert"
	"github.com/contendr/contendr/analyze"
	"github.com/contendr/contendr/collectors/gc"
	"github.com/contendr/contendr/collectors/mutex"
	"github.com/contendr/contendr/window"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

var epoch = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// win returns the i-th window of a run of one-minute windows (1-based).
func win(i int) *window.Window {
	return &window.Window{ID: fmt.Sprint(i), Start: epoch.Add(time.Duration(i-1) * time.Minute),
		End: epoch.Add(time.Duration(i) * time.Minute)}
}

func lockValues(f float64) alert.Values {
	v := alert.Unknown()
	v.LockFraction = f
	return v
}

// transitions feeds values to ev, one window each, and returns "w<i> <state>"
// for every event.
func transitions(ev *alert.Evaluator, values []alert.Values) []string {
	var got []string
	for i, v := range values {
		for _, e := range ev.Observe(win(i+1), v) {
			name := e.Rule
			if e.Site != "" {
				name += "/" + e.Site
			}
			got = append(got, fmt.Sprintf("w%d %s %s", i+1, name, e.State))
		}
	}
	return got
}

func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

func TestLockFractionRule(t *testing.T) {
	nan := math.NaN()
	rule := alert.Rule{Name: "lock", Metric: alert.LockFraction, Severity: alert.Crit, Threshold: 0.2}
	withClear := rule
	withClear.Clear = 0.1
	tests := []struct {
		name     string
		rule     alert.Rule
		forN     int
		resolveN int
		cooldown time.Duration
		values   []float64
		want     []string
	}{
		{
			name: "fires after N consecutive windows over", rule: rule, forN: 3, resolveN: 3,
			values: []float64{0.3, 0.3, 0.3, 0.3},
			want:   []string{"w3 lock firing"},
		},
		{
			name: "the threshold itself counts as over", rule: rule, forN: 1, resolveN: 1,
			values: []float64{0.2},
			want:   []string{"w1 lock firing"},
		},
		{
			name: "alternating over and under never fires", rule: rule, forN: 2, resolveN: 2,
			values: []float64{0.3, 0.1, 0.3, 0.1, 0.3, 0.1},
			want:   nil,
		},
		{
			name: "resolves after M consecutive windows under", rule: rule, forN: 3, resolveN: 3,
			values: []float64{0.3, 0.3, 0.3, 0.1, 0.1, 0.3, 0.1, 0.1, 0.1},
			want:   []string{"w3 lock firing", "w9 lock resolved"},
		},
		{
			name: "hysteresis: values between clear and threshold neither fire nor resolve", rule: withClear, forN: 2, resolveN: 2,
			values: []float64{0.15, 0.15, 0.3, 0.3, 0.15, 0.15, 0.15, 0.05, 0.05},
			want:   []string{"w4 lock firing", "w9 lock resolved"},
		},
		{
			name: "cooldown delays re-firing", rule: rule, forN: 2, resolveN: 1, cooldown: 5 * time.Minute,
			// resolved at w3; over again from w4, but w8 is the first window 5 minutes after w3
			values: []float64{0.3, 0.3, 0.1, 0.3, 0.3, 0.3, 0.3, 0.3},
			want:   []string{"w2 lock firing", "w3 lock resolved", "w8 lock firing"},
		},
		{
			name: "without cooldown re-fires at once", rule: rule, forN: 2, resolveN: 1,
			values: []float64{0.3, 0.3, 0.1, 0.3, 0.3},
			want:   []string{"w2 lock firing", "w3 lock resolved", "w5 lock firing"},
		},
		{
			name: "unknown windows neither advance nor reset", rule: rule, forN: 3, resolveN: 3,
			values: []float64{0.3, nan, 0.3, nan, 0.3},
			want:   []string{"w5 lock firing"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := alert.NewEvaluator(alert.Config{Rules: []alert.Rule{tt.rule}, For: tt.forN,
				ResolveAfter: tt.resolveN, Cooldown: tt.cooldown, Logger: quietLogger()})
			if err != nil {
				t.Fatal(err)
			}
			defer ev.Close()
			var values []alert.Values
			for _, f := range tt.values {
				values = append(values, lockValues(f))
			}
			got := transitions(ev, values)
			if strings.Join(got, "; ") != strings.Join(tt.want, "; ") {
				t.Errorf("events:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestEveryMetricHasARule(t *testing.T) {
	ev, err := alert.NewEvaluator(alert.Config{For: 1, ResolveAfter: 1, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer ev.Close()
	events := ev.Observe(win(1), alert.Values{LockFraction: 0.5, GCCPUFraction: 0.5,
		GCPauseP99Seconds: 0.1, MapGrowthShare: 0.9, SiteFractions: map[string]float64{"main.(*Cache)": 0.4}})
	fired := map[string]bool{}
	for _, e := range events {
		fired[e.Rule] = true
	}
	for _, r := range ev.Rules() {
		if !fired[r.Name] {
			t.Errorf("rule %s did not fire on values far over every threshold", r.Name)
		}
	}
}

func TestSiteRule(t *testing.T) {
	ev, err := alert.NewEvaluator(alert.Config{
		Rules: []alert.Rule{{Name: "site", Metric: alert.SiteFraction, Threshold: 0.1}},
		For:   2, ResolveAfter: 2, MaxSites: 2, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer ev.Close()
	sites := func(m map[string]float64) alert.Values { v := alert.Unknown(); v.SiteFractions = m; return v }
	got := transitions(ev, []alert.Values{
		sites(map[string]float64{"a.(*Cache)": 0.3, "b.(*Store)": 0.05}),
		sites(map[string]float64{"a.(*Cache)": 0.3, "b.(*Store)": 0.2}),
		// b over twice; a gone from the window counts as zero
		sites(map[string]float64{"b.(*Store)": 0.2, "c.(*Other)": 0.01}),
		// a third site over while two are tracked is not tracked
		sites(map[string]float64{"c.(*Other)": 0.5}),
		// once a is resolved and forgotten, c has room
		sites(map[string]float64{"b.(*Store)": 0.2, "c.(*Other)": 0.5}),
	})
	want := []string{"w2 site/a.(*Cache) firing", "w3 site/b.(*Store) firing", "w4 site/a.(*Cache) resolved"}
	if strings.Join(got, "; ") != strings.Join(want, "; ") {
		t.Errorf("events:\n got %q\nwant %q", got, want)
	}
	firing := ev.Firing()
	if len(firing) != 1 || firing[0].Site != "b.(*Store)" {
		t.Errorf("Firing() = %+v, want only b.(*Store)", firing)
	}
}

func TestCollectorAndCallback(t *testing.T) {
	var calls []alert.Event
	ev, err := alert.NewEvaluator(alert.Config{
		Rules: []alert.Rule{
			{Metric: alert.LockFraction, Severity: alert.Warn, Threshold: 0.05},
			{Metric: alert.GCCPUFraction, Severity: alert.Crit, Threshold: 0.25},
		},
		For: 1, ResolveAfter: 1, Logger: quietLogger(),
		OnAlert: func(e alert.Event) { calls = append(calls, e) },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer ev.Close()
	ev.Observe(win(1), alert.Values{LockFraction: 0.3, GCCPUFraction: 0.1})
	if len(calls) != 1 || calls[0].Rule != "lock_fraction_warn" || calls[0].State != alert.Firing ||
		calls[0].Value != 0.3 || !calls[0].StartsAt.Equal(win(1).End) {
		t.Fatalf("OnAlert calls = %+v, want one firing lock_fraction_warn at 0.3", calls)
	}
	want := `
# HELP contendr_alert_firing 1 while the contendr alert rule fires (for any site, for a site rule), else 0.
# TYPE contendr_alert_firing gauge
contendr_alert_firing{rule="gc_cpu_fraction_crit"} 0
contendr_alert_firing{rule="lock_fraction_warn"} 1
`
	if err := testutil.CollectAndCompare(ev, strings.NewReader(want), "contendr_alert_firing"); err != nil {
		t.Error(err)
	}
	if n, err := testutil.GatherAndCount(registry(t, ev)); err != nil || n != 5 {
		t.Errorf("gathered %d series (err %v), want 2 firing + 3 counters", n, err)
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  alert.Config
		want string
	}{
		{"unknown metric", alert.Config{Rules: []alert.Rule{{Metric: "heap", Threshold: 1}}}, "unknown metric"},
		{"zero threshold", alert.Config{Rules: []alert.Rule{{Metric: alert.LockFraction}}}, "threshold"},
		{"NaN threshold", alert.Config{Rules: []alert.Rule{{Metric: alert.LockFraction, Threshold: math.NaN()}}}, "threshold"},
		{"bad severity", alert.Config{Rules: []alert.Rule{{Metric: alert.LockFraction, Severity: "page", Threshold: 1}}}, "severity"},
		{"duplicate names", alert.Config{Rules: []alert.Rule{{Metric: alert.LockFraction, Threshold: 1}, {Metric: alert.LockFraction, Threshold: 2}}}, "two rules"},
		{"negative cooldown", alert.Config{Cooldown: -time.Second}, "cooldown"},
		{"webhook not http", alert.Config{Webhook: &alert.WebhookConfig{URL: "file:///etc/passwd"}}, "not an http"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := alert.NewEvaluator(tt.cfg)
			if err == nil {
				ev.Close()
				t.Fatalf("NewEvaluator succeeded, want an error about %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not mention %q", err, tt.want)
			}
		})
	}
}

func TestEventsAreLogged(t *testing.T) {
	var buf bytes.Buffer
	ev, err := alert.NewEvaluator(alert.Config{For: 1, ResolveAfter: 1,
		Logger: slog.New(slog.NewTextHandler(&buf, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer ev.Close()
	ev.Observe(win(1), lockValues(0.5))
	ev.Observe(win(2), lockValues(0.01))
	for _, want := range []string{"contendr alert firing", "contendr alert resolved", "rule=lock_fraction_crit"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, buf.String())
		}
	}
}

// The agent must alert on what `contendr analyze` reports: the same names
// and the same limits.
func TestDefaultRulesMatchAnalyzeThresholds(t *testing.T) {
	th := analyze.DefaultThresholds()
	levels := map[alert.Metric]analyze.Level{
		alert.LockFraction:   th.LockFraction,
		alert.SiteFraction:   th.SiteFraction,
		alert.GCCPUFraction:  th.GCCPUFraction,
		alert.GCPauseP99:     th.GCPauseP99,
		alert.MapGrowthShare: th.MapGrowthShare,
	}
	ids := map[alert.Metric]string{
		alert.LockFraction:   analyze.FindingLockFraction,
		alert.SiteFraction:   analyze.FindingSiteFraction,
		alert.GCCPUFraction:  analyze.FindingGCCPUFraction,
		alert.GCPauseP99:     analyze.FindingGCPauseP99,
		alert.MapGrowthShare: analyze.FindingMapGrowthShare,
	}
	for _, r := range alert.DefaultRules() {
		if string(r.Metric) != ids[r.Metric] {
			t.Errorf("metric %q is called %q in analyze", r.Metric, ids[r.Metric])
		}
		want := levels[r.Metric].Warn
		if r.Severity == alert.Crit {
			want = levels[r.Metric].Crit
		}
		if r.Threshold != want {
			t.Errorf("%s %s threshold %v, analyze says %v", r.Metric, r.Severity, r.Threshold, want)
		}
	}
}

func TestValuesFrom(t *testing.T) {
	lock := &mutex.Result{
		LockFraction: mutex.LockFraction{Value: 0.4, Known: true},
		Components:   []*mutex.Component{{Name: "main.(*Cache)", Fraction: 0.3}, {Name: "main.(*Index)", Fraction: 0.1}},
	}
	gcr := &gc.Result{
		Pressure: gc.Pressure{Source: "runtime/metrics", CPUFraction: 0.12, PauseP99Seconds: 0.002,
			Missing: []string{"assist_share: /cpu/classes/gc/mark/assist:cpu-seconds not in both samples"}},
		TotalAllocBytes: 1000,
		MapGrowth: []*gc.MapGrowth{
			{Component: "main.(*Cache)", Kind: gc.GrowthGoMap, ShareOfAlloc: 0.3},
			{Component: "main.(*Index)", Kind: gc.GrowthGoMap, ShareOfAlloc: 0.25},
			{Component: "main.(*Cache)", Kind: gc.GrowthCOWClone, ShareOfAlloc: 0.2},
		},
	}
	v := alert.ValuesFrom(lock, gcr)
	if v.LockFraction != 0.4 || v.SiteFractions["main.(*Cache)"] != 0.3 || v.GCCPUFraction != 0.12 ||
		v.GCPauseP99Seconds != 0.002 || v.MapGrowthShare != 0.5 {
		t.Errorf("ValuesFrom = %+v, want lock 0.4, Cache 0.3, GC 0.12, pause 0.002, growth 0.5 (Cache's two kinds)", v)
	}

	unknown := alert.ValuesFrom(&mutex.Result{}, &gc.Result{Pressure: gc.Pressure{Source: "memstats",
		Missing: []string{"cpu_fraction: no runtime/metrics and no CPU profile in the window", "pause_p99_seconds: x"}}})
	for name, f := range map[string]float64{"lock": unknown.LockFraction, "gc": unknown.GCCPUFraction,
		"pause": unknown.GCPauseP99Seconds, "growth": unknown.MapGrowthShare} {
		if !math.IsNaN(f) {
			t.Errorf("%s = %v, want unknown (NaN)", name, f)
		}
	}
	if v := alert.ValuesFrom(nil, nil); !math.IsNaN(v.LockFraction) || !math.IsNaN(v.GCCPUFraction) {
		t.Errorf("ValuesFrom(nil, nil) = %+v, want all unknown", v)
	}
}
