package analyze

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
)

func findingsWithID(r *Report, id string) []Finding {
	var out []Finding
	for _, f := range r.Findings {
		if f.ID == id {
			out = append(out, f)
		}
	}
	return out
}

func TestNoLockFindingAboveOKWhenProcessBelowWarn(t *testing.T) {
	in, lock, gcr := handQuiet(t)
	// One component holds all of a small contention cost: above the
	// component limit on its own, below the process limit.
	lock.Cost.Value = 0.08
	lock.Components[0].Cost = 0.08
	lock.Cost.RuntimeLockCPUSeconds = 10
	r := Build(in, lock, gcr, DefaultThresholds())
	for _, f := range r.Findings {
		if (f.ID == FindingContentionCost || f.ID == FindingComponentCost || f.ID == FindingRuntimeLockCost) && f.Severity != SeverityOK {
			t.Errorf("%s is %s with a contention cost of 8%% (warn 10%%)", f.shortName(), f.Severity)
		}
	}
	if got := findingsWithID(r, FindingComponentCost); len(got) != 1 || got[0].Value != 0.08 {
		t.Errorf("component findings = %+v, want one of value 0.08", got)
	}
	if r.Worst() != SeverityOK || r.WorstSeverity != SeverityOK {
		t.Errorf("worst = %s", r.Worst())
	}
	for _, rec := range r.Recommendations {
		if rec.Recommended != StrategyKeep {
			t.Errorf("%s: recommended %s below the cost warn limit", rec.Component, rec.Recommended)
		}
	}
}

// TestCostIsTheHeadline: a high lock wait share with a low cost (many
// runnable goroutines, waits that replaced run-queue waits: maplab's xsync
// map) is not a finding above ok; a high cost with a low wait share is.
func TestCostIsTheHeadline(t *testing.T) {
	in, lock, gcr := handRWMutexWriteHeavy(t)
	lock.LockFraction.Value = 0.96
	lock.Cost.Value, lock.Components[0].Cost, lock.Components[1].Cost = 0.03, 0.03, 0
	lock.Cost.RuntimeLockCPUSeconds = 0
	r := Build(in, lock, gcr, DefaultThresholds())
	for _, f := range r.Findings {
		if f.Severity != SeverityOK && f.ID != FindingGCCPUFraction && f.ID != FindingGCPauseP99 {
			t.Errorf("%s is %s at a 3%% cost (lock wait share 96%%)", f.shortName(), f.Severity)
		}
	}
	if !strings.Contains(r.Verdict, "locks cost 3.00% of the CPU capacity") {
		t.Errorf("verdict %q does not lead with the cost", r.Verdict)
	}
	head := findingsWithID(r, FindingContentionCost)
	if len(head) != 1 || !strings.Contains(head[0].Message, "lock wait share 96.0%") || !strings.Contains(head[0].Message, "not time lost") {
		t.Errorf("cost finding = %+v, want the wait share quoted as context", head)
	}

	in, lock, gcr = handRWMutexWriteHeavy(t)
	lock.LockFraction.Value = 0.02
	r = Build(in, lock, gcr, DefaultThresholds())
	if head := findingsWithID(r, FindingContentionCost); len(head) != 1 || head[0].Severity != SeverityCrit {
		t.Errorf("cost finding = %+v, want crit at a 40%% cost", head)
	}
	// The cost, not the 2% wait share, judges the component; a change
	// gives back its cost.
	if len(r.Recommendations) == 0 || r.Recommendations[0].Workload.Contention != SeverityCrit {
		t.Fatalf("recommendations = %+v, want the component judged crit by its cost", r.Recommendations)
	}
	if rec := r.Recommendations[0]; rec.Recommended != StrategyKeep && rec.Gain.Cost != 0.371 {
		t.Errorf("recommendation %+v, want a change to give back the component's cost", rec)
	}
}

func TestProfilingDisabled(t *testing.T) {
	tests := []struct {
		name       string
		cost       float64
		known      bool
		lowerBound bool
		want       Severity
	}{
		{"blind and contended", 0.3, true, false, SeverityWarn},
		{"blind and cost unknown", 0, false, false, SeverityWarn},
		{"blind and cost a lower bound", 0.01, true, true, SeverityWarn},
		{"blind but locks are cheap", 0.01, true, false, SeverityOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, lock, gcr := handProfilingOff(t)
			lock.Cost.Value, lock.Cost.Known, lock.Cost.LowerBound = tt.cost, tt.known, tt.lowerBound
			r := Build(in, lock, gcr, DefaultThresholds())
			got := findingsWithID(r, FindingProfilingDisabled)
			if len(got) != 2 {
				t.Fatalf("got %d profiling_disabled findings, want 2 (mutex and block)", len(got))
			}
			for _, f := range got {
				if f.Severity != tt.want {
					t.Errorf("%s: severity %s, want %s", f.Component, f.Severity, tt.want)
				}
			}
			if !strings.Contains(got[0].Message, "runtime.SetMutexProfileFraction(") || !strings.Contains(got[1].Message, "runtime.SetBlockProfileRate(") {
				t.Errorf("messages do not say how to enable profiling: %q / %q", got[0].Message, got[1].Message)
			}
		})
	}
}

func TestProfilingEnabledRaisesNoFinding(t *testing.T) {
	in, lock, gcr := handRWMutexWriteHeavy(t)
	if got := findingsWithID(Build(in, lock, gcr, DefaultThresholds()), FindingProfilingDisabled); len(got) != 0 {
		t.Errorf("profiling_disabled findings on a window with both rates set: %+v", got)
	}
}

func TestEstimatesSaySo(t *testing.T) {
	in, lock, gcr := handProfilingOff(t)
	r := Build(in, lock, gcr, DefaultThresholds())
	// A lower bound below the warn limit judges nothing: no "2% (ok)"
	// beside "lock wait share unknown".
	if got := findingsWithID(r, FindingContentionCost); len(got) != 0 {
		t.Errorf("a lower bound below warn was judged: %+v", got)
	}
	if !r.Lock.CostEstimated || !r.Lock.CostLowerBound || !strings.Contains(r.Verdict, "at least 2.00%") || !strings.Contains(r.Verdict, "(a lower bound)") {
		t.Errorf("verdict %q does not flag the lower bound", r.Verdict)
	}
	const reason = "no idle time is blamed on locks"
	var text, md, html, js bytes.Buffer
	for _, w := range []struct {
		b     *bytes.Buffer
		write func(*bytes.Buffer) error
	}{
		{&text, func(b *bytes.Buffer) error { return r.WriteTextVerbose(b) }},
		{&md, func(b *bytes.Buffer) error { return r.WriteMarkdown(b) }},
		{&html, func(b *bytes.Buffer) error { return r.WriteHTML(b) }},
		{&js, func(b *bytes.Buffer) error { return r.WriteJSON(b) }},
	} {
		if err := w.write(w.b); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(w.b.String(), reason) {
			t.Errorf("an output lacks the estimate's reason:\n%s", w.b.String())
		}
	}
	if strings.Contains(text.String(), "0% (ok)") || strings.Contains(text.String(), "ok  contention_cost") {
		t.Errorf("the text judges a lower bound ok:\n%s", text.String())
	}
	// The brief text says why in the reason's first clause.
	var brief bytes.Buffer
	if err := r.WriteText(&brief); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(brief.String(), "a lower bound: idle time is GOMAXPROCS × window minus the CPU profile's total") ||
		strings.Contains(brief.String(), " ok ") && strings.Contains(brief.String(), "contention cost  at least 2.00%  ok") {
		t.Errorf("the brief text does not say why the cost is a lower bound, or judges it ok:\n%s", brief.String())
	}

	// Above the warn limit, a lower bound is enough to judge, and says so.
	lock.Cost.Value = 0.5
	r = Build(in, lock, gcr, DefaultThresholds())
	cost := findingsWithID(r, FindingContentionCost)
	if len(cost) != 1 || !cost[0].Estimated || !cost[0].LowerBound || cost[0].Severity != SeverityCrit || !strings.Contains(cost[0].Message, "a lower bound: ") {
		t.Errorf("cost finding = %+v, want a crit lower bound that says why", cost)
	}
	pause := findingsWithID(r, FindingGCPauseP99)
	// MemStats.PauseNs holds each cycle's pause: measured, not estimated.
	if len(pause) != 1 || pause[0].Estimated || pause[0].Severity != SeverityCrit {
		t.Errorf("pause finding = %+v, want a measured crit", pause)
	}
	if got := findingsWithID(r, FindingGCCPUFraction); len(got) != 0 {
		t.Errorf("GC CPU fraction judged although MemStats cannot give it: %+v", got)
	}
}

func TestBuildWithoutResults(t *testing.T) {
	r := Build(Input{}, nil, nil, DefaultThresholds())
	if r.Schema != Schema || r.Worst() != SeverityOK || len(r.Findings) != 0 {
		t.Errorf("empty report = %+v", r)
	}
	joined := strings.Join(r.Notes, "\n")
	if !strings.Contains(joined, "mutex collector did not run") || !strings.Contains(joined, "GC collector did not run") {
		t.Errorf("notes do not explain the gaps: %q", r.Notes)
	}
	for _, write := range []func(*bytes.Buffer) error{
		func(b *bytes.Buffer) error { return r.WriteText(b) },
		func(b *bytes.Buffer) error { return r.WriteJSON(b) },
		func(b *bytes.Buffer) error { return r.WriteMarkdown(b) },
		func(b *bytes.Buffer) error { return r.WriteHTML(b) },
	} {
		var b bytes.Buffer
		if err := write(&b); err != nil || b.Len() == 0 {
			t.Errorf("rendering an empty report: %v (%d bytes)", err, b.Len())
		}
	}
}

func TestGoVersionDecidesLegacyAdvice(t *testing.T) {
	for goVersion, wantRule := range map[string]string{
		"go1.23.4": "legacy-syncmap-on-old-go",
		"go1.25.0": "legacy-syncmap-experiment-off",
	} {
		in, lock, gcr := handLegacyGo123(t)
		in.Window.Meta.GoVersion = goVersion
		r := Build(in, lock, gcr, DefaultThresholds())
		if len(r.Recommendations) == 0 {
			t.Fatalf("%s: no recommendation", goVersion)
		}
		rec := r.Recommendations[0]
		if rec.Rule != wantRule || rec.Recommended != StrategySyncMap || rec.Current != StrategySyncMapLegacy {
			t.Errorf("%s: %s %s → %s, want rule %s", goVersion, rec.Rule, rec.Current, rec.Recommended, wantRule)
		}
	}
}

func TestRecommendationSkipsNonMapLocks(t *testing.T) {
	in, lock, gcr := handRWMutexWriteHeavy(t)
	r := Build(in, lock, gcr, DefaultThresholds())
	for _, rec := range r.Recommendations {
		if strings.Contains(rec.Component, "Logger") {
			t.Errorf("a logger's uncontended mutex got map advice: %+v", rec)
		}
	}
	// A contended balanced RWMutex on 2 Ps: the regime rule decides.
	if len(r.Recommendations) != 1 || r.Recommendations[0].Rule != "maplab-regime" {
		t.Errorf("recommendations = %+v, want the cache judged by maplab's regime rows", r.Recommendations)
	}
}

// TestJSONContract checks the fields docs/report-schema.md promises.
func TestJSONContract(t *testing.T) {
	in, lock, gcr := handRWMutexWriteHeavy(t)
	var b bytes.Buffer
	if err := Build(in, lock, gcr, DefaultThresholds()).WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	has := func(obj any, path string, keys ...string) {
		t.Helper()
		m, ok := obj.(map[string]any)
		if !ok {
			t.Fatalf("%s is %T, not an object", path, obj)
		}
		for _, k := range keys {
			if _, ok := m[k]; !ok {
				t.Errorf("%s lacks %q", path, k)
			}
		}
	}
	first := func(key string) any {
		t.Helper()
		arr, ok := doc[key].([]any)
		if !ok || len(arr) == 0 {
			t.Fatalf("%s is empty or not an array", key)
		}
		return arr[0]
	}
	if doc["schema"] != "contendr.report/v1" {
		t.Errorf("schema = %v", doc["schema"])
	}
	has(doc, "report", "schema", "target", "window", "worst", "verdict", "lock", "gc", "map_growth", "findings", "recommendations", "notes")
	has(doc["target"], "target", "source", "go_version", "gomaxprocs", "labels")
	has(doc["window"], "window", "seconds")
	has(doc["lock"], "lock", "cost", "cost_known", "cost_estimated", "cost_detail", "waiters", "fraction", "estimated", "sites", "components", "runtime")
	has(doc["lock"].(map[string]any)["components"].([]any)[0], "lock.components[0]", "name", "cost", "sync_cpu_seconds", "idle_lost_seconds", "fraction", "share")
	has(doc["lock"].(map[string]any)["sites"].([]any)[0], "lock.sites[0]", "component", "function", "kind", "side",
		"delay_seconds_per_second", "contentions_per_second", "share", "fraction")
	has(doc["gc"], "gc", "cpu_fraction", "pause_p99_seconds", "cycles_per_second", "alloc_bytes_per_second")
	has(first("map_growth"), "map_growth[0]", "component", "kind", "bytes_per_second", "share_of_alloc")
	has(first("findings"), "findings[0]", "id", "severity", "value", "threshold", "component", "message")
	has(first("recommendations"), "recommendations[0]", "component", "current", "recommended", "confidence", "reasons", "evidence", "expected_gain")
}

func TestWriteHTMLIsSelfContainedAndEscaped(t *testing.T) {
	in, lock, gcr := handRWMutexWriteHeavy(t)
	evil := `main.(*X<script>alert(1)</script>)`
	lock.Components[0].Name = evil
	lock.Sites[0].Component = evil
	var b bytes.Buffer
	if err := Build(in, lock, gcr, DefaultThresholds()).WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	if strings.Contains(page, "<script>") {
		t.Error("a component name reached the page unescaped")
	}
	if regexp.MustCompile(`(?i)(src|href)\s*=\s*"?(https?:)?//`).MatchString(page) || strings.Contains(page, "<link") {
		t.Error("the page loads something from elsewhere; it must be self-contained")
	}
	for _, want := range []string{"<style>", "CRIT: locks cost 40.0% of the CPU capacity", "rwmutex", "maplab-regime", "holds the lock that"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

func TestAnalyze(t *testing.T) {
	if _, err := Analyze(Input{}, DefaultThresholds()); err == nil {
		t.Error("Analyze without a window succeeded")
	}
	bad := DefaultThresholds()
	bad.LockFraction = Level{Warn: 0.5, Crit: 0.1}
	w := fixtureWindow(t, "go1.26-hashtriemap/rwmutex", "go1.26.8", 30)
	if _, err := Analyze(Input{Window: w}, bad); err == nil {
		t.Error("Analyze accepted warn above crit")
	}
	r, err := Analyze(Input{Window: withMetrics(w, 25, 50, 6, 60), Target: "rw.test:6060"}, DefaultThresholds())
	if err != nil {
		t.Fatal(err)
	}
	if r.Target.Source != "rw.test:6060" || !r.Lock.Known || len(r.Lock.Components) == 0 || r.Lock.Components[0].Name != "main.(*rwStore)" {
		t.Errorf("report = source %q, lock known %v, components %+v", r.Target.Source, r.Lock.Known, r.Lock.Components)
	}
	if r.Worst() != SeverityCrit || len(r.Recommendations) == 0 || r.Recommendations[0].Current != StrategyRWMutex {
		t.Errorf("worst %s, recommendations %+v", r.Worst(), r.Recommendations)
	}
}

func TestReconcileKeepsComponentsWithinTheProcess(t *testing.T) {
	in, lock, gcr := handRWMutexWriteHeavy(t)
	// The profiles say more than the counter: a user-CPU estimate that
	// came out low.
	lock.LockFraction.Value = 0.2
	lock.Components[0].Fraction = 0.6
	r := Build(in, lock, gcr, DefaultThresholds())
	for _, f := range findingsWithID(r, FindingSiteFraction) {
		if f.Value > r.Lock.Fraction {
			t.Errorf("%s = %g exceeds the process-wide %g", f.shortName(), f.Value, r.Lock.Fraction)
		}
	}
	if got, want := r.Lock.Components[0].Fraction, 0.94*0.2; got < want-1e-9 || got > want+1e-9 {
		t.Errorf("component fraction = %g, want share × lock fraction = %g", got, want)
	}
	if !strings.Contains(strings.Join(r.Notes, "\n"), "disagree") {
		t.Errorf("no note explains the reconciliation: %q", r.Notes)
	}
	if lock.Components[0].Fraction != 0.6 {
		t.Error("Build modified the caller's collector result")
	}
}

// TestJSONRoundTripRendersTheSame: a report read back from its JSON (a
// saved report, the web UI) renders exactly like the original.
func TestJSONRoundTripRendersTheSame(t *testing.T) {
	for _, tc := range goldenCases(t) {
		in, lock, gcr := tc.input(t)
		r := Build(in, lock, gcr, DefaultThresholds())
		var js, want, got bytes.Buffer
		if err := r.WriteJSON(&js); err != nil {
			t.Fatal(err)
		}
		var back Report
		if err := json.Unmarshal(js.Bytes(), &back); err != nil {
			t.Fatal(err)
		}
		if err := r.WriteText(&want); err != nil {
			t.Fatal(err)
		}
		if err := back.WriteText(&got); err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Errorf("%s: text from the decoded JSON differs from the original", tc.name)
		}
		if back.Worst() != r.Worst() {
			t.Errorf("%s: Worst() = %s after the round trip, want %s", tc.name, back.Worst(), r.Worst())
		}
	}
}
