package locktrace

import (
	"bytes"
	"errors"
	"math"
	"runtime"
	"runtime/trace"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/contendr/contendr/collectors/stacks"
)

// hotCache is a lock held long by a slow writer and wanted often by
// readers; coolCache is a lock wanted rarely. Their methods are the sites
// the trace must find.
type hotCache struct {
	mu sync.Mutex
	n  int
}

func (c *hotCache) get() {
	c.mu.Lock()
	c.n++
	c.mu.Unlock()
}

//go:noinline
func (c *hotCache) slowSet(stop *atomic.Bool) {
	c.mu.Lock()
	spin(200 * time.Microsecond)
	c.n++
	c.mu.Unlock()
}

type coolCache struct {
	mu sync.Mutex
	n  int
}

func (c *coolCache) get() {
	c.mu.Lock()
	spin(5 * time.Microsecond)
	c.n++
	c.mu.Unlock()
}

func spin(d time.Duration) {
	for start := time.Now(); time.Since(start) < d; {
	}
}

// recordContended traces a workload on two Ps: four readers and a slow
// writer on hotCache, two goroutines on coolCache that mostly work outside it.
func recordContended(t testing.TB) []byte {
	t.Helper()
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	var buf bytes.Buffer
	if err := trace.Start(&buf); err != nil {
		t.Skipf("cannot record a trace here: %v", err)
	}
	var hot hotCache
	var cool coolCache
	var stop atomic.Bool
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for !stop.Load() {
				hot.get()
			}
		})
	}
	wg.Go(func() {
		for !stop.Load() {
			hot.slowSet(&stop)
		}
	})
	for range 2 {
		wg.Go(func() {
			for !stop.Load() {
				cool.get()
				spin(20 * time.Microsecond)
			}
		})
	}
	time.Sleep(300 * time.Millisecond)
	stop.Store(true)
	wg.Wait()
	trace.Stop()
	return buf.Bytes()
}

func TestReadContended(t *testing.T) {
	data := recordContended(t)
	d, err := Read(bytes.NewReader(data), Options{})
	if err != nil {
		t.Fatal(err)
	}
	const pkg = "github.com/contendr/contendr/collectors/locktrace."
	hot := d.Site(pkg+"(*hotCache).get", stacks.KindMutex)
	cool := d.Site(pkg+"(*coolCache).get", stacks.KindMutex)
	if hot == nil {
		t.Fatalf("no hotCache.get site among %v", siteNames(d))
	}

	t.Run("structure", func(t *testing.T) {
		if d.GoVersion != runtime.Version()[:len("go1.NN")] {
			t.Errorf("GoVersion %q, want the running Go's %q", d.GoVersion, runtime.Version())
		}
		if d.GOMAXPROCS != 2 {
			t.Errorf("GOMAXPROCS %d, want 2", d.GOMAXPROCS)
		}
		if d.Seconds <= 0 || d.LockWaits == 0 || d.BlockedSeconds <= 0 {
			t.Errorf("seconds %g, waits %d, blocked %g: want all positive", d.Seconds, d.LockWaits, d.BlockedSeconds)
		}
		if hot.Component != pkg[:len(pkg)-1]+".(*hotCache)" {
			t.Errorf("hot site component %q", hot.Component)
		}
		if !strings.HasSuffix(hot.Primitive, "(*Mutex).Lock") {
			t.Errorf("hot site primitive %q, want a Mutex.Lock", hot.Primitive)
		}
		for _, s := range d.Sites {
			if s.Kind == stacks.KindRuntime || s.Component == "runtime" || s.Component == "" {
				t.Errorf("site %s [%s] of component %q: the runtime's own waits are not lock sites", s.Function, s.Kind, s.Component)
			}
		}
		if len(hot.Stacks) == 0 || !slicesContain(hot.Stacks[0].Frames, hot.Function) {
			t.Errorf("hot site's heaviest stack %v does not hold the site", hot.Stacks)
		}
	})

	t.Run("orderings", func(t *testing.T) {
		// Which of hotCache's two sites waits longer varies (one writer
		// against four readers); that the hot lock's sites lead does not.
		if d.Top().Component != hot.Component {
			t.Errorf("top site %s, want one of hotCache's", d.Top().Function)
		}
		if cool != nil && cool.BlockedSeconds >= hot.BlockedSeconds {
			t.Errorf("cool site blocked %gs ≥ hot site's %gs", cool.BlockedSeconds, hot.BlockedSeconds)
		}
		if d.Components[0].Name != hot.Component {
			t.Errorf("top component %s, want %s", d.Components[0].Name, hot.Component)
		}
		// Lost P-time is at most the blocked time (one lost P needs one
		// blocked goroutine) and at most the idle capacity.
		if d.LostPSeconds <= 0 || d.LostPSeconds > d.BlockedSeconds+1e-9 || d.LostPShare > 1 {
			t.Errorf("lost P %gs (share %g) vs blocked %gs: want 0 < lost ≤ blocked, share ≤ 1",
				d.LostPSeconds, d.LostPShare, d.BlockedSeconds)
		}
		var siteLost float64
		for _, s := range d.Sites {
			siteLost += s.LostPSeconds
		}
		if math.Abs(siteLost-d.LostPSeconds) > 1e-6*max(1, d.LostPSeconds) {
			t.Errorf("sites' lost P-time sums to %g, the trace's is %g", siteLost, d.LostPSeconds)
		}
	})

	t.Run("holder", func(t *testing.T) {
		// Waiters of hotCache.get are woken by the Unlock in get (another
		// reader) or in slowSet (the writer); both must be named.
		names := map[string]bool{}
		for _, h := range hot.Holders {
			names[h.Function] = true
			if h.Goroutines == 0 || len(h.Stack) == 0 {
				t.Errorf("holder %s: %d goroutines, stack %v", h.Function, h.Goroutines, h.Stack)
			}
		}
		if !names[pkg+"(*hotCache).slowSet"] || !names[pkg+"(*hotCache).get"] {
			t.Errorf("hot site holders %v, want (*hotCache).slowSet and (*hotCache).get", names)
		}
	})

	t.Run("chains", func(t *testing.T) {
		if len(d.Chains) == 0 {
			t.Fatal("no chain of waits behind waits in a four-waiter convoy")
		}
		for i, c := range d.Chains {
			if c.Length < 2 || len(c.Links) < 2 || len(c.Links) > min(c.Length, maxLinks) {
				t.Errorf("chain %d: length %d with %d links", i, c.Length, len(c.Links))
			}
			if i > 0 && c.Length > d.Chains[i-1].Length {
				t.Errorf("chains not longest first: %d after %d", c.Length, d.Chains[i-1].Length)
			}
			// Each link was woken by the next link's goroutine.
			for j := 0; j+1 < len(c.Links); j++ {
				if c.Links[j].WokenBy != c.Links[j+1].Goroutine {
					t.Errorf("chain %d link %d woken by %d, next link is goroutine %d", i, j, c.Links[j].WokenBy, c.Links[j+1].Goroutine)
				}
			}
		}
	})

	t.Run("sync profile", func(t *testing.T) {
		p := d.SyncProfile()
		if err := p.CheckValid(); err != nil {
			t.Fatal(err)
		}
		var nanos, count int64
		for _, s := range p.Sample {
			count += s.Value[0]
			nanos += s.Value[1]
		}
		if count != d.LockWaits || math.Abs(float64(nanos)/1e9-d.BlockedSeconds) > 1e-6 {
			t.Errorf("profile holds %d waits, %dns; the diagnosis %d, %gs", count, nanos, d.LockWaits, d.BlockedSeconds)
		}
	})
}

// TestWaitAcrossGenerations: the runtime starts a new trace generation
// about every second and restates every goroutine's state in it; a wait
// spanning one must stay one wait.
func TestWaitAcrossGenerations(t *testing.T) {
	if testing.Short() {
		t.Skip("holds a lock for 1.5s")
	}
	var buf bytes.Buffer
	if err := trace.Start(&buf); err != nil {
		t.Skipf("cannot record a trace here: %v", err)
	}
	var c hotCache
	c.mu.Lock()
	done := make(chan struct{})
	go func() {
		c.get()
		close(done)
	}()
	time.Sleep(1500 * time.Millisecond)
	c.mu.Unlock()
	<-done
	trace.Stop()
	d, err := Read(bytes.NewReader(buf.Bytes()), Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := d.Site("github.com/contendr/contendr/collectors/locktrace.(*hotCache).get", stacks.KindMutex)
	if s == nil || s.Waits != 1 || s.MaxWaitSeconds < 1 {
		t.Fatalf("site %+v, want one wait over a second", s)
	}
	if len(s.Holders) != 1 || s.Holders[0].Function != "github.com/contendr/contendr/collectors/locktrace.TestWaitAcrossGenerations" {
		t.Errorf("holders %+v, want the test that unlocked", s.Holders)
	}
}

func TestReadBadInput(t *testing.T) {
	good := recordContended(t)
	for _, tc := range []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, ErrNotTrace},
		{"a pprof profile", []byte("\x1f\x8b\x08\x00garbage"), ErrNotTrace},
		{"text", []byte("goroutine 1 [running]:\nmain.main()\n"), ErrNotTrace},
		{"future version", append([]byte("go 1.99 trace\x00\x00\x00"), good[16:]...), ErrUnsupported},
		{"truncated", good[:len(good)/2], ErrCorrupt},
		{"header only", good[:16], nil}, // an empty trace: no events, no error
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Read(bytes.NewReader(tc.data), Options{})
			if tc.want == nil {
				if err != nil || d.LockWaits != 0 {
					t.Fatalf("got %v, %+v; want an empty diagnosis", err, d)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans lines: %q", err)
			}
		})
	}
}

func siteNames(d *Diagnosis) []string {
	var out []string
	for _, s := range d.Sites {
		out = append(out, s.Function+" "+string(s.Kind))
	}
	return out
}

func slicesContain(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
