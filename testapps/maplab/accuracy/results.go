package accuracy

import (
	"fmt"
	"io"
	"strings"

	"github.com/contendr/contendr/analyze"
	"github.com/contendr/contendr/testapps/maplab/internal/resultfile"
)

// WriteFiles writes accuracy.json and accuracy.md into dir, creating it.
func (r *Results) WriteFiles(dir string) error {
	return resultfile.Write(dir, "accuracy", r, r.WriteMarkdown)
}

// ReadFile loads an accuracy.json written by WriteFiles.
func ReadFile(path string) (*Results, error) {
	var r Results
	if err := resultfile.Read(path, "accuracy", &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// Totals is the run's result in one line.
func (r *Results) Totals() string {
	return fmt.Sprintf("accuracy %.0f%% (%d of %d cases correct), mean regret %.2f",
		r.AccuracyPct, r.Correct, len(r.Cases), r.MeanRegret)
}

// WriteMarkdown renders the header, the totals and one row per case.
func (r *Results) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	m := r.Meta
	b.WriteString("# maplab: accuracy of contendr's map-strategy advice\n\n")
	if m.Command != "" {
		fmt.Fprintf(&b, "Command: `%s`\n\n", m.Command)
	}
	if m.Note != "" {
		fmt.Fprintf(&b, "Note: %s\n\n", m.Note)
	}
	fmt.Fprintf(&b, "Measured %s with %s %s/%s, GOMAXPROCS=%d (%d CPUs, %s); 1-minute load average %s before, %s after. ",
		m.Date.Format("2006-01-02T15:04:05Z"), m.GoVersion, m.GOOS, m.GOARCH, m.GOMAXPROCS, m.NumCPU, m.CPUModel, orDash(m.LoadAverageBefore), orDash(m.LoadAverageAfter))
	fmt.Fprintf(&b, "Each case: the workload run for %gs under a strategy that is not the workload's best, in-process with the agent "+
		"(CPU profile over the whole window), then `analyze` on that window.\n\n", m.RunSeconds)
	fmt.Fprintf(&b, "Ground truth: %s.\n\n", r.MatrixRun)
	b.WriteString("Scoring: the advice for the strategy's component (\"keep\", or no advice for it, leaves the current strategy) is correct when it is the workload's best, " +
		"within 10% of the best one's median ops/s, or among the matrix's ties; regret is the best median ops/s over the advised strategy's.\n\n")
	fmt.Fprintf(&b, "**Result: %s.**\n\n", r.Totals())
	writeMisses(&b, r.Cases)
	b.WriteString("## Every case\n\n")
	b.WriteString("| workload | current | advice | advised | confidence | correct | regret | rule | mix (reads) | regime placed | reason |\n")
	b.WriteString("|---|---|---|---|---:|---|---:|---|---|---|---|\n")
	for _, c := range r.Cases {
		advice := string(c.Recommended)
		if !c.Found {
			advice = "none (keep)"
		}
		correct := "no: " + c.Why
		if c.Correct {
			correct = "yes: " + c.Why
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %.2f | %s | %.2f | %s | %s (%.0f%%) | %s | %s |\n",
			c.Workload, c.Current, advice, c.Advised, c.Confidence, correct, c.Regret, c.Rule, c.Mix, c.ReadShare*100, orDash(c.RegimeClass), cellText(c.Reason))
	}
	_, err := io.WriteString(w, b.String())
	if err != nil {
		return fmt.Errorf("writing accuracy table: %w", err)
	}
	return nil
}

// writeMisses lists the wrong advice first, each with what the window was
// taken for beside what the workload was: a regime or mix placed wrongly
// explains most misses.
func writeMisses(b *strings.Builder, cases []Case) {
	var misses []Case
	for _, c := range cases {
		if !c.Correct {
			misses = append(misses, c)
		}
	}
	fmt.Fprintf(b, "## Misses (%d)\n\n", len(misses))
	if len(misses) == 0 {
		b.WriteString("None.\n\n")
		return
	}
	b.WriteString("| workload | current | advised | by how much | rule | measured mix | regime placed | why it missed |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|\n")
	for _, c := range misses {
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s (%.0f%%) | %s | %s |\n",
			c.Workload, c.Current, c.Advised, c.Why, orDash(c.Rule), orDash(c.Mix), c.ReadShare*100, orDash(c.RegimeClass), cellText(missReason(c)))
	}
	b.WriteString("\n")
}

// missReason names the likely cause of a miss from what the case
// recorded: no advice found, the regime placed elsewhere than the
// workload's, the mix read as another, or a pick the workload's own row
// disagrees with.
func missReason(c Case) string {
	mix, regime, _ := strings.Cut(c.Workload, "@")
	designed := ""
	if regime != "" {
		if parts := strings.SplitN(regime, "-", 3); len(parts) >= 2 {
			designed = parts[0] + "-" + parts[1]
		}
	}
	switch {
	case !c.Found:
		return "no recommendation named the component: " + c.Reason
	case c.Rule == "keep-thin-evidence":
		return "kept on thin evidence (" + c.Reason + ")"
	case designed != "" && c.RegimeClass != "" && designed != c.RegimeClass:
		return fmt.Sprintf("window placed in regime %s, the workload ran %s", c.RegimeClass, designed)
	case c.Mix != "" && c.Mix != "unknown" && analyze.MaplabMixClass(mix) != c.Mix && !(mix == "range"):
		return fmt.Sprintf("mix read as %s, the workload is %s", c.Mix, mix)
	case c.Advised == c.Current:
		return "kept: the regime's rows put the current strategy within 10% of their best, this row does not"
	}
	return "the regime's rows (other key types, value sizes, neighbouring mixes) ranked the advice first; this row does not"
}

func cellText(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}
