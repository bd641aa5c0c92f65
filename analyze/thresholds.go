package analyze

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/contendr/contendr/limits"
	"go.yaml.in/yaml/v3"
)

// Level is a pair of limits: a value at or above Warn is a warning, at or
// above Crit is critical.
//
// In a thresholds file either limit may be written as a plain number
// (0.05), a percentage ("5%") or, for durations, a Go duration ("10ms");
// a limit left out keeps its default.
type Level struct {
	Warn float64 `json:"warn" yaml:"warn"`
	Crit float64 `json:"crit" yaml:"crit"`
}

// Severity of v against the level.
func (l Level) Severity(v float64) Severity {
	switch {
	case v >= l.Crit:
		return SeverityCrit
	case v >= l.Warn:
		return SeverityWarn
	}
	return SeverityOK
}

// Limit is the limit a severity is judged against: Crit for crit, Warn
// otherwise (an ok value is reported against the limit it stayed below).
func (l Level) Limit(s Severity) float64 {
	if s == SeverityCrit {
		return l.Crit
	}
	return l.Warn
}

// Thresholds are the limits every finding is judged against.
type Thresholds struct {
	// ContentionCost limits the process-wide contention cost (DESIGN.md,
	// "Contention cost"): CPU inside lock primitives plus Ps left idle
	// while goroutines waited on locks, over GOMAXPROCS × window. It is the
	// headline: the verdict, --fail-on and the gate judge it.
	ContentionCost Level `json:"contention_cost" yaml:"contention_cost"`
	// ComponentCost limits one component's part of the contention cost. A
	// component at or above Warn counts as contended for the map-strategy
	// rules when the cost was measured.
	ComponentCost Level `json:"component_cost" yaml:"component_cost"`
	// LockFraction limits the process-wide lock wait share
	// Δwait / (Δwait + Δuser_cpu). No finding judges it any more (it counts
	// waits that cost no throughput); it stays for thresholds files, for
	// the alert rule of the same name and for windows without a measured
	// cost, where the map-strategy rules fall back to it.
	LockFraction Level `json:"lock_fraction" yaml:"lock_fraction"`
	// SiteFraction limits one component's share of the same denominator; a
	// component at or above Warn counts as contended for the map-strategy
	// rules when the window has no measured contention cost.
	SiteFraction Level `json:"site_fraction" yaml:"site_fraction"`
	// GCCPUFraction limits Δ GC CPU ÷ Δ total CPU over the window.
	GCCPUFraction Level `json:"gc_cpu_fraction" yaml:"gc_cpu_fraction"`
	// GCPauseP99 limits the 99th percentile stop-the-world GC pause, in
	// seconds.
	GCPauseP99 Level `json:"gc_pause_p99" yaml:"gc_pause_p99"`
	// MapGrowthShare limits one component's map growth/copy allocation as a
	// share of the window's allocation.
	MapGrowthShare Level `json:"map_growth_share" yaml:"map_growth_share"`
}

// DefaultThresholds returns the built-in limits, from the one table in
// package limits (which says where each comes from); they are starting
// points to tune per service with a thresholds file.
func DefaultThresholds() Thresholds {
	return FromLimits(limits.Defaults())
}

// FromLimits turns a table of limits into Thresholds.
func FromLimits(t limits.Table) Thresholds {
	return Thresholds{
		ContentionCost: Level(t.ContentionCost),
		ComponentCost:  Level(t.ComponentCost),
		LockFraction:   Level(t.LockFraction),
		SiteFraction:   Level(t.SiteFraction),
		GCCPUFraction:  Level(t.GCCPUFraction),
		GCPauseP99:     Level(t.GCPauseP99),
		MapGrowthShare: Level(t.MapGrowthShare),
	}
}

// Limits is the table of t's limits, from which alert.RulesFrom makes the
// alert rules of the same names.
func (t Thresholds) Limits() limits.Table {
	return limits.Table{
		ContentionCost: limits.Level(t.ContentionCost),
		ComponentCost:  limits.Level(t.ComponentCost),
		LockFraction:   limits.Level(t.LockFraction),
		SiteFraction:   limits.Level(t.SiteFraction),
		GCCPUFraction:  limits.Level(t.GCCPUFraction),
		GCPauseP99:     limits.Level(t.GCPauseP99),
		MapGrowthShare: limits.Level(t.MapGrowthShare),
	}
}

// LoadThresholds reads a thresholds file (YAML or JSON; JSON is YAML) over
// the defaults, so that a file only needs the limits it changes:
//
//	contention_cost: {warn: 10%, crit: 30%}
//	gc_pause_p99: {crit: 5ms}
//
// Unknown keys are an error, so that a misspelt limit is not silently
// ignored.
func LoadThresholds(path string) (Thresholds, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Thresholds{}, fmt.Errorf("reading thresholds: %w", err)
	}
	th, err := ParseThresholds(data)
	if err != nil {
		return Thresholds{}, fmt.Errorf("reading thresholds from %s: %w", path, err)
	}
	return th, nil
}

// ParseThresholds is LoadThresholds over bytes already read.
func ParseThresholds(data []byte) (Thresholds, error) {
	th := DefaultThresholds()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&th); err != nil && !errors.Is(err, io.EOF) {
		return Thresholds{}, fmt.Errorf("parsing: %w", err)
	}
	if err := th.Validate(); err != nil {
		return Thresholds{}, err
	}
	return th, nil
}

// Validate checks that every level has 0 ≤ warn ≤ crit.
func (t Thresholds) Validate() error {
	for _, l := range []struct {
		name  string
		level Level
	}{
		{"contention_cost", t.ContentionCost},
		{"component_cost", t.ComponentCost},
		{"lock_fraction", t.LockFraction},
		{"site_fraction", t.SiteFraction},
		{"gc_cpu_fraction", t.GCCPUFraction},
		{"gc_pause_p99", t.GCPauseP99},
		{"map_growth_share", t.MapGrowthShare},
	} {
		// NaN would make every comparison false and silently turn the
		// finding off; ±Inf does not survive the JSON report.
		if !isFinite(l.level.Warn) || !isFinite(l.level.Crit) {
			return fmt.Errorf("%s: limits must be finite numbers (warn %g, crit %g); to turn a level off, set it above any real value",
				l.name, l.level.Warn, l.level.Crit)
		}
		if l.level.Warn < 0 || l.level.Crit < 0 {
			return fmt.Errorf("%s: limits must not be negative (warn %g, crit %g)", l.name, l.level.Warn, l.level.Crit)
		}
		if l.level.Warn > l.level.Crit {
			return fmt.Errorf("%s: warn %g is above crit %g", l.name, l.level.Warn, l.level.Crit)
		}
	}
	return nil
}

func isFinite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// UnmarshalYAML accepts numbers, percentages and durations for each limit,
// and leaves a limit that the file omits at its current value.
func (l *Level) UnmarshalYAML(node *yaml.Node) error {
	if node.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: want a mapping like {warn: 0.05, crit: 0.2}", node.Line)
	}
	for i := 0; i+1 < len(node.Content); i += 2 {
		key, val := node.Content[i], node.Content[i+1]
		v, err := parseLimit(val.Value)
		if err != nil {
			return fmt.Errorf("line %d: %s: %w", val.Line, key.Value, err)
		}
		switch key.Value {
		case "warn":
			l.Warn = v
		case "crit":
			l.Crit = v
		default:
			return fmt.Errorf("line %d: unknown limit %q (want warn or crit)", key.Line, key.Value)
		}
	}
	return nil
}

// parseLimit reads 0.05, "5%" or "10ms" (as seconds).
func parseLimit(s string) (float64, error) {
	s = strings.TrimSpace(s)
	if p, ok := strings.CutSuffix(s, "%"); ok {
		v, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil {
			return 0, fmt.Errorf("bad percentage %q", s)
		}
		return v / 100, nil
	}
	if v, err := strconv.ParseFloat(s, 64); err == nil {
		return v, nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		return d.Seconds(), nil
	}
	return 0, fmt.Errorf("bad limit %q: want a number, a percentage (5%%) or a duration (10ms)", s)
}
