package main

import (
	"context"
	"encoding/json"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// Every implementation must be a map: the same operations give the same
// contents as a plain map.
func TestImplementationsBehaveLikeMaps(t *testing.T) {
	for _, impl := range Impls {
		t.Run(string(impl), func(t *testing.T) {
			m := newMap[int, int64](impl)
			want := map[int]int64{}
			rng := rand.New(rand.NewPCG(1, 2))
			for i := range 5000 {
				k := rng.IntN(64)
				switch rng.IntN(4) {
				case 0:
					m.Store(k, int64(i))
					want[k] = int64(i)
				case 1:
					m.Delete(k)
					delete(want, k)
				case 2:
					m.Update(k, func(old int64, loaded bool) int64 {
						if _, ok := want[k]; ok != loaded {
							t.Fatalf("Update(%d): loaded %v, want %v", k, loaded, ok)
						}
						return old + 1
					})
					want[k]++
				case 3:
					got, ok := m.Load(k)
					if w, wok := want[k]; got != w || ok != wok {
						t.Fatalf("Load(%d) = %d, %v; want %d, %v", k, got, ok, w, wok)
					}
				}
			}
			got := map[int]int64{}
			m.Range(func(k int, v int64) bool { got[k] = v; return true })
			if len(got) != len(want) {
				t.Fatalf("Range saw %d entries, want %d", len(got), len(want))
			}
			for k, v := range want {
				if got[k] != v {
					t.Fatalf("Range: key %d = %d, want %d", k, got[k], v)
				}
			}
		})
	}
}

func measured(ops map[Impl]float64) []Throughput {
	var out []Throughput
	for _, impl := range Impls {
		out = append(out, Throughput{Impl: impl, Strategy: strategyOf(impl), Median: ops[impl]})
	}
	return out
}

func TestScore(t *testing.T) {
	ops := measured(map[Impl]float64{
		ImplLocked: 1e6, ImplRW: 2e6, ImplSharded: 4e6, ImplSync: 3.7e6, ImplSnapshot: 1e5, ImplXsync: 3e6,
	})
	for _, tc := range []struct {
		name    string
		current Impl
		advice  Recommendation
		found   bool
		advised Impl
		change  bool
		correct bool
		regret  float64
		miss    string // a substring of the miss reason
	}{
		{name: "best advised", current: ImplLocked, found: true,
			advice: Recommendation{Current: "mutex", Recommended: "sharded", Rule: "r"}, advised: ImplSharded, change: true, correct: true, regret: 1},
		{name: "within 10% of best", current: ImplLocked, found: true,
			advice: Recommendation{Current: "mutex", Recommended: "syncmap", Rule: "r"}, advised: ImplSync, change: true, correct: true, regret: 4 / 3.7},
		{name: "more than 10% below best", current: ImplLocked, found: true,
			advice: Recommendation{Current: "mutex", Recommended: "xsync", Rule: "r", Reasons: []string{"because"}}, advised: ImplXsync, change: true, correct: false, regret: 4.0 / 3, miss: "25% below the best, ShardedMap"},
		{name: "keep a slow current", current: ImplRW, found: true,
			advice: Recommendation{Current: "rwmutex", Recommended: "keep", Rule: "k"}, advised: ImplRW, correct: false, regret: 2, miss: "keep (rule k)"},
		{name: "no advice at all", current: ImplRW, advised: ImplRW, correct: false, regret: 2, miss: "no advice about the map"},
		{name: "no advice, current is best", current: ImplSharded, advised: ImplSharded, correct: true, regret: 1},
		{name: "current misread, advice lands on current", current: ImplRW, found: true,
			advice: Recommendation{Current: "mutex", Recommended: "rwmutex", Rule: "r"}, advised: ImplRW, correct: false, regret: 2},
		{name: "unmeasured strategy", current: ImplLocked, found: true,
			advice: Recommendation{Current: "mutex", Recommended: "btree", Rule: "r"}, advised: ImplLocked, change: true, miss: "does not measure"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := score(ops, tc.current, tc.advice, tc.found)
			if err != nil {
				t.Fatal(err)
			}
			if s.Best != ImplSharded {
				t.Errorf("best = %s, want ShardedMap", s.Best)
			}
			if s.Advised != tc.advised || s.Change != tc.change || s.Correct != tc.correct {
				t.Errorf("advised %s change %v correct %v; want %s %v %v", s.Advised, s.Change, s.Correct, tc.advised, tc.change, tc.correct)
			}
			if math.Abs(s.Regret-tc.regret) > 1e-9 {
				t.Errorf("regret = %v, want %v", s.Regret, tc.regret)
			}
			if s.Correct != (s.Miss == "") || !strings.Contains(s.Miss, tc.miss) {
				t.Errorf("miss = %q, want one containing %q (correct %v)", s.Miss, tc.miss, s.Correct)
			}
		})
	}
	spread := measured(map[Impl]float64{ImplLocked: 1e6, ImplRW: 2e6, ImplSharded: 4e6, ImplSync: 1e6, ImplSnapshot: 1e6, ImplXsync: 1e6})
	for i := range spread {
		for r := range 6 {
			spread[i].Runs = append(spread[i].Runs, spread[i].Median*(1+float64(r)/100))
		}
	}
	if s, _ := score(spread, ImplRW, Recommendation{}, false); !s.Distinct() || strings.Contains(s.Miss, "cannot tell") {
		t.Errorf("2M vs 4M ops/s over 6 runs each: p = %v, miss %q; want them told apart", s.P, s.Miss)
	}
	if s, _ := score(ops, ImplRW, Recommendation{Current: "mutex", Recommended: "keep"}, true); !strings.Contains(s.Identity, "as mutex; it is rwmutex") {
		t.Errorf("identity = %q, want the misread current strategy named", s.Identity)
	}
}

func TestSummarize(t *testing.T) {
	var cases []CaseResult
	for _, c := range []struct {
		current, advised Impl
		ops              map[Impl]float64
	}{
		{ImplLocked, ImplXsync, map[Impl]float64{ImplLocked: 1, ImplRW: 1, ImplSharded: 2, ImplSync: 1, ImplSnapshot: 1, ImplXsync: 2}},
		{ImplRW, ImplRW, map[Impl]float64{ImplLocked: 1, ImplRW: 1, ImplSharded: 1, ImplSync: 1, ImplSnapshot: 4, ImplXsync: 1}},
	} {
		m := measured(c.ops)
		s, err := score(m, c.current, Recommendation{Current: strategyOf(c.current), Recommended: strategyOf(c.advised)}, true)
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases, CaseResult{Current: c.current, Measured: m, Score: s})
	}
	s := summarize(cases)
	if s.Cases != 2 || s.Correct != 1 || s.Accuracy != 0.5 || s.MeanRegret != 2.5 || s.MaxRegret != 4 {
		t.Errorf("summary = %+v; want 1 of 2 correct, mean regret 2.5, worst 4", s)
	}
	constant := map[string]ConstantAdvisor{}
	for _, a := range s.Constant {
		constant[a.Answer] = a
	}
	if a := constant["cow"]; a.Correct != 1 || a.MeanRegret != 1.5 {
		t.Errorf("always cow = %+v, want 1 correct, mean regret 1.5", a)
	}
	if a := constant["no change"]; a.Correct != 0 || a.MeanRegret != 3 {
		t.Errorf("never changing = %+v, want 0 correct, mean regret 3", a)
	}
}

func TestAdviceFor(t *testing.T) {
	r := &Report{Recommendations: []Recommendation{
		{Component: "main.(*XsyncMap[go.shape.string,go.shape.int64])", Recommended: "keep"},
		{Component: "main.(*SyncMap[go.shape.string,go.shape.int64])", Recommended: "xsync"},
	}}
	if rec, ok := adviceFor(r, ImplSync); !ok || rec.Recommended != "xsync" {
		t.Errorf("advice for SyncMap = %+v, %v; want the SyncMap component's, not XsyncMap's", rec, ok)
	}
	if _, ok := adviceFor(r, ImplLocked); ok {
		t.Error("advice for LockedMap found among two other components'")
	}
	one := &Report{Recommendations: []Recommendation{{Component: "main.benchCounters.func1", Recommended: "sharded"}}}
	if rec, ok := adviceFor(one, ImplLocked); !ok || rec.Recommended != "sharded" {
		t.Errorf("the package's only recommendation = %+v, %v; want it taken", rec, ok)
	}
}

// The harness end to end on one case with tiny durations: measured,
// profiled under the agent, analyzed by the contendr CLI built from this
// checkout, scored and written. It checks that a scored case comes out,
// never what the accuracy is.
func TestHarnessEndToEnd(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := t.TempDir()
	cli, err := buildCLI(ctx, dir, cliBuildFlags...)
	if err != nil {
		t.Fatal(err)
	}
	var c Case
	for _, cc := range Cases() {
		if cc.Name() == "counters/p4-none" {
			c = cc
		}
	}
	s := Settings{Rounds: 1, Benchtime: 10 * time.Millisecond, Profile: 300 * time.Millisecond}
	res, err := runCase(ctx, c, s, cli, dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Measured) != len(Impls) {
		t.Fatalf("measured %d implementations, want %d", len(res.Measured), len(Impls))
	}
	best := res.Measured[0]
	for _, m := range res.Measured {
		if m.Median <= 0 || len(m.Runs) != 1 {
			t.Errorf("%s: median %v over %d runs; want a positive rate from one run", m.Impl, m.Median, len(m.Runs))
		}
		if m.Median > best.Median {
			best = m
		}
	}
	sc := res.Score
	if sc.Best != best.Impl {
		t.Errorf("best = %s, want %s", sc.Best, best.Impl)
	}
	advised := opsOf(res.Measured, sc.Advised)
	if sc.Regret < 1 || math.Abs(sc.Regret-best.Median/advised) > 1e-9 || sc.Correct != (advised >= nearBest*best.Median) {
		t.Errorf("score %+v inconsistent with the measured ops/s %+v", sc, res.Measured)
	}
	if res.Advice != nil && res.Advice.Current == "" {
		t.Errorf("advice without a current strategy: %+v", res.Advice)
	}
	if _, err := os.Stat(res.Window); err != nil {
		t.Errorf("the analyzed window was not kept: %v", err)
	}

	results := &Results{Schema: Schema, Machine: machine(time.Now()), Settings: s, Cases: []CaseResult{res}}
	results.Summary = summarize(results.Cases)
	out := filepath.Join(dir, "results")
	if err := results.write(out); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(out, "accuracy.json"))
	if err != nil {
		t.Fatal(err)
	}
	var back Results
	if err := json.Unmarshal(data, &back); err != nil || len(back.Cases) != 1 || back.Summary.Cases != 1 {
		t.Fatalf("accuracy.json does not read back as one scored case: %v %+v", err, back.Summary)
	}
	md, err := os.ReadFile(filepath.Join(out, "accuracy.md"))
	if err != nil || !strings.Contains(string(md), "| counters/p4-none |") {
		t.Errorf("accuracy.md lacks the case's row: %v\n%s", err, md)
	}

	// Re-scoring measures nothing unless -remeasure names the case; then
	// the case is measured anew, with the earlier run's settings.
	for _, tc := range []struct {
		remeasure string
		anew      []string
	}{{"", nil}, {"^counters/", []string{"counters/p4-none"}}} {
		again := filepath.Join(dir, "again"+tc.remeasure)
		args := []string{"-reanalyze", filepath.Join(out, "accuracy.json"), "-contendr", cli, "-out", again}
		if tc.remeasure != "" {
			args = append(args, "-remeasure", tc.remeasure)
		}
		if err := run(ctx, args, io.Discard); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		r, err := readResults(filepath.Join(again, "accuracy.json"))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(r.Remeasured, tc.anew) || len(r.Cases) != 1 || r.Settings != s {
			t.Errorf("-remeasure %q: measured anew %v of %d cases with %+v; want %v, with the earlier settings %+v", tc.remeasure, r.Remeasured, len(r.Cases), r.Settings, tc.anew, s)
		}
		if anew := r.Cases[0].Window != res.Window; anew != (tc.anew != nil) {
			t.Errorf("-remeasure %q: window %s (earlier %s)", tc.remeasure, r.Cases[0].Window, res.Window)
		}
	}
}
