package agent

import (
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/goleak"
)

// The soak runs compressed in the normal suite (about 200 windows at a 20ms
// interval). For a real soak give it a duration and, usually, a longer
// interval:
//
//	go test ./agent -run Soak -soak=30m -soak-interval=1s -v
var (
	soakFor      = flag.Duration("soak", 0, "run TestSoak for this long instead of the compressed ~200 windows")
	soakInterval = flag.Duration("soak-interval", 20*time.Millisecond, "the agent's window interval during TestSoak")
)

// soakWindows is how many windows the compressed soak aims for; soakCap
// bounds its wall time on a slow or loaded machine (under -race a
// collection costs about 100ms of CPU) once it has soakMinWindows, three
// turns of a ring of soakKeep windows. Short of those it runs on, up to
// soakHardCap: a loaded CI machine has taken 1.3s per collection.
const (
	soakKeep       = 6
	soakWindows    = 200
	soakCap        = 12 * time.Second
	soakHardCap    = 90 * time.Second // only while short of soakMinWindows
	soakMinWindows = 3 * soakKeep
)

// TestSoak runs the agent through many windows against a workload whose
// keys keep changing, and checks that what it keeps stays bounded: the ring
// never exceeds Config.Windows, the heap retained after a GC (forced here,
// by the test — the agent never forces one) does not grow across the second
// half, and Stop leaves no goroutine behind.
func TestSoak(t *testing.T) {
	const keep = soakKeep
	stopWorkload := churn(4, 4096)
	forcedBefore := forcedGCs()
	var logs lockedBuffer // the agent logs its first failure in full
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	a, err := Start(Config{Interval: *soakInterval, Windows: keep, Logger: logger, MutexProfileFraction: 1, BlockProfileRate: 1000})
	if err != nil {
		t.Fatal(err)
	}
	handler := a.Handler()

	var points []soakPoint
	testGCs := 0 // the GCs this test forces; the agent must force none
	began := time.Now()
	done := func(collections float64) bool {
		if *soakFor > 0 {
			return time.Since(began) >= *soakFor
		}
		elapsed := time.Since(began)
		return collections >= soakWindows || elapsed >= soakCap && collections >= soakMinWindows || elapsed >= soakHardCap
	}
	sampleEvery := max(*soakInterval*10, 200*time.Millisecond)
	if *soakFor > 0 {
		sampleEvery = max(*soakFor/60, sampleEvery)
	}
	for {
		time.Sleep(sampleEvery)
		// Read the windows the way a scraper would, while the loop writes
		// them.
		paths := []string{"/debug/contendr/windows", "/metrics"}
		if a.Latest() != nil {
			paths = append(paths, "/debug/contendr/windows/latest")
		}
		for _, path := range paths {
			rec := httptest.NewRecorder()
			handler.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
			if rec.Code != http.StatusOK {
				t.Errorf("GET %s during the soak: %d %s", path, rec.Code, rec.Body)
			}
		}
		if n := len(a.Windows()); n > keep {
			t.Fatalf("ring holds %d windows, over Config.Windows = %d", n, keep)
		}
		collections := testutil.ToFloat64(a.metrics.collections)
		points = append(points, soakPoint{collections, retainedHeap()})
		testGCs++
		if done(collections) {
			break
		}
	}

	if err := a.Stop(); err != nil {
		t.Fatal(err)
	}
	stopWorkload()
	goleak.VerifyNone(t)

	forced := forcedGCs() - forcedBefore
	if forced > uint64(testGCs) {
		t.Errorf("%d forced GC cycles during the soak, but the test forced only %d: the agent forces garbage collections", forced, testGCs)
	}
	last := points[len(points)-1]
	last.collections = testutil.ToFloat64(a.metrics.collections) // the loop ran on until Stop
	// A collection that overruns its timeout (on an overloaded machine) is
	// dropped by contract, and the next window spans both intervals: a few
	// are tolerated, a gap never is.
	errs := testutil.ToFloat64(a.metrics.errors)
	if errs > last.collections/100 {
		t.Errorf("%v of %v collections failed during the soak; the agent logged:\n%s", errs, last.collections, logs.String())
	} else if errs > 0 {
		t.Logf("%v of %v collections failed (tolerated up to 1%%); the agent logged: %s", errs, last.collections, firstFailure(logs.String()))
	}
	ws := a.Windows()
	if len(ws) != keep {
		t.Errorf("ring holds %d windows after the soak, want Config.Windows = %d", len(ws), keep)
	}
	if got, want := a.Latest().ID, strconv.Itoa(int(last.collections-errs)); got != want {
		t.Errorf("latest window is %s after %v collections of which %v failed, want %s: every window kept in order", got, last.collections, errs, want)
	}
	for i := 1; i < len(ws); i++ {
		if !ws[i].Start.Equal(ws[i-1].End) {
			t.Errorf("window %s starts at %s, window %s ended at %s: a gap", ws[i].ID, ws[i].Start, ws[i-1].ID, ws[i-1].End)
		}
	}

	// The second half against itself: its last quarter may not hold more
	// than its first quarter plus a generous margin for GC timing.
	half := points[len(points)/2:]
	quarter := max(len(half)/2, 1)
	early, late := meanHeap(half[:quarter]), meanHeap(half[len(half)-quarter:])
	bound := early*5/4 + 4<<20
	t.Logf("soak: %v windows in %s (interval %s, load %s); collection %.1fms wall, %.1fms CPU each; retained heap %.1f MiB → %.1f MiB across the second half (bound %.1f MiB); ring %s; %d forced GCs, the test's %d",
		last.collections, time.Since(began).Round(time.Millisecond), *soakInterval, loadAverage(),
		1000*testutil.ToFloat64(a.metrics.collectSeconds)/last.collections, 1000*cpuSeconds(a)/last.collections,
		mib(early), mib(late), mib(bound), ringSize(a), forced, testGCs)
	if last.collections < soakMinWindows {
		t.Fatalf("only %v windows in %s; the soak says nothing with fewer than %d", last.collections, time.Since(began).Round(time.Millisecond), soakMinWindows)
	}
	if late > bound {
		t.Errorf("retained heap grew across the second half of the soak: %.1f MiB → %.1f MiB (bound %.1f MiB)", mib(early), mib(late), mib(bound))
	}
}

// firstFailure is the agent's log line about its first failed collection.
func firstFailure(logs string) string {
	for line := range strings.SplitSeq(logs, "\n") {
		if strings.Contains(line, "collection failed") || strings.Contains(line, "panic") {
			return line
		}
	}
	return "(nothing)"
}

// soakPoint is one reading during the soak.
type soakPoint struct {
	collections float64 // contendr_agent_collections_total so far
	heap        uint64  // live heap after a GC
}

// churn runs goroutines that keep inserting new keys into, and deleting old
// ones from, a mutex-guarded map of at most size keys, contending on it,
// until the returned stop is called.
func churn(goroutines, size int) (stop func()) {
	var mu sync.Mutex
	m := map[string][]byte{}
	quit := make(chan struct{})
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-quit:
					return
				default:
				}
				key := fmt.Sprintf("g%d-k%d", g, i)
				mu.Lock()
				m[key] = make([]byte, 64)
				delete(m, fmt.Sprintf("g%d-k%d", g, i-size/goroutines))
				mu.Unlock()
				if i%16 == 0 {
					// Churn, not a CPU hog: the machine running the suite
					// has two cores and the agent needs one.
					time.Sleep(100 * time.Microsecond)
				}
			}
		})
	}
	return func() {
		close(quit)
		wg.Wait()
	}
}

// retainedHeap is the live heap after a full GC, which only the test
// forces.
func retainedHeap() uint64 {
	runtime.GC()
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// forcedGCs counts the GC cycles forced by runtime.GC so far.
func forcedGCs() uint64 {
	s := []metrics.Sample{{Name: "/gc/cycles/forced:gc-cycles"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

func meanHeap(ps []soakPoint) uint64 {
	var sum uint64
	for _, p := range ps {
		sum += p.heap
	}
	return sum / uint64(len(ps))
}

// cpuSeconds is contendr_agent_collect_cpu_seconds_total, 0 where the
// platform has no thread CPU time.
func cpuSeconds(a *Agent) float64 {
	if a.metrics.collectCPU == nil {
		return 0
	}
	return testutil.ToFloat64(a.metrics.collectCPU)
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

// ringSize is the encoded size of the windows kept.
func ringSize(a *Agent) string {
	var total int64
	ws := a.Windows()
	for _, w := range ws {
		n, err := encodedSize(w)
		if err != nil {
			return "unmeasured: " + err.Error()
		}
		total += n
	}
	if len(ws) == 0 {
		return "empty"
	}
	return fmt.Sprintf("%d windows, %.0f KiB encoded (%.0f KiB each)", len(ws), float64(total)/1024, float64(total)/1024/float64(len(ws)))
}

// loadAverage is the load averages from /proc/loadavg (Linux), for the
// log line that goes with a figure measured on a shared machine.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
