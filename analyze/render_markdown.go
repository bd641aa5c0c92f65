package analyze

import (
	"fmt"
	"io"
	"strings"

	"github.com/contendr/contendr/collectors/figure"
)

// severityBadge marks a severity in Markdown, readable without colour.
var severityBadge = map[Severity]string{
	SeverityOK:   "🟢 ok",
	SeverityWarn: "🟠 warn",
	SeverityCrit: "🔴 crit",
}

// WriteMarkdown writes the report for a pull-request or ticket comment:
// the verdict, a findings table, the contended locks, GC pressure, map
// growth and recommendations, with evidence folded under <details>.
func (r *Report) WriteMarkdown(w io.Writer) error {
	p := &printer{w: w}
	p.f("## contendr: %s\n\n", mdEscape(orDefault(r.Target.Source, "unnamed target")))
	p.f("%s\n\n", mdEscape(r.describeTarget()))
	p.f("**%s**\n\n", mdEscape(r.Verdict))

	p.f("### Findings\n\n")
	if len(r.Findings) == 0 {
		p.f("None: the window held nothing to judge.\n\n")
	} else {
		p.f("| severity | finding | value | warn | crit | detail |\n|---|---|---|---|---|---|\n")
		for _, f := range r.Findings {
			p.f("| %s | %s | %s | %s | %s | %s |\n", severityBadge[f.Severity], mdCode(f.shortName()),
				f.formatValue(), f.formatLimit(f.Warn), f.formatLimit(f.Crit), mdEscape(f.Message))
		}
		p.f("\n")
	}

	p.f("### Lock contention\n\n")
	p.f("**%s**.", mdEscape(r.costHeadline()))
	if e := r.costEstimate(); e != "" {
		p.f(" _%s_.", mdEscape(e))
	}
	p.f("\n\n")
	if w := r.waitersLine(); w != "" {
		p.f("- %s\n", mdEscape(w))
	}
	p.f("- %s\n\n", mdEscape(r.waitShareLine()))
	if len(r.Lock.Components) > 0 {
		p.f("| component | cost | CPU in locks | idle lost | lock wait share | share of delay | delay | kinds | who waits on whom |\n|---|---|---|---|---|---|---|---|---|\n")
		for _, c := range r.Lock.Components {
			hw := mdEscape(holdsWaits(c.Holder, c.Waiter))
			p.f("| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", mdCode(c.Name), r.componentCost(c), dur(c.SyncCPUSeconds), dur(c.IdleLostSeconds),
				r.componentFraction(c), pct(c.Share), delayText(c.DelaySecondsPerSecond, c.DelaySeconds), strings.Join(c.Kinds, ", "), hw)
		}
		p.f("\n")
	}
	r.markdownTrace(p)

	p.f("### GC pressure\n\n")
	if g := r.GC; g.Known {
		if r.Measured.Has(figure.GCCPUFraction) {
			p.f("- GC CPU **%s** of all CPU%s\n", pct(g.CPUFraction), r.assistText(" (mark assists %s of it)"))
		}
		if r.Measured.Has(figure.GCPauseP99) {
			p.f("- pauses p50 %s, p99 **%s**, max %s over %d cycles\n", dur(g.PauseP50Seconds), dur(g.PauseP99Seconds), dur(g.PauseMaxSeconds), g.Cycles)
		}
		if r.Measured.Has(figure.AllocRate) {
			p.f("- allocating %s/s; heap live %s of goal %s; %s\n", bytesHuman(g.AllocBytesPerSecond),
				bytesHuman(g.HeapLiveBytes), bytesHuman(g.HeapGoalBytes), gcSettings(g))
		}
		p.f("- source: %s\n\n", mdEscape(g.Source))
	} else {
		p.f("Unknown: no runtime/metrics or MemStats in the window.\n\n")
	}

	if len(r.MapGrowth) > 0 {
		p.f("### Map growth\n\n| component | kind | rate | share of allocation | in |\n|---|---|---|---|---|\n")
		for _, g := range r.MapGrowth {
			p.f("| %s | %s | %s | %s | %s |\n", mdCode(g.Component), g.Kind, bytesText(g.BytesPerSecond, g.Bytes), pct(g.ShareOfAlloc), mdCode(g.Function))
		}
		p.f("\n")
	}

	p.f("### Recommendations\n\n")
	if len(r.Recommendations) == 0 {
		p.f("None: no component guards or grows a map in this window.\n\n")
	}
	for _, rec := range r.Recommendations {
		p.f("- %s: **%s**\n", mdCode(rec.Component), mdEscape(rec.headline()))
		for _, reason := range rec.Reasons {
			p.f("  - %s\n", mdEscape(reason))
		}
		p.f("  - expected gain: %s\n", mdEscape(rec.gainText()))
		if rec.Decide != "" {
			p.f("  - to decide: %s\n", mdEscape(rec.Decide))
		}
		p.f("\n  <details><summary>evidence</summary>\n\n")
		for _, e := range rec.Evidence {
			p.f("  - %s\n", mdEscape(e))
		}
		p.f("\n  </details>\n\n")
	}

	if len(r.Notes) > 0 {
		p.f("### Notes\n\n")
		for _, n := range r.Notes {
			p.f("- %s\n", mdEscape(n))
		}
	}
	if p.err != nil {
		return fmt.Errorf("writing report as Markdown: %w", p.err)
	}
	return nil
}

// mdEscape keeps Go identifiers and user text from turning into Markdown:
// main.(*Cache) would otherwise italicise, and | would split a table cell.
var mdReplacer = strings.NewReplacer(`\`, `\\`, `*`, `\*`, `_`, `\_`, "`", "\\`", `|`, `\|`, `<`, `&lt;`, `>`, `&gt;`, `[`, `\[`, `]`, `\]`)

func mdEscape(s string) string { return mdReplacer.Replace(s) }

// mdCode renders an identifier as inline code (no escaping needed inside,
// except the table separator).
func mdCode(s string) string {
	if s == "" {
		return ""
	}
	return "`" + strings.ReplaceAll(strings.ReplaceAll(s, "`", "'"), "|", `\|`) + "`"
}
