package alert_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/contendr/contendr/alert"
	"github.com/contendr/contendr/limits"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func registry(t *testing.T, c prometheus.Collector) *prometheus.Registry {
	t.Helper()
	reg := prometheus.NewRegistry()
	if err := reg.Register(c); err != nil {
		t.Fatal(err)
	}
	return reg
}

func counter(t *testing.T, ev *alert.Evaluator, name string) float64 {
	t.Helper()
	mfs, err := registry(t, ev).Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

// oneRule fires lock_fraction_crit on the first window over 0.2 and
// resolves on the first under.
func oneRule(webhook *alert.WebhookConfig) alert.Config {
	return alert.Config{
		Rules: []alert.Rule{{Metric: alert.LockFraction, Severity: alert.Crit, Threshold: 0.2}},
		For:   1, ResolveAfter: 1, Webhook: webhook, Logger: quietLogger(),
		Labels: map[string]string{"service": "checkout", "role": "canary"},
	}
}

type postedAlert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	StartsAt    time.Time         `json:"startsAt"`
	EndsAt      time.Time         `json:"endsAt"`
}

func TestWebhookRetriesAfterServerError(t *testing.T) {
	var attempts atomic.Int32
	delivered := make(chan []postedAlert, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if attempts.Add(1) == 1 {
			http.Error(w, "try again", http.StatusInternalServerError)
			return
		}
		if r.Header.Get("Authorization") != "Bearer s3cret" || r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "bad headers", http.StatusBadRequest)
			return
		}
		var alerts []postedAlert
		body, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(body, &alerts); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		delivered <- alerts
	}))
	defer srv.Close()

	ev, err := alert.NewEvaluator(oneRule(&alert.WebhookConfig{URL: srv.URL, Retries: 2, Backoff: time.Millisecond,
		Headers: http.Header{"Authorization": {"Bearer s3cret"}}}))
	if err != nil {
		t.Fatal(err)
	}
	ev.Observe(win(1), lockValues(0.5))
	alerts := <-delivered
	if err := ev.Close(); err != nil {
		t.Fatal(err)
	}

	if got := attempts.Load(); got != 2 {
		t.Errorf("server saw %d attempts, want 2 (a 500, then a retry)", got)
	}
	if len(alerts) != 1 {
		t.Fatalf("posted %d alerts, want 1", len(alerts))
	}
	a := alerts[0]
	wantLabels := map[string]string{"alertname": "ContendrLockContentionHigh", "rule": "lock_fraction_crit",
		"severity": "crit", "service": "checkout", "role": "canary"}
	for k, v := range wantLabels {
		if a.Labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, a.Labels[k], v)
		}
	}
	if !a.StartsAt.Equal(win(1).End) || !a.EndsAt.IsZero() {
		t.Errorf("startsAt %v endsAt %v, want %v and none", a.StartsAt, a.EndsAt, win(1).End)
	}
	if a.Annotations["value"] != "0.5" || !strings.Contains(a.Annotations["summary"], "FIRING") {
		t.Errorf("annotations = %v", a.Annotations)
	}
	if got := counter(t, ev, "contendr_alert_webhook_failed_total"); got != 0 {
		t.Errorf("failed counter = %v, want 0", got)
	}
}

func TestWebhookGivesUpOnClientError(t *testing.T) {
	var attempts atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		attempts.Add(1)
		http.Error(w, "no such route", http.StatusNotFound)
	}))
	defer srv.Close()
	ev, err := alert.NewEvaluator(oneRule(&alert.WebhookConfig{URL: srv.URL, Retries: 3, Backoff: time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	ev.Observe(win(1), lockValues(0.5))
	if err := ev.Close(); err != nil { // Close drains the queue
		t.Fatal(err)
	}
	if got := attempts.Load(); got != 1 {
		t.Errorf("server saw %d attempts, want 1: a 404 is not retried", got)
	}
	if got := counter(t, ev, "contendr_alert_webhook_failed_total"); got != 1 {
		t.Errorf("failed counter = %v, want 1", got)
	}
}

// A webhook that never answers must not hold up Observe: posts queue up to
// the bound, the rest are dropped and counted, and Close gives up after its
// timeout.
func TestHangingWebhookNeverBlocksObserve(t *testing.T) {
	entered := make(chan struct{}, 16)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // lets the server notice when the client hangs up
		entered <- struct{}{}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release) // lets srv.Close return whatever happens

	ev, err := alert.NewEvaluator(oneRule(&alert.WebhookConfig{URL: srv.URL, Timeout: time.Hour, Retries: -1,
		QueueSize: 1, CloseTimeout: time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	ev.Observe(win(1), lockValues(0.5)) // firing: posted, hangs in the server
	<-entered
	// The server now holds the first post. Each of these windows causes an
	// event; were Observe to wait for delivery, the test would hang here.
	for i := 2; i <= 9; i++ {
		f := 0.5
		if i%2 == 0 {
			f = 0.01
		}
		if events := ev.Observe(win(i), lockValues(f)); len(events) != 1 {
			t.Fatalf("window %d: %d events, want 1", i, len(events))
		}
	}
	select {
	case <-release:
		t.Fatal("unreachable: release is closed only at the end")
	default: // the server still hangs on the first post
	}
	// One post in flight, one queued, seven dropped.
	if got := counter(t, ev, "contendr_alert_webhook_dropped_total"); got != 7 {
		t.Errorf("dropped counter = %v, want 7", got)
	}
	if err := ev.Close(); err == nil || !strings.Contains(err.Error(), "in flight") {
		t.Errorf("Close() = %v, want an error about alerts in flight", err)
	}
	if got := counter(t, ev, "contendr_alert_webhook_failed_total"); got != 2 {
		t.Errorf("failed counter = %v, want 2 (the hung post and the queued one)", got)
	}
	ev.Observe(win(10), lockValues(0.01)) // resolves
	if got := counter(t, ev, "contendr_alert_webhook_dropped_total"); got != 8 {
		t.Errorf("dropped counter after Close = %v, want 8", got)
	}
}

func TestWebhookAttemptTimesOut(t *testing.T) {
	var attempts atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		attempts.Add(1)
		_, _ = io.Copy(io.Discard, r.Body) // lets the server notice when the client hangs up
		<-r.Context().Done()               // hangs until the client gives up
	}))
	defer srv.Close()
	ev, err := alert.NewEvaluator(oneRule(&alert.WebhookConfig{URL: srv.URL, Timeout: 10 * time.Millisecond,
		Retries: 1, Backoff: time.Millisecond, CloseTimeout: time.Minute}))
	if err != nil {
		t.Fatal(err)
	}
	ev.Observe(win(1), lockValues(0.5))
	// Close waits for the sender; it returns only once both attempts
	// timed out, long before its own minute is up.
	if err := ev.Close(); err != nil {
		t.Fatal(err)
	}
	if got := attempts.Load(); got != 2 {
		t.Errorf("server saw %d attempts, want 2", got)
	}
	if got := counter(t, ev, "contendr_alert_webhook_failed_total"); got != 1 {
		t.Errorf("failed counter = %v, want 1", got)
	}
	if _, err := testutil.GatherAndCount(registry(t, ev)); err != nil {
		t.Error(err)
	}
}

// A component_cost alert posts under the alertname of the Prometheus rule
// on the same series, with the component as that rule labels it.
func TestWebhookComponentCostLabels(t *testing.T) {
	delivered := make(chan []postedAlert, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var alerts []postedAlert
		if err := json.NewDecoder(r.Body).Decode(&alerts); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		delivered <- alerts
	}))
	defer srv.Close()
	ev, err := alert.NewEvaluator(alert.Config{
		Rules: alert.Pair(alert.ComponentCost, limits.Defaults().ComponentCost.Warn, limits.Defaults().ComponentCost.Crit)[1:],
		For:   1, ResolveAfter: 1, Webhook: &alert.WebhookConfig{URL: srv.URL}, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer ev.Close()
	v := alert.Unknown()
	v.ComponentCosts = map[string]float64{"main.(*Cache)": 0.4}
	ev.Observe(win(1), v)
	alerts := <-delivered
	if len(alerts) != 1 {
		t.Fatalf("posted %d alerts, want 1", len(alerts))
	}
	want := map[string]string{"alertname": "ContendrComponentContentionCostHigh", "rule": "component_cost_crit",
		"severity": "crit", "component": "main.(*Cache)", "site": "main.(*Cache)"}
	for k, v := range want {
		if alerts[0].Labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, alerts[0].Labels[k], v)
		}
	}
}
