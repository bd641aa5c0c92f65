//go:build !linux

package workload

import "time"

// Run-queue wait is read from Linux's schedstat only; elsewhere it is
// reported as zero.
func runQueueWait() map[string]time.Duration               { return nil }
func runQueueSince(map[string]time.Duration) time.Duration { return 0 }
