// Package flame turns a pprof profile into one merged call tree and renders it
// as folded stacks, SVG, interactive HTML, speedscope JSON or a pprof proto;
// Diff compares two trees by their normalised shares.
//
// Every writer reads the same Graph, so the numbers agree across formats:
// folded and speedscope output keep every stack, SVG and HTML prune frames
// narrower than Options.MinFraction into a "[pruned N]" frame of their parent
// so that a profile with 100,000 distinct stacks still opens quickly.
package flame

import (
	"errors"
	"fmt"
	"strings"

	"github.com/google/pprof/profile"
)

// ErrEmpty is returned (wrapped) when the chosen sample type sums to zero.
var ErrEmpty = errors.New("empty profile")

// Node is one frame of the merged call tree. Children are sorted by name.
type Node struct {
	Name string
	// Value is the inclusive value of the frame (itself plus callees).
	Value int64
	// Base is the inclusive value in the base profile of a differential
	// graph; zero otherwise. A node with Value 0 and Base > 0 vanished.
	Base     int64
	Children []*Node

	// pruned counts the frames aggregated into a "[pruned N]" node.
	pruned int
}

// Self is the value spent in the frame itself, not in its callees.
func (n *Node) Self() int64 {
	self := n.Value
	for _, c := range n.Children {
		self -= c.Value
	}
	return self
}

// BaseSelf is Self for the base profile of a differential graph.
func (n *Node) BaseSelf() int64 {
	self := n.Base
	for _, c := range n.Children {
		self -= c.Base
	}
	return self
}

// Graph is a merged call tree for one sample type of a profile.
type Graph struct {
	// Root is a synthetic frame named "root" holding the total.
	Root *Node
	// SampleType and Unit name what values measure ("delay", "nanoseconds").
	SampleType string
	Unit       string
	// Total is Root.Value; BaseTotal is Root.Base (diff graphs only).
	Total     int64
	BaseTotal int64
	// IsDiff marks a graph built by Diff.
	IsDiff bool

	// files maps a frame name to its source file, for speedscope.
	files map[string]string
	// source is the profile the graph was built from, for the pprof writer.
	source *profile.Profile
}

// SampleTypeIndex resolves a sample type name in p. An empty name selects the
// profile's DefaultSampleType, "delay" for contention profiles, or else the
// last sample type (the pprof convention). An unknown name is an error that
// lists the available ones.
func SampleTypeIndex(p *profile.Profile, name string) (int, error) {
	if len(p.SampleType) == 0 {
		return 0, errors.New("profile has no sample types")
	}
	if name == "" {
		name = p.DefaultSampleType
	}
	if name == "" {
		for i, st := range p.SampleType {
			if st.Type == "delay" {
				return i, nil
			}
		}
		return len(p.SampleType) - 1, nil
	}
	for i, st := range p.SampleType {
		if st.Type == name {
			return i, nil
		}
	}
	return 0, fmt.Errorf("unknown sample type %q; the profile has: %s", name, strings.Join(SampleTypes(p), ", "))
}

// SampleTypes lists the sample type names of p in order.
func SampleTypes(p *profile.Profile) []string {
	names := make([]string, len(p.SampleType))
	for i, st := range p.SampleType {
		names[i] = st.Type
	}
	return names
}

// sanitize makes a function name safe for every format: folded stacks use
// ';' between frames and a newline between stacks, so neither may appear.
func sanitize(name string) string {
	if !strings.ContainsAny(name, ";\n\r\t") {
		return name
	}
	return strings.Map(func(r rune) rune {
		switch r {
		case ';':
			return ':'
		case '\n', '\r', '\t':
			return ' '
		}
		return r
	}, name)
}

// Diff merges base and target into one differential graph: Value holds the
// target's values, Base the base's. Frames present only in base stay in the
// tree with Value 0, so vanished stacks remain visible. Both graphs must
// measure the same unit.
func Diff(base, target *Graph) (*Graph, error) {
	if base == nil || target == nil {
		return nil, errors.New("diff of flame graphs: missing graph")
	}
	if base.Unit != target.Unit {
		return nil, fmt.Errorf("diff of flame graphs: base measures %s (%s), target %s (%s)",
			base.SampleType, base.Unit, target.SampleType, target.Unit)
	}
	files := make(map[string]string, len(target.files))
	for _, m := range []map[string]string{base.files, target.files} {
		for k, v := range m {
			files[k] = v
		}
	}
	root := mergeNodes(base.Root, target.Root)
	return &Graph{
		Root:       root,
		SampleType: target.SampleType,
		Unit:       target.Unit,
		Total:      root.Value,
		BaseTotal:  root.Base,
		IsDiff:     true,
		files:      files,
	}, nil
}

// mergeNodes merges two same-named frames; either may be nil. Children of
// both are sorted by name, so one merge pass pairs them.
func mergeNodes(base, target *Node) *Node {
	out := &Node{}
	var bk, tk []*Node
	if base != nil {
		out.Name, out.Base, bk = base.Name, base.Value, base.Children
	}
	if target != nil {
		out.Name, out.Value, tk = target.Name, target.Value, target.Children
	}
	for len(bk) > 0 || len(tk) > 0 {
		switch {
		case len(tk) == 0 || (len(bk) > 0 && bk[0].Name < tk[0].Name):
			out.Children = append(out.Children, mergeNodes(bk[0], nil))
			bk = bk[1:]
		case len(bk) == 0 || tk[0].Name < bk[0].Name:
			out.Children = append(out.Children, mergeNodes(nil, tk[0]))
			tk = tk[1:]
		default:
			out.Children = append(out.Children, mergeNodes(bk[0], tk[0]))
			bk, tk = bk[1:], tk[1:]
		}
	}
	return out
}

// share is the node's width as a fraction of the root: its value over the
// total, or for a diff graph the mean of its shares in base and target, so
// that frames of either side, vanished ones included, get room.
func (g *Graph) share(n *Node) float64 {
	if !g.IsDiff {
		return frac(n.Value, g.Total)
	}
	return (frac(n.Value, g.Total) + frac(n.Base, g.BaseTotal)) / 2
}

// change is the node's share in the target minus its share in the base, each
// normalised to its own profile's total: positive means it grew.
func (g *Graph) change(n *Node) float64 {
	return frac(n.Value, g.Total) - frac(n.Base, g.BaseTotal)
}

func frac(v, total int64) float64 {
	if total <= 0 {
		return 0
	}
	return float64(v) / float64(total)
}
