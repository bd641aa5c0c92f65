package flame

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Options tune SVG and HTML output.
type Options struct {
	// Title heads the picture; empty uses "<sample type> flame graph".
	Title string
	// MinFraction is the narrowest frame drawn, as a fraction of the total:
	// 0 means DefaultMinFraction, a negative value draws every frame.
	MinFraction float64
	// Icicle puts the root at the top (SVG; the HTML page starts that way
	// and has a toggle). The default is the classic flame, root at bottom.
	Icicle bool
	// Width of the SVG in pixels; 0 means 1200.
	Width int
}

func (o Options) minFraction() float64 {
	switch {
	case o.MinFraction < 0:
		return 0
	case o.MinFraction == 0:
		return DefaultMinFraction
	}
	return o.MinFraction
}

func (o Options) title(g *Graph) string {
	if o.Title != "" {
		return o.Title
	}
	if g.IsDiff {
		return g.SampleType + " differential flame graph"
	}
	return g.SampleType + " flame graph"
}

// SVG geometry, in pixels.
const (
	svgPad        = 10
	svgFrameH     = 16
	svgHeaderH    = 52
	svgFooterH    = 22
	svgFontSize   = 12
	svgCharW      = 7 // average advance of a 12px sans-serif glyph
	svgMinLabelPx = 3 * svgCharW
)

// WriteSVG writes a standalone SVG: every frame a <rect> with a label and a
// <title> tooltip, readable as a plain image (in a README, a CI artifact)
// where no script runs. Where scripts do run, an embedded script adds click
// to zoom and a regex search.
func WriteSVG(w io.Writer, g *Graph, opts Options) error {
	width := opts.Width
	if width <= 0 {
		width = 1200
	}
	root := g.pruned(opts.minFraction())
	depth := treeDepth(root)
	height := svgHeaderH + depth*svgFrameH + svgFooterH
	script, err := Assets.ReadFile("assets/svg.js")
	if err != nil {
		return fmt.Errorf("reading embedded svg.js: %w", err)
	}

	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, `<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="%d" height="%d" viewBox="0 0 %d %d" data-icicle="%t">
<style>
text { font-family: Verdana, "DejaVu Sans", sans-serif; font-size: %dpx; fill: #222; }
.f text { pointer-events: none; }
.f rect { stroke: #fff; stroke-width: 0.5; }
.f:hover rect { stroke: #000; stroke-width: 1; }
.f.match rect { fill: #e040fb; }
.f.dim rect { opacity: 0.45; }
.ctl { cursor: pointer; fill: #1565c0; }
.hidden { display: none; }
</style>
<rect x="0" y="0" width="%d" height="%d" fill="#fafafa"/>
`, width, height, width, height, opts.Icicle, svgFontSize, width, height)
	fmt.Fprintf(bw, `<text x="%d" y="20" text-anchor="middle" style="font-size:16px">%s</text>
`, width/2, escape(opts.title(g)))
	fmt.Fprintf(bw, `<text x="%d" y="40">%s</text>
`, svgPad, escape(svgSubtitle(g, opts)))
	fmt.Fprintf(bw, `<text id="reset" class="ctl hidden" x="%d" y="40">Reset zoom</text>
<text id="search" class="ctl" x="%d" y="40" text-anchor="end">Search</text>
<text id="matched" x="%d" y="%d" text-anchor="end"></text>
<text id="details" x="%d" y="%d"> </text>
`, width/2-40, width-svgPad, width-svgPad, height-6, svgPad, height-6)

	l := svgLayout{g: g, bw: bw, width: float64(width - 2*svgPad), depth: depth, icicle: opts.Icicle, minFraction: opts.minFraction()}
	if g.IsDiff {
		l.maxChange = g.maxChange(g.Root)
	}
	bw.WriteString(`<g id="frames">` + "\n")
	l.frame(root, 0, 0, g.share(root))
	bw.WriteString("</g>\n<script type=\"text/ecmascript\"><![CDATA[\n")
	bw.Write(bytes.ReplaceAll(script, []byte("]]>"), []byte("]]]]><![CDATA[>")))
	bw.WriteString("]]></script>\n</svg>\n")
	return bw.Flush()
}

func svgSubtitle(g *Graph, opts Options) string {
	var b strings.Builder
	if g.IsDiff {
		fmt.Fprintf(&b, "%s: base %s, target %s. Width: mean share of both; colour: change in share, blue shrank, orange grew",
			g.SampleType, FormatValue(g.BaseTotal, g.Unit), FormatValue(g.Total, g.Unit))
	} else {
		fmt.Fprintf(&b, "%s: total %s", g.SampleType, FormatValue(g.Total, g.Unit))
	}
	if mf := opts.minFraction(); mf > 0 {
		fmt.Fprintf(&b, "; frames under %s pruned", percent(mf))
	}
	return b.String()
}

type svgLayout struct {
	g         *Graph
	bw        *bufio.Writer
	width     float64
	depth     int
	icicle    bool
	maxChange float64
	// minFraction is the pruning threshold, for the tooltips of pruned frames.
	minFraction float64
}

// frame draws n at depth d, starting at fraction x of the width with width
// share w, then its children left to right.
func (l *svgLayout) frame(n *Node, d int, x, w float64) {
	px, pw := svgPad+x*l.width, w*l.width
	y := svgHeaderH + (l.depth-1-d)*svgFrameH
	if l.icicle {
		y = svgHeaderH + d*svgFrameH
	}
	fill := Color(n.Name)
	if l.g.IsDiff && n.pruned == 0 {
		fill = diffColor(l.g.change(n), l.maxChange)
	}
	fmt.Fprintf(l.bw, `<g class="f" data-x="%.6f" data-w="%.6f" data-d="%d" data-n="%s"><title>%s</title>`+
		`<rect x="%.2f" y="%d" width="%.2f" height="%d" fill="%s" rx="2"/>`,
		x, w, d, escape(n.Name), escape(l.tooltip(n)), px, y, pw, svgFrameH-1, fill)
	if pw >= svgMinLabelPx {
		style := ""
		if isDark(fill) {
			style = ` style="fill:#fff"`
		}
		fmt.Fprintf(l.bw, `<text x="%.2f" y="%d"%s>%s</text>`, px+3, y+svgFrameH-4, style, escape(fitLabel(n.Name, pw)))
	}
	l.bw.WriteString("</g>\n")
	for _, c := range n.Children {
		cw := l.g.share(c)
		l.frame(c, d+1, x, cw)
		x += cw
	}
}

// tooltip says what a frame costs in real units and as a share of the total.
func (l *svgLayout) tooltip(n *Node) string {
	g := l.g
	var b strings.Builder
	b.WriteString(n.Name)
	if n.pruned > 0 {
		fmt.Fprintf(&b, ": %d frames, each under %s of the total, summed", n.pruned, percent(l.minFraction))
	}
	if !g.IsDiff {
		fmt.Fprintf(&b, "\n%s, %s of total; self %s", FormatValue(n.Value, g.Unit), percent(frac(n.Value, g.Total)), FormatValue(n.Self(), g.Unit))
		return b.String()
	}
	fmt.Fprintf(&b, "\nbase %s (%s) → target %s (%s), change %+.2f pp",
		FormatValue(n.Base, g.Unit), percent(frac(n.Base, g.BaseTotal)),
		FormatValue(n.Value, g.Unit), percent(frac(n.Value, g.Total)), g.change(n)*100)
	switch {
	case n.Value == 0 && n.Base > 0:
		b.WriteString("; vanished in target")
	case n.Base == 0 && n.Value > 0:
		b.WriteString("; new in target")
	}
	return b.String()
}

// fitLabel shortens a name to fit px pixels: first the import path and any
// generic type arguments go ("internal/sync.(*HashTrieMap[…]).Swap" reads
// as "sync.(*HashTrieMap[…]).Swap"), then the tail, marked with "…". The
// tooltip keeps the full name. assets/svg.js repeats these rules.
func fitLabel(name string, px float64) string {
	fit := int((px - 6) / svgCharW)
	if utf8.RuneCountInString(name) <= fit {
		return name
	}
	name = shortLabel(name)
	runes := []rune(name)
	if len(runes) <= fit {
		return name
	}
	if fit < 3 {
		return ""
	}
	return string(runes[:fit-1]) + "…"
}

var genericArgs = regexp.MustCompile(`\[[^\[\]]*\]`)

// shortLabel drops the import path and generic type arguments of a name.
func shortLabel(name string) string {
	name = genericArgs.ReplaceAllString(name, "[…]")
	return name[strings.LastIndexByte(name, '/')+1:]
}

// isDark tells whether a "#rrggbb" fill needs light text.
func isDark(hex string) bool {
	var r, g, b uint8
	if _, err := fmt.Sscanf(hex, "#%02x%02x%02x", &r, &g, &b); err != nil {
		return false
	}
	return 0.299*float64(r)+0.587*float64(g)+0.114*float64(b) < 128
}

func treeDepth(n *Node) int {
	d := 0
	for _, c := range n.Children {
		d = max(d, treeDepth(c))
	}
	return d + 1
}

// escape makes text safe inside XML (and HTML) text and attribute values;
// characters XML cannot hold become U+FFFD.
func escape(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}
