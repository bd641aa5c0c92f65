//go:build !unix

package workload

import "time"

// processCPU is not measured on this OS; results report zero CPU time.
func processCPU() time.Duration { return 0 }
