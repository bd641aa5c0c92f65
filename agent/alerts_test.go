package agent

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/contendr/contendr/alert"
)

// A contended window fires the lock-fraction rules through Config.Alerts and
// shows them as contendr_alert_firing with the agent's labels.
func TestAlertsFireOnContendedWindows(t *testing.T) {
	var mu sync.Mutex
	var events []alert.Event
	reg := prometheus.NewRegistry()
	a, err := Start(Config{
		Interval:   time.Hour, // windows are closed by CollectNow
		Registerer: reg,
		Labels:     map[string]string{"service": "alerts-test"},
		Alerts: &alert.Config{
			Rules: alert.Pair(alert.LockFraction, 0.05, 0.20),
			For:   2,
			OnAlert: func(e alert.Event) {
				mu.Lock()
				events = append(events, e)
				mu.Unlock()
			},
		},
		Logger: quiet,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Stop()

	for range 3 {
		contend(300 * time.Millisecond)
		collect(t, a)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(events) == 0 {
		t.Fatal("no alert fired over three contended windows")
	}
	if !strings.Contains(events[0].String(), "lock_fraction") {
		t.Errorf("first event = %v, want a lock_fraction rule", events[0])
	}
	n, err := testutil.GatherAndCount(reg, "contendr_alert_firing")
	if err != nil || n == 0 {
		t.Fatalf("contendr_alert_firing series = %d, %v", n, err)
	}
	a.Stop()
	if n, _ := testutil.GatherAndCount(reg, "contendr_alert_firing"); n != 0 {
		t.Errorf("contendr_alert_firing still registered after Stop (%d series)", n)
	}
}

func TestDisableAlerts(t *testing.T) {
	reg := prometheus.NewRegistry()
	a, err := Start(Config{Interval: time.Hour, Registerer: reg, DisableAlerts: true, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Stop()
	if n, _ := testutil.GatherAndCount(reg, "contendr_alert_firing"); n != 0 {
		t.Errorf("alerts disabled, yet %d contendr_alert_firing series", n)
	}
}
