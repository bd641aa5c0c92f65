package agent

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/google/pprof/profile"

	"github.com/contendr/contendr/internal/profilegen"
	"github.com/contendr/contendr/window"
)

// BenchmarkCollectScale measures the agent's collection of a window at
// profile scale, on the runtime's own profiles: before each window,
// stackGen drives N leaves at distinct stacks of this process, so that
// each of the mutex, block and allocs profiles has about N stacks that
// changed in the window (mutex fraction 1, block rate 1, MemProfileRate
// 1 while the leaves run; the metrics mutex-stacks, block-stacks and allocs-stacks count what
// the window's profiles hold). A collection is what closeWindow times:
// the agent's collect (the runtime/metrics sample, the three cumulative
// profiles read and turned into the window's deltas, the CPU profile of
// N stacks — generated, as the CPU profiler's output — parsed, the size
// cap) and judging the window (stack attribution, both collectors). The
// first window, which symbolizes every stack, is left out of the
// timing: "cold" measures it alone.
//
// cpu-ns/op is the process's CPU time per collection (GC workers on other
// threads included), the figure issue #14 bounds; thread-cpu-ns/op the
// collecting thread's alone (GC assists included), what the agent reports
// as its own cost; ns/op is wall time. The generator's work between
// windows is outside all three.
//
// Side by side against a baseline tree (the same file and stackgen_test.go
// copied into it), interleaved: docs/scale-agent.sh.
func BenchmarkCollectScale(b *testing.B) {
	for _, n := range []int{1_000, 10_000} {
		b.Run(fmt.Sprintf("stacks=%d", n), func(b *testing.B) {
			profilingAtFullRate(b, runtime.MemProfileRate)
			gen := stackGen{depth: genDepth}
			cpu := encodeProfile(b, profilegen.MustGenerate(profilegen.Options{Kind: profilegen.CPU, Stacks: n, Seed: 4}))
			a, err := newAgent(Config{Logger: quiet, DisableAlerts: true})
			if err != nil {
				b.Fatal(err)
			}
			// Every allocation is sampled while the leaves run, and at the
			// default rate while the agent collects, as in production:
			// sampling the agent's own allocations at rate 1 costs more
			// than the collection.
			memRate := runtime.MemProfileRate
			drive := func() {
				runtime.MemProfileRate = 1
				gen.run(0, n, 64)
				runtime.MemProfileRate = memRate
				runtime.GC() // publishes the window's allocations in the allocs profile
				runtime.GC()
			}
			var threadCPU time.Duration
			collectOnce := func(b *testing.B) (cpuSeconds float64, w *window.Window) {
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
				threadBefore, _ := threadCPUTime()
				before := processCPUSeconds()
				w, next, err := a.collect(context.Background(), cpu, nil)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := a.judgeWindow(w, a.Latest()); err != nil {
					b.Fatal(err)
				}
				cpuSeconds = processCPUSeconds() - before
				threadAfter, _ := threadCPUTime()
				threadCPU += threadAfter - threadBefore
				a.lastID++
				a.base = next
				a.keep(w, a.latestResults().lock)
				return cpuSeconds, w
			}
			b.Run("cold", func(b *testing.B) {
				var cpuSeconds float64
				for range b.N {
					b.StopTimer()
					fresh, err := newAgent(Config{Logger: quiet, DisableAlerts: true})
					if err != nil {
						b.Fatal(err)
					}
					a = fresh
					a.base = a.readBaseline(time.Now())
					drive()
					b.StartTimer()
					c, _ := collectOnce(b)
					cpuSeconds += c
				}
				b.ReportMetric(cpuSeconds*1e9/float64(b.N), "cpu-ns/op")
			})
			b.Run("collect", func(b *testing.B) {
				b.StopTimer()
				a.base = a.readBaseline(time.Now())
				drive()
				collectOnce(b) // the first window symbolizes every stack
				threadCPU = 0
				var cpuSeconds float64
				stacks := map[string]int{}
				for range b.N {
					drive()
					b.StartTimer()
					c, w := collectOnce(b)
					b.StopTimer()
					cpuSeconds += c
					for _, kind := range cumulativeKinds {
						if p := w.Profile(kind); p != nil {
							stacks[string(kind)] += len(p.Sample)
						}
					}
				}
				b.ReportMetric(cpuSeconds*1e9/float64(b.N), "cpu-ns/op")
				b.ReportMetric(float64(threadCPU.Nanoseconds())/float64(b.N), "thread-cpu-ns/op")
				for kind, s := range stacks {
					b.ReportMetric(float64(s)/float64(b.N), kind+"-stacks")
				}
			})
		})
	}
}

func encodeProfile(b *testing.B, p *profile.Profile) []byte {
	b.Helper()
	var buf bytes.Buffer
	if err := p.Write(&buf); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}
