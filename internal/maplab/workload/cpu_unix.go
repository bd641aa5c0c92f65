//go:build unix

package workload

import (
	"syscall"
	"time"
)

// processCPU is the CPU time (user + system) the process has used. Unlike
// wall-clock throughput it does not drop when other processes take the
// machine's cores, which makes it the steadier measure on a shared machine.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
