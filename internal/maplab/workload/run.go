package workload

import (
	"context"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/contendr/contendr/internal/procstat"

	"github.com/contendr/contendr/internal/maplab/strategy"
)

// Result is what one Run measured.
type Result struct {
	// Ops counts loads, stores and deletes; full ranges are counted apart.
	Ops       int64         `json:"ops"`
	Ranges    int64         `json:"ranges"`
	Elapsed   time.Duration `json:"elapsed"`
	OpsPerSec float64       `json:"ops_per_sec"`
	// CPUSeconds is the process's user+system CPU time over the run (0
	// where not measured). CPUShare is CPUSeconds / (Elapsed × GOMAXPROCS):
	// well below 1 means either the map left Ps idle (goroutines parked on
	// a lock) or other processes took the cores.
	CPUSeconds      float64 `json:"cpu_seconds"`
	CPUShare        float64 `json:"cpu_share"`
	OpsPerCPUSecond float64 `json:"ops_per_cpu_second"`
	// RunQueueShare is the time this process's threads were runnable but
	// waiting for a CPU (Linux schedstat), over Elapsed × GOMAXPROCS. On a
	// loaded machine it is mostly other processes taking the cores; it also
	// holds the wake-up latency of the process's own threads when Ps go idle
	// and are woken again, so lock-heavy runs show some even when alone.
	// High values mean the throughput says as much about the machine as
	// about the map.
	RunQueueShare float64 `json:"run_queue_share"`
	// OthersShare is the CPU other processes used during the run (the
	// machine's busy CPU time from Linux /proc/stat, steal included, minus
	// this process's), over Elapsed × NumCPU; OthersKnown says it was read.
	// Unlike RunQueueShare it does not count the process's own threads
	// waiting to be woken: a lock-based map at one goroutine per P reads
	// 30–45% run-queue share on an otherwise idle 2-vCPU VM, and 0 here.
	OthersShare float64 `json:"others_share"`
	OthersKnown bool    `json:"others_known"`
}

// Run prefills m, then runs spec on it from spec.Goroutines goroutines for
// spec.Duration, or until ctx ends when Duration is 0 (an earlier ctx end
// also stops a timed run). Only the time after prefill is measured.
func Run(ctx context.Context, m strategy.Map, spec Spec) (Result, error) {
	spec = spec.Resolve(runtime.GOMAXPROCS(0))
	if err := spec.Validate(); err != nil {
		return Result{}, err
	}
	Prefill(m, spec)
	workers := make([]*worker, spec.Goroutines)
	for g := range workers {
		workers[g] = newWorker(m, spec, uint64(g))
	}

	// One flag read by every worker between operations: cheaper than a
	// channel receive, and the cache line is only ever written once.
	var stop atomic.Bool
	cpuStart, waitStart := processCPU(), runQueueWait()
	busyStart, busyOK := procstat.Read()
	start := time.Now()
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Go(func() { w.run(&stop) })
	}
	// The deadline counts from start, once the workers are launched: set
	// before, a descheduled caller (a loaded machine) could find it past
	// when the run begins and measure nothing.
	if spec.Duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, start.Add(spec.Duration))
		defer cancel()
	}
	<-ctx.Done()
	stop.Store(true)
	wg.Wait()
	elapsed := time.Since(start)
	cpu, waited := processCPU()-cpuStart, runQueueSince(waitStart)
	busyEnd, busyEndOK := procstat.Read()

	res := Result{Elapsed: elapsed, CPUSeconds: cpu.Seconds()}
	for _, w := range workers {
		res.Ops += w.ops
		res.Ranges += w.ranges
	}
	if elapsed > 0 {
		res.OpsPerSec = float64(res.Ops) / elapsed.Seconds()
		capacity := elapsed.Seconds() * float64(runtime.GOMAXPROCS(0))
		res.CPUShare = cpu.Seconds() / capacity
		res.RunQueueShare = waited.Seconds() / capacity
		if busyOK && busyEndOK && cpu > 0 {
			others := (busyEnd.Busy() - busyStart.Busy() - cpu).Seconds()
			res.OthersShare = max(others, 0) / (elapsed.Seconds() * float64(runtime.NumCPU()))
			res.OthersKnown = true
		}
	}
	if cpu > 0 {
		res.OpsPerCPUSecond = float64(res.Ops) / cpu.Seconds()
	}
	return res, nil
}

// Prefill stores keys [0, spec.Keys) and as much of the churn range as the
// insert/delete mix keeps occupied in steady state, so measurement starts
// from a map of its working size.
func Prefill(m strategy.Map, spec Spec) {
	churn := 0
	if spec.Inserts > 0 {
		occupancy := spec.Inserts / (spec.Inserts + spec.Deletes)
		churn = int(occupancy * float64(spec.Keys))
	}
	total := spec.Keys + churn
	if f, ok := m.(strategy.Filler); ok {
		entries := make(map[int]int, total)
		for k := range total {
			entries[k] = k
		}
		f.Fill(entries)
		return
	}
	for k := range total {
		m.Store(k, k)
	}
}

// worker is one goroutine's state: its own generator (a shared one would be
// the bottleneck), counters, and value ring.
type worker struct {
	m    strategy.Map
	spec Spec
	rng  *rand.Rand
	zipf *rand.Zipf // nil for uniform keys

	// Operation thresholds on a uniform [0,1) draw.
	readBelow, insertBelow, deleteBelow float64
	loadSpace                           int // loads draw keys from [0, loadSpace)

	values [][]byte
	next   int
	// spun keeps the CPU work between operations from being optimized
	// away.
	spun uint64

	ops, ranges int64
}

func newWorker(m strategy.Map, spec Spec, id uint64) *worker {
	w := &worker{
		m:           m,
		spec:        spec,
		rng:         rand.New(rand.NewPCG(0x6d61706c6162, id)),
		readBelow:   spec.Reads,
		insertBelow: spec.Reads + spec.Inserts,
		deleteBelow: spec.Reads + spec.Inserts + spec.Deletes,
		loadSpace:   spec.Keys,
	}
	if spec.Inserts > 0 {
		w.loadSpace = 2 * spec.Keys
	}
	if spec.ZipfS > 1 {
		w.zipf = rand.NewZipf(w.rng, spec.ZipfS, 1, uint64(spec.Keys-1))
	}
	if spec.ValueSize > 0 {
		w.values = make([][]byte, max(1, spec.Keys/spec.Goroutines))
		for i := range w.values {
			w.values[i] = make([]byte, spec.ValueSize)
		}
	}
	return w
}

// key draws a key in [0, space); Zipf draws favour the prefilled range.
func (w *worker) key(space int) int {
	if w.zipf != nil {
		return int(w.zipf.Uint64()) % space
	}
	return w.rng.IntN(space)
}

func (w *worker) run(stop *atomic.Bool) {
	keys := w.spec.Keys
	for !stop.Load() {
		w.ops++
		if w.spec.RangeEvery > 0 && w.ops%int64(w.spec.RangeEvery) == 0 {
			w.m.Range(func(k, v int) bool { return true })
			w.ranges++
		}
		u := w.rng.Float64()
		switch {
		case u < w.readBelow:
			w.m.Load(w.key(w.loadSpace))
		case u < w.insertBelow:
			w.m.Store(keys+w.rng.IntN(keys), w.value())
		case u < w.deleteBelow:
			w.m.Delete(keys + w.rng.IntN(keys))
		default:
			w.m.Store(w.key(keys), w.value())
		}
		w.between()
	}
}

// between does the spec's work between two operations, outside the map.
func (w *worker) between() {
	switch w.spec.Between {
	case BetweenCPU:
		w.spun = spin(CPUWorkRounds, w.spun|1)
	case BetweenIO:
		if w.ops%IOEvery == 0 {
			time.Sleep(IOWait)
		}
	}
}

// spin is rounds of a xorshift: CPU work that touches no memory.
func spin(rounds int, x uint64) uint64 {
	for range rounds {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
	}
	return x
}

// value returns the int to store and, when values have a size, allocates
// the payload that stands for it.
func (w *worker) value() int {
	if w.values != nil {
		w.values[w.next] = make([]byte, w.spec.ValueSize)
		w.next = (w.next + 1) % len(w.values)
	}
	return int(w.ops)
}
