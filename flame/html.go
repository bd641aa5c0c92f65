package flame

import (
	"bufio"
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// Assets holds the interactive page's script and style (assets/flame.js,
// assets/flame.css) and the SVG's script (assets/svg.js), for a web UI to
// serve next to WriteHTMLFragment output.
//
//go:embed assets/*.js assets/*.css
var Assets embed.FS

// WriteHTML writes a single-file interactive page: the tree as JSON, the
// script and the style inline, nothing fetched from elsewhere.
func WriteHTML(w io.Writer, g *Graph, opts Options) error {
	css, err := Assets.ReadFile("assets/flame.css")
	if err != nil {
		return fmt.Errorf("reading embedded flame.css: %w", err)
	}
	js, err := Assets.ReadFile("assets/flame.js")
	if err != nil {
		return fmt.Errorf("reading embedded flame.js: %w", err)
	}
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"+
		"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>%s</title>\n<style>\n%s</style>\n</head>\n<body>\n",
		escape(opts.title(g)), css)
	if err := WriteHTMLFragment(bw, g, opts); err != nil {
		return err
	}
	bw.WriteString("<noscript>This flame graph needs JavaScript; the SVG output (-o out.svg) works without it.</noscript>\n<script>\n")
	bw.Write(bytes.ReplaceAll(js, []byte("</script"), []byte(`<\/script`)))
	bw.WriteString("</script>\n</body>\n</html>\n")
	return bw.Flush()
}

// WriteHTMLFragment writes the graph as a <div class="cf-flame"> holding its
// data as JSON. A page that loads assets/flame.css and assets/flame.js (see
// Assets) turns every such div into an interactive flame graph; the script
// exposes window.ContendrFlame.init(div) for fragments added later.
func WriteHTMLFragment(w io.Writer, g *Graph, opts Options) error {
	data, err := htmlData(g, opts)
	if err != nil {
		return fmt.Errorf("encoding flame graph data: %w", err)
	}
	if _, err := fmt.Fprintf(w, "<div class=\"cf-flame\">\n<script type=\"application/json\" class=\"cf-data\">%s</script>\n</div>\n", data); err != nil {
		return err
	}
	return nil
}

// htmlHeader is the JSON the page's script reads. The tree is encoded
// separately, compactly: each node is [nameIndex, value, base, [children…]]
// with the children array left out for leaves.
type htmlHeader struct {
	Title       string              `json:"title"`
	SampleType  string              `json:"sampleType"`
	Unit        string              `json:"unit"`
	Total       int64               `json:"total"`
	BaseTotal   int64               `json:"baseTotal"`
	Diff        bool                `json:"diff"`
	MinFraction float64             `json:"minFraction"`
	Icicle      bool                `json:"icicle"`
	Names       []string            `json:"names"`
	Colors      []string            `json:"colors"`
	Cats        []Category          `json:"cats"`
	Legend      map[Category]string `json:"legend"`
	// Vanished lists the largest stacks present only in the base.
	Vanished []vanishedStack `json:"vanished,omitempty"`
}

type vanishedStack struct {
	Stack string `json:"stack"`
	Base  int64  `json:"base"`
}

// maxVanished caps the vanished-stack list: the page shows the largest ones.
const maxVanished = 200

func htmlData(g *Graph, opts Options) ([]byte, error) {
	root := g.pruned(opts.minFraction())
	h := htmlHeader{
		Title:       opts.title(g),
		SampleType:  g.SampleType,
		Unit:        g.Unit,
		Total:       g.Total,
		BaseTotal:   g.BaseTotal,
		Diff:        g.IsDiff,
		MinFraction: opts.minFraction(),
		Icicle:      opts.Icicle,
		Legend:      make(map[Category]string),
	}
	for _, c := range []Category{CatApp, CatStd, CatLock, CatMap, CatGC, CatRuntime, CatPruned} {
		p := palette[c]
		h.Legend[c] = hslToHex(p.hue+p.width/2, p.sat, p.light)
	}
	index := make(map[string]int)
	var tree bytes.Buffer
	var encode func(n *Node)
	encode = func(n *Node) {
		i, ok := index[n.Name]
		if !ok {
			i = len(h.Names)
			index[n.Name] = i
			h.Names = append(h.Names, n.Name)
			h.Colors = append(h.Colors, Color(n.Name))
			h.Cats = append(h.Cats, Categorize(n.Name))
		}
		tree.WriteByte('[')
		tree.WriteString(strconv.Itoa(i))
		tree.WriteByte(',')
		tree.WriteString(strconv.FormatInt(n.Value, 10))
		tree.WriteByte(',')
		tree.WriteString(strconv.FormatInt(n.Base, 10))
		if len(n.Children) > 0 {
			tree.WriteString(",[")
			for j, c := range n.Children {
				if j > 0 {
					tree.WriteByte(',')
				}
				encode(c)
			}
			tree.WriteByte(']')
		}
		tree.WriteByte(']')
	}
	encode(root)
	if g.IsDiff {
		h.Vanished = vanished(g.Root)
	}
	head, err := json.Marshal(h)
	if err != nil {
		return nil, err
	}
	// Splice the tree in as the last field of the object.
	out := append(head[:len(head)-1], `,"tree":`...)
	out = append(out, tree.Bytes()...)
	return append(out, '}'), nil
}

// vanished lists the stacks of a differential tree that exist in the base
// only: each frame with no target value under a parent that has one, largest
// base value first.
func vanished(root *Node) []vanishedStack {
	var out []vanishedStack
	var path []string
	var walk func(n *Node)
	walk = func(n *Node) {
		path = append(path, n.Name)
		defer func() { path = path[:len(path)-1] }()
		for _, c := range n.Children {
			if c.Value == 0 && c.Base > 0 {
				stack := strings.Join(append(slices.Clone(path[1:]), c.Name), ";")
				out = append(out, vanishedStack{Stack: stack, Base: c.Base})
				continue
			}
			walk(c)
		}
	}
	walk(root)
	slices.SortStableFunc(out, func(a, b vanishedStack) int {
		switch {
		case a.Base > b.Base:
			return -1
		case a.Base < b.Base:
			return 1
		}
		return strings.Compare(a.Stack, b.Stack)
	})
	if len(out) > maxVanished {
		out = out[:maxVanished]
	}
	return out
}
