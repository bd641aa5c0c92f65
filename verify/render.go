package verify

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/contendr/contendr/analyze"
	"github.com/contendr/contendr/internal/maplab/replay"
)

// WriteJSON writes r as indented JSON (schema Schema).
func (r *Result) WriteJSON(w io.Writer) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding the verify result: %w", err)
	}
	_, err = w.Write(append(data, '\n'))
	return err
}

// WriteText writes r for a reader: one block per component with its
// verdict first, then the figures behind it.
func (r *Result) WriteText(w io.Writer) error {
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	p("contendr verify: the advice replayed on %s (%s)\n", r.Machine, r.Machine.GoVersion)
	p("source: %s; %d runs of %.2gs per strategy, interleaved; budget %gs\n", r.Source, r.Repeat, r.RunSeconds, r.Seconds)
	for _, c := range r.Components {
		advice := fmt.Sprintf("%s → %s", c.Current, c.Recommended)
		if c.Recommended == analyze.StrategyKeep {
			advice = "keep " + string(c.Current)
		}
		p("\n%s: %s: %s\n", c.Component, advice, strings.ToUpper(strings.ReplaceAll(string(c.Verdict), "-", " ")))
		p("  %s\n", c.Reason)
		if c.Need != "" {
			p("  to decide: %s\n", c.Need)
		}
		writeTable(&b, c)
		if c.FastestDiffers {
			p("  fastest here: %s, measurably ahead of %s\n", c.Fastest, c.Recommended)
		}
		p("  replayed: %s on GOMAXPROCS %d, %.0fs", c.Workload, r.Machine.GOMAXPROCS, c.WallSeconds)
		if c.LoadBefore != "" {
			p(", load average %s → %s", c.LoadBefore, c.LoadAfter)
		}
		p("\n")
		for _, a := range c.Assumed {
			p("  assumed: %s\n", a)
		}
		for _, warn := range c.Warnings {
			p("  warning: %s\n", warn)
		}
	}
	for _, s := range r.Skipped {
		p("\n%s: not replayed: %s\n", s.Component, s.Reason)
	}
	if len(r.Components) > 0 {
		p("\nThe report's expected gains now quote these measurements (--format json holds the report under \"report\").\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeTable(b *strings.Builder, c Component) {
	label := func(i int, name string) string {
		switch {
		case i == 0:
			return name + " (current)"
		case i == 1 && c.Recommended != analyze.StrategyKeep:
			return name + " (advised)"
		}
		return name
	}
	interval := "95% interval"
	for _, m := range c.Strategies {
		if !m.OpsPerSec.IntervalKnown {
			interval = fmt.Sprintf("min – max (<%d runs)", replay.MinRunsForInterval)
		}
	}
	fmt.Fprintf(b, "  %-22s %13s   %-21s %7s %10s\n", "strategy", "median ops/s", interval, "spread", "run queue")
	for i, m := range c.Strategies {
		s := m.OpsPerSec
		fmt.Fprintf(b, "  %-22s %13s   %-21s %7s %9.0f%%\n", label(i, m.Strategy), analyze.FormatOps(s.Median),
			analyze.FormatOps(s.Lo)+" – "+analyze.FormatOps(s.Hi), fmt.Sprintf("±%.0f%%", 100*s.Spread), 100*m.RunQueueShare)
	}
}
