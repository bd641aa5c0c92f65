// Package verify checks a report's map-strategy advice on the machine it
// runs on: for each recommended component it replays the workload the
// window measured (internal/maplab/replay) for the current strategy, the
// recommended one and any others asked for, interleaved and repeated, and
// says whether the recommended strategy is measurably faster — confirmed,
// refuted, or cannot tell and what more to measure. The advice's rules were
// measured on a 2-core machine; a 32-core box may answer differently, and
// this is how its owner finds out.
package verify

import (
	"context"
	"errors"
	"fmt"
	"go/version"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/contendr/contendr/analyze"
	"github.com/contendr/contendr/internal/maplab/replay"
	"github.com/contendr/contendr/internal/maplab/strategy"
	"github.com/contendr/contendr/internal/maplab/workload"
)

// Schema identifies the JSON layout of a Result (docs/verify-schema.md).
// Fields are only ever added under one schema.
const Schema = "contendr.verify/v1"

// Defaults of Options.
const (
	DefaultBudget  = 30 * time.Second
	DefaultRepeat  = replay.MinRunsForInterval
	DefaultMinGain = 0.05
)

// Options say how long and how often to measure.
type Options struct {
	// Budget is the total replay time over every component, split evenly
	// into runs; 0 means DefaultBudget.
	Budget time.Duration
	// Repeat is the runs per strategy; 0 means DefaultRepeat.
	Repeat int
	// Extra are strategies (internal/maplab/strategy names) measured besides
	// each component's current and recommended ones, to show which is
	// fastest here.
	Extra []string
	// MinGain is the smallest gain (0.05 = 5% more ops/s) that confirms a
	// recommendation; 0 means DefaultMinGain.
	MinGain float64
	// Alpha is the Mann-Whitney level; 0 means replay.DefaultAlpha.
	Alpha float64
	// Progress, when set, is told of every finished run.
	Progress func(component string, p replay.Progress)
}

func (o Options) withDefaults() Options {
	if o.Budget == 0 {
		o.Budget = DefaultBudget
	}
	if o.Repeat == 0 {
		o.Repeat = DefaultRepeat
	}
	if o.MinGain == 0 {
		o.MinGain = DefaultMinGain
	}
	if o.Alpha == 0 {
		o.Alpha = replay.DefaultAlpha
	}
	return o
}

// Result is a verification of one report.
type Result struct {
	Schema  string  `json:"schema"`
	Source  string  `json:"source"` // the report file or target verified
	Machine Machine `json:"machine"`
	Date    string  `json:"date"` // RFC 3339, when the replay started
	// Seconds is the budget; RunSeconds the length of one run; Repeat the
	// runs per strategy.
	Seconds    float64 `json:"seconds"`
	RunSeconds float64 `json:"run_seconds"`
	Repeat     int     `json:"repeat"`
	MinGain    float64 `json:"min_gain"`
	Alpha      float64 `json:"alpha"`

	Components []Component `json:"components"`
	// Skipped are recommendations not replayed, with the reason.
	Skipped []Skipped `json:"skipped"`
	// Report is the verified report with every measurement attached as the
	// source of its recommendation's expected gain.
	Report *analyze.Report `json:"report"`
}

// Machine is where the replay ran.
type Machine struct {
	GOOS       string `json:"goos"`
	GOARCH     string `json:"goarch"`
	GoVersion  string `json:"go_version"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	NumCPU     int    `json:"num_cpu"`
}

func (m Machine) String() string {
	return fmt.Sprintf("%s/%s, GOMAXPROCS %d, %d CPUs", m.GOOS, m.GOARCH, m.GOMAXPROCS, m.NumCPU)
}

// Component is one recommendation, replayed.
type Component struct {
	Component   string           `json:"component"`
	Current     analyze.Strategy `json:"current"`
	Recommended analyze.Strategy `json:"recommended"`
	Rule        string           `json:"rule"`
	// Workload is what was replayed; Assumed lists what the report did
	// not measure and was filled with a default.
	Workload workload.Spec `json:"workload"`
	Assumed  []string      `json:"assumed"`

	replay.Judgement
	Comparison replay.Comparison `json:"comparison"`
	Strategies []replay.Measured `json:"strategies"`
	// Fastest is the strategy with the highest median among those run;
	// FastestDiffers is set when it is neither the current nor the
	// recommended one and measurably beats the recommended.
	Fastest        string  `json:"fastest"`
	FastestDiffers bool    `json:"fastest_differs,omitempty"`
	WallSeconds    float64 `json:"wall_seconds"`
	LoadBefore     string  `json:"load_before,omitempty"`
	LoadAfter      string  `json:"load_after,omitempty"`
	// Warnings say what may weaken the figures (a busy machine).
	Warnings []string `json:"warnings,omitempty"`
}

// Skipped is a recommendation verify did not replay.
type Skipped struct {
	Component string `json:"component"`
	Reason    string `json:"reason"`
}

// ErrNothingToVerify is returned (wrapped, with the reason) when a report
// has no recommendation a replay can check.
var ErrNothingToVerify = errors.New("nothing to verify")

// Verify replays every recommendation of rep that advises a change, and
// every keep when opts.Extra names strategies to check it against, for
// source (the report file or target, quoted in the result).
func Verify(ctx context.Context, rep *analyze.Report, source string, opts Options) (*Result, error) {
	if rep == nil {
		return nil, errors.New("verifying: no report")
	}
	opts = opts.withDefaults()
	if err := opts.validate(); err != nil {
		return nil, err
	}
	res := &Result{
		Schema: Schema, Source: source, Machine: thisMachine(), Date: time.Now().UTC().Format(time.RFC3339),
		Seconds: opts.Budget.Seconds(), Repeat: opts.Repeat, MinGain: opts.MinGain, Alpha: opts.Alpha,
		Components: []Component{}, Skipped: []Skipped{},
	}
	type job struct {
		rec        analyze.Recommendation
		strategies []string
	}
	var jobs []job
	runs := 0
	for _, rec := range rep.Recommendations {
		strategies, why := strategiesFor(rec, opts.Extra)
		if why != "" {
			res.Skipped = append(res.Skipped, Skipped{Component: rec.Component, Reason: why})
			continue
		}
		jobs = append(jobs, job{rec, strategies})
		runs += opts.Repeat * len(strategies)
	}
	if len(jobs) == 0 {
		return res, nothingToVerify(rep, res.Skipped)
	}
	runFor := opts.Budget / time.Duration(runs)
	if runFor < replay.MinRunDuration {
		need := time.Duration(runs) * replay.MinRunDuration
		return nil, fmt.Errorf("a budget of %s over %d runs (%d components × strategies × %d repeats) gives runs of %s; a run needs at least %s: give at least %s, or fewer repeats or strategies",
			opts.Budget, runs, len(jobs), opts.Repeat, runFor.Round(time.Millisecond), replay.MinRunDuration, need.Round(time.Second))
	}
	res.RunSeconds = runFor.Seconds()

	for _, j := range jobs {
		c, err := verifyOne(ctx, j.rec, j.strategies, runFor, opts)
		if err != nil {
			return nil, fmt.Errorf("verifying %s: %w", j.rec.Component, err)
		}
		if slices.Contains(j.strategies, strategy.NameSyncMap) && oldSyncMap(rep.Target.GoVersion) {
			c.Warnings = append(c.Warnings, fmt.Sprintf("the target runs %s, whose sync.Map is the read/dirty design (legacy here); the syncmap replayed is this contendr's %s HashTrieMap",
				rep.Target.GoVersion, runtime.Version()))
		}
		res.Components = append(res.Components, c)
	}
	res.Report = withMeasurements(rep, res)
	return res, nil
}

// strategiesFor lists what to replay for rec, current first and
// recommended second, or says why it cannot be replayed.
func strategiesFor(rec analyze.Recommendation, extra []string) ([]string, string) {
	current, ok := strategyFor(rec.Current)
	if !ok {
		return nil, fmt.Sprintf("the current strategy is %s: there is nothing to replay it with (re-run analyze with mutex and block profiles enabled)", rec.Current)
	}
	if rec.Recommended == analyze.StrategyKeep {
		others := slices.DeleteFunc(slices.Clone(extra), func(s string) bool { return s == current })
		if len(others) == 0 {
			return nil, fmt.Sprintf("keep %s: no change is advised (give --strategies to check the keep against others)", rec.Current)
		}
		return append([]string{current}, others...), ""
	}
	recommended, ok := strategyFor(rec.Recommended)
	if !ok {
		return nil, fmt.Sprintf("the recommended strategy %s has no replay", rec.Recommended)
	}
	out := []string{current, recommended}
	for _, s := range extra {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out, ""
}

func nothingToVerify(rep *analyze.Report, skipped []Skipped) error {
	if len(rep.Recommendations) == 0 {
		return fmt.Errorf("%w: the report has no recommendations (no component guards or grows a map in its window); analyze a window taken under load", ErrNothingToVerify)
	}
	var why []string
	for _, s := range skipped {
		why = append(why, s.Component+": "+s.Reason)
	}
	return fmt.Errorf("%w: no recommendation advises a change a replay can check (%s)", ErrNothingToVerify, strings.Join(why, "; "))
}

func verifyOne(ctx context.Context, rec analyze.Recommendation, strategies []string, runFor time.Duration, opts Options) (Component, error) {
	spec, assumed := SpecFor(rec, gomaxprocs())
	cfg := replay.Config{Spec: spec, Strategies: strategies, Repeat: opts.Repeat, RunDuration: runFor}
	if opts.Progress != nil {
		cfg.Progress = func(p replay.Progress) { opts.Progress(rec.Component, p) }
	}
	r, err := replay.Run(ctx, cfg)
	if err != nil {
		return Component{}, err
	}
	c := Component{
		Component: rec.Component, Current: rec.Current, Recommended: rec.Recommended, Rule: rec.Rule,
		Workload: r.Spec, Assumed: assumed, Strategies: r.Measured,
		Fastest: r.Fastest(), WallSeconds: r.WallSeconds, LoadBefore: r.LoadBefore, LoadAfter: r.LoadAfter,
	}
	cur := r.Of(strategies[0])
	if rec.Recommended == analyze.StrategyKeep {
		c.Comparison, c.Judgement = judgeKeep(r, cur, strategies[1:], opts)
		return c, nil
	}
	recd := r.Of(strategies[1])
	c.Comparison = replay.Compare(cur, recd, opts.Alpha)
	c.Judgement = replay.Judge(c.Comparison, opts.MinGain)
	if f := r.Of(c.Fastest); f != nil && c.Fastest != strategies[0] && c.Fastest != strategies[1] {
		c.FastestDiffers = replay.Compare(recd, f, opts.Alpha).Differ()
	}
	// The verdict already judges the current and advised strategies' run
	// queues; warn of the others'.
	for _, m := range r.Measured[2:] {
		if m.RunQueueShare > replay.BusyRunQueue {
			c.Warnings = append(c.Warnings, fmt.Sprintf("%s's runs waited for a CPU %.0f%% of the time (median): other processes shared the cores, and the figures say as much about the machine as about the map",
				m.Strategy, 100*m.RunQueueShare))
		}
	}
	return c, nil
}

// judgeKeep checks a keep against the alternatives replayed: confirmed
// when none is faster than the current strategy by the minimum gain,
// refuted when one is (the fastest such one is quoted), cannot tell
// otherwise. The comparison returned is the one that decided.
func judgeKeep(r *replay.Result, cur *replay.Measured, others []string, opts Options) (replay.Comparison, replay.Judgement) {
	var best replay.Comparison
	var undecided *replay.Judgement
	var refuted []string
	faster := false
	for _, name := range others {
		cmp := replay.Compare(cur, r.Of(name), opts.Alpha)
		j := replay.Judge(cmp, opts.MinGain)
		switch j.Verdict {
		case replay.Confirmed:
			if !faster || cmp.Ratio > best.Ratio {
				best, faster = cmp, true
			}
		case replay.CannotTell:
			if undecided == nil && !faster {
				undecided, best = &j, cmp
			}
		case replay.Refuted:
			refuted = append(refuted, j.Reason)
			if undecided == nil && !faster && (best.Candidate == "" || cmp.Ratio > best.Ratio) {
				best = cmp
			}
		}
	}
	switch {
	case faster:
		return best, replay.Judgement{Verdict: replay.Refuted, Reason: fmt.Sprintf("keep %s is refuted: %s is faster: %s", cur.Strategy, best.Candidate, replay.Judge(best, opts.MinGain).Reason)}
	case undecided != nil:
		return best, *undecided
	}
	return best, replay.Judgement{Verdict: replay.Confirmed, Reason: fmt.Sprintf("no strategy replayed beats %s by %.0f%%: %s", cur.Strategy, 100*opts.MinGain, strings.Join(refuted, "; "))}
}

// withMeasurements copies rep and attaches each component's measurement
// as the source of its expected gain.
func withMeasurements(rep *analyze.Report, res *Result) *analyze.Report {
	out := *rep
	out.Recommendations = slices.Clone(rep.Recommendations)
	for _, c := range res.Components {
		out.AttachMeasurement(c.Component, c.measurement(res))
	}
	return &out
}

// measurement is c in the report's terms.
func (c Component) measurement(res *Result) analyze.GainMeasurement {
	m := analyze.GainMeasurement{
		Verdict: string(c.Verdict), Reason: c.Reason, Machine: res.Machine.String(), GOMAXPROCS: res.Machine.GOMAXPROCS,
		Date: res.Date, Ratio: c.Comparison.Ratio, P: c.Comparison.P, Runs: res.Repeat, RunSeconds: res.RunSeconds,
	}
	for _, s := range c.Strategies {
		switch s.Strategy {
		case c.Comparison.Baseline:
			m.CurrentOpsPerSec = s.OpsPerSec.Median
		case c.Comparison.Candidate:
			m.RecommendedOpsPerSec = s.OpsPerSec.Median
			m.Against = reportStrategy(s.Strategy)
		}
	}
	return m
}

func (o Options) validate() error {
	var errs []error
	if o.Budget < 0 {
		errs = append(errs, fmt.Errorf("budget %s: want a positive duration", o.Budget))
	}
	if o.Repeat < 1 {
		errs = append(errs, fmt.Errorf("repeat %d: want at least 1 (%d to tell strategies apart, %d for confidence intervals)", o.Repeat, replay.MinRunsToCompare, replay.MinRunsForInterval))
	}
	if o.MinGain < 0 {
		errs = append(errs, fmt.Errorf("minimum gain %g: want a non-negative share", o.MinGain))
	}
	if o.Alpha <= 0 || o.Alpha >= 1 {
		errs = append(errs, fmt.Errorf("alpha %g: want a level in (0, 1)", o.Alpha))
	}
	for _, s := range o.Extra {
		if !strategy.Valid(s) {
			errs = append(errs, fmt.Errorf("strategy %q: want one of %s", s, strings.Join(strategy.Names(), ", ")))
		}
	}
	return errors.Join(errs...)
}

// oldSyncMap reports whether a target's Go version predates the
// HashTrieMap sync.Map (Go 1.24).
func oldSyncMap(goVersion string) bool {
	v := goVersion
	if i := strings.Index(v, "go1."); i >= 0 {
		v = strings.Fields(v[i:])[0]
	}
	return version.IsValid(v) && version.Compare(v, "go1.24") < 0
}

func thisMachine() Machine {
	return Machine{GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, GoVersion: runtime.Version(),
		GOMAXPROCS: runtime.GOMAXPROCS(0), NumCPU: runtime.NumCPU()}
}
