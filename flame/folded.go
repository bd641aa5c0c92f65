package flame

import (
	"bufio"
	"bytes"
	"io"
	"slices"
	"strconv"
)

// WriteFolded writes one line per distinct stack, root first, frames joined
// by ';', then its value: "main.main;main.work;sync.(*Mutex).Lock 1234".
// Lines are sorted so that output is stable and diffable; every stack is
// kept, so the values add up to the graph's total. For a differential graph
// each line carries two columns, "stack base target".
func WriteFolded(w io.Writer, g *Graph) error {
	// All lines go into one buffer and are sorted as spans of it: a large
	// profile has 100,000 lines and one allocation each would dominate.
	size, count := foldedSize(g.Root, g.Root, 0)
	buf := make([]byte, 0, size)
	lines := make([][2]int, 0, count)
	var path []string
	var walk func(n *Node)
	walk = func(n *Node) {
		if n != g.Root {
			path = append(path, n.Name)
			self, baseSelf := n.Self(), n.BaseSelf()
			if self != 0 || baseSelf != 0 {
				start := len(buf)
				for i, name := range path {
					if i > 0 {
						buf = append(buf, ';')
					}
					buf = append(buf, name...)
				}
				buf = append(buf, ' ')
				if g.IsDiff {
					buf = strconv.AppendInt(buf, baseSelf, 10)
					buf = append(buf, ' ')
				}
				buf = strconv.AppendInt(buf, self, 10)
				lines = append(lines, [2]int{start, len(buf)})
			}
		}
		for _, c := range n.Children {
			walk(c)
		}
		if n != g.Root {
			path = path[:len(path)-1]
		}
	}
	walk(g.Root)
	slices.SortFunc(lines, func(a, b [2]int) int { return bytes.Compare(buf[a[0]:a[1]], buf[b[0]:b[1]]) })
	bw := bufio.NewWriterSize(w, 64<<10)
	for _, l := range lines {
		bw.Write(buf[l[0]:l[1]])
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

// foldedSize bounds the bytes and counts the lines WriteFolded produces below
// n, whose path (with separators) is pathLen bytes long, so that its buffer
// is allocated once: growing a 75 MB buffer by appends allocates it five
// times over.
func foldedSize(root, n *Node, pathLen int) (size, lines int) {
	if n != root {
		if pathLen > 0 {
			pathLen++ // the ';'
		}
		pathLen += len(n.Name)
		if n.Self() != 0 || n.BaseSelf() != 0 {
			size, lines = pathLen+2*21, 1 // two int64 columns at most
		}
	}
	for _, c := range n.Children {
		s, l := foldedSize(root, c, pathLen)
		size += s
		lines += l
	}
	return size, lines
}
