package alert

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// WebhookConfig sends alerts as JSON POSTs in the shape Alertmanager's
// /api/v2/alerts accepts, so the URL can be Alertmanager itself or any
// receiver that understands it.
type WebhookConfig struct {
	URL string
	// Timeout bounds one attempt (default 5s).
	Timeout time.Duration
	// Retries after a failed attempt (default 3; negative means none). A
	// network error, a timeout, 429 and 5xx are retried; other statuses
	// are not, since sending the same body again cannot succeed.
	Retries int
	// Backoff is the wait before the first retry, doubled for each next
	// one (default 500ms).
	Backoff time.Duration
	// Headers are added to every request (e.g. Authorization).
	Headers http.Header
	// QueueSize bounds the posts waiting to be sent (default 64); Observe
	// drops and counts a post when the queue is full rather than wait.
	QueueSize int
	// CloseTimeout bounds how long Close waits for queued posts (default
	// 10s).
	CloseTimeout time.Duration
	// Client sends the requests; nil means a client without a global
	// timeout (each attempt has Timeout).
	Client *http.Client
}

// Webhook defaults.
const (
	DefaultWebhookTimeout      = 5 * time.Second
	DefaultWebhookRetries      = 3
	DefaultWebhookBackoff      = 500 * time.Millisecond
	DefaultWebhookQueueSize    = 64
	DefaultWebhookCloseTimeout = 10 * time.Second
)

// amAlert is one alert in Alertmanager's API v2 format.
type amAlert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt,omitzero"`
	GeneratorURL string            `json:"generatorURL,omitempty"`
}

// alertNames maps a metric to the alertname the Prometheus rules in
// deploy/prometheus use for the same condition, so that Alertmanager routes
// and silences apply to both.
var alertNames = map[Metric]string{
	ContentionCost: "ContendrContentionCostHigh",
	ComponentCost:  "ContendrComponentContentionCostHigh",
	LockFraction:   "ContendrLockContentionHigh",
	SiteFraction:   "ContendrLockSiteContentionHigh",
	GCCPUFraction:  "ContendrGCPressureHigh",
	GCPauseP99:     "ContendrGCPauseHigh",
	MapGrowthShare: "ContendrMapGrowthHigh",
}

// payload converts events into the webhook's body.
func (e *Evaluator) payload(events []Event) []amAlert {
	out := make([]amAlert, 0, len(events))
	for _, ev := range events {
		labels := map[string]string{}
		for k, v := range e.cfg.Labels {
			labels[k] = v
		}
		labels["alertname"] = alertNames[ev.Metric]
		labels["rule"] = ev.Rule
		labels["severity"] = string(ev.Severity)
		if ev.Site != "" {
			// "component" as the Prometheus rules label it, "site" as
			// earlier receivers know it.
			labels["site"] = ev.Site
			labels["component"] = ev.Site
		}
		ann := map[string]string{
			"summary":   ev.String(),
			"value":     strconv.FormatFloat(ev.Value, 'g', 4, 64),
			"threshold": strconv.FormatFloat(ev.Threshold, 'g', 4, 64),
			"window":    ev.WindowID,
		}
		if len(ev.Dumps) > 0 {
			b, _ := json.Marshal(ev.Dumps) // a []string always marshals
			ann["dumps"] = string(b)
		}
		out = append(out, amAlert{Labels: labels, Annotations: ann, StartsAt: ev.StartsAt, EndsAt: ev.EndsAt})
	}
	return out
}

// webhook posts queued payloads from one background goroutine.
type webhook struct {
	cfg    WebhookConfig
	client *http.Client
	log    *slog.Logger

	mu     sync.Mutex // guards closed against enqueue
	closed bool
	queue  chan []amAlert
	stop   chan struct{}
	done   chan struct{}
	ctx    context.Context // cancelled when Close gives up waiting
	cancel context.CancelFunc

	dropped, failed, sent atomic.Int64
}

func newWebhook(cfg WebhookConfig, log *slog.Logger) (*webhook, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("alert webhook: URL %q is not an http(s) URL", cfg.URL)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultWebhookTimeout
	}
	switch {
	case cfg.Retries == 0:
		cfg.Retries = DefaultWebhookRetries
	case cfg.Retries < 0:
		cfg.Retries = 0
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = DefaultWebhookBackoff
	}
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = DefaultWebhookQueueSize
	}
	if cfg.CloseTimeout <= 0 {
		cfg.CloseTimeout = DefaultWebhookCloseTimeout
	}
	client := cfg.Client
	if client == nil {
		client = &http.Client{}
	}
	ctx, cancel := context.WithCancel(context.Background())
	w := &webhook{cfg: cfg, client: client, log: log,
		queue: make(chan []amAlert, cfg.QueueSize), stop: make(chan struct{}), done: make(chan struct{}),
		ctx: ctx, cancel: cancel}
	go w.run()
	return w, nil
}

// enqueue hands a payload to the sender without ever waiting for it.
func (w *webhook) enqueue(alerts []amAlert) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		w.dropped.Add(1)
		return
	}
	select {
	case w.queue <- alerts:
	default:
		w.dropped.Add(1)
		w.log.Warn("contendr alert webhook queue full; dropping alerts", "url", w.cfg.URL, "alerts", len(alerts))
	}
}

func (w *webhook) run() {
	defer close(w.done)
	for {
		select {
		case alerts := <-w.queue:
			w.deliver(alerts)
		case <-w.stop:
			for { // drain what was queued before Close
				select {
				case alerts := <-w.queue:
					w.deliver(alerts)
				default:
					return
				}
			}
		}
	}
}

// deliver posts one payload, retrying with exponential backoff.
func (w *webhook) deliver(alerts []amAlert) {
	body, err := json.Marshal(alerts)
	if err != nil {
		w.failed.Add(1)
		w.log.Error("contendr alert webhook: encoding alerts", "err", err)
		return
	}
	backoff := w.cfg.Backoff
	for attempt := 0; ; attempt++ {
		retry, err := w.post(body)
		if err == nil {
			w.sent.Add(1)
			return
		}
		if !retry || attempt >= w.cfg.Retries || w.ctx.Err() != nil {
			w.failed.Add(1)
			w.log.Error("contendr alert webhook failed", "url", w.cfg.URL, "attempts", attempt+1, "err", err)
			return
		}
		select {
		case <-time.After(backoff):
		case <-w.ctx.Done():
		}
		backoff *= 2
	}
}

// post makes one attempt; retry says whether another could succeed.
func (w *webhook) post(body []byte) (retry bool, err error) {
	ctx, cancel := context.WithTimeout(w.ctx, w.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return false, fmt.Errorf("building webhook request: %w", err)
	}
	for k, vs := range w.cfg.Headers {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := w.client.Do(req)
	if err != nil {
		return true, fmt.Errorf("posting alerts to %s: %w", w.cfg.URL, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
	switch {
	case resp.StatusCode/100 == 2:
		return false, nil
	case resp.StatusCode == http.StatusTooManyRequests, resp.StatusCode >= 500:
		return true, fmt.Errorf("posting alerts to %s: %s", w.cfg.URL, resp.Status)
	default:
		return false, fmt.Errorf("posting alerts to %s: %s", w.cfg.URL, resp.Status)
	}
}

// close stops accepting payloads, waits for the queue to drain up to
// CloseTimeout, then cancels what is in flight.
func (w *webhook) close() error {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
	close(w.stop)
	timer := time.NewTimer(w.cfg.CloseTimeout)
	defer timer.Stop()
	select {
	case <-w.done:
		w.cancel()
		return nil
	case <-timer.C:
	}
	w.cancel()
	<-w.done // every wait in the sender ends on the cancelled context
	return errors.New("alert webhook: gave up on alerts still in flight after " + w.cfg.CloseTimeout.String())
}
