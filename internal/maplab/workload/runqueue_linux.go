package workload

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// runQueueWait returns, per thread of this process, how long the thread has
// been runnable but waiting for a CPU (the second field of
// /proc/self/task/*/schedstat): mostly time other processes took from us. Threads
// blocked on a futex (goroutines parked on a lock, idle Ps) do not count.
// It returns nil where the kernel does not keep scheduler statistics.
func runQueueWait() map[string]time.Duration {
	tasks, err := filepath.Glob("/proc/self/task/*/schedstat")
	if err != nil || len(tasks) == 0 {
		return nil
	}
	waits := make(map[string]time.Duration, len(tasks))
	for _, path := range tasks {
		data, err := os.ReadFile(path)
		if err != nil {
			continue // the thread exited meanwhile
		}
		fields := strings.Fields(string(data))
		if len(fields) < 2 {
			continue
		}
		ns, err := strconv.ParseInt(fields[1], 10, 64)
		if err != nil {
			continue
		}
		waits[filepath.Base(filepath.Dir(path))] = time.Duration(ns)
	}
	return waits
}

// runQueueSince sums the run-queue wait added since start over the threads
// alive now; threads started since then count from zero.
func runQueueSince(start map[string]time.Duration) time.Duration {
	if start == nil {
		return 0
	}
	var total time.Duration
	for tid, wait := range runQueueWait() {
		total += wait - start[tid]
	}
	return max(total, 0)
}
