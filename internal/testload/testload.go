// Package testload gives tests lock contention to measure: goroutines
// fighting over one mutex-guarded map in the test's own process, with the
// runtime's mutex and block profiling on, until the test ends.
package testload

import (
	"runtime"
	"sync"
	"testing"
)

// Contend starts four goroutines contending on one sync.Mutex and sets the
// mutex profile fraction and block profile rate (0 leaves profiling off,
// for tests of a target that does not profile). Cleanup stops them and
// restores the mutex fraction in force before; the block rate, which the
// runtime cannot report, goes back to 0.
func Contend(t testing.TB, mutexFraction, blockRate int) {
	t.Helper()
	prev := runtime.SetMutexProfileFraction(mutexFraction)
	runtime.SetBlockProfileRate(blockRate)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	shared := map[int]int{}
	for g := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				mu.Lock()
				shared[(g*7919+i)%1000] = i
				for range 200 {
					shared[i%1000]++
				}
				mu.Unlock()
				if i%64 == 0 {
					runtime.Gosched()
				}
			}
		})
	}
	t.Cleanup(func() {
		close(stop)
		wg.Wait()
		runtime.SetMutexProfileFraction(prev)
		runtime.SetBlockProfileRate(0)
	})
}
