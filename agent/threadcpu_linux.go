package agent

import (
	"syscall"
	"time"
)

// threadCPUSupported says whether threadCPUTime works here.
const threadCPUSupported = true

// threadCPUTime is the CPU time (user + system) of the calling OS thread.
// With the goroutine locked to its thread, the difference around a
// collection is the collection's own CPU time, GC assists included.
func threadCPUTime() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_THREAD, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
