// Package procstat reads the machine's CPU time from Linux's /proc/stat:
// the one reading the agent (idle cores for the contention cost) and
// maplab (other processes' CPU around a run) both take.
package procstat

import (
	"os"
	"strconv"
	"strings"
	"time"
)

// tick is USER_HZ, the unit of /proc/stat: 100 a second on every Linux
// architecture Go supports (the kernel fixes it for user space whatever its
// internal tick rate).
const tick = 10 * time.Millisecond

// CPU is the aggregate "cpu" line: time all of the machine's CPUs spent
// idle (idle + iowait) and in all, since boot.
type CPU struct {
	Idle, Total time.Duration
}

// Busy is the time not idle, steal included (the hypervisor gave it to
// other guests: a neighbour's as much as another process's).
func (c CPU) Busy() time.Duration { return c.Total - c.Idle }

// Read reads /proc/stat; ok is false where it is missing or unreadable
// (not Linux).
func Read() (CPU, bool) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return CPU{}, false
	}
	line, _, _ := strings.Cut(string(data), "\n")
	fields := strings.Fields(line)
	if len(fields) < 6 || fields[0] != "cpu" {
		return CPU{}, false
	}
	var idle, total uint64
	// user nice system idle iowait irq softirq steal guest guest_nice;
	// guest time is already counted in user.
	for i, f := range fields[1:min(len(fields), 9)] {
		v, err := strconv.ParseUint(f, 10, 64)
		if err != nil {
			return CPU{}, false
		}
		total += v
		if i == 3 || i == 4 {
			idle += v
		}
	}
	return CPU{Idle: time.Duration(idle) * tick, Total: time.Duration(total) * tick}, true
}
