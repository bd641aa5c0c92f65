package verify

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/contendr/contendr/analyze"
	"github.com/contendr/contendr/internal/maplab/replay"
	"github.com/contendr/contendr/internal/maplab/workload"
)

// golden is a report written by analyze (a copy of a golden of its tests,
// frozen so that rule changes do not change what verify is tested on):
// rwmutex → xsync on a
// balanced mix with map growth, 512 goroutines on 2 Ps.
const golden = "testdata/rwmutex-to-xsync.json"

func TestSpecFor(t *testing.T) {
	maplabLike := analyze.Recommendation{Workload: analyze.Workload{
		ReadShare: 0.1136, ReadShareSource: "cpu-profile", Mix: "write-heavy",
		GrowthKinds: []string{"gomap-grow"}, Goroutines: 70, GOMAXPROCS: 2,
	}}
	spec, assumed := SpecFor(maplabLike, 2)
	if spec.Name != "write-heavy" || spec.Reads != 0.1136 || spec.Goroutines != 64 || spec.Keys != DefaultKeys || spec.RangeEvery != 0 {
		t.Errorf("maplab write-heavy window replays as %s", spec)
	}
	// Growth means new keys: inserts and deletes take maplab
	// write-heavy's share of the writes (20% each of its 90%).
	if d := spec.Inserts - 0.5*(1-0.1136)*4/9; d > 1e-9 || d < -1e-9 || spec.Inserts != spec.Deletes {
		t.Errorf("inserts %g, deletes %g", spec.Inserts, spec.Deletes)
	}
	if err := spec.Validate(); err != nil {
		t.Error(err)
	}
	if !anyContains(assumed, "32 goroutines per P") || !anyContains(assumed, "int keys") {
		t.Errorf("assumptions %q: want the goroutine cap and the key count stated", assumed)
	}

	unknown, assumed := SpecFor(analyze.Recommendation{Workload: analyze.Workload{Mix: "unknown", Range: true, GrowthKinds: []string{"cow-clone"}}}, 8)
	if unknown.Reads != DefaultReads || unknown.RangeEvery == 0 || unknown.Inserts != 0 || unknown.Goroutines != 8*MaxGoroutinesPerP {
		t.Errorf("an unmeasured window replays as %s", unknown)
	}
	if !anyContains(assumed, "did not measure the read/write mix") || !anyContains(assumed, "did not count goroutines") {
		t.Errorf("assumptions %q: want the defaulted mix and goroutines stated", assumed)
	}

	few, _ := SpecFor(analyze.Recommendation{Workload: analyze.Workload{ReadShare: 0.9, ReadShareSource: "cpu-profile", Goroutines: 8, GOMAXPROCS: 4}}, 2)
	if few.Goroutines != 4 {
		t.Errorf("2 goroutines per P on 2 Ps replays %d goroutines, want 4", few.Goroutines)
	}

	// The regime class analyze placed the window in wins over the raw
	// goroutine count (most of a service's goroutines are parked), and a
	// measured delete share over the growth default.
	service := analyze.Recommendation{Workload: analyze.Workload{
		ReadShare: 0.6, ReadShareSource: "cpu-profile", DeleteShare: 0.1, GrowthKinds: []string{"gomap-grow"},
		Goroutines: 900, GOMAXPROCS: 2, RegimeClass: "g4-io",
	}}
	spec, assumed = SpecFor(service, 8)
	if spec.Resolve(8).Goroutines != 32 || spec.GoroutinesPerP != 4 || spec.Between != workload.BetweenIO || spec.Deletes != 0.1 || spec.Inserts != 0.1 {
		t.Errorf("a g4-io window with 10%% deletes replays as %s (between %q)", spec, spec.Between)
	}
	if err := spec.Validate(); err != nil {
		t.Error(err)
	}
	if !anyContains(assumed, "(g4-io)") || anyContains(assumed, "900") {
		t.Errorf("assumptions %q: want the regime class named, not the goroutine count", assumed)
	}
	if _, _, ok := parseRegimeClass("g4-sleepy"); ok {
		t.Error(`parseRegimeClass("g4-sleepy") is ok`)
	}
}

func anyContains(xs []string, sub string) bool {
	for _, x := range xs {
		if strings.Contains(x, sub) {
			return true
		}
	}
	return false
}

func TestReadReport(t *testing.T) {
	rep, err := ReadReport(golden)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Recommendations) == 0 || rep.Recommendations[0].Recommended != analyze.StrategyXsync {
		t.Fatalf("read %+v", rep.Recommendations)
	}
	good, _ := os.ReadFile(golden)
	dir := t.TempDir()
	for _, tt := range []struct {
		name, content, want string
	}{
		{"empty.json", "  \n", "empty file"},
		{"truncated.json", string(good[:len(good)/2]), "ends early"},
		{"garbage.json", "{\"schema\": nope}", "not valid JSON at byte"},
		{"array.json", "[" + string(good) + "," + string(good) + "]", "holds 2 reports"},
		{"other.json", `{"name": "x"}`, `no "schema" field`},
		{"v2.json", `{"schema": "contendr.report/v2"}`, "does not read"},
		{"foreign.json", `{"schema": "acme/v1"}`, `schema "acme/v1", not a contendr report`},
		{"bare-verify.json", `{"schema": "contendr.verify/v1", "report": null}`, "without its report"},
		{"wrong-types.json", `{"schema": "contendr.report/v1", "recommendations": 3}`, "do not decode"},
	} {
		path := filepath.Join(dir, tt.name)
		os.WriteFile(path, []byte(tt.content), 0o644)
		if _, err := ReadReport(path); err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), tt.name) {
			t.Errorf("%s: got %v, want an error naming the file and saying %q", tt.name, err, tt.want)
		}
	}
	if _, err := ReadReport(filepath.Join(dir, "missing.json")); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a missing file: %v", err)
	}
	// A verify result reads as the report inside it.
	wrapped := filepath.Join(dir, "verified.json")
	os.WriteFile(wrapped, []byte(`{"schema": "contendr.verify/v1", "report": `+string(good)+`}`), 0o644)
	if rep, err := ReadReport(wrapped); err != nil || len(rep.Recommendations) == 0 {
		t.Errorf("a verify result: %v", err)
	}
	if !IsJSONFile(golden) || IsJSONFile(dir) || IsJSONFile("../analyze/testdata") {
		t.Error("IsJSONFile must tell a report file from a directory")
	}
}

func TestNothingToVerify(t *testing.T) {
	for _, tt := range []struct {
		name string
		recs []analyze.Recommendation
		want string
	}{
		{"no recommendations", nil, "no recommendations"},
		{"keep only", []analyze.Recommendation{{Component: "main.(*S)", Current: analyze.StrategyMutex, Recommended: analyze.StrategyKeep}}, "keep mutex"},
		{"unknown current", []analyze.Recommendation{{Component: "main.(*S)", Current: analyze.StrategyUnknown, Recommended: analyze.StrategyXsync}}, "current strategy is unknown"},
	} {
		_, err := Verify(context.Background(), &analyze.Report{Recommendations: tt.recs}, "r.json", Options{})
		if !errors.Is(err, ErrNothingToVerify) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: got %v, want ErrNothingToVerify saying %q", tt.name, err, tt.want)
		}
	}
}

func TestOptionErrors(t *testing.T) {
	rep, err := ReadReport(golden)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		opts Options
		want string
	}{
		{Options{Budget: time.Second}, "a run needs at least"},
		{Options{Repeat: -1}, "repeat -1"},
		{Options{Extra: []string{"btree"}}, `strategy "btree"`},
		{Options{Alpha: 2}, "alpha 2"},
	} {
		if _, err := Verify(context.Background(), rep, golden, tt.opts); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: got %v, want %q", tt.opts, err, tt.want)
		}
	}
	if got, err := ParseStrategies([]string{"syncmap-legacy", " xsync", "legacy"}); err != nil || strings.Join(got, ",") != "legacy,xsync" {
		t.Errorf("ParseStrategies: %v, %v", got, err)
	}
	if got, _ := ParseStrategies([]string{"all"}); len(got) < 7 {
		t.Errorf("all: %v", got)
	}
}

// TestVerifyAttaches replays a report briefly — one run a side, too few to
// decide — and checks what the result and the report inside it say.
func TestVerifyAttaches(t *testing.T) {
	rep, err := ReadReport(golden)
	if err != nil {
		t.Fatal(err)
	}
	before := rep.Recommendations[0].ExpectedGain
	var runs int
	res, err := Verify(context.Background(), rep, golden, Options{Budget: 3 * replay.MinRunDuration, Repeat: 1, Extra: []string{"sharded"},
		Progress: func(string, replay.Progress) { runs++ }})
	if err != nil {
		t.Fatal(err)
	}
	if runs != 3 || len(res.Components) != 1 || res.Schema != Schema {
		t.Fatalf("%d runs, %d components, schema %q", runs, len(res.Components), res.Schema)
	}
	c := res.Components[0]
	if c.Current != analyze.StrategyRWMutex || c.Recommended != analyze.StrategyXsync || len(c.Strategies) != 3 || c.Strategies[2].Strategy != "sharded" {
		t.Errorf("component %s %s → %s over %d strategies", c.Component, c.Current, c.Recommended, len(c.Strategies))
	}
	if c.Verdict != replay.CannotTell || c.Need == "" {
		t.Errorf("one run a side: verdict %s (%s), want cannot-tell with what to add", c.Verdict, c.Reason)
	}
	got := res.Report.Recommendations[0]
	if got.GainSource.Kind != analyze.GainFromVerify || got.Measured == nil || got.Measured.Verdict != string(replay.CannotTell) ||
		!strings.HasPrefix(got.ExpectedGain, "measured on "+res.Machine.String()) || !strings.HasSuffix(got.ExpectedGain, before) {
		t.Errorf("the report's gain: %+v, %q", got.GainSource, got.ExpectedGain)
	}
	if rep.Recommendations[0].Measured != nil {
		t.Error("Verify changed the report it was given")
	}
	var text strings.Builder
	if err := res.WriteText(&text); err != nil || !strings.Contains(text.String(), "CANNOT TELL") || !strings.Contains(text.String(), "rwmutex (current)") {
		t.Errorf("text: %v\n%s", err, text.String())
	}
}

func TestJudgeKeep(t *testing.T) {
	m := func(name string, ops ...float64) replay.Measured {
		out := replay.Measured{Strategy: name, OpsPerSec: replay.Summarize(ops), RunQueueShare: 0.02}
		for i, v := range ops {
			out.Runs = append(out.Runs, replay.RunResult{Round: i + 1, OpsPerSec: v})
		}
		return out
	}
	mutex := m("mutex", 100, 101, 99, 100, 102, 98)
	slower := m("cow", 1, 1.1, 0.9, 1, 1.05, 0.95)
	faster := m("xsync", 300, 301, 299, 300, 302, 298)
	wide := m("sharded", 40, 200, 90, 160, 110, 130)
	for _, tt := range []struct {
		name   string
		others []replay.Measured
		want   replay.Verdict
		vs     string
	}{
		{"none faster", []replay.Measured{slower}, replay.Confirmed, "cow"},
		{"one faster", []replay.Measured{slower, wide, faster}, replay.Refuted, "xsync"},
		{"one undecided", []replay.Measured{slower, wide}, replay.CannotTell, "sharded"},
	} {
		r := &replay.Result{Measured: append([]replay.Measured{mutex}, tt.others...)}
		var names []string
		for _, o := range tt.others {
			names = append(names, o.Strategy)
		}
		cmp, j := judgeKeep(r, r.Of("mutex"), names, Options{}.withDefaults())
		if j.Verdict != tt.want || cmp.Candidate != tt.vs || cmp.Baseline != "mutex" {
			t.Errorf("%s: %s against %s (%s), want %s against %s", tt.name, j.Verdict, cmp.Candidate, j.Reason, tt.want, tt.vs)
		}
	}
}

func TestOldSyncMap(t *testing.T) {
	for v, want := range map[string]bool{"go1.23.4": true, "go1.26.8": false, "go1.24": false, "devel go1.22-abc Tue": true, "": false, "unknown": false} {
		if got := oldSyncMap(v); got != want {
			t.Errorf("oldSyncMap(%q) = %v, want %v", v, got, want)
		}
	}
}
