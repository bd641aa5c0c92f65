package alert_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/contendr/contendr/alert"
	"github.com/contendr/contendr/analyze"
	"github.com/contendr/contendr/collectors/figure"
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

func costValues(f float64) alert.Values {
	v := alert.Unknown()
	v.ContentionCost = f
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
	events := ev.Observe(win(1), alert.Values{ContentionCost: 0.9, ComponentCosts: map[string]float64{"main.(*Cache)": 0.8},
		LockFraction: 0.5, GCCPUFraction: 0.5, GCPauseP99Seconds: 0.1, MapGrowthShare: 0.9,
		SiteFractions: map[string]float64{"main.(*Cache)": 0.4}})
	fired := map[string]bool{}
	for _, e := range events {
		fired[e.Rule] = true
	}
	for _, r := range ev.Rules() {
		if !fired[r.Name] {
			t.Errorf("rule %s did not fire on values far over every threshold", r.Name)
		}
	}
	// Every metric is accepted in a rule, and fires.
	for _, m := range []alert.Metric{alert.ContentionCost, alert.ComponentCost, alert.LockFraction, alert.SiteFraction,
		alert.GCCPUFraction, alert.GCPauseP99, alert.MapGrowthShare} {
		ev, err := alert.NewEvaluator(alert.Config{Rules: []alert.Rule{{Metric: m, Threshold: 0.01}}, For: 1, Logger: quietLogger()})
		if err != nil {
			t.Fatalf("a rule on %s: %v", m, err)
		}
		defer ev.Close()
		events := ev.Observe(win(1), alert.Values{ContentionCost: 0.9, ComponentCosts: map[string]float64{"main.(*Cache)": 0.8},
			LockFraction: 0.5, GCCPUFraction: 0.5, GCPauseP99Seconds: 0.1, MapGrowthShare: 0.9,
			SiteFractions: map[string]float64{"main.(*Cache)": 0.4}})
		if len(events) != 1 {
			t.Errorf("a rule on %s: events %+v, want one firing", m, events)
		}
	}
}

// The default rules lead with the contention cost and leave the lock wait
// share, which reads highest for the maps contendr recommends, to rules a
// user configures.
func TestDefaultRulesLeadWithTheCost(t *testing.T) {
	rules := alert.DefaultRules()
	if len(rules) < 4 || rules[0].Metric != alert.ContentionCost || rules[1].Metric != alert.ContentionCost ||
		rules[2].Metric != alert.ComponentCost || rules[3].Metric != alert.ComponentCost {
		t.Errorf("default rules %+v do not start with contention_cost and component_cost", rules)
	}
	for _, r := range rules {
		if r.Metric == alert.LockFraction || r.Metric == alert.SiteFraction {
			t.Errorf("default rule on the lock wait share: %+v", r)
		}
	}
}

// TestPerComponentRules: component_cost and site_fraction rules fire and
// resolve per component alike, within MaxSites.
func TestPerComponentRules(t *testing.T) {
	for _, tt := range []struct {
		metric alert.Metric
		values func(map[string]float64) alert.Values
	}{
		{alert.ComponentCost, func(m map[string]float64) alert.Values { v := alert.Unknown(); v.ComponentCosts = m; return v }},
		{alert.SiteFraction, func(m map[string]float64) alert.Values { v := alert.Unknown(); v.SiteFractions = m; return v }},
	} {
		t.Run(string(tt.metric), func(t *testing.T) {
			ev, err := alert.NewEvaluator(alert.Config{
				Rules: []alert.Rule{{Name: "site", Metric: tt.metric, Threshold: 0.1}},
				For:   2, ResolveAfter: 2, MaxSites: 2, Logger: quietLogger()})
			if err != nil {
				t.Fatal(err)
			}
			defer ev.Close()
			sites := tt.values
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
		})
	}
}

// TestComponentCostHysteresis: a component_cost rule with Clear holds
// between Clear and Threshold, as the process-wide rules do, and a window
// whose cost is unknown (no ComponentCosts) moves no component.
func TestComponentCostHysteresis(t *testing.T) {
	ev, err := alert.NewEvaluator(alert.Config{
		Rules: []alert.Rule{{Name: "comp", Metric: alert.ComponentCost, Threshold: 0.15, Clear: 0.05}},
		For:   2, ResolveAfter: 2, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer ev.Close()
	comp := func(f float64) alert.Values {
		v := alert.Unknown()
		v.ComponentCosts = map[string]float64{"main.(*Cache)": f}
		return v
	}
	got := transitions(ev, []alert.Values{comp(0.2), alert.Unknown(), comp(0.2), comp(0.1), comp(0.1), comp(0.1),
		comp(0.01), alert.Unknown(), comp(0.01)})
	want := []string{"w3 comp/main.(*Cache) firing", "w9 comp/main.(*Cache) resolved"}
	if strings.Join(got, "; ") != strings.Join(want, "; ") {
		t.Errorf("events:\n got %q\nwant %q", got, want)
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
	ev.Observe(win(1), costValues(0.5))
	ev.Observe(win(2), costValues(0.01))
	for _, want := range []string{"contendr alert firing", "contendr alert resolved", "rule=contention_cost_crit"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, buf.String())
		}
	}
}

// The agent must alert on what `contendr analyze` reports: the same names
// (the thresholds file's keys) and the same limits.
func TestDefaultRulesMatchAnalyzeThresholds(t *testing.T) {
	levels := map[alert.Metric]analyze.Level{}
	th := reflect.ValueOf(analyze.DefaultThresholds())
	for i := range th.NumField() {
		name, _, _ := strings.Cut(th.Type().Field(i).Tag.Get("json"), ",")
		if level, ok := th.Field(i).Interface().(analyze.Level); ok {
			levels[alert.Metric(name)] = level
		}
	}
	for _, r := range alert.DefaultRules() {
		level, ok := levels[r.Metric]
		if !ok {
			t.Errorf("metric %q has no threshold of that name in analyze", r.Metric)
			continue
		}
		want := level.Warn
		if r.Severity == alert.Crit {
			want = level.Crit
		}
		if r.Threshold != want {
			t.Errorf("%s %s threshold %v, analyze says %v", r.Metric, r.Severity, r.Threshold, want)
		}
	}
}

func TestValuesFrom(t *testing.T) {
	lock := &mutex.Result{
		Cost:         mutex.Cost{Value: 0.25, Known: true, Estimated: true},
		LockFraction: mutex.LockFraction{Value: 0.4, Known: true},
		Components: []*mutex.Component{{Name: "main.(*Cache)", Fraction: 0.3, Cost: 0.2},
			{Name: "main.(*Index)", Fraction: 0.1, Cost: 0.05}},
	}
	gcr := &gc.Result{
		Pressure:        gc.Pressure{Source: "runtime/metrics", CPUFraction: 0.12, PauseP99Seconds: 0.002},
		Measured:        figure.KnownSet(figure.GCCPUFraction, figure.GCPauseP99, figure.MapGrowth),
		TotalAllocBytes: 1000,
		MapGrowth: []*gc.MapGrowth{
			{Component: "main.(*Cache)", Kind: gc.GrowthGoMap, ShareOfAlloc: 0.3},
			{Component: "main.(*Index)", Kind: gc.GrowthGoMap, ShareOfAlloc: 0.25},
			{Component: "main.(*Cache)", Kind: gc.GrowthCOWClone, ShareOfAlloc: 0.2},
		},
	}
	v := alert.ValuesFrom(lock, gcr)
	if v.ContentionCost != 0.25 || v.ComponentCosts["main.(*Cache)"] != 0.2 || v.ComponentCosts["main.(*Index)"] != 0.05 {
		t.Errorf("ValuesFrom = %+v, want cost 0.25 (an estimate is a value), Cache 0.2, Index 0.05", v)
	}
	if v.LockFraction != 0.4 || v.SiteFractions["main.(*Cache)"] != 0.3 || v.GCCPUFraction != 0.12 ||
		v.GCPauseP99Seconds != 0.002 || v.MapGrowthShare != 0.5 {
		t.Errorf("ValuesFrom = %+v, want lock 0.4, Cache 0.3, GC 0.12, pause 0.002, growth 0.5 (Cache's two kinds)", v)
	}

	missing := figure.Set{}
	missing.Miss("no runtime/metrics and no CPU profile in the window", figure.GCCPUFraction)
	missing.Miss("no GC cycle ended", figure.GCPauseP99)
	unknown := alert.ValuesFrom(&mutex.Result{}, &gc.Result{Pressure: gc.Pressure{Source: "memstats"}, Measured: missing})
	for name, f := range map[string]float64{"cost": unknown.ContentionCost, "lock": unknown.LockFraction, "gc": unknown.GCCPUFraction,
		"pause": unknown.GCPauseP99Seconds, "growth": unknown.MapGrowthShare} {
		if !math.IsNaN(f) {
			t.Errorf("%s = %v, want unknown (NaN)", name, f)
		}
	}
	if unknown.ComponentCosts != nil {
		t.Errorf("component costs %v for an unknown cost, want none (no component moves)", unknown.ComponentCosts)
	}
	if v := alert.ValuesFrom(nil, nil); !math.IsNaN(v.ContentionCost) || !math.IsNaN(v.LockFraction) || !math.IsNaN(v.GCCPUFraction) {
		t.Errorf("ValuesFrom(nil, nil) = %+v, want all unknown", v)
	}
}
