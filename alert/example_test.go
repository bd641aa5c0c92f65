package alert_test

import (
	"fmt"
	"log/slog"

	"github.com/contendr/contendr/alert"
	"github.com/prometheus/client_golang/prometheus"
)

// The agent's loop: one evaluator for the process, one Observe per closed
// window (with alert.ValuesFrom(lockResult, gcResult) in the agent), and
// the evaluator registered for contendr_alert_firing.
func Example() {
	ev, err := alert.NewEvaluator(alert.Config{
		Rules:        alert.Pair(alert.LockFraction, 0.05, 0.20),
		For:          2,
		ResolveAfter: 2,
		OnAlert:      func(e alert.Event) { fmt.Println(e) },
		Logger:       slog.New(slog.DiscardHandler),
	})
	if err != nil {
		panic(err)
	}
	defer ev.Close()
	prometheus.NewRegistry().MustRegister(ev)

	for i, fraction := range []float64{0.3, 0.3, 0.3, 0.01, 0.01} {
		v := alert.Unknown()
		v.LockFraction = fraction
		ev.Observe(win(i+1), v)
	}
	// Output:
	// FIRING lock_fraction_warn [warn]: lock_fraction=0.3 over 0.05
	// FIRING lock_fraction_crit [crit]: lock_fraction=0.3 over 0.2
	// RESOLVED lock_fraction_warn [warn]: lock_fraction=0.01 under 0.04
	// RESOLVED lock_fraction_crit [crit]: lock_fraction=0.01 under 0.16
}
