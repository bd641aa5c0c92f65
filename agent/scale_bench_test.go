package agent

import (
	"bytes"
	"fmt"
	"io"
	"testing"

	"github.com/google/pprof/profile"

	"github.com/contendr/contendr/internal/profilegen"
	"github.com/contendr/contendr/window"
)

// BenchmarkWindowProfiles measures the pure part of a collection at
// profile scale: two cumulative readings of the mutex, block and allocs
// profiles (a tenth of the stacks changed between them, a tenth of those
// new) turned into a window's delta profiles, at each profile size. The
// runtime's own WriteTo and the parse of its output, the rest of a
// collection, depend on the host's real profiles and are left out.
// "window+encode" also encodes the window's bundle, as SetProfile did in every
// collection before it became lazy and as the agent now does only when
// a window is served or its size estimate comes near WindowMaxBytes.
// A million stacks only with CONTENDR_BENCH_1M=1.
func BenchmarkWindowProfiles(b *testing.B) {
	kinds := []window.ProfileKind{window.Mutex, window.Block, window.Allocs}
	for _, n := range profilegen.BenchStacks() {
		// Profiles are generated only for the sizes a -bench pattern selects.
		b.Run(fmt.Sprintf("stacks=%d", n), func(b *testing.B) {
			readings := map[window.ProfileKind]reading{}
			for i, kind := range kinds {
				end := profilegen.MustGenerate(profilegen.Options{Kind: profilegen.Kind(kind), Stacks: n, Seed: uint64(i + 1)})
				readings[kind] = reading{start: profilegen.Earlier(end, 0.1, uint64(i+1)), end: end}
			}
			collect := func(b *testing.B) *window.Window {
				w := &window.Window{}
				setDeltas(b, w, readings)
				return w
			}
			b.Run("window", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					collect(b)
				}
			})
			b.Run("window+encode", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if err := collect(b).Encode(io.Discard); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

// BenchmarkCollectScale measures a whole collection at profile scale past
// the runtime's own output: the window's three deltas from two cumulative
// readings of the mutex, block and allocs profiles in which every one of
// the N stacks changed (so each delta holds N distinct stacks), the CPU
// profile of N stacks parsed from its bytes, and judging the window
// (stacks.Attribute and both collectors, the previous window's attribution
// kept from its own judging, as the agent keeps it). cpu-ns/op is the
// process's CPU time per collection (GC workers on other threads
// included), the figure issue #14 bounds; ns/op is wall time.
//
// "parse" is the rest of a collection: parsing the three cumulative
// readings from the bytes the runtime wrote (its WriteTo, which depends on
// the host's real stacks, is left out).
//
// Side by side against a baseline build, interleaved:
//
//	go test -c -o new.test ./agent   # and base.test from the baseline tree
//	for i in $(seq 6); do for t in base new; do ./$t.test -test.run '^$' -test.bench CollectScale -test.benchtime 10x >> $t.txt; done; done
//	benchstat base.txt new.txt
func BenchmarkCollectScale(b *testing.B) {
	kinds := []window.ProfileKind{window.Mutex, window.Block, window.Allocs}
	for _, n := range profilegen.BenchStacks() {
		b.Run(fmt.Sprintf("stacks=%d", n), func(b *testing.B) {
			readings := map[window.ProfileKind]reading{}
			var encoded [][]byte
			for i, kind := range kinds {
				end := profilegen.MustGenerate(profilegen.Options{Kind: profilegen.Kind(kind), Stacks: n, Seed: uint64(i + 1)})
				readings[kind] = reading{start: profilegen.Earlier(end, 1, uint64(i+1)), end: end}
				encoded = append(encoded, encodeProfile(b, end))
			}
			cpu := encodeProfile(b, profilegen.MustGenerate(profilegen.Options{Kind: profilegen.CPU, Stacks: n, Seed: 4}))
			a := &Agent{}
			prev := &window.Window{ID: "1"}
			if _, err := a.judgeWindow(prev, nil); err != nil {
				b.Fatal(err)
			}
			prevResults := a.latestResults()
			b.Run("collect", func(b *testing.B) {
				b.ReportAllocs()
				cpuBefore := processCPUSeconds()
				for b.Loop() {
					a.results = prevResults
					w := &window.Window{ID: "2"}
					setDeltas(b, w, readings)
					p, err := window.ParseProfile(cpu, 0)
					if err != nil {
						b.Fatal(err)
					}
					w.SetProfile(window.CPU, p)
					if _, err := a.judgeWindow(w, prev); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric((processCPUSeconds()-cpuBefore)*1e9/float64(b.N), "cpu-ns/op")
			})
			b.Run("parse", func(b *testing.B) {
				b.ReportAllocs()
				cpuBefore := processCPUSeconds()
				for b.Loop() {
					for _, data := range encoded {
						if _, err := window.ParseProfile(data, 0); err != nil {
							b.Fatal(err)
						}
					}
				}
				b.ReportMetric((processCPUSeconds()-cpuBefore)*1e9/float64(b.N), "cpu-ns/op")
			})
		})
	}
}

// reading is two cumulative readings of a profile, at a window's ends.
type reading struct{ start, end *profile.Profile }

// setDeltas sets w's profiles to the deltas of readings, as a collection
// does.
func setDeltas(b *testing.B, w *window.Window, readings map[window.ProfileKind]reading) {
	for kind, r := range readings {
		delta, restarted, err := deltaProfile(kind, r.start, r.end)
		if err != nil || restarted {
			b.Fatalf("%s: restarted %v, %v", kind, restarted, err)
		}
		w.SetProfile(kind, delta)
	}
}

func encodeProfile(b *testing.B, p *profile.Profile) []byte {
	b.Helper()
	var buf bytes.Buffer
	if err := p.Write(&buf); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}
