package flame

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/contendr/contendr/internal/profilegen"
)

// TestBuildPrunedDrawsWhatBuildDraws: a graph pruned while it is built
// renders byte for byte as the whole graph pruned by the writer, at the
// default width and others, for every kind of profile.
func TestBuildPrunedDrawsWhatBuildDraws(t *testing.T) {
	for _, kind := range profilegen.Kinds {
		p := profilegen.MustGenerate(profilegen.Options{Kind: kind, Stacks: 3000, Seed: 5})
		for _, mf := range []float64{DefaultMinFraction, 0.01, 0.0001} {
			t.Run(fmt.Sprintf("%s/%g", kind, mf), func(t *testing.T) {
				whole, err := Build(p, "")
				if err != nil {
					t.Fatal(err)
				}
				pruned, err := BuildPruned(p, "", mf)
				if err != nil {
					t.Fatal(err)
				}
				if pruned.Total != whole.Total {
					t.Fatalf("total %d, want %d", pruned.Total, whole.Total)
				}
				if n, all := countFrames(pruned.Root), countFrames(whole.Root); n != all {
					t.Errorf("the pruned graph stands for %d frames, the whole one has %d", n, all)
				}
				opts := Options{MinFraction: mf}
				for name, write := range map[string]func(*bytes.Buffer, *Graph) error{
					"svg":  func(b *bytes.Buffer, g *Graph) error { return WriteSVG(b, g, opts) },
					"html": func(b *bytes.Buffer, g *Graph) error { return WriteHTML(b, g, opts) },
				} {
					var want, got bytes.Buffer
					if err := write(&want, whole); err != nil {
						t.Fatal(err)
					}
					if err := write(&got, pruned); err != nil {
						t.Fatal(err)
					}
					if !bytes.Equal(got.Bytes(), want.Bytes()) {
						t.Errorf("%s of BuildPruned differs from Build's (%d vs %d bytes)", name, got.Len(), want.Len())
					}
				}
			})
		}
	}
}

// TestBuildMatchesPaths: every sample's stack is one path of the tree, with
// inlined frames caller first, and values add up.
func TestBuildMatchesPaths(t *testing.T) {
	p := profilegen.MustGenerate(profilegen.Options{Kind: profilegen.CPU, Stacks: 400, Seed: 9})
	g := Must(Build(p, "cpu"))
	for _, s := range p.Sample[:50] {
		n := g.Root
		for i := len(s.Location) - 1; i >= 0; i-- {
			for j := len(s.Location[i].Line) - 1; j >= 0; j-- {
				name := s.Location[i].Line[j].Function.Name
				var next *Node
				for _, c := range n.Children {
					if c.Name == name {
						next = c
					}
				}
				if next == nil {
					t.Fatalf("no frame %s under %s", name, n.Name)
				}
				n = next
			}
		}
		if n.Self() < s.Value[1] {
			t.Errorf("leaf %s: self %d below the sample's %d", n.Name, n.Self(), s.Value[1])
		}
	}
	var sum func(n *Node) int64
	sum = func(n *Node) int64 {
		var v int64
		for _, c := range n.Children {
			v += sum(c)
		}
		if v > n.Value {
			t.Fatalf("%s: children %d above %d", n.Name, v, n.Value)
		}
		return n.Value
	}
	sum(g.Root)
}
