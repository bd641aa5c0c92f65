package agent

import (
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
			type reading struct{ start, end *profile.Profile }
			readings := map[window.ProfileKind]reading{}
			for i, kind := range kinds {
				end := profilegen.MustGenerate(profilegen.Options{Kind: profilegen.Kind(kind), Stacks: n, Seed: uint64(i + 1)})
				readings[kind] = reading{start: profilegen.Earlier(end, 0.1, uint64(i+1)), end: end}
			}
			collect := func(b *testing.B) *window.Window {
				w := &window.Window{}
				for _, kind := range kinds {
					r := readings[kind]
					delta, restarted, err := deltaProfile(kind, r.start, r.end)
					if err != nil || restarted {
						b.Fatalf("%s: restarted %v, %v", kind, restarted, err)
					}
					w.SetProfile(kind, delta)
				}
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
