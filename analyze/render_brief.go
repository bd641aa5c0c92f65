package analyze

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/contendr/contendr/collectors/figure"
	"github.com/contendr/contendr/internal/symbol"
)

// MinAssistGCCPU is the GC CPU fraction below which the mark-assist share
// is not shown: assists are a share of the GC's CPU, and of a GC that takes
// under 1% of the CPU any share of it is under 1% — nothing to act on.
const MinAssistGCCPU = 0.01

// WriteText writes the report a person reads in ten seconds: a verdict of
// one or two lines, the headline figures, one line per component with its
// advice, and what to do about data the window lacked. Names drop the
// module prefix the report's code shares (said once, in the header). The
// findings' messages, lock sites, evidence and notes are in
// WriteTextVerbose; the JSON keeps everything.
func (r *Report) WriteText(w io.Writer) error {
	if r.fromTraceOnly() {
		// A trace alone measured nothing the headline figures are: its
		// diagnosis is the report.
		return r.WriteTextVerbose(w)
	}
	p := &printer{w: w}
	short := r.shortener()
	p.f("contendr report for %s — %s\n", orDefault(r.Target.Source, "an unnamed target"), r.describeTarget())
	if short.prefix != "" {
		p.f("  names below drop the prefix %s\n", short.prefix)
	}
	p.f("\n")
	for _, line := range r.briefVerdict(short) {
		p.f("%s\n", line)
	}

	p.f("\n")
	rows := r.headlineFigures()
	width := 0
	for _, row := range rows {
		width = max(width, len([]rune(row.value)))
	}
	for _, row := range rows {
		line := fmt.Sprintf("  %-16s %-*s %-5s %s", row.name, width, row.value, row.severity, row.detail)
		p.f("%s\n", strings.TrimRight(line, " "))
		if row.why != "" {
			p.f("  %-16s %s\n", "", row.why)
		}
	}

	if comps := r.componentLines(short); len(comps) > 0 {
		p.f("\nCOMPONENTS\n")
		for _, c := range comps {
			p.f("  %s\n", c)
		}
	}

	// A window's trace or leak profile is an exact account: shown whole.
	r.textTrace(p)
	r.textLeaks(p)

	var todo []string
	for _, f := range r.Findings {
		if f.ID == FindingProfilingDisabled {
			todo = append(todo, f.Message)
		}
	}
	if len(todo) > 0 {
		p.f("\nTO SEE MORE\n")
		for _, t := range todo {
			p.f("  - %s\n", t)
		}
	}
	notes := plural(len(r.Notes), "note")
	p.f("\n(--verbose: each finding against its limit, holders and waiters, evidence, %s; --format json keeps everything)\n", notes)
	if p.err != nil {
		return fmt.Errorf("writing report as text: %w", p.err)
	}
	return nil
}

// briefVerdict is the verdict in two lines at most: the worst severity and
// where the time goes, what crossed its limit; then what to fix first.
func (r *Report) briefVerdict(short shortener) []string {
	l := r.Lock
	head := strings.ToUpper(string(r.WorstSeverity)) + ": "
	switch {
	case l.CostKnown:
		head += fmt.Sprintf("locks cost %s of the CPU capacity%s", l.costText(), l.costQualifier())
		if len(l.Components) > 0 && l.Cost > 0 && l.Components[0].Cost >= 0.5*l.Cost {
			head += fmt.Sprintf(", %s of it in %s", pct(min(l.Components[0].Cost/l.Cost, 1)), short.name(l.Components[0].Name))
		}
	case len(l.Components) > 0:
		head += fmt.Sprintf("contention cost unknown; %s has %s of the lock delay", short.name(l.Components[0].Name), pct(l.Components[0].Share))
	default:
		head += "contention cost unknown"
	}
	var over []string
	for _, f := range r.Findings {
		if f.Severity == SeverityOK || f.ID == FindingProfilingDisabled {
			continue
		}
		label := figureLabel(f.ID)
		if f.Component != "" && f.ID != FindingRuntimeLockCost {
			label = short.name(f.Component) + "'s " + label
		}
		over = append(over, label+" "+string(f.Severity))
	}
	if over = unique(over); len(over) > 0 {
		head += " — over the limit: " + strings.Join(over, ", ")
	}
	lines := []string{head + "."}
	for _, rec := range r.Recommendations {
		if rec.Recommended == StrategyKeep {
			continue
		}
		fix := fmt.Sprintf("Fix first: %s %s → %s", short.name(rec.Component), rec.Current, rec.Recommended)
		if g := rec.Gain.Cost; g > 0 {
			fix += fmt.Sprintf(", its locks cost %s of the CPU capacity", pct(g))
		}
		lines = append(lines, fix+".")
		break
	}
	return lines
}

// figureLabel is a finding's figure in words: "contention cost".
func figureLabel(id string) string {
	switch id {
	case FindingContentionCost:
		return "contention cost"
	case FindingComponentCost:
		return "cost"
	case FindingRuntimeLockCost:
		return "runtime locks"
	case FindingGCCPUFraction:
		return "GC CPU"
	case FindingGCPauseP99:
		return "GC pause p99"
	case FindingMapGrowthShare:
		return "map growth"
	}
	return strings.ReplaceAll(id, "_", " ")
}

// figureRow is one headline figure: its value, its severity when judged,
// and one short qualifier.
type figureRow struct{ name, value, severity, detail, why string }

// headlineFigures are the window's headline numbers; a figure the window
// did not measure reads "unknown", never 0.
func (r *Report) headlineFigures() []figureRow {
	severity := func(id string) string {
		for _, f := range r.Findings {
			if f.ID == id && f.Component == "" {
				return string(f.Severity)
			}
		}
		return ""
	}
	unknown := func(f figure.Figure) string { return "(" + r.Measured.Get(f).Reason + ")" }
	l, g := r.Lock, r.GC
	var rows []figureRow

	cost := figureRow{name: "contention cost", value: "unknown", detail: unknown(figure.ContentionCost)}
	if l.CostKnown {
		cost.value, cost.severity = l.costText(), severity(FindingContentionCost)
		cost.detail = strings.TrimPrefix(r.costHeadline(), "contention cost "+l.costText()+" of the CPU capacity ")
		// Why a lower bound or an estimate, in its first clause; the
		// whole reason is in --verbose and the JSON.
		if e := r.costEstimate(); e != "" {
			cost.why, _, _ = strings.Cut(e, "; ")
		}
	}
	rows = append(rows, cost)

	if l.WaitersKnown {
		w := figureRow{name: "lock waiters", value: trim(l.Waiters), detail: "goroutines blocked on locks on average (latency, not throughput)"}
		switch {
		case l.RunnableKnown && l.Runnable >= 1 && l.offCPUHandoffs():
			w.detail = fmt.Sprintf("blocked on locks on average, %s runnable, Ps %s off-CPU handing locks on: the locks held the work back", trim(l.Runnable), pct(l.CostDetail.OffCPUSeconds/l.CostDetail.CapacitySeconds))
		case l.RunnableKnown && l.Runnable >= 1:
			w.detail = fmt.Sprintf("blocked on locks on average, %s runnable: the CPU was saturated", trim(l.Runnable))
		}
		rows = append(rows, w)
	}
	if l.Known {
		rows = append(rows, figureRow{name: "lock wait share", value: pct(l.Fraction), detail: "context only: waits that replaced a wait for a CPU count too"})
	}

	gcCPU := figureRow{name: "GC CPU", value: "unknown", detail: unknown(figure.GCCPUFraction)}
	if r.Measured.Has(figure.GCCPUFraction) {
		gcCPU.value, gcCPU.severity, gcCPU.detail = pct(g.CPUFraction), severity(FindingGCCPUFraction), ""
		gcCPU.detail = r.assistText("%s of it in mark assists")
		if r.Measured.Estimated(figure.GCCPUFraction) {
			gcCPU.detail = strings.TrimPrefix(gcCPU.detail+"; estimated from the CPU profile", "; ")
		}
	}
	rows = append(rows, gcCPU)

	if r.Measured.Has(figure.GCPauseP99) && g.Cycles > 0 {
		rows = append(rows, figureRow{name: "GC pause p99", value: dur(g.PauseP99Seconds), severity: severity(FindingGCPauseP99),
			detail: fmt.Sprintf("max %s over %s", dur(g.PauseMaxSeconds), plural(int(g.Cycles), "cycle"))})
	}
	if r.Measured.Has(figure.AllocRate) {
		rows = append(rows, figureRow{name: "allocation", value: bytesHuman(g.AllocBytesPerSecond) + "/s",
			detail: fmt.Sprintf("heap live %s of goal %s", bytesHuman(g.HeapLiveBytes), bytesHuman(g.HeapGoalBytes))})
	}
	return rows
}

// componentLines is one line per component: its cost, its map growth when
// judged, and the advice for it.
func (r *Report) componentLines(short shortener) []string {
	var names []string
	for _, c := range r.Lock.Components {
		names = append(names, c.Name)
	}
	for _, f := range r.Findings {
		if f.ID == FindingMapGrowthShare && f.Severity != SeverityOK {
			names = append(names, f.Component)
		}
	}
	for _, rec := range r.Recommendations {
		names = append(names, rec.Component)
	}
	names = unique(names)

	var out []string
	for _, name := range names {
		var parts []string
		if i := slices.IndexFunc(r.Lock.Components, func(c LockComponent) bool { return c.Name == name }); i >= 0 {
			c := r.Lock.Components[i]
			part := "cost " + r.componentCost(c)
			if sev := r.findingSeverity(FindingComponentCost, name); sev != "" && sev != SeverityOK {
				part += " " + string(sev)
			}
			if !r.Lock.CostKnown {
				part = pct(c.Share) + " of lock delay"
			}
			parts = append(parts, part)
		}
		for _, f := range r.Findings {
			if f.ID == FindingMapGrowthShare && f.Component == name && f.Severity != SeverityOK {
				parts = append(parts, fmt.Sprintf("map growth %s of allocation %s", pct(f.Value), f.Severity))
			}
		}
		if i := slices.IndexFunc(r.Recommendations, func(rec Recommendation) bool { return rec.Component == name }); i >= 0 {
			parts = append(parts, "advice: "+r.Recommendations[i].headline())
		}
		out = append(out, fmt.Sprintf("%-24s %s", short.name(name), strings.Join(parts, " · ")))
	}
	return out
}

func (r *Report) findingSeverity(id, component string) Severity {
	for _, f := range r.Findings {
		if f.ID == id && f.Component == component {
			return f.Severity
		}
	}
	return ""
}

// shortener trims the import-path prefix every package the report names
// shares, up to the last path element of the shortest: with every name
// under github.com/acme/svc/internal/cache, "cache.(*LRU)" stays.
type shortener struct{ prefix string }

func (s shortener) name(n string) string { return strings.TrimPrefix(n, s.prefix) }

// text trims the prefix wherever it occurs in a sentence.
func (s shortener) text(t string) string {
	if s.prefix == "" {
		return t
	}
	return strings.ReplaceAll(t, s.prefix, "")
}

func (r *Report) shortener() shortener {
	var names []string
	for _, c := range r.Lock.Components {
		names = append(names, c.Name)
	}
	for _, s := range r.Lock.Sites {
		names = append(names, s.Function)
	}
	for _, g := range r.MapGrowth {
		names = append(names, g.Component, g.Function)
	}
	for _, rec := range r.Recommendations {
		names = append(names, rec.Component)
	}
	prefix, first := "", true
	for _, n := range names {
		// The directory of a module's package: up to the last "/" before
		// the package's first "."; main and the standard library have
		// nothing to trim.
		pkg := symbol.Package(n)
		host, _, _ := strings.Cut(pkg, "/")
		slash := strings.LastIndex(pkg, "/")
		if slash < 0 || !strings.Contains(host, ".") {
			continue
		}
		dir := pkg[:slash+1]
		if first {
			prefix, first = dir, false
			continue
		}
		for !strings.HasPrefix(dir, prefix) {
			cut := strings.LastIndex(strings.TrimSuffix(prefix, "/"), "/")
			if cut < 0 {
				return shortener{}
			}
			prefix = prefix[:cut+1]
		}
	}
	// Trimming only a host ("github.com/") says nothing a reader needs.
	if strings.Count(prefix, "/") < 2 {
		return shortener{}
	}
	return shortener{prefix: prefix}
}

// plural is "1 cycle", "3 cycles".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// assistText formats the mark-assist share with format when it was
// measured and the GC's CPU is above MinAssistGCCPU; "" otherwise.
func (r *Report) assistText(format string) string {
	if !r.Measured.Has(figure.GCAssistShare) || r.GC.CPUFraction < MinAssistGCCPU {
		return ""
	}
	return fmt.Sprintf(format, pct(r.GC.AssistShare))
}
