//go:build !linux

package agent

import "time"

// threadCPUSupported says whether threadCPUTime works here: per-thread CPU
// time is read with getrusage(RUSAGE_THREAD), which only Linux has.
const threadCPUSupported = false

func threadCPUTime() (time.Duration, bool) { return 0, false }
