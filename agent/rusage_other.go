//go:build !unix

package agent

// processCPUSeconds is unknown (0) where getrusage is missing; the
// contention cost then reads idle time from runtime/metrics or the CPU
// profile.
func processCPUSeconds() float64 { return 0 }
