package agent

import (
	"errors"
	"fmt"
	"maps"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/contendr/contendr/alert"
	"github.com/contendr/contendr/collectors/gc"
	"github.com/contendr/contendr/collectors/mutex"
	"github.com/contendr/contendr/collectors/stacks"
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

// windowResults are the collectors' results for one window, computed once
// when it closes and shared by the alert rules and /metrics.
type windowResults struct {
	windowID string
	// attr is the window's stack attribution, kept so that the next
	// window's map growth compares with it without walking this one again.
	attr    *stacks.Attribution
	lock    *mutex.Result
	lockErr error
	gc      *gc.Result
}

func (a *Agent) latestResults() windowResults {
	a.resultsMu.RLock()
	defer a.resultsMu.RUnlock()
	return a.results
}

// judgeWindow runs the collectors over a closed window once, keeps their
// results for /metrics, runs the alert rules on them and returns them. A
// failure or panic here is logged and counted like a collection error,
// never passed to the host.
func (a *Agent) judgeWindow(w, prev *window.Window) (judged windowResults, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic while judging window %s: %v", w.ID, r)
		}
	}()
	attr := stacks.Attribute(w)
	var prevAttr *stacks.Attribution
	if prev != nil {
		if last := a.latestResults(); last.windowID == prev.ID && last.attr != nil {
			prevAttr = last.attr
		} else {
			prevAttr = stacks.AttributeGrowth(prev)
		}
	}
	lock, lockErr := mutex.CollectFrom(w, attr, mutex.Options{})
	gcr, gcErr := gc.CollectFrom(w, attr, prevAttr)
	judged = windowResults{windowID: w.ID, attr: attr, lock: lock, lockErr: lockErr, gc: gcr}
	a.resultsMu.Lock()
	a.results = judged
	a.resultsMu.Unlock()
	if lockErr != nil && gcErr != nil {
		a.traceForWindow(w, nil)
		return judged, fmt.Errorf("judging window %s: %w", w.ID, errors.Join(lockErr, gcErr))
	}
	var events []alert.Event
	if a.alerts != nil {
		events = a.alerts.ev.Observe(w, alert.ValuesFrom(lock, gcr))
	}
	a.traceForWindow(w, events)
	return judged, nil
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
