package flame

import (
	"bufio"
	"io"
	"slices"
	"strconv"
	"strings"
)

// WriteFolded writes one line per distinct stack, root first, frames joined
// by ';', then its value: "main.main;main.work;sync.(*Mutex).Lock 1234".
// Lines are sorted so that output is stable and diffable; every stack is
// kept, so the values add up to the graph's total. For a differential graph
// each line carries two columns, "stack base target".
func WriteFolded(w io.Writer, g *Graph) error {
	var lines []string
	var path []string
	var walk func(n *Node)
	walk = func(n *Node) {
		if n != g.Root {
			path = append(path, n.Name)
			defer func() { path = path[:len(path)-1] }()
			self, baseSelf := n.Self(), n.BaseSelf()
			if self != 0 || baseSelf != 0 {
				line := strings.Join(path, ";") + " "
				if g.IsDiff {
					line += strconv.FormatInt(baseSelf, 10) + " "
				}
				lines = append(lines, line+strconv.FormatInt(self, 10))
			}
		}
		for _, c := range n.Children {
			walk(c)
		}
	}
	walk(g.Root)
	slices.Sort(lines)
	bw := bufio.NewWriter(w)
	for _, l := range lines {
		bw.WriteString(l)
		bw.WriteByte('\n')
	}
	return bw.Flush()
}
