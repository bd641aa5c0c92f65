package alert_test

// Faults of what alerts are delivered to: a webhook receiver that is down,
// a dump directory on a read-only file system or one that is full. Alerting
// must go on, the failure must be logged and counted, and the next alert
// must be delivered once the fault is gone.

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/contendr/contendr/alert"
	"github.com/prometheus/client_golang/prometheus"
)

func TestWebhookReceiverDown(t *testing.T) {
	// Reserve an address, then leave it closed: the receiver is down.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()

	var logs lockedLog
	cfg := oneRule(&alert.WebhookConfig{URL: "http://" + addr + "/api/v2/alerts", Retries: 2, Backoff: time.Millisecond, Timeout: time.Second})
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	ev, err := alert.NewEvaluator(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer ev.Close()

	if events := ev.Observe(win(1), lockValues(0.5)); len(events) != 1 || events[0].State != alert.Firing {
		t.Fatalf("window 1: %+v, want the firing whatever the receiver", events)
	}
	waitFor(t, "the failed delivery to be counted", func() bool { return counterOf(ev, "contendr_alert_webhook_failed_total") == 1 })
	if !strings.Contains(logs.String(), "connection refused") {
		t.Errorf("the log does not say why delivery failed:\n%s", logs.String())
	}

	// The receiver comes back on the same address: the next event arrives.
	l, err = net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("the address was taken meanwhile: %v", err)
	}
	var received atomic.Int32
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var alerts []postedAlert
		if json.NewDecoder(r.Body).Decode(&alerts) == nil && len(alerts) == 1 && alerts[0].Labels["rule"] == "lock_fraction_crit" {
			received.Add(1)
		}
	})}
	go srv.Serve(l)
	defer srv.Close()
	ev.Observe(win(2), lockValues(0.01)) // resolves
	waitFor(t, "the resolution to reach the receiver", func() bool { return received.Load() == 1 })
	if got := counterOf(ev, "contendr_alert_webhook_failed_total"); got != 1 {
		t.Errorf("failed counter = %v after the receiver came back, want still 1", got)
	}
}

// TestDumpDirReadOnlyFileSystem uses /proc/self, which refuses new files
// even to root — unlike permission bits, which root ignores (the case
// TestUnwritableDumpDirIsLoggedNotFatal skips when run as root).
func TestDumpDirReadOnlyFileSystem(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("needs /proc (Linux)")
	}
	dumpFaultThenRecovery(t, "/proc/self", func() func() { return func() {} })
}

// TestDumpDirFull makes writes fail part-way as on a full disk: a file size
// limit (RLIMIT_FSIZE) below one profile's size makes write(2) fail with
// EFBIG, the runtime ignoring the SIGXFSZ that comes with it.
func TestDumpDirFull(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("sets RLIMIT_FSIZE (Linux)")
	}
	dumpFaultThenRecovery(t, t.TempDir(), func() func() {
		var old syscall.Rlimit
		if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
			t.Fatal(err)
		}
		limit := old
		limit.Cur = 100 // bytes; a profile is several KiB
		if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &limit); err != nil {
			t.Skipf("cannot lower RLIMIT_FSIZE: %v", err)
		}
		return func() {
			if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
				t.Fatalf("restoring RLIMIT_FSIZE: %v", err)
			}
		}
	})
}

// dumpFaultThenRecovery fires a rule while fault is in force, checks that
// the alert is delivered without dumps and the failure logged and counted,
// and — when dir is writable once the fault is lifted — that the next
// firing dumps again and leaves no partial file behind.
func dumpFaultThenRecovery(t *testing.T, dir string, fault func() (lift func())) {
	var logs lockedLog
	cfg := oneRule(nil)
	cfg.DumpDir = dir
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	var delivered []alert.Event
	cfg.OnAlert = func(e alert.Event) { delivered = append(delivered, e) }
	ev, err := alert.NewEvaluator(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer ev.Close()

	lift := fault()
	ev.Observe(profiledWin(t, 1), lockValues(0.5))
	lift()
	if len(delivered) != 1 || delivered[0].State != alert.Firing || len(delivered[0].Dumps) != 0 {
		t.Fatalf("delivered %+v, want the firing without dumps", delivered)
	}
	if !strings.Contains(logs.String(), "profile dump failed") {
		t.Errorf("log lacks the dump error:\n%s", logs.String())
	}
	t.Logf("logged: %s", strings.SplitN(logs.String(), "\n", 2)[0])
	if got := counterOf(ev, "contendr_alert_dump_errors_total"); got == 0 {
		t.Error("dump error counter stayed 0")
	}
	if strings.HasPrefix(dir, "/proc/") {
		return // never writable
	}
	if names, _ := dumpFiles(t, dir); len(names) != 0 {
		t.Errorf("the failed dump left files behind: %v", names)
	}

	ev.Observe(profiledWin(t, 2), lockValues(0.01)) // resolves
	ev.Observe(profiledWin(t, 3), lockValues(0.5))  // fires again, the disk has room
	if last := delivered[len(delivered)-1]; last.State != alert.Firing || len(last.Dumps) == 0 {
		t.Errorf("the firing after the fault: %+v, want dumps", last)
	}
	names, _ := dumpFiles(t, dir)
	for _, n := range names {
		if !strings.HasSuffix(n, ".pb.gz") {
			t.Errorf("stray file %s in the dump directory", filepath.Join(dir, n))
		}
	}
}

// counterOf reads one of the evaluator's counters without failing the test
// from a polling goroutine.
func counterOf(ev *alert.Evaluator, name string) float64 {
	reg := prometheus.NewRegistry()
	if err := reg.Register(ev); err != nil {
		return -1
	}
	mfs, err := reg.Gather()
	if err != nil {
		return -1
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	return -1
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
	}
}

// lockedLog is a log sink safe for the webhook's goroutine.
type lockedLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *lockedLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}
