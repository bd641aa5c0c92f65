package leaks

import (
	"bytes"
	"runtime"
	"runtime/pprof"
	"sync"
	"testing"
	"time"

	"github.com/contendr/contendr/collectors/stacks"
	"github.com/contendr/contendr/window"
)

type stuck struct{ mu sync.Mutex }

//go:noinline
func (s *stuck) wait() {
	s.mu.Lock()
	s.mu.Unlock()
}

// TestCollect reads a goroutine profile — the leak profile's format — of
// three goroutines blocked on a held Mutex and two on a channel, standing
// in for a leak profile, which only a GOEXPERIMENT build writes.
func TestCollect(t *testing.T) {
	var s stuck
	s.mu.Lock()
	ch := make(chan int)
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(s.wait)
	}
	for range 2 {
		wg.Go(func() { <-ch })
	}
	for runtime.NumGoroutine() < 6 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(10 * time.Millisecond) // let them park
	var buf bytes.Buffer
	if err := pprof.Lookup("goroutine").WriteTo(&buf, 0); err != nil {
		t.Fatal(err)
	}
	s.mu.Unlock()
	close(ch)
	wg.Wait()

	p, err := window.ParseProfile(buf.Bytes(), 0)
	if err != nil {
		t.Fatal(err)
	}
	w := &window.Window{}
	w.SetProfile(window.GoroutineLeak, p)
	r := Collect(w)
	if r.OnLocks < 3 || r.Goroutines < 5 {
		t.Fatalf("%d leaked, %d on locks; want ≥5 and ≥3: %+v", r.Goroutines, r.OnLocks, r.Sites)
	}
	top := r.Sites[0]
	if !top.Lock || top.Kind != stacks.KindMutex || top.Function != "github.com/contendr/contendr/collectors/leaks.(*stuck).wait" || top.Goroutines != 3 {
		t.Errorf("first site %+v, want the three on (*stuck).wait's Mutex", top)
	}
	for _, s := range r.Sites[1:] {
		if s.Lock && s.Goroutines > top.Goroutines {
			t.Errorf("sites not ordered: %+v after %+v", s, top)
		}
	}
	if Collect(&window.Window{}) != nil {
		t.Error("a window without a leak profile gave a result")
	}
}
