package agent

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/pprof/profile"

	"github.com/contendr/contendr/window"
)

// readBothWays reads the cumulative profiles the agent's way (records,
// deep or exported) and runtime/pprof's way (WriteTo, parsed) at one
// instant: with the GC off, so that the allocs profile does not move
// between the two, and contention events are only the test's own.
func readBothWays(t *testing.T, a *Agent, public bool) (map[window.ProfileKind]*reading, map[window.ProfileKind]*profile.Profile) {
	t.Helper()
	runtime.GC() // publishes the allocations so far in the allocs profile
	runtime.GC()
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	readings := map[window.ProfileKind]*reading{}
	written := map[window.ProfileKind]*profile.Profile{}
	for _, kind := range cumulativeKinds {
		p, err := readProfile(kind)
		if err != nil {
			t.Fatal(err)
		}
		written[kind] = p
		if public {
			readings[kind] = newReading(kind, time.Now(), a.records.readPublic(kind), true)
		} else if readings[kind], err = a.readCumulative(kind, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	return readings, written
}

// pprofDeltaOf is a window's profile as the agent computed it before it
// read the runtime's records: window.DeltaWith of two WriteTo readings.
func pprofDeltaOf(t *testing.T, kind window.ProfileKind, start, end *profile.Profile) *profile.Profile {
	t.Helper()
	opts := window.DeltaOptions{Drop: agentWaits.MatchString}
	if kind == window.Allocs {
		opts = window.DeltaOptions{InUseAtEnd: true}
	}
	delta, restarted, err := window.DeltaWith(start, end, opts)
	if err != nil || restarted {
		t.Fatalf("%s: DeltaWith: restarted %v, %v", kind, restarted, err)
	}
	return delta
}

// stackValues sums a profile's values by stack, spelled out location by
// location (address, then each line's function and line number) with the
// sample's labels.
func stackValues(p *profile.Profile) map[string]stackStat {
	out := map[string]stackStat{}
	var b strings.Builder
	for _, s := range p.Sample {
		b.Reset()
		fmt.Fprint(&b, s.Label, s.NumLabel, s.NumUnit)
		for _, l := range s.Location {
			fmt.Fprintf(&b, "\n%#x", l.Address)
			for _, ln := range l.Line {
				fmt.Fprintf(&b, " %s:%d", ln.Function.Name, ln.Line)
			}
		}
		st := out[b.String()]
		if st.v == nil {
			st.v = make([]int64, len(s.Value))
		}
		for i := range s.Value {
			st.v[i] += s.Value[i]
		}
		out[b.String()] = st
	}
	return out
}

type stackStat struct{ v []int64 }

// generated keeps the stacks of stackGen's leaves.
func generated(stacks map[string]stackStat) map[string]stackStat {
	for k := range stacks {
		if !strings.Contains(k, "agent.genLeaf") {
			delete(stacks, k)
		}
	}
	return stacks
}

func functionFiles(p *profile.Profile) map[string]string {
	out := map[string]string{}
	for _, f := range p.Function {
		out[f.Name] = fmt.Sprintf("%s:%d %s", f.Filename, f.StartLine, f.SystemName)
	}
	return out
}

func valueTypes(p *profile.Profile) string {
	var b strings.Builder
	for _, st := range p.SampleType {
		fmt.Fprintf(&b, "%s/%s ", st.Type, st.Unit)
	}
	fmt.Fprintf(&b, "period %d %s/%s default %q", p.Period, p.PeriodType.Type, p.PeriodType.Unit, p.DefaultSampleType)
	return b.String()
}

// TestRecordDeltaMatchesWrittenProfiles makes contention, blocking and
// allocation at distinct stacks of this process (some deeper than the 32
// frames of the runtime's exported records, one in the agent's own sleep)
// and holds the window's profiles the agent builds from the runtime's
// records to what runtime/pprof writes for the same records, subtracted
// by window.DeltaWith: the same stacks (locations, lines, functions), the
// same values, sample types and period. The window follows one whose
// stacks the symbolizer cached (with a bound of one PC, the cache starts
// over between them).
func TestRecordDeltaMatchesWrittenProfiles(t *testing.T) {
	for _, c := range []struct {
		public bool
		maxPCs int // 1: a new cache generation for every profile
	}{{false, 0}, {true, 0}, {false, 1}} {
		public := c.public
		t.Run(fmt.Sprintf("exported=%v/maxPCs=%d", c.public, c.maxPCs), func(t *testing.T) {
			profilingAtFullRate(t, 64)
			a := &Agent{}
			for _, kind := range cumulativeKinds {
				a.symbolizer(kind).maxPCs = c.maxPCs
			}
			shallow, deep := stackGen{depth: 6}, stackGen{depth: 6, extra: 40}
			shallow.run(0, 64, 16)
			firstR, _ := readBothWays(t, a, public)
			shallow.run(0, 32, 16)
			startR, startW := readBothWays(t, a, public)
			for _, kind := range cumulativeKinds { // a window before: its stacks cached
				a.symbolizer(kind).deltaOf(firstR[kind], startR[kind])
			}
			shallow.run(0, 64, 16)
			deep.run(0, 16, 16)
			if err := sleep(context.Background(), time.Millisecond); err != nil {
				t.Fatal(err)
			}
			endR, endW := readBothWays(t, a, public)

			for _, kind := range cumulativeKinds {
				d := a.symbolizer(kind).deltaOf(startR[kind], endR[kind])
				got, restarted, cut := d.p, d.restarted, d.cut
				if restarted {
					t.Fatalf("%s: a restart between two readings of one process", kind)
				}
				want := pprofDeltaOf(t, kind, startW[kind], endW[kind])
				if err := got.CheckValid(); err != nil {
					t.Fatalf("%s: %v", kind, err)
				}
				w := &window.Window{}
				w.SetProfile(kind, got)
				if size := len(w.ProfileBytes(kind)); size == 0 || size > d.bound {
					t.Errorf("%s: encoded in %d bytes, over its bound of %d", kind, size, d.bound)
				}
				if g, w := valueTypes(got), valueTypes(want); g != w {
					t.Errorf("%s: sample types %s, runtime/pprof's %s", kind, g, w)
				}
				// Only the generator's stacks: the runtime's own locks, and
				// other goroutines, may add records between two readings.
				gotV, wantV := generated(stackValues(got)), generated(stackValues(want))
				if len(wantV) < 16 {
					t.Fatalf("%s: only %d stacks changed in the window", kind, len(wantV))
				}
				if public {
					// The exported records keep 32 frames: compare the
					// stacks of the shallow leaves, and count the deep
					// ones as cut.
					deep := func(key string) bool { return strings.Count(key, "stackGen.enter") > 1 }
					for k := range wantV {
						if deep(k) {
							delete(wantV, k)
						}
					}
					deeper := 0
					for k := range gotV {
						if deep(k) {
							deeper++
							delete(gotV, k)
						}
					}
					if deeper == 0 || cut < deeper {
						t.Errorf("%s: %d stacks of the deep leaves, %d counted as cut", kind, deeper, cut)
					}
				} else if cut != 0 {
					t.Errorf("%s: %d stacks cut from the deep records", kind, cut)
				}
				for k, w := range wantV {
					if g, ok := gotV[k]; !ok {
						t.Errorf("%s: stack missing from the records' delta (values %v):\n%s", kind, w, k)
					} else if !slices.Equal(g.v, w.v) {
						t.Errorf("%s: values %v, runtime/pprof's %v, at\n%s", kind, g, w, k)
					}
				}
				for k, g := range gotV {
					if _, ok := wantV[k]; !ok {
						t.Errorf("%s: stack in the records' delta only (values %v):\n%s", kind, g, k)
					}
				}
				for _, smp := range got.Sample {
					if kind == window.Allocs {
						break // the agent's allocations are the host's cost
					}
					for _, l := range smp.Location {
						for _, ln := range l.Line {
							if agentWaits.MatchString(ln.Function.Name) {
								t.Errorf("%s: the agent's own wait %s is in the delta", kind, ln.Function.Name)
							}
						}
					}
				}
				wantF := functionFiles(want)
				for name, g := range functionFiles(got) {
					if w, ok := wantF[name]; ok && g != w {
						t.Errorf("%s: function %s at %s, runtime/pprof's %s", kind, name, g, w)
					}
				}
			}
			// The agent's own sleep blocked in the window, and neither
			// delta holds it.
			if !hasFunction(endW[window.Block], "github.com/contendr/contendr/agent.sleep") {
				t.Error("the agent's sleep is not in the block profile: the test does not show it dropped")
			}
		})
	}
}

func hasFunction(p *profile.Profile, name string) bool {
	for _, f := range p.Function {
		if f.Name == name {
			return true
		}
	}
	return false
}
