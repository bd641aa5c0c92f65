package flame_test

import (
	"fmt"
	"io"
	"testing"

	"github.com/contendr/contendr/flame"
	"github.com/contendr/contendr/internal/profilegen"
)

// BenchmarkFlameScale builds the flame graph of a generated mutex profile
// (whole, as folded output needs it, and pruned, as `contendr flame
// big.pb.gz -o big.svg` builds it) and writes the whole one as SVG, at each
// profile size.
func BenchmarkFlameScale(b *testing.B) {
	for _, n := range profilegen.BenchStacks() {
		p := profilegen.MustGenerate(profilegen.Options{Kind: profilegen.Mutex, Stacks: n, Seed: 1})
		b.Run(fmt.Sprintf("build/stacks=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := flame.Build(p, ""); err != nil {
					b.Fatal(err)
				}
			}
		})
		// What contendr flame -o x.svg builds: only the frames drawn.
		b.Run(fmt.Sprintf("build-pruned/stacks=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := flame.BuildPruned(p, "", flame.DefaultMinFraction); err != nil {
					b.Fatal(err)
				}
			}
		})
		g, err := flame.Build(p, "")
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("svg/stacks=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := flame.WriteSVG(io.Discard, g, flame.Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
