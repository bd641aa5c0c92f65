//go:build !linux

package workload

import "time"

// machineBusy is unknown without /proc/stat: OthersShare is then 0 and
// OthersKnown false.
func machineBusy() (time.Duration, bool) { return 0, false }
