package window

import (
	"strconv"
	"strings"
	"testing"

	"github.com/google/pprof/profile"

	"github.com/contendr/contendr/internal/profilegen"
)

// mergeDelta is Delta as it was computed before subtract: pprof's Merge of
// end and start scaled by −1, then Compact. subtract must agree with it.
func mergeDelta(t *testing.T, start, end *profile.Profile) (*profile.Profile, bool) {
	t.Helper()
	cumulative := cumulativeValues(end)
	neg := start.Copy()
	neg.Scale(-1)
	merged, err := profile.Merge([]*profile.Profile{end.Copy(), neg})
	if err != nil {
		t.Fatal(err)
	}
	kept := merged.Sample[:0]
	for _, s := range merged.Sample {
		zero := true
		for i, v := range s.Value {
			if v < 0 && cumulative[i] {
				return end, true
			}
			if v != 0 {
				zero = false
			}
		}
		if !zero {
			kept = append(kept, s)
		}
	}
	merged.Sample = kept
	merged.TimeNanos = end.TimeNanos
	merged.DurationNanos = end.TimeNanos - start.TimeNanos
	return merged.Compact(), false
}

func TestDeltaMatchesMerge(t *testing.T) {
	for _, kind := range []profilegen.Kind{profilegen.Mutex, profilegen.Block, profilegen.Allocs} {
		t.Run(string(kind), func(t *testing.T) {
			end := profilegen.MustGenerate(profilegen.Options{Kind: kind, Stacks: 3000, Seed: 11})
			// Labels and a duplicated stack, which Merge sums.
			end.Sample[0].Label = map[string][]string{"handler": {"/cart"}}
			end.Sample[1].NumLabel = map[string][]int64{"bytes": {512}}
			end.Sample = append(end.Sample, &profile.Sample{Location: end.Sample[2].Location, Value: append([]int64(nil), end.Sample[2].Value...)})
			start := profilegen.Earlier(end, 0.3, 4)
			if kind == profilegen.Allocs {
				// As the agent's baseline: in-use values zeroed.
				for _, s := range start.Sample {
					s.Value[2], s.Value[3] = 0, 0
				}
			}
			want, wantRestart := mergeDelta(t, start, end)
			got, restarted, err := Delta(start, end)
			if err != nil || restarted || wantRestart {
				t.Fatalf("Delta: restarted %v (merge: %v), %v", restarted, wantRestart, err)
			}
			if err := got.CheckValid(); err != nil {
				t.Fatal(err)
			}
			if g, w := got.String(), want.String(); g != w {
				t.Errorf("Delta differs from Merge's delta:\n%s", firstDiffLines(w, g))
			}
		})
	}
}

func TestDeltaRestartMatchesMerge(t *testing.T) {
	end := profilegen.MustGenerate(profilegen.Options{Kind: profilegen.Mutex, Stacks: 500, Seed: 1})
	start := end.Copy()
	start.Sample[7].Value[1] += 10                                                                                     // one stack went down
	start.Sample = append(start.Sample, &profile.Sample{Location: start.Sample[3].Location[1:], Value: []int64{1, 1}}) // and one vanished
	if _, restarted, _ := Delta(start, end); !restarted {
		t.Error("a stack that went down: no restart")
	}
	if _, wantRestart := mergeDelta(t, start, end); !wantRestart {
		t.Error("merge disagrees")
	}
}

func firstDiffLines(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := range min(len(w), len(g)) {
		if w[i] != g[i] {
			return "line " + itoa(i) + ":\nwant " + w[i] + "\ngot  " + g[i]
		}
	}
	return "lengths differ: want " + itoa(len(w)) + " lines, got " + itoa(len(g))
}

func itoa(i int) string { return strconv.Itoa(i) }
