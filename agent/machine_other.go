//go:build !linux

package agent

// machineIdleSeconds is unknown (0) without /proc/stat: the contention
// cost then takes idle Ps from the runtime's account alone.
func machineIdleSeconds() float64 { return 0 }
