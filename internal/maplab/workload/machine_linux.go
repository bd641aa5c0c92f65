package workload

import (
	"os"
	"strconv"
	"strings"
	"time"
)

// machineBusy is the CPU time all of the machine's CPUs spent outside
// idle and iowait since boot (/proc/stat's aggregate line, in USER_HZ =
// 100 ticks a second), and whether it could be read.
func machineBusy() (time.Duration, bool) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, false
	}
	line, _, _ := strings.Cut(string(data), "\n")
	fields := strings.Fields(line)
	if len(fields) < 9 || fields[0] != "cpu" {
		return 0, false
	}
	var busy uint64
	// user nice system idle iowait irq softirq steal: steal is time the
	// hypervisor gave to other guests, a neighbour's as much as a process.
	for i, f := range fields[1:9] {
		v, err := strconv.ParseUint(f, 10, 64)
		if err != nil {
			return 0, false
		}
		if i != 3 && i != 4 {
			busy += v
		}
	}
	return time.Duration(busy) * 10 * time.Millisecond, true
}
