package agent

import (
	"fmt"
	"maps"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/contendr/contendr/alert"
	"github.com/contendr/contendr/collectors/gc"
	"github.com/contendr/contendr/collectors/mutex"
	"github.com/contendr/contendr/window"
)

// alerts evaluates the alert rules at the end of every window and exposes
// contendr_alert_firing{rule}.
type alerts struct {
	ev         *alert.Evaluator
	registerer prometheus.Registerer // wrapped with the agent's labels; nil when not registered
}

// startAlerts builds the evaluator from Config.Alerts (nil: the default
// rules, delivered to the agent's log) unless alerting is disabled.
func (a *Agent) startAlerts() (*alerts, error) {
	if a.cfg.DisableAlerts {
		return nil, nil
	}
	cfg := alert.Config{}
	if a.cfg.Alerts != nil {
		cfg = *a.cfg.Alerts
	}
	if cfg.Logger == nil {
		cfg.Logger = a.log
	}
	if cfg.Labels == nil {
		cfg.Labels = maps.Clone(a.cfg.Labels)
	}
	ev, err := alert.NewEvaluator(cfg)
	if err != nil {
		return nil, fmt.Errorf("configuring contendr agent alerts: %w", err)
	}
	al := &alerts{ev: ev}
	if a.metrics.registerer != nil {
		reg := prometheus.WrapRegistererWith(prometheus.Labels(maps.Clone(a.cfg.Labels)), a.metrics.registerer)
		if err := reg.Register(ev); err != nil {
			ev.Close()
			return nil, fmt.Errorf("registering contendr alert metrics: %w", err)
		}
		al.registerer = reg
	}
	return al, nil
}

// observe runs the rules over a closed window. It computes the collectors'
// results once more (the Prometheus collectors compute theirs lazily, at
// scrape time); a failure or panic here is logged and counted like a
// collection error, never passed to the host.
func (a *Agent) observeAlerts(w, prev *window.Window) (err error) {
	if a.alerts == nil || w == nil {
		return nil
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic while evaluating alerts: %v", r)
		}
	}()
	lock, lockErr := mutex.Collect(w, mutex.Options{})
	gcr, gcErr := gc.Collect(w, prev)
	if lockErr != nil && gcErr != nil {
		return fmt.Errorf("evaluating alerts on window %s: %w", w.ID, lockErr)
	}
	a.alerts.ev.Observe(w, alert.ValuesFrom(lock, gcr))
	return nil
}

// stop unregisters the alert metric and waits (boundedly) for webhook
// deliveries in flight.
func (al *alerts) stop() {
	if al == nil {
		return
	}
	if al.registerer != nil {
		al.registerer.Unregister(al.ev)
	}
	al.ev.Close()
}
