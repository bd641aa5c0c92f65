// Package gc measures what a window's allocation costs: GC pressure from
// runtime/metrics (or two MemStats readings for a plain pprof target) and the
// allocation that concurrent maps do to grow or copy themselves.
//
// Collect reads one window; NewCollector exposes the latest window's figures
// to Prometheus.
//
// # Where the figures come from
//
// With runtime/metrics (the agent): GC CPU fraction is
// Δ/cpu/classes/gc/total ÷ Δ/cpu/classes/total, a share of the CPU available
// to the process (GOMAXPROCS × window, idle time included); pauses are
// quantiles of the delta of /sched/pauses/total/gc:seconds, reported as the
// upper edge of the bucket that holds them; cycles, allocation and heap
// figures are deltas and end-of-window gauges of the metrics named in
// package window.
//
// From two heap?debug=1 MemStats readings (a plain net/http/pprof target):
// cycles are ΔNumGC and pauses are the PauseNs ring entries of those cycles.
// The ring keeps 256 entries, so a window with more cycles reports the pauses
// of its last 256 and says so in a note. One PauseNs entry is the sum of a
// cycle's two stop-the-world phases, where runtime/metrics records each
// phase apart: MemStats pauses are per cycle, runtime/metrics ones per phase. The GC CPU fraction
// needs a CPU profile of the window (samples under gcBgMarkWorker,
// gcAssistAlloc, markroot, gcDrain …, over all samples: a share of busy CPU,
// so higher than the runtime/metrics figure on an idle process, and lower
// where pauses are long, since runtime/metrics charges a stop-the-world
// pause as GOMAXPROCS × its length and a CPU profile sees no samples then);
// MemStats.GCCPUFraction is an average since process start and is never
// used.
//
// # Agreement with the Go tools
//
// TestCyclesAgreeWithGCTrace runs the copy-on-write workload in a child
// process under GODEBUG=gctrace=1: the "gc N @…" lines printed between the
// window's two metrics readings match the cycles Collect reports (61 of 61
// on a 2-core machine under -race; within 2 is accepted, for a cycle ending
// just at a boundary). gctrace's percentage is a lifetime average like
// GCCPUFraction and is not compared.
//
// TestAgreesWithGoToolPprof runs `go tool pprof -sample_index=alloc_space
// -top` on the reference profiles: TotalAllocBytes equals pprof's total, and
// each growth kind equals the flat bytes of its frames — the legacy sync.Map
// fixture's 40,322,141,357 B (99.99% of allocation; pprof shows
// sync.(*Map).dirtyLocked alone at 99.75%), the Go 1.26 sync.Map fixture's
// newEntryNode+newIndirectNode 245,540,363 B (99.0%), and the mutex
// fixture's main.(*muStore).op flat 4,743,227 B (65.7%).
//
// # Go map growth is inferred
//
// runtime/pprof drops the runtime and internal/runtime frames at the top of
// every heap stack, so a Go map growing in user code (mapassign → newTable
// → newarray) shows as an allocation of the user function itself, exactly
// like new(T) there. Growth is therefore named by frames only for sync.Map
// (both designs) and maps.Clone; Go map growth in user code is inferred for
// a function that takes a sync.Mutex or sync.RWMutex itself (seen in any
// profile of the window) and marked Inferred. A hand-written copy loop in a
// writer is recognised only when its runtime frames are visible (a writer
// whose growth shows both makemap and mapassign).
package gc
