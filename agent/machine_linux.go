package agent

import (
	"os"
	"strconv"
	"strings"
)

// clockTicks is USER_HZ, the unit of /proc/stat: 100 on every Linux
// architecture Go supports (the kernel fixes it for user space whatever
// its internal tick rate).
const clockTicks = 100

// machineIdleSeconds is the CPU time all of the machine's CPUs spent idle
// (idle + iowait of /proc/stat's aggregate line) since boot; 0 when it
// cannot be read. The contention cost uses it to tell a process whose
// threads held Ps off-CPU while cores sat free from one whose CPUs other
// processes took.
func machineIdleSeconds() float64 {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(data), "\n")
	fields := strings.Fields(line)
	if len(fields) < 6 || fields[0] != "cpu" {
		return 0
	}
	var ticks uint64
	for _, f := range fields[4:6] { // idle, iowait
		v, err := strconv.ParseUint(f, 10, 64)
		if err != nil {
			return 0
		}
		ticks += v
	}
	return float64(ticks) / clockTicks
}
