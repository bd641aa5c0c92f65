package alert

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/contendr/contendr/window"
	"github.com/prometheus/client_golang/prometheus"
)

// Defaults filled in by NewEvaluator.
const (
	DefaultFor          = 3
	DefaultResolveAfter = 3
	DefaultDumpMaxFiles = 60
	DefaultDumpMaxBytes = 64 << 20
	// DefaultMaxSites bounds how many components a per-component rule
	// tracks at once, so that a process with thousands of lock sites cannot grow the
	// evaluator's state without limit.
	DefaultMaxSites = 20
)

// Config configures an Evaluator. The zero Config evaluates DefaultRules and
// delivers alerts to the log only.
type Config struct {
	// Rules to evaluate; nil means DefaultRules().
	Rules []Rule
	// For is how many consecutive windows over a threshold fire a rule
	// (default 3).
	For int
	// ResolveAfter is how many consecutive windows under fire resolve it
	// (default 3).
	ResolveAfter int
	// Cooldown is how long, in window time, a resolved rule waits before it
	// may fire again; zero means no wait. It stops a value that hovers at
	// the threshold from paging every few windows.
	Cooldown time.Duration

	// Labels (service, version, role) go onto every webhook alert.
	Labels map[string]string

	// OnAlert is called from Observe for every firing and resolution, in
	// order. It must not block: it runs on the caller's goroutine.
	OnAlert func(Event)
	// Webhook, when set, receives every event as an Alertmanager-compatible
	// JSON POST from a background goroutine.
	Webhook *WebhookConfig

	// DumpDir, when set, receives the window's profiles each time a rule
	// fires, as "<rule>-<window>-<time>.<kind>.pb.gz" files that `go tool
	// pprof` opens directly. The directory should be dedicated to dumps:
	// the oldest *.pb.gz files in it are deleted to keep it within
	// DumpMaxFiles (default 60) files and DumpMaxBytes (default 64 MiB).
	DumpDir      string
	DumpMaxFiles int
	DumpMaxBytes int64

	// MaxSites bounds the components a per-component rule tracks
	// (default 20).
	MaxSites int

	// Logger receives every event and delivery error; nil means
	// slog.Default().
	Logger *slog.Logger
}

// State of an alert.
type State string

// Alert states.
const (
	Firing   State = "firing"
	Resolved State = "resolved"
)

// Event is a rule firing or resolving.
type Event struct {
	Rule     string   `json:"rule"`
	Metric   Metric   `json:"metric"`
	Severity Severity `json:"severity"`
	// Site is the component a per-component rule (component_cost,
	// site_fraction) fired for; empty for process-wide rules.
	Site      string    `json:"site,omitempty"`
	State     State     `json:"state"`
	Value     float64   `json:"value"` // the value in the window that caused the event
	Threshold float64   `json:"threshold"`
	WindowID  string    `json:"window_id"`
	StartsAt  time.Time `json:"starts_at"`
	// EndsAt is the end of the window that resolved the alert; zero while
	// it fires.
	EndsAt time.Time `json:"ends_at,omitzero"`
	// Dumps are the profile files written when the rule fired.
	Dumps []string `json:"dumps,omitempty"`
}

// String is the one-line form the log and the CLI print.
func (e Event) String() string {
	subject := e.Rule
	if e.Site != "" {
		subject += " " + e.Site
	}
	if e.State == Resolved {
		return fmt.Sprintf("RESOLVED %s [%s]: %s=%.4g under %.4g", subject, e.Severity, e.Metric, e.Value, e.Threshold)
	}
	return fmt.Sprintf("FIRING %s [%s]: %s=%.4g over %.4g", subject, e.Severity, e.Metric, e.Value, e.Threshold)
}

// Evaluator holds the state of every rule across windows. Its methods are
// safe for concurrent use; it is also a prometheus.Collector, which carries
// no constant labels of its own: register it through
// prometheus.WrapRegistererWith(labels, reg) to add service, version and
// role as the agent's other metrics have them.
type Evaluator struct {
	cfg     Config
	rules   []Rule
	log     *slog.Logger
	webhook *webhook // nil without Config.Webhook

	mu        sync.Mutex
	instances []map[string]*instance // per rule, keyed by site ("" for process-wide rules)

	dumpErrors atomic.Int64

	firingDesc, droppedDesc, failedDesc, dumpErrDesc *prometheus.Desc
	closeOnce                                        sync.Once
	closeErr                                         error
}

// instance is the state of one rule for one site.
type instance struct {
	over, under int // consecutive windows
	firing      bool
	startsAt    time.Time
	resolvedAt  time.Time
}

// NewEvaluator checks cfg, fills in its defaults and starts the webhook
// sender if one is configured. Close stops it.
func NewEvaluator(cfg Config) (*Evaluator, error) {
	if cfg.Rules == nil {
		cfg.Rules = DefaultRules()
	}
	if cfg.For <= 0 {
		cfg.For = DefaultFor
	}
	if cfg.ResolveAfter <= 0 {
		cfg.ResolveAfter = DefaultResolveAfter
	}
	if cfg.Cooldown < 0 {
		return nil, fmt.Errorf("alert config: negative cooldown %v", cfg.Cooldown)
	}
	if cfg.DumpMaxFiles <= 0 {
		cfg.DumpMaxFiles = DefaultDumpMaxFiles
	}
	if cfg.DumpMaxBytes <= 0 {
		cfg.DumpMaxBytes = DefaultDumpMaxBytes
	}
	if cfg.MaxSites <= 0 {
		cfg.MaxSites = DefaultMaxSites
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	e := &Evaluator{cfg: cfg, log: cfg.Logger}
	names := make(map[string]bool)
	for _, r := range cfg.Rules {
		r, err := r.withDefaults()
		if err != nil {
			return nil, err
		}
		if names[r.Name] {
			return nil, fmt.Errorf("alert config: two rules named %q", r.Name)
		}
		names[r.Name] = true
		e.rules = append(e.rules, r)
		e.instances = append(e.instances, make(map[string]*instance))
	}
	if cfg.Webhook != nil {
		wh, err := newWebhook(*cfg.Webhook, cfg.Logger)
		if err != nil {
			return nil, err
		}
		e.webhook = wh
	}
	e.firingDesc = prometheus.NewDesc("contendr_alert_firing",
		"1 while the contendr alert rule fires (for any site, for a site rule), else 0.", []string{"rule"}, nil)
	e.droppedDesc = prometheus.NewDesc("contendr_alert_webhook_dropped_total",
		"Alert webhook posts dropped because the delivery queue was full or closed.", nil, nil)
	e.failedDesc = prometheus.NewDesc("contendr_alert_webhook_failed_total",
		"Alert webhook posts that failed after every retry.", nil, nil)
	e.dumpErrDesc = prometheus.NewDesc("contendr_alert_dump_errors_total",
		"Profile dumps on firing alerts that could not be written.", nil, nil)
	return e, nil
}

// Rules returns the rules in force, with their defaults filled in.
func (e *Evaluator) Rules() []Rule { return append([]Rule(nil), e.rules...) }

// Observe evaluates every rule on one closed window and delivers the events
// it causes: dump, log, OnAlert, webhook (queued, never waited for). It
// returns the events. w supplies the window's ID, end time (the clock rules
// count cooldowns in) and, for dumps, its profiles.
func (e *Evaluator) Observe(w *window.Window, v Values) []Event {
	if w == nil {
		return nil
	}
	events := e.evaluate(w.ID, w.End, v)
	for i := range events {
		ev := &events[i]
		if ev.State == Firing && e.cfg.DumpDir != "" {
			ev.Dumps = e.dump(w, ev.Rule, ev.Site)
		}
		level := slog.LevelWarn
		if ev.State == Resolved {
			level = slog.LevelInfo
		}
		e.log.Log(context.Background(), level, "contendr alert "+string(ev.State), "rule", ev.Rule, "site", ev.Site,
			"severity", ev.Severity, "value", ev.Value, "threshold", ev.Threshold, "window", ev.WindowID)
		if e.cfg.OnAlert != nil {
			e.cfg.OnAlert(*ev)
		}
	}
	if e.webhook != nil && len(events) > 0 {
		e.webhook.enqueue(e.payload(events))
	}
	return events
}

// evaluate advances every rule instance by one window and returns the
// transitions, process-wide rules first, then sites by name.
func (e *Evaluator) evaluate(windowID string, end time.Time, v Values) []Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	var events []Event
	for i, r := range e.rules {
		figures, perComponent := v.perComponent(r.Metric)
		if !perComponent {
			if ev, ok := e.step(r, e.instance(i, ""), v.value(r.Metric), windowID, end); ok {
				events = append(events, ev)
			}
			continue
		}
		if figures == nil {
			continue // the window could not measure it: no component moves
		}
		for _, site := range e.sitesToStep(i, r, figures) {
			inst := e.instances[i][site]
			value := figures[site] // a component missing from the window had no contention
			ev, ok := e.step(r, inst, value, windowID, end)
			if ok {
				ev.Site = site
				events = append(events, ev)
			}
			if !inst.firing && inst.over == 0 {
				delete(e.instances[i], site) // nothing to remember
			}
		}
	}
	return events
}

func (e *Evaluator) instance(rule int, site string) *instance {
	inst := e.instances[rule][site]
	if inst == nil {
		inst = &instance{}
		e.instances[rule][site] = inst
	}
	return inst
}

// sitesToStep returns, sorted, the sites the rule already tracks plus those
// over its threshold in this window, up to MaxSites tracked at once (the
// highest values first).
func (e *Evaluator) sitesToStep(rule int, r Rule, fractions map[string]float64) []string {
	tracked := e.instances[rule]
	var fresh []string
	for site, value := range fractions {
		if _, ok := tracked[site]; !ok && value >= r.Threshold {
			fresh = append(fresh, site)
		}
	}
	sort.Slice(fresh, func(a, b int) bool {
		if fractions[fresh[a]] != fractions[fresh[b]] {
			return fractions[fresh[a]] > fractions[fresh[b]]
		}
		return fresh[a] < fresh[b]
	})
	room := max(e.cfg.MaxSites-len(tracked), 0)
	if len(fresh) > room {
		fresh = fresh[:room]
	}
	for _, site := range fresh {
		e.instance(rule, site)
	}
	sites := make([]string, 0, len(tracked))
	for site := range tracked {
		sites = append(sites, site)
	}
	sort.Strings(sites)
	return sites
}

// step advances one instance by one window. An unknown (NaN) value leaves
// it as it was: a window that could not measure says nothing.
func (e *Evaluator) step(r Rule, inst *instance, value float64, windowID string, end time.Time) (Event, bool) {
	if math.IsNaN(value) {
		return Event{}, false
	}
	switch {
	case value >= r.Threshold:
		inst.over++
		inst.under = 0
	case value < r.Clear:
		inst.over = 0
		inst.under++
	default: // between Clear and Threshold: neither
		inst.over = 0
		inst.under = 0
	}
	ev := Event{Rule: r.Name, Metric: r.Metric, Severity: r.Severity, Value: value,
		Threshold: r.Threshold, WindowID: windowID}
	switch {
	case !inst.firing && inst.over >= e.cfg.For && e.cooledDown(inst, end):
		inst.firing = true
		inst.startsAt = end
		ev.State, ev.StartsAt = Firing, end
		return ev, true
	case inst.firing && inst.under >= e.cfg.ResolveAfter:
		inst.firing = false
		inst.resolvedAt = end
		ev.State, ev.StartsAt, ev.EndsAt, ev.Threshold = Resolved, inst.startsAt, end, r.Clear
		return ev, true
	}
	return Event{}, false
}

func (e *Evaluator) cooledDown(inst *instance, now time.Time) bool {
	return inst.resolvedAt.IsZero() || now.Sub(inst.resolvedAt) >= e.cfg.Cooldown
}

// Firing returns the events of the alerts firing now, sorted by rule and
// site.
func (e *Evaluator) Firing() []Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []Event
	for i, r := range e.rules {
		for site, inst := range e.instances[i] {
			if inst.firing {
				out = append(out, Event{Rule: r.Name, Metric: r.Metric, Severity: r.Severity, Site: site,
					State: Firing, Threshold: r.Threshold, StartsAt: inst.startsAt})
			}
		}
	}
	sort.Slice(out, func(a, b int) bool {
		if out[a].Rule != out[b].Rule {
			return out[a].Rule < out[b].Rule
		}
		return out[a].Site < out[b].Site
	})
	return out
}

// Describe implements prometheus.Collector.
func (e *Evaluator) Describe(ch chan<- *prometheus.Desc) {
	ch <- e.firingDesc
	ch <- e.droppedDesc
	ch <- e.failedDesc
	ch <- e.dumpErrDesc
}

// Collect implements prometheus.Collector: one contendr_alert_firing series
// per rule, and the delivery error counters.
func (e *Evaluator) Collect(ch chan<- prometheus.Metric) {
	e.mu.Lock()
	firing := make([]float64, len(e.rules))
	for i := range e.rules {
		for _, inst := range e.instances[i] {
			if inst.firing {
				firing[i] = 1
			}
		}
	}
	e.mu.Unlock()
	for i, r := range e.rules {
		ch <- prometheus.MustNewConstMetric(e.firingDesc, prometheus.GaugeValue, firing[i], r.Name)
	}
	var dropped, failed int64
	if e.webhook != nil {
		dropped, failed = e.webhook.dropped.Load(), e.webhook.failed.Load()
	}
	ch <- prometheus.MustNewConstMetric(e.droppedDesc, prometheus.CounterValue, float64(dropped))
	ch <- prometheus.MustNewConstMetric(e.failedDesc, prometheus.CounterValue, float64(failed))
	ch <- prometheus.MustNewConstMetric(e.dumpErrDesc, prometheus.CounterValue, float64(e.dumpErrors.Load()))
}

// Close stops the webhook sender: it waits for queued posts up to the
// webhook's CloseTimeout, then cancels what is still in flight. Events
// observed after Close are not posted (and are counted as dropped). Close is
// idempotent.
func (e *Evaluator) Close() error {
	e.closeOnce.Do(func() {
		if e.webhook != nil {
			e.closeErr = e.webhook.close()
		}
	})
	return e.closeErr
}
