package window

import (
	"bytes"
	"regexp"
	"slices"
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

// checkDeltaMatchesMerge compares Delta with mergeDelta and returns it.
func checkDeltaMatchesMerge(t *testing.T, start, end *profile.Profile) *profile.Profile {
	t.Helper()
	want, wantRestart := mergeDelta(t, start, end)
	got, restarted, err := Delta(start, end)
	if err != nil || restarted || wantRestart {
		t.Fatalf("Delta: restarted %v (merge: %v), %v", restarted, wantRestart, err)
	}
	if err := got.CheckValid(); err != nil {
		t.Fatal(err)
	}
	if g, w := canonical(got), canonical(want); g != w {
		t.Errorf("Delta differs from Merge's delta:\n%s", firstDiffLines(w, g))
	}
	return got
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
			checkDeltaMatchesMerge(t, start, end)
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

// DeltaWith's InUseAtEnd is Delta from a baseline whose in-use values were
// zeroed, which is how the agent computed it before.
func TestDeltaInUseAtEndMatchesZeroedBaseline(t *testing.T) {
	end := profilegen.MustGenerate(profilegen.Options{Kind: profilegen.Allocs, Stacks: 2000, Seed: 5})
	start := profilegen.Earlier(end, 0.3, 6)
	zeroed := start.Copy()
	for _, s := range zeroed.Sample {
		s.Value[2], s.Value[3] = 0, 0
	}
	want, _, err := Delta(zeroed, end)
	if err != nil {
		t.Fatal(err)
	}
	got, restarted, err := DeltaWith(start, end, DeltaOptions{InUseAtEnd: true})
	if err != nil || restarted {
		t.Fatalf("DeltaWith: restarted %v, %v", restarted, err)
	}
	if g, w := canonical(got), canonical(want); g != w {
		t.Errorf("InUseAtEnd differs from a zeroed baseline:\n%s", firstDiffLines(w, g))
	}
}

// DeltaWith's Drop is the delta filtered with FilterSamplesByName's ignore
// and compacted, as the agent filtered its own waits before; after a
// restart, and without a start, it is a filtered copy of end.
func TestDeltaDropMatchesFilter(t *testing.T) {
	end := profilegen.MustGenerate(profilegen.Options{Kind: profilegen.Block, Stacks: 2000, Seed: 7})
	// A seventh of the stacks pass through a function to drop: in a frame
	// of its own, or inlined under another.
	agentFn := &profile.Function{ID: uint64(len(end.Function) + 1), Name: "example.com/agent.(*Agent).loop"}
	end.Function = append(end.Function, agentFn)
	for i, s := range end.Sample {
		if i%7 != 0 {
			continue
		}
		at := len(s.Location) / 2
		old := s.Location[at]
		loc := &profile.Location{ID: uint64(len(end.Location) + 1), Mapping: old.Mapping, Address: old.Address + 1,
			Line: []profile.Line{{Function: agentFn, Line: 7}}}
		if i%2 == 0 {
			loc.Line = append(loc.Line, old.Line...)
		}
		end.Location = append(end.Location, loc)
		s.Location = append(slices.Clone(s.Location[:at]), append([]*profile.Location{loc}, s.Location[at+1:]...)...)
	}
	ignore := regexp.MustCompile(`^example\.com/agent\.`)
	drop := func(fn string) bool { return ignore.MatchString(fn) }
	filtered := func(p *profile.Profile) string {
		p = p.Copy()
		if _, ignored, _, _ := p.FilterSamplesByName(nil, ignore, nil, nil); !ignored {
			t.Fatal("nothing to drop: the test profile is wrong")
		}
		return p.Compact().String()
	}
	start := profilegen.Earlier(end, 0.5, 8)
	plain, _, err := Delta(start, end)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		start *profile.Profile
		want  string
	}{
		{"delta", start, filtered(plain)},
		{"no start", nil, filtered(end)},
	} {
		got, _, err := DeltaWith(c.start, end, DeltaOptions{Drop: drop})
		if err != nil {
			t.Fatal(err)
		}
		if g := canonical(got); g != c.want {
			t.Errorf("%s: Drop differs from FilterSamplesByName+Compact:\n%s", c.name, firstDiffLines(c.want, g))
		}
	}
	down := end.Copy()
	down.Sample[1].Value[1] -= 1
	got, restarted, err := DeltaWith(end, down, DeltaOptions{Drop: drop})
	if err != nil || !restarted {
		t.Fatalf("a counter went down: restarted %v, %v", restarted, err)
	}
	if g, w := canonical(got), filtered(down); g != w {
		t.Errorf("after a restart: Drop differs from filtering end:\n%s", firstDiffLines(w, g))
	}
	if got == down {
		t.Error("after a restart with Drop, DeltaWith returned end itself, not a filtered copy")
	}
}

// canonical prints p with its locations, functions and mappings numbered
// in order of first use (Compact), as Merge numbers them: a delta that
// shares end's structs keeps end's IDs, which say nothing about the delta.
func canonical(p *profile.Profile) string { return p.Compact().String() }

// A stack only the start holds, with in-use memory since freed, stays in
// the delta (in-use values are subtracted without InUseAtEnd): the delta
// then copies its stacks instead of sharing end's, and still agrees with
// Merge's.
func TestDeltaStartOnlyStackMatchesMerge(t *testing.T) {
	end := profilegen.MustGenerate(profilegen.Options{Kind: profilegen.Allocs, Stacks: 1000, Seed: 12})
	start := profilegen.Earlier(end, 0.3, 13)
	gone := start.Sample[5]
	start.Sample = append(start.Sample, &profile.Sample{Location: gone.Location[1:], Value: []int64{0, 0, 3, 3072}})
	got := checkDeltaMatchesMerge(t, start, end)
	if got.Location[0] == end.Location[0] {
		t.Error("the delta shares end's locations though one of its stacks is only in start")
	}
}

// A delta shares end's locations; it shares end's samples' location lists
// (one array in a parsed profile) only when it keeps most of them, so that
// a window keeping a tenth of a busy profile's stacks does not keep all of
// them alive.
func TestDeltaSharesEndStacksWhenItKeepsMost(t *testing.T) {
	end, err := ParseProfile(encodeForTest(t, profilegen.MustGenerate(profilegen.Options{Kind: profilegen.Mutex, Stacks: 1000, Seed: 14})), 0)
	if err != nil {
		t.Fatal(err)
	}
	lists := map[**profile.Location]bool{}
	locations := map[*profile.Location]bool{}
	for _, s := range end.Sample {
		lists[&s.Location[0]] = true
	}
	for _, l := range end.Location {
		locations[l] = true
	}
	for _, c := range []struct {
		changed     float64
		sharesLists bool
	}{{0.1, false}, {1, true}} {
		start, err := ParseProfile(encodeForTest(t, profilegen.Earlier(end, c.changed, 15)), 0)
		if err != nil {
			t.Fatal(err)
		}
		delta, _, err := Delta(start, end)
		if err != nil {
			t.Fatal(err)
		}
		shared := 0
		for _, s := range delta.Sample {
			if lists[&s.Location[0]] {
				shared++
			}
			if !locations[s.Location[0]] {
				t.Fatalf("changed %.1f: the delta copied a location of end", c.changed)
			}
		}
		if got := shared == len(delta.Sample); got != c.sharesLists || (!c.sharesLists && shared > 0) {
			t.Errorf("changed %.1f: %d of %d samples share end's location lists, want all: %v", c.changed, shared, len(delta.Sample), c.sharesLists)
		}
	}
}

func encodeForTest(t *testing.T, p *profile.Profile) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := p.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
