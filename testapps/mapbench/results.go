package main

import (
	"bytes"
	"debug/buildinfo"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"
)

// Schema identifies the results' JSON layout.
const Schema = "mapbench.accuracy/v1"

// CaseResult is one case measured, analyzed and scored.
type CaseResult struct {
	Case     string       `json:"case"`
	Workload string       `json:"workload"`
	About    string       `json:"about"`
	Regime   Regime       `json:"regime"`
	Current  Impl         `json:"current"`
	Measured []Throughput `json:"measured"`
	// Advice is contendr's recommendation about the map (nil: none), and
	// Others the recommendations it made about other components.
	Advice *Recommendation `json:"advice,omitempty"`
	Others []string        `json:"others,omitempty"`
	// Cost is the window's contention cost as contendr measured it.
	Cost      float64 `json:"contention_cost"`
	CostKnown bool    `json:"contention_cost_known"`
	Verdict   string  `json:"verdict"`
	Score     Score   `json:"score"`
	// Window is the bundle contendr analyzed, for `contendr analyze`.
	Window string `json:"window,omitempty"`
}

// Summary is the accuracy over all cases.
type Summary struct {
	Cases      int     `json:"cases"`
	Correct    int     `json:"correct"`
	Accuracy   float64 `json:"accuracy"`
	MeanRegret float64 `json:"mean_regret"`
	MaxRegret  float64 `json:"max_regret"`
	// Indistinct counts the misses whose runs cannot tell the advised
	// implementation from the best (U test p ≥ 0.05); AccuracyWithTies
	// counts them as correct, maplab's definition of a hit.
	Indistinct       int     `json:"indistinct_misses"`
	AccuracyWithTies float64 `json:"accuracy_with_ties"`
	// Constant is what always giving one answer would have scored, the
	// bar any advisor has to clear.
	Constant []ConstantAdvisor `json:"constant_advisors"`
}

// ConstantAdvisor scores one fixed answer on every case.
type ConstantAdvisor struct {
	Answer     string  `json:"answer"`
	Correct    int     `json:"correct"`
	MeanRegret float64 `json:"mean_regret"`
}

// Machine is where the results were measured.
type Machine struct {
	Date       time.Time `json:"date"`
	GoVersion  string    `json:"go_version"`
	OS         string    `json:"os"`
	CPU        string    `json:"cpu,omitempty"`
	NumCPU     int       `json:"num_cpu"`
	GOMAXPROCS int       `json:"gomaxprocs"`
	LoadBefore string    `json:"load_before,omitempty"`
	LoadAfter  string    `json:"load_after,omitempty"`
	Commit     string    `json:"commit,omitempty"`
}

// Results is one run of the harness.
type Results struct {
	Schema  string `json:"schema"`
	Command string `json:"command"`
	// Reanalyzed names the earlier results whose windows and ops/s this
	// run re-scored ("" for a run that measured), MeasuredBy the command
	// that measured them.
	Reanalyzed string `json:"reanalyzed,omitempty"`
	MeasuredBy string `json:"measured_by,omitempty"`
	// Remeasured names the cases of a re-scoring run that were measured
	// anew (-remeasure), on the Machine of RemeasuredOn.
	Remeasured   []string     `json:"remeasured,omitempty"`
	RemeasuredOn *Machine     `json:"remeasured_on,omitempty"`
	Machine      Machine      `json:"machine"`
	Settings     Settings     `json:"settings"`
	Summary      Summary      `json:"summary"`
	Cases        []CaseResult `json:"cases"`
}

func readResults(path string) (*Results, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Results
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if r.Schema != Schema {
		return nil, fmt.Errorf("%s: schema %q, want %q", path, r.Schema, Schema)
	}
	return &r, nil
}

func (r *Results) has(name string) bool {
	return slices.ContainsFunc(r.Cases, func(c CaseResult) bool { return c.Case == name })
}

func summarize(cases []CaseResult) Summary {
	var s Summary
	s.Cases = len(cases)
	var regret float64
	for _, c := range cases {
		if c.Score.Correct {
			s.Correct++
		} else if !c.Score.Distinct() {
			s.Indistinct++
		}
		regret += c.Score.Regret
		s.MaxRegret = max(s.MaxRegret, c.Score.Regret)
	}
	if s.Cases > 0 {
		s.Accuracy = float64(s.Correct) / float64(s.Cases)
		s.AccuracyWithTies = float64(s.Correct+s.Indistinct) / float64(s.Cases)
		s.MeanRegret = regret / float64(s.Cases)
	}
	answers := append([]string{"no change"}, sortedStrategies()...)
	for _, answer := range answers {
		a := ConstantAdvisor{Answer: answer}
		for _, c := range cases {
			impl := c.Current
			if answer != "no change" {
				impl = strategyImpl[answer]
			}
			ops, best := opsOf(c.Measured, impl), opsOf(c.Measured, c.Score.Best)
			if ops >= nearBest*best {
				a.Correct++
			}
			if ops > 0 {
				a.MeanRegret += best / ops / float64(len(cases))
			}
		}
		s.Constant = append(s.Constant, a)
	}
	return s
}

func sortedStrategies() []string {
	var out []string
	for _, impl := range Impls {
		out = append(out, strategyOf(impl))
	}
	return out
}

func opsOf(measured []Throughput, impl Impl) float64 {
	for _, t := range measured {
		if t.Impl == impl {
			return t.Median
		}
	}
	return 0
}

func machine(date time.Time) Machine {
	m := Machine{
		Date:       date.UTC(),
		GoVersion:  runtime.Version(),
		OS:         runtime.GOOS + "/" + runtime.GOARCH,
		NumCPU:     runtime.NumCPU(),
		GOMAXPROCS: runtime.GOMAXPROCS(0),
		LoadBefore: loadAverage(),
	}
	if info, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.SplitSeq(string(info), "\n") {
			if name, value, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(name) == "model name" {
				m.CPU = strings.TrimSpace(value)
				break
			}
		}
	}
	m.Commit = commitStamp("")
	return m
}

// commitStamp names the checkout in dir ("" for the working directory):
// HEAD's short hash, with "-dirty" when the code differs from it — tracked
// or new files outside results directories. Results do not change what
// ran, and a -reanalyze loop rewrites one square's results after another:
// counted, they marked every run after the first dirty.
func commitStamp(dir string) string {
	git := func(args ...string) ([]byte, error) {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		return cmd.Output()
	}
	head, err := git("rev-parse", "--short", "HEAD")
	if err != nil {
		return ""
	}
	stamp := strings.TrimSpace(string(head))
	changed, err := git("status", "--porcelain", "--", ":/", ":(top,exclude,glob)**/results/**")
	if err != nil || len(bytes.TrimSpace(changed)) > 0 {
		stamp += "-dirty"
	}
	return stamp
}

// cliStamp names the commit a contendr binary was built from, as
// commitStamp does a checkout, from the VCS stamp Go writes into a binary
// built in a repository; without one, it says so.
func cliStamp(path string) string {
	info, err := buildinfo.ReadFile(path)
	if err != nil {
		return "an unreadable CLI (" + path + ")"
	}
	var rev, modified string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	if rev == "" {
		return "a CLI without a VCS stamp (" + path + ")"
	}
	stamp := rev[:min(7, len(rev))]
	if modified == "true" {
		stamp += "-dirty"
	}
	return stamp
}

// loadAverage is the 1, 5 and 15 minute load averages ("" off Linux).
func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

// write saves results as accuracy.json and accuracy.md in dir.
func (r *Results) write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "accuracy.json"), append(data, '\n'), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "accuracy.md"), r.markdown(), 0o644)
}

func (r *Results) markdown() []byte {
	var b bytes.Buffer
	s := r.Summary
	m := r.Machine
	fmt.Fprintf(&b, "# contendr's map advice, out of sample\n\n")
	fmt.Fprintf(&b, "`%s` — %s, %s, %s, %d CPUs, GOMAXPROCS %d, load %s before / %s after, commit %s.\n",
		r.Command, m.Date.Format("2006-01-02 15:04 UTC"), m.GoVersion, cpuName(m), m.NumCPU, m.GOMAXPROCS, m.LoadBefore, m.LoadAfter, m.Commit)
	if r.Reanalyzed != "" {
		if len(r.Remeasured) == 0 {
			fmt.Fprintf(&b, "Advice re-scored on the windows and ops/s of %s, measured by `%s` (nothing measured anew).\n", r.Reanalyzed, r.MeasuredBy)
		} else {
			m := r.RemeasuredOn
			fmt.Fprintf(&b, "Advice re-scored on the windows and ops/s of %s, measured by `%s`, except %d cases measured anew (%s) %s UTC, commit %s, load %s before / %s after.\n",
				r.Reanalyzed, r.MeasuredBy, len(r.Remeasured), strings.Join(r.Remeasured, ", "), m.Date.UTC().Format("2006-01-02 15:04"), m.Commit, m.LoadBefore, m.LoadAfter)
		}
	}
	fmt.Fprintf(&b, "Each implementation measured %d times per case, interleaved, %s a run; the current one profiled for %s under contendr's agent, its window analyzed by `contendr analyze WINDOW --format json`.\n\n",
		r.Settings.Rounds, r.Settings.Benchtime, r.Settings.Profile)
	fmt.Fprintf(&b, "**Accuracy %.0f%% (%d/%d), mean regret %.2f, worst %.2f**; %d of the %d misses are ones the runs cannot tell from a hit (U test p ≥ %.2f), %.0f%% counting those as hits (maplab's definition). Correct: the advised strategy's median ops/s is within 10%% of the best measured (or, when no change is advised, the current one is). Regret: best ops/s ÷ the advised strategy's.\n\n",
		100*s.Accuracy, s.Correct, s.Cases, s.MeanRegret, s.MaxRegret, s.Indistinct, s.Cases-s.Correct, alpha, 100*s.AccuracyWithTies)
	b.WriteString("| always answering | correct | mean regret |\n|---|---|---|\n")
	for _, a := range s.Constant {
		fmt.Fprintf(&b, "| %s | %d/%d | %.2f |\n", a.Answer, a.Correct, s.Cases, a.MeanRegret)
	}
	b.WriteString("\n## Cases\n\nops/s: median ± half its 95% confidence interval (the runs' range under 6 rounds); **bold**: the best; *: the current implementation. Advice: contendr's reading of the current strategy → its recommendation (rule).\n\n")
	b.WriteString("| case | current |")
	for _, impl := range Impls {
		fmt.Fprintf(&b, " %s (%s) |", impl, strategyOf(impl))
	}
	b.WriteString(" advice | result | regret |\n|---|---|")
	for range Impls {
		b.WriteString("---|")
	}
	b.WriteString("---|---|---|\n")
	for _, c := range r.Cases {
		fmt.Fprintf(&b, "| %s | %s |", c.Case, strategyOf(c.Current))
		for _, t := range c.Measured {
			cell := fmt.Sprintf("%s ±%.0f%%", si(t.Median), 100*t.Spread())
			if t.Impl == c.Score.Best {
				cell = "**" + cell + "**"
			}
			if t.Impl == c.Current {
				cell += "*"
			}
			fmt.Fprintf(&b, " %s |", cell)
		}
		result := "correct"
		if !c.Score.Correct {
			result = "miss"
		}
		fmt.Fprintf(&b, " %s | %s | %.2f |\n", adviceText(c), result, c.Score.Regret)
	}
	b.WriteString("\n## Misses\n\n")
	misses := 0
	for _, c := range r.Cases {
		if c.Score.Correct {
			continue
		}
		misses++
		fmt.Fprintf(&b, "- **%s** (%s): %s\n", c.Case, c.About, c.Score.Miss)
	}
	if misses == 0 {
		b.WriteString("None.\n")
	}
	var identity []string
	for _, c := range r.Cases {
		if c.Score.Identity != "" {
			identity = append(identity, fmt.Sprintf("- %s: %s", c.Case, c.Score.Identity))
		}
	}
	if len(identity) > 0 {
		b.WriteString("\n## Current strategy read wrong\n\n" + strings.Join(identity, "\n") + "\n")
	}
	return b.Bytes()
}

func cpuName(m Machine) string {
	if m.CPU == "" {
		return m.OS
	}
	return m.OS + " " + m.CPU
}

func adviceText(c CaseResult) string {
	if c.Advice == nil {
		return "none"
	}
	rec := c.Advice.Recommended
	if rec == "" {
		rec = "keep"
	}
	return fmt.Sprintf("%s → %s (%s)", c.Advice.Current, rec, c.Advice.Rule)
}
