package flame

import "fmt"

// DefaultMinFraction is the narrowest frame SVG and HTML output draw, as a
// fraction of the total: 0.1% is about one pixel at 1200 pixels wide, so the
// picture loses nothing visible while a profile with 100,000 distinct stacks
// shrinks to a few thousand frames.
const DefaultMinFraction = 0.001

// pruned returns a copy of the tree without frames narrower than minFraction
// of the root. The frames cut below one parent are summed into a single
// "[pruned N]" child, N counting the frames it stands for, so widths still
// add up. minFraction ≤ 0 copies everything.
func (g *Graph) pruned(minFraction float64) *Node {
	return g.pruneNode(g.Root, minFraction)
}

func (g *Graph) pruneNode(n *Node, minFraction float64) *Node {
	out := &Node{Name: n.Name, Value: n.Value, Base: n.Base, pruned: n.pruned}
	var cut *Node
	for _, c := range n.Children {
		if minFraction <= 0 || g.share(c) >= minFraction {
			out.Children = append(out.Children, g.pruneNode(c, minFraction))
			continue
		}
		if cut == nil {
			cut = &Node{}
		}
		cut.Value += c.Value
		cut.Base += c.Base
		cut.pruned += countFrames(c)
	}
	if cut != nil {
		cut.Name = fmt.Sprintf("[pruned %d]", cut.pruned)
		out.Children = append(out.Children, cut)
	}
	return out
}

// countFrames counts n and every frame below it; a "[pruned N]" frame
// counts as the N it stands for, so that a graph pruned once (BuildPruned)
// prunes again to the same counts.
func countFrames(n *Node) int {
	if n.pruned > 0 {
		return n.pruned
	}
	count := 1
	for _, c := range n.Children {
		count += countFrames(c)
	}
	return count
}
