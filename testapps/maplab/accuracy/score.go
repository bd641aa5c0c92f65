// Package accuracy checks contendr's map-strategy advice against maplab's
// ground truth: it runs each workload under each strategy that is not the
// measured best, analyzes the window, and scores the advice on the matrix.
package accuracy

import (
	"fmt"

	"github.com/contendr/contendr/analyze"
	"github.com/contendr/contendr/internal/maplab/strategy"
	"github.com/contendr/contendr/testapps/maplab/matrix"
)

// Tolerance is how far below the best strategy's median throughput advice
// may land and still count as correct: the "within 10%".
const Tolerance = 0.10

// Verdict is how one piece of advice scored on the matrix.
type Verdict struct {
	Correct bool `json:"correct"`
	// Regret is the best strategy's median ops/s over the advised one's:
	// 1 for the best, 2 for advice that halves the throughput.
	Regret float64 `json:"regret"`
	// Why says which test passed or by how much it failed.
	Why string `json:"why"`
}

// Score judges advised (a maplab strategy name, already resolved from
// "keep") on one workload of the matrix: correct when it is the best, its
// median is within Tolerance of the best one's, or the matrix lists it
// among the ties (strategies its noisy runs cannot tell from the best).
func Score(m *matrix.Results, workloadName, advised string) (Verdict, error) {
	bestName, ok := m.Best[workloadName]
	if !ok {
		return Verdict{}, fmt.Errorf("scoring %s: the matrix has no best strategy for workload %q", advised, workloadName)
	}
	best, ok := m.Cell(workloadName, bestName)
	if !ok || best.Median <= 0 {
		return Verdict{}, fmt.Errorf("scoring %s: the matrix has no throughput for the best strategy %s on %s", advised, bestName, workloadName)
	}
	got, ok := m.Cell(workloadName, advised)
	if !ok || got.Median <= 0 {
		return Verdict{}, fmt.Errorf("scoring %s on %s: the matrix did not measure that strategy", advised, workloadName)
	}
	v := Verdict{Regret: best.Median / got.Median}
	margin := got.Median/best.Median - 1
	switch {
	case advised == bestName:
		v.Correct, v.Why = true, "the best"
	case margin >= -Tolerance:
		v.Correct, v.Why = true, fmt.Sprintf("within 10%% of the best (%+.0f%%)", margin*100)
	case tied(m, workloadName, advised):
		v.Correct, v.Why = true, fmt.Sprintf("tied with the best in the matrix (%+.0f%%)", margin*100)
	default:
		v.Why = fmt.Sprintf("%+.0f%% vs the best (%s)", margin*100, bestName)
	}
	return v, nil
}

func tied(m *matrix.Results, workloadName, strategyName string) bool {
	for _, s := range m.Ties[workloadName] {
		if s == strategyName {
			return true
		}
	}
	return false
}

// maplabName turns a strategy of analyze's advice into maplab's name for
// it. analyze calls a read/dirty map "syncmap-legacy", maplab "legacy";
// "keep", "unknown" and anything else have no maplab counterpart.
func maplabName(s analyze.Strategy) (string, bool) {
	if s == analyze.StrategySyncMapLegacy {
		return strategy.NameLegacy, true
	}
	if s == analyze.StrategyKeep || s == analyze.StrategyUnknown || !strategy.Valid(string(s)) {
		return "", false
	}
	return string(s), true
}

// advisedStrategy resolves a recommendation to the maplab strategy it
// leaves the program on: "keep" (and no recommendation at all, rec nil)
// means the strategy it runs now.
func advisedStrategy(current string, rec *analyze.Recommendation) (string, error) {
	if rec == nil || rec.Recommended == analyze.StrategyKeep {
		return current, nil
	}
	name, ok := maplabName(rec.Recommended)
	if !ok {
		return "", fmt.Errorf("recommendation %q for %s has no maplab strategy", rec.Recommended, rec.Component)
	}
	return name, nil
}
