package agent

import (
	"bytes"
	"fmt"
	"runtime/pprof"

	"github.com/contendr/contendr/window"
)

// DefaultGoroutineLeakEvery is how often a window carries the goroutine
// leak profile where the binary has one: every 6th, once a minute at the
// default interval. Each reading runs a GC cycle that looks for goroutines
// blocked on what no live goroutine can reach (runtime/pprof's
// goroutineleak profile), which costs a GC's CPU: once a minute is a small
// part of what a service's own GCs cost, and a leak does not go away.
const DefaultGoroutineLeakEvery = 6

// leakProfile is the runtime's goroutine leak profile: present only in a
// binary built by Go 1.26 with GOEXPERIMENT=goroutineleakprofile.
var leakProfile = pprof.Lookup(string(window.GoroutineLeak))

// LeakProfileSupported tells whether this binary has the goroutine leak
// profile (built with GOEXPERIMENT=goroutineleakprofile, Go ≥1.26).
func LeakProfileSupported() bool { return leakProfile != nil }

// collectLeaks adds the goroutine leak profile to every
// GoroutineLeakEvery-th window and returns its size, for the bundle's size
// estimate.
func (a *Agent) collectLeaks(w *window.Window) int {
	every := a.cfg.GoroutineLeakEvery
	if leakProfile == nil || every <= 0 || (a.lastID+1)%every != 0 {
		return 0
	}
	var buf bytes.Buffer
	if err := leakProfile.WriteTo(&buf, 0); err != nil {
		w.Note(fmt.Sprintf("goroutine leak profile missing: %v", err))
		return 0
	}
	p, err := window.ParseProfile(buf.Bytes(), 0)
	if err != nil {
		w.Note(fmt.Sprintf("goroutine leak profile missing: %v", err))
		return 0
	}
	w.SetProfile(window.GoroutineLeak, p)
	return buf.Len()
}
