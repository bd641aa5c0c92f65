package window

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/contendr/contendr/internal/profilegen"
)

// BenchmarkEncodeProfile compares pprof's own Write, which writes to the
// profile it encodes, with encodeShared, which writes a shallow copy and
// leaves the shared profile alone: what lazy encoding costs over eager.
func BenchmarkEncodeProfile(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		p := profilegen.MustGenerate(profilegen.Options{Kind: profilegen.Mutex, Stacks: n, Seed: 1})
		b.Run(fmt.Sprintf("stacks=%d/pprof-write", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var buf bytes.Buffer
				if err := p.Write(&buf); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("stacks=%d/encode-shared", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := encodeShared(p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
