package mutex

import (
	"fmt"
	"testing"
	"time"

	"github.com/contendr/contendr/window"
)

// syntheticStacks builds n distinct leaf-first stacks the shape of a
// contended service: one of five lock primitives (mutex, RWMutex write and
// read, legacy and HashTrieMap sync.Map), a site in one of 100 store
// packages, one of n/100 handlers, and a fixed net/http tail. Function
// names repeat across stacks, as they do in real profiles.
func syntheticStacks(n int, holder bool) []stack {
	lock, unlock := "Lock", "Unlock"
	if !holder {
		unlock = lock
	}
	primitives := [][]string{
		{"sync.(*Mutex)." + unlock},
		{"sync.(*Mutex)." + unlock, "sync.(*RWMutex)." + unlock},
		{"sync.(*RWMutex).R" + unlock},
		{"sync.(*Mutex)." + unlock, "sync.(*Map).LoadOrStore"},
		{trieProto + ".Swap", trieProto + ".Store", "sync.(*Map).Store"},
	}
	tail := [][]string{
		{"net/http.HandlerFunc.ServeHTTP"},
		{"net/http.(*ServeMux).ServeHTTP"},
		{"net/http.serverHandler.ServeHTTP"},
		{"net/http.(*conn).serve"},
	}
	stacks := make([]stack, 0, n)
	for i := range n {
		store, handler := i%100, i/100
		st := stack{
			append(append([]string{}, primitives[handler%len(primitives)]...), fmt.Sprintf("example.com/svc/store%d.(*Store[go.shape.string]).Get", store)),
			{fmt.Sprintf("example.com/svc/api.(*Server).handle%d", handler)},
			{fmt.Sprintf("example.com/svc/api.(*Server).handle%d.func1", handler)},
		}
		stacks = append(stacks, append(st, tail...))
	}
	return stacks
}

func syntheticWindow(n int) *window.Window {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	w := &window.Window{ID: "bench", Start: start, End: start.Add(10 * time.Second),
		Metrics: withCPUTotal(metricsPair(0, 0, 30, 12), 0, 20),
		Meta:    window.Meta{MutexProfileFraction: 5, BlockProfileRate: 10000, GOMAXPROCS: 2}}
	w.SetProfile(window.Mutex, contentionProfile(syntheticStacks(n, true)...))
	w.SetProfile(window.Block, contentionProfile(syntheticStacks(n, false)...))
	return w
}

func TestSyntheticWindow(t *testing.T) {
	w := syntheticWindow(10000)
	for _, k := range []window.ProfileKind{window.Mutex, window.Block} {
		if err := w.Profile(k).CheckValid(); err != nil {
			t.Fatalf("synthetic %s profile: %v", k, err)
		}
		if n := len(w.Profile(k).Sample); n != 10000 {
			t.Fatalf("synthetic %s profile has %d stacks, want 10000", k, n)
		}
	}
	res, err := Collect(w, Options{})
	if err != nil {
		t.Fatal(err)
	}
	// 100 stores × 5 primitives per side; every stack is a lock stack.
	if len(res.Sites) != 1000 || len(res.Components) != 100 {
		t.Errorf("%d sites and %d components, want 1000 and 100", len(res.Sites), len(res.Components))
	}
	for _, s := range res.Sites {
		if s.Kind == KindOther || len(s.Stacks) != DefaultTopStacks {
			t.Fatalf("site %s: kind %s with %d stacks", s.Function, s.Kind, len(s.Stacks))
		}
	}
}

// BenchmarkCollect measures Collect on a window whose mutex and block
// profiles each hold 10,000 distinct stacks.
func BenchmarkCollect(b *testing.B) {
	w := syntheticWindow(10000)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Collect(w, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
