package flame

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/google/pprof/profile"
)

// Build merges the samples of p for sampleType (see SampleTypeIndex) into one
// call tree, root first. Inlined calls are separate frames. Samples with a
// zero or negative value are left out. A profile whose chosen values sum to
// zero yields an error wrapping ErrEmpty.
func Build(p *profile.Profile, sampleType string) (*Graph, error) {
	return build(p, sampleType, 0)
}

// BuildPruned is Build followed by the pruning that SVG and HTML output do
// (see Options.MinFraction), without ever building the frames it prunes:
// frames narrower than minFraction of the total are summed into a
// "[pruned N]" frame of their parent. The tree of a profile with 100,000
// distinct stacks has millions of frames and the pruned one a few thousand,
// so this is the graph to draw a large profile with. Folded and speedscope
// output of such a graph hold the [pruned N] frames too; differential
// graphs need Build's whole trees. minFraction ≤ 0 is Build.
func BuildPruned(p *profile.Profile, sampleType string, minFraction float64) (*Graph, error) {
	return build(p, sampleType, max(minFraction, 0))
}

func build(p *profile.Profile, sampleType string, minFraction float64) (*Graph, error) {
	if p == nil {
		return nil, errors.New("building a flame graph: no profile")
	}
	idx, err := SampleTypeIndex(p, sampleType)
	if err != nil {
		return nil, fmt.Errorf("building a flame graph: %w", err)
	}
	st := p.SampleType[idx]
	g := &Graph{
		Root:       &Node{Name: "root"},
		SampleType: st.Type,
		Unit:       st.Unit,
		files:      make(map[string]string),
		source:     p,
	}
	b := &builder{
		frames:      make(map[*profile.Location][]int32, len(p.Location)),
		ids:         make(map[string]int32, len(p.Function)),
		files:       g.files,
		minFraction: minFraction,
	}
	items := make([]stackCursor, 0, len(p.Sample))
	for _, s := range p.Sample {
		if idx >= len(s.Value) || s.Value[idx] <= 0 {
			continue
		}
		c := stackCursor{stack: s.Location, value: s.Value[idx], loc: int32(len(s.Location))}
		b.next(&c)
		items = append(items, c)
		g.Root.Value += c.value
	}
	if g.Root.Value == 0 {
		return nil, fmt.Errorf("building a flame graph: %w: no sample has a nonzero %q value", ErrEmpty, st.Type)
	}
	g.Total = g.Root.Value
	b.total = g.Total
	b.grow(g.Root, items)
	return g, nil
}

// builder merges stacks into a tree by sorting, not by hashing: the samples
// under a frame are sorted by their next frame, each run of equal frames
// becomes one child, and the run is merged the same way one level down. It
// holds the profile's own samples (as cursors into their Location lists),
// one interned name per distinct frame and the tree it makes — no stack is
// ever spelled out, and no per-node map.
type builder struct {
	// frames caches the root-first frame IDs of a location.
	frames map[*profile.Location][]int32
	// ids interns frame names; names[id] is the name.
	ids   map[string]int32
	names []string
	files map[string]string

	total       int64
	minFraction float64

	// Nodes and children lists are carved out of slabs: a tree of millions
	// of frames should not be millions of allocations.
	nodes    []Node
	children []*Node
}

// stackCursor walks one sample's stack from the root towards the leaf.
type stackCursor struct {
	stack []*profile.Location
	value int64
	// frame is the next frame's ID, -1 past the leaf.
	frame int32
	// loc indexes stack (the profile stores it leaf first, so loc counts
	// down); off indexes that location's frames.
	loc, off int32
}

// next moves c to its next frame.
func (b *builder) next(c *stackCursor) {
	for {
		if c.loc < int32(len(c.stack)) && c.loc >= 0 && c.stack[c.loc] != nil {
			if frames := b.locationFrames(c.stack[c.loc]); c.off+1 < int32(len(frames)) {
				c.off++
				c.frame = frames[c.off]
				return
			}
		}
		c.loc--
		c.off = -1
		if c.loc < 0 {
			c.frame = -1
			return
		}
		if c.stack[c.loc] != nil { // only a hand-built profile has none
			c.off = 0
			c.frame = b.locationFrames(c.stack[c.loc])[0]
			return
		}
	}
}

// grow adds the children of n, which the stacks in items pass through.
func (b *builder) grow(n *Node, items []stackCursor) {
	items = b.sortByFrame(items)
	if len(items) == 0 {
		return
	}
	count := 0
	for range runs(items) {
		count++
	}
	kids := b.childSlab(count)[:0]
	var cut *Node
	for run := range runs(items) {
		var value int64
		for i := range run {
			value += run[i].value
		}
		if b.minFraction > 0 && frac(value, b.total) < b.minFraction {
			if cut == nil {
				cut = b.node("")
			}
			cut.Value += value
			cut.pruned += b.count(run)
			continue
		}
		child := b.node(b.names[run[0].frame])
		child.Value = value
		for i := range run {
			b.next(&run[i])
		}
		b.grow(child, run)
		kids = append(kids, child)
	}
	slices.SortFunc(kids, func(a, b *Node) int { return strings.Compare(a.Name, b.Name) })
	if cut != nil {
		cut.Name = fmt.Sprintf("[pruned %d]", cut.pruned)
		kids = append(kids, cut)
	}
	n.Children = kids
}

// count is the number of frames the stacks in items (all at the same
// frame) make: that frame and every distinct frame below it.
func (b *builder) count(items []stackCursor) int {
	for i := range items {
		b.next(&items[i])
	}
	frames := 1
	for run := range runs(b.sortByFrame(items)) {
		frames += b.count(run)
	}
	return frames
}

// sortByFrame sorts items by their next frame and drops those past their
// leaf (their value is the parent's self value).
func (b *builder) sortByFrame(items []stackCursor) []stackCursor {
	slices.SortFunc(items, func(x, y stackCursor) int { return cmp.Compare(x.frame, y.frame) })
	for len(items) > 0 && items[0].frame < 0 {
		items = items[1:]
	}
	return items
}

// runs yields the runs of equal frames of sorted items.
func runs(items []stackCursor) func(func([]stackCursor) bool) {
	return func(yield func([]stackCursor) bool) {
		for len(items) > 0 {
			end := 1
			for end < len(items) && items[end].frame == items[0].frame {
				end++
			}
			if !yield(items[:end]) {
				return
			}
			items = items[end:]
		}
	}
}

const slabSize = 4096

func (b *builder) node(name string) *Node {
	if len(b.nodes) == 0 {
		b.nodes = make([]Node, slabSize)
	}
	n := &b.nodes[0]
	b.nodes = b.nodes[1:]
	n.Name = name
	return n
}

// childSlab returns room for n children and a [pruned N] frame.
func (b *builder) childSlab(n int) []*Node {
	n++
	if n > slabSize {
		return make([]*Node, n)
	}
	if len(b.children) < n {
		b.children = make([]*Node, slabSize)
	}
	s := b.children[:n:n]
	b.children = b.children[n:]
	return s
}

// locationFrames returns the frame IDs of one location, caller first. The
// profile lists inlined calls innermost first (Line[0] is the callee).
func (b *builder) locationFrames(loc *profile.Location) []int32 {
	if ids, ok := b.frames[loc]; ok {
		return ids
	}
	var ids []int32
	for i := len(loc.Line) - 1; i >= 0; i-- {
		fn := loc.Line[i].Function
		if fn == nil || fn.Name == "" {
			continue
		}
		name := sanitize(fn.Name)
		ids = append(ids, b.intern(name))
		if _, ok := b.files[name]; !ok && fn.Filename != "" {
			b.files[name] = fn.Filename
		}
	}
	if len(ids) == 0 {
		// Unsymbolized: the address is all there is, with the binary's
		// name when known so that frames of different binaries differ.
		name := fmt.Sprintf("0x%x", loc.Address)
		if loc.Mapping != nil && loc.Mapping.File != "" {
			file := loc.Mapping.File
			file = file[strings.LastIndexByte(file, '/')+1:]
			name = sanitize(file) + "+" + name
		}
		ids = append(ids, b.intern(name))
	}
	b.frames[loc] = ids
	return ids
}

func (b *builder) intern(name string) int32 {
	if id, ok := b.ids[name]; ok {
		return id
	}
	id := int32(len(b.names))
	b.ids[name] = id
	b.names = append(b.names, name)
	return id
}
