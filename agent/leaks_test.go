package agent

import (
	"sync"
	"testing"
	"time"

	"github.com/contendr/contendr/collectors/leaks"
	"github.com/contendr/contendr/window"
)

// leakOnLock leaves a goroutine blocked on a Mutex that nothing else can
// reach, the deadlock the goroutine leak profile finds.
func leakOnLock() {
	mu := new(sync.Mutex)
	mu.Lock()
	go leakedLocker(mu)
}

//go:noinline
func leakedLocker(mu *sync.Mutex) { mu.Lock() }

// TestGoroutineLeakProfile runs only in a binary with the leak profile:
//
//	GOEXPERIMENT=goroutineleakprofile go test -run GoroutineLeak ./agent/
func TestGoroutineLeakProfile(t *testing.T) {
	if !LeakProfileSupported() {
		t.Skip("this binary has no goroutine leak profile: build with GOEXPERIMENT=goroutineleakprofile (Go ≥1.26)")
	}
	a, _ := startAgent(t, Config{GoroutineLeakEvery: 2})
	leakOnLock()
	time.Sleep(20 * time.Millisecond) // let it block
	if w := collect(t, a); w.Profile(window.GoroutineLeak) != nil {
		t.Errorf("window %s, the first, has a leak profile; want it every 2nd", w.ID)
	}
	w := collect(t, a)
	r := leaks.Collect(w)
	if r == nil {
		t.Fatalf("window %s has no leak profile; notes %q", w.ID, w.Notes)
	}
	if r.OnLocks == 0 || !r.Sites[0].Lock || r.Sites[0].Function != "github.com/contendr/contendr/agent.leakedLocker" {
		t.Errorf("leaks %+v, want leakedLocker's Mutex first", r)
	}
}
