package agent

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"runtime/pprof"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/contendr/contendr/window"
)

func TestCPUProfileByDefault(t *testing.T) {
	a, _ := startAgent(t, Config{})
	contend(50 * time.Millisecond)
	if w := collect(t, a); w.Profile(window.CPU) == nil {
		t.Errorf("no CPU profile in a window of the default Config; notes %v", w.Notes)
	}

	off, _ := startAgent(t, Config{CPUProfileDuty: -1})
	if w := collect(t, off); w.Profile(window.CPU) != nil || len(w.Notes) != 0 {
		t.Errorf("CPUProfileDuty -1: cpu=%v notes=%v, want no CPU profile and nothing to say about it",
			w.Profile(window.CPU) != nil, w.Notes)
	}
}

func TestDefaultCPUProfileDutyScalesWithInterval(t *testing.T) {
	for _, tc := range []struct {
		interval, duty, want time.Duration
	}{
		{0, 0, DefaultCPUProfileDuty},
		{DefaultInterval, 0, DefaultCPUProfileDuty},
		{2 * DefaultInterval, 0, 2 * DefaultCPUProfileDuty},
		{time.Hour, 0, time.Duration(float64(time.Hour) * (float64(DefaultCPUProfileDuty) / float64(DefaultInterval)))},
		{time.Second, 5 * time.Second, time.Second}, // clamped to Interval
		{time.Second, -1, 0},
	} {
		cfg, err := Config{Interval: tc.interval, CPUProfileDuty: tc.duty}.withDefaults()
		if err != nil {
			t.Fatal(err)
		}
		if cfg.CPUProfileDuty != tc.want {
			t.Errorf("Interval %s, CPUProfileDuty %s: duty %s, want %s", tc.interval, tc.duty, cfg.CPUProfileDuty, tc.want)
		}
	}
}

// A user's CPU profile never fails because of the agent: it stops the
// duty cycle's slice, which the window keeps, cut short and saying so.
func TestUserCPUProfileCutsTheDutyCycleShort(t *testing.T) {
	a, _ := startAgent(t, Config{CPUProfileDuty: time.Hour}) // clamped to Interval: runs until the window closes
	if holder := a.cpuHolder(); holder != dutyCycleHolder {
		t.Fatalf("after Start the CPU gate is held by %q, want the duty cycle", holder)
	}
	contend(20 * time.Millisecond) // something for the cut-short slice to hold

	rec := httptest.NewRecorder()
	a.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/debug/pprof/profile?seconds=1", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("a user's CPU profile during the duty cycle: %d %q, want 200", rec.Code, rec.Body.String())
	}
	if p, err := window.ParseProfile(rec.Body.Bytes(), 0); err != nil || window.DetectKind(p) != window.CPU {
		t.Fatalf("the user's CPU profile does not parse as one: %v", err)
	}

	w := collect(t, a)
	notes := strings.Join(w.Notes, "\n")
	if !strings.Contains(notes, "cpu profile cut short") || !strings.Contains(notes, "/debug/pprof/profile") {
		t.Errorf("the window's notes do not say its CPU profile was cut short by the request: %v", w.Notes)
	}
	if w.Profile(window.CPU) == nil {
		t.Errorf("the window lost what its cut-short CPU profile had recorded; notes %v", w.Notes)
	}
	if got := testutil.ToFloat64(a.metrics.cpuYields); got != 1 {
		t.Errorf("contendr_agent_cpu_profile_yields_total = %v, want 1", got)
	}
	// The next window profiles again.
	if holder := a.cpuHolder(); holder != dutyCycleHolder {
		t.Errorf("after the user's profile the next window's gate is held by %q, want the duty cycle", holder)
	}
}

func TestUserTraceCutsTheDutyCycleShort(t *testing.T) {
	a, _ := startAgent(t, Config{CPUProfileDuty: time.Hour})
	rec := httptest.NewRecorder()
	a.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/debug/pprof/trace?seconds=0.1", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("a user's trace during the duty cycle: %d %q, want 200", rec.Code, rec.Body.String())
	}
	if w := collect(t, a); !strings.Contains(strings.Join(w.Notes, "\n"), "/debug/pprof/trace") {
		t.Errorf("the window's notes do not name the trace that cut its CPU profile short: %v", w.Notes)
	}
}

// When the application holds the CPU profiler, the window that opens goes
// without a CPU profile and says why.
func TestCPUDutyCycleBacksOffFromTheApplication(t *testing.T) {
	a, _ := startAgent(t, Config{CPUProfileDuty: time.Hour})
	a.collectMu.Lock()
	a.finishCPU() // the agent lets go, the application takes the profiler
	var app bytes.Buffer
	err := pprof.StartCPUProfile(&app)
	a.collectMu.Unlock()
	if err != nil {
		t.Fatalf("the test could not take the CPU profiler: %v", err)
	}
	collect(t, a) // opens the next window while the application profiles
	pprof.StopCPUProfile()
	if a.cpuHolder() != "" {
		t.Errorf("the gate is held by %q while the application has the profiler", a.cpuHolder())
	}
	w := collect(t, a)
	if w.Profile(window.CPU) != nil || !strings.Contains(strings.Join(w.Notes, "\n"), "application holds the CPU profiler") {
		t.Errorf("window opened while the application profiled: cpu=%v notes=%v", w.Profile(window.CPU) != nil, w.Notes)
	}
	if holder := a.cpuHolder(); holder != dutyCycleHolder {
		t.Errorf("once the application let go, the next window's gate is held by %q, want the duty cycle", holder)
	}
}

// A window that opens while a user's request holds the gate goes without
// a CPU profile and says who had it.
func TestCPUDutyCycleSkipsWhileAUserProfiles(t *testing.T) {
	a, _ := startAgent(t, Config{CPUProfileDuty: time.Hour})
	a.collectMu.Lock()
	a.finishCPU()
	holder, ok := a.cpu.tryAcquire("a test")
	a.collectMu.Unlock()
	if !ok {
		t.Fatalf("gate held by %s", holder)
	}
	collect(t, a) // opens the next window while the gate is held
	a.cpu.release()
	w := collect(t, a)
	if w.Profile(window.CPU) != nil || !strings.Contains(strings.Join(w.Notes, "\n"), "cpu profile skipped: a test") {
		t.Errorf("window opened with the profiler busy: cpu=%v notes=%v", w.Profile(window.CPU) != nil, w.Notes)
	}
}
