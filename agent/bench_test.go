package agent

import (
	"fmt"
	"io"
	"runtime"
	"runtime/pprof"
	"sync"
	"testing"
	"time"
)

// BenchmarkCollectWindow measures one window collection (the agent's own
// cost per interval) while 8 goroutines contend on a mutex, so that the
// profiles have content.
func BenchmarkCollectWindow(b *testing.B) {
	a, err := Start(Config{Interval: time.Hour, Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	defer a.Stop()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	for range 8 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				mu.Lock()
				time.Sleep(time.Microsecond)
				mu.Unlock()
			}
		})
	}
	defer wg.Wait()
	defer close(stop)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.closeWindow(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCPUProfilerCost is what the CPU profiler costs the code it
// profiles: one op is a fixed computation on a thread of its own, timed by
// that thread's CPU time (cpu-ns/op; Linux), with the profiler off and on.
// The difference is the SIGPROF handler's work at 100 Hz, which no CPU
// profile shows (the handler is where samples are taken). -count runs each
// side's repeats in a row; for side-by-side rounds run the binary once per
// round:
//
//	go test -c -o agent.test ./agent
//	for i in $(seq 10); do ./agent.test -test.run '^$' -test.bench CPUProfilerCost -test.benchtime 1s; done > profiler.txt
func BenchmarkCPUProfilerCost(b *testing.B) {
	for _, profiled := range []bool{false, true} {
		b.Run(fmt.Sprintf("profiler=%v", profiled), func(b *testing.B) {
			if profiled {
				if err := pprof.StartCPUProfile(io.Discard); err != nil {
					b.Skipf("the CPU profiler is in use: %v", err)
				}
				defer pprof.StopCPUProfile()
			}
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			before, ok := threadCPUTime()
			if !ok {
				b.Skip("no per-thread CPU time on this platform")
			}
			for b.Loop() {
				profilerCostSink += spin(1 << 20)
			}
			after, _ := threadCPUTime()
			b.ReportMetric(float64(after-before)/float64(b.N), "cpu-ns/op")
		})
	}
}

var profilerCostSink uint64

// spin is n steps of arithmetic the compiler cannot fold away.
func spin(n int) uint64 {
	x := uint64(n)
	for i := range n {
		x = x*6364136223846793005 + uint64(i)
	}
	return x
}
