package gate

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/contendr/contendr/canary"
)

// WriteText prints one row per figure and the verdict.
func (r Result) WriteText(w io.Writer) error {
	seconds := func(s Side) string {
		if len(s.Windows) == 0 {
			return "no windows"
		}
		return fmt.Sprintf("%d windows of %.0fs", len(s.Windows), s.Windows[0].Seconds)
	}
	fmt.Fprintf(w, "baseline  %s  (%s)\ncanary    %s  (%s)\n\n", r.Baseline.Target, seconds(r.Baseline), r.Canary.Target, seconds(r.Canary))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "figure\tbaseline median [95%% CI]\tcanary median [95%% CI]\teffect\tp\tresult\n")
	for _, f := range r.Figures {
		label := f.Label()
		if f.Component != "" {
			label = "component " + ShortComponent(f.Component)
		}
		if f.Verdict == canary.Skipped {
			fmt.Fprintf(tw, "%s\t—\t—\t\t\tSKIPPED (%s)\n", label, f.Reason)
			continue
		}
		effect := canary.Format(f.Delta, f.Unit)
		if f.Delta >= 0 {
			effect = "+" + effect
		}
		if f.Ratio != nil {
			effect += fmt.Sprintf(" (%.2f×)", *f.Ratio)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%.3g\t%s\n", label, summaryText(f.Baseline, f.Unit), summaryText(f.Canary, f.Unit),
			effect, f.P, strings.ToUpper(strings.ReplaceAll(string(f.Verdict), "-", " ")))
	}
	wait := func(s Side) string {
		var v []float64
		for _, win := range s.Windows {
			if win.LockWaitShare != nil {
				v = append(v, *win.LockWaitShare)
			}
		}
		if len(v) == 0 {
			return "—"
		}
		return canary.Format(median(v), "fraction")
	}
	fmt.Fprintf(tw, "lock wait share (context)\t%s\t%s\t\t\t\n", wait(r.Baseline), wait(r.Canary))
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, s := range []struct {
		name string
		side Side
	}{{"baseline", r.Baseline}, {"canary", r.Canary}} {
		for _, n := range s.side.Notes {
			fmt.Fprintf(w, "note: %s: %s\n", s.name, n)
		}
	}
	var err error
	switch r.Verdict {
	case canary.Fail:
		_, err = fmt.Fprintf(w, "FAIL: %s\n", strings.Join(r.Reasons, "; "))
	case canary.CannotTell:
		_, err = fmt.Fprintf(w, "CANNOT TELL: %s\n", strings.Join(r.Reasons, "; "))
	case canary.Skipped:
		_, err = fmt.Fprintf(w, "NO DATA: %s\n", strings.Join(r.Reasons, "; "))
	default:
		_, err = fmt.Fprintf(w, "PASS: no figure of the canary is worse than the baseline's beyond the minimum effect (p < %g)\n", r.Config.Alpha)
	}
	return err
}

// summaryText prints a median with its interval, or with the range of the
// windows when they are too few for an interval.
func summaryText(s canary.Summary, unit string) string {
	if s.Lo != nil && s.Hi != nil {
		return fmt.Sprintf("%s [%s, %s]", canary.Format(s.Median, unit), canary.Format(*s.Lo, unit), canary.Format(*s.Hi, unit))
	}
	return fmt.Sprintf("%s (range %s–%s)", canary.Format(s.Median, unit), canary.Format(s.Min, unit), canary.Format(s.Max, unit))
}

// ShortComponent drops the import path before a component's package name,
// which the table has no room for: example.com/app/cache.(*LRU) →
// cache.(*LRU). JSON keeps the full name.
func ShortComponent(name string) string {
	paren := strings.Index(name, "(")
	if paren < 0 {
		paren = len(name)
	}
	if slash := strings.LastIndex(name[:paren], "/"); slash >= 0 {
		return name[slash+1:]
	}
	return name
}
