package matrix_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/contendr/contendr/internal/maplab/strategy"
	"github.com/contendr/contendr/internal/maplab/workload"
	"github.com/contendr/contendr/testapps/maplab/matrix"
)

// TestPairwiseRegimesCoverEveryPair holds the sampled design to its claim:
// every pair of levels of any two regime axes occurs in some regime, and
// the original regime is among them.
func TestPairwiseRegimesCoverEveryPair(t *testing.T) {
	regimes := matrix.PairwiseRegimes()
	axes := []func(matrix.Regime) any{
		func(r matrix.Regime) any { return r.GoroutinesPerP },
		func(r matrix.Regime) any { return r.Between },
		func(r matrix.Regime) any { return r.KeyType },
		func(r matrix.Regime) any { return r.ValueSize },
	}
	levels := [][]any{
		{1, 4, 32},
		{workload.BetweenNone, workload.BetweenCPU, workload.BetweenIO},
		{strategy.KeyInt, strategy.KeyString},
		{0, 1024},
	}
	for i := range axes {
		for j := i + 1; j < len(axes); j++ {
			for _, a := range levels[i] {
				for _, b := range levels[j] {
					if !slices.ContainsFunc(regimes, func(r matrix.Regime) bool { return axes[i](r) == a && axes[j](r) == b }) {
						t.Errorf("no regime has axis %d = %v and axis %d = %v", i, a, j, b)
					}
				}
			}
		}
	}
	base := matrix.Regime{GoroutinesPerP: 32, Between: workload.BetweenNone, KeyType: strategy.KeyInt}
	if !slices.Contains(regimes, base) {
		t.Errorf("the original regime %s is not in the design", base.Name())
	}
	for _, r := range regimes {
		got, err := matrix.ParseRegimes(r.Name())
		if err != nil || len(got) != 1 || got[0] != r {
			t.Errorf("matrix.ParseRegimes(%q) = %v, %v", r.Name(), got, err)
		}
	}
	if _, err := matrix.ParseRegimes("g0-cpu-int-v0"); err == nil {
		t.Error("ParseRegimes accepted zero goroutines per P")
	}
}

// TestMerge joins two runs of one matrix: rounds renumbered, runs kept,
// the summary over both.
func TestMerge(t *testing.T) {
	part := func(ops float64) *matrix.Results {
		r := &matrix.Results{Strategies: []string{"mutex", "xsync"}, Workloads: []workload.Spec{{Name: "balanced"}}, Meta: matrix.Meta{Repeat: 1, Command: "run"}}
		for _, s := range r.Strategies {
			r.Runs = append(r.Runs, matrix.RunResult{Step: matrix.Step{Round: 0, Workload: "balanced", Strategy: s}, OpsPerSec: ops})
		}
		r.Runs[1].OpsPerSec *= 2 // xsync twice mutex
		return r
	}
	m, err := matrix.Merge(part(1), part(3))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Runs) != 4 || m.Runs[2].Round != 1 || m.Meta.Repeat != 2 || m.Best["balanced"] != "xsync" {
		t.Errorf("merged %+v", m)
	}
	if c, ok := m.Cell("balanced", "xsync"); !ok || c.Median != 4 {
		t.Errorf("xsync cell %+v, want the median of 2 and 6", c)
	}
	other := part(1)
	other.Workloads[0].Name = "churn"
	if _, err := matrix.Merge(part(1), other); err == nil {
		t.Error("merging different workloads: want an error")
	}

	// A part that re-ran one workload of two adds runs to its cells only.
	two := part(1)
	two.Workloads = append(two.Workloads, workload.Spec{Name: "churn"})
	for _, s := range two.Strategies {
		two.Runs = append(two.Runs, matrix.RunResult{Step: matrix.Step{Round: 0, Workload: "churn", Strategy: s}, OpsPerSec: 5})
	}
	again := part(3)
	again.Meta.RunSeconds, again.Meta.Command = 1, "again"
	m, err = matrix.Merge(two, again)
	if err != nil {
		t.Fatal(err)
	}
	if c, ok := m.Cell("balanced", "xsync"); !ok || c.Median != 4 || len(c.Runs) != 2 {
		t.Errorf("re-measured cell %+v, want 2 runs, median 4", c)
	}
	if c, ok := m.Cell("churn", "xsync"); !ok || len(c.Runs) != 1 {
		t.Errorf("cell not re-measured %+v, want its 1 run", c)
	}
	if m.Meta.Repeat != 1 || !slices.Equal(m.Meta.Remeasured, []string{"balanced"}) || m.Meta.RemeasuredSeconds != 1 || m.Meta.RemeasuredRepeat != 1 {
		t.Errorf("meta %+v, want repeat 1 and balanced re-measured once with 1s runs", m.Meta)
	}
	var md strings.Builder
	if err := m.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md.String(), "the cells of 1 workloads (balanced) also hold 1 later runs of 1s") {
		t.Errorf("the table's header does not say which cells hold more runs:\n%s", md.String()[:min(md.Len(), 600)])
	}
	extra := part(1)
	extra.Workloads[0].Name = "nowhere"
	if _, err := matrix.Merge(two, extra); err == nil {
		t.Error("a part with a workload the first lacks: want an error")
	}
}

func TestReplace(t *testing.T) {
	row := func(name string, ops ...float64) []matrix.RunResult {
		var runs []matrix.RunResult
		for i, s := range []string{"mutex", "xsync"} {
			runs = append(runs, matrix.RunResult{Step: matrix.Step{Workload: name, Strategy: s}, OpsPerSec: ops[i]})
		}
		return runs
	}
	base := &matrix.Results{Strategies: []string{"mutex", "xsync"}, Workloads: []workload.Spec{{Name: "balanced"}, {Name: "churn"}},
		Meta: matrix.Meta{Repeat: 1, Command: "base"}}
	base.Runs = append(row("balanced", 1, 2), row("churn", 5, 1)...)
	part := &matrix.Results{Strategies: base.Strategies, Workloads: []workload.Spec{{Name: "churn"}}, Meta: matrix.Meta{Repeat: 1, Command: "again"}}
	part.Runs = row("churn", 1, 7)

	m, err := matrix.Replace(base, part)
	if err != nil {
		t.Fatal(err)
	}
	// The replaced row holds the part's runs only; the other keeps its own.
	if c, ok := m.Cell("churn", "xsync"); !ok || len(c.Runs) != 1 || c.Median != 7 || m.Best["churn"] != "xsync" {
		t.Errorf("replaced cell %+v, best %q: want the part's one run, 7, and xsync best", c, m.Best["churn"])
	}
	if c, ok := m.Cell("balanced", "xsync"); !ok || len(c.Runs) != 1 || c.Median != 2 {
		t.Errorf("untouched cell %+v, want its own run", c)
	}
	if !slices.Equal(m.Meta.Replaced, []string{"churn"}) || m.Meta.ReplacedBy != "again" || len(base.Runs) != 4 {
		t.Errorf("meta %+v (base runs %d): want churn replaced by `again`, the base untouched", m.Meta, len(base.Runs))
	}
	var md strings.Builder
	if err := m.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md.String(), "the runs of 1 workloads (churn) are those of a later run, `again`") {
		t.Errorf("the table's header does not say which rows were replaced:\n%s", md.String()[:min(md.Len(), 600)])
	}
	// A row the base lacks is added, its runs the part's.
	part.Workloads = append(part.Workloads, workload.Spec{Name: "hotkey"})
	part.Runs = append(part.Runs, row("hotkey", 3, 1)...)
	m, err = matrix.Replace(base, part)
	if err != nil {
		t.Fatal(err)
	}
	if c, ok := m.Cell("hotkey", "mutex"); !ok || c.Median != 3 || m.Best["hotkey"] != "mutex" || len(m.Workloads) != 3 || len(base.Workloads) != 2 {
		t.Errorf("added cell %+v, best %q, %d workloads (base %d): want the part's run, mutex best, 3 rows, the base untouched", c, m.Best["hotkey"], len(m.Workloads), len(base.Workloads))
	}
	if !slices.Equal(m.Meta.Replaced, []string{"churn"}) || !slices.Equal(m.Meta.Added, []string{"hotkey"}) || !strings.Contains(m.Meta.Run(), "1 rows replaced by `again`; 1 rows added by `again`") {
		t.Errorf("meta %+v (%s): want churn replaced and hotkey added", m.Meta, m.Meta.Run())
	}
	// A base that is itself a replacement keeps the provenance of its rows:
	// a third run that only adds a row leaves "replaced by" alone.
	third := &matrix.Results{Strategies: base.Strategies, Workloads: []workload.Spec{{Name: "range"}}, Meta: matrix.Meta{Repeat: 1, Command: "third"}}
	third.Runs = row("range", 1, 1)
	again, err := matrix.Replace(m, third)
	if err != nil {
		t.Fatal(err)
	}
	if again.Meta.ReplacedBy != "again" || again.Meta.AddedBy != "again` and `third" || !slices.Equal(again.Meta.Added, []string{"hotkey", "range"}) || len(m.Meta.Added) != 1 {
		t.Errorf("meta %+v: want churn still replaced by `again`, hotkey and range added by `again` and `third`, the base's list untouched", again.Meta)
	}
	part.Strategies = []string{"mutex"}
	if _, err := matrix.Replace(base, part); err == nil {
		t.Error("a part with other strategies: want an error")
	}
}
