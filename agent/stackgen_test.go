package agent

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"
)

// stackGen makes real runtime profile records at distinct call stacks in
// this process: leaf i is reached through genDepth levels of recursion
// that take genStepA or genStepB by the bits of i, so that leaves below
// 1<<genDepth each have a stack of their own. At its leaf, i
//
//   - allocates (a record in the allocs profile at rate 1),
//   - holds a mutex that another goroutine waits for, and unlocks it (a
//     record at the unlocking stack in the mutex profile at fraction 1),
//   - blocks sending on a channel nobody receives from yet (a record at
//     the sending stack in the block profile at rate 1).
//
// The waits are arranged by timing (the other side arrives a little
// later), so on a loaded machine a leaf may now and then miss one: the
// callers count what they got rather than assume it.
type stackGen struct {
	// depth is the number of levels of recursion above each leaf (≤ 31);
	// extra adds that many plain frames above the recursion, to make
	// stacks deeper than the runtime's records hold.
	depth, extra int
}

// genDepth gives 16,384 distinct stacks, enough for the 10,000 of issue #14.
const genDepth = 14

// genSink keeps the leaves' allocations from being optimised away.
var genSink atomic.Pointer[[]byte]

// genPair is what one leaf contends on.
type genPair struct {
	mu      sync.Mutex
	locked  atomic.Bool // the leaf holds mu
	sending atomic.Bool // the leaf is about to send on ch
	ch      chan struct{}
}

// run drives leaves first … first+n−1 once each, at most parallel at a
// time, and returns when all are done.
func (g stackGen) run(first, n, parallel int) {
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for i := first; i < first+n; i++ {
		sem <- struct{}{}
		wg.Add(3)
		p := &genPair{ch: make(chan struct{})}
		go func() { // the leaf
			defer wg.Done()
			g.enter(uint32(i), g.extra, p)
			<-sem
		}()
		go func() { // waits for the leaf's mutex: its stack is the same for every leaf
			defer wg.Done()
			for !p.locked.Load() {
				runtime.Gosched()
			}
			p.mu.Lock()
			p.mu.Unlock()
		}()
		go func() { // receives what the leaf sends, once the leaf blocks
			defer wg.Done()
			for !p.sending.Load() {
				runtime.Gosched()
			}
			time.Sleep(100 * time.Microsecond)
			<-p.ch
		}()
	}
	wg.Wait()
}

// enter adds extra frames before the recursion.
//
//go:noinline
func (g stackGen) enter(i uint32, extra int, p *genPair) {
	if extra > 0 {
		g.enter(i, extra-1, p)
		return
	}
	genDescend(i, g.depth, p)
}

//go:noinline
func genDescend(i uint32, level int, p *genPair) {
	if level == 0 {
		genLeaf(p)
		return
	}
	if i&1 == 0 {
		genStepA(i>>1, level-1, p)
	} else {
		genStepB(i>>1, level-1, p)
	}
}

//go:noinline
func genStepA(i uint32, level int, p *genPair) { genDescend(i, level, p) }

//go:noinline
func genStepB(i uint32, level int, p *genPair) { genDescend(i, level, p) }

//go:noinline
func genLeaf(p *genPair) {
	b := make([]byte, 64)
	genSink.Store(&b)
	p.mu.Lock()
	p.locked.Store(true)
	waitForWaiter(&p.mu)
	p.mu.Unlock()
	p.sending.Store(true)
	p.ch <- struct{}{}
}

// waitForWaiter returns once a goroutine waits in mu.Lock (mu's waiter
// count, sync.Mutex's state >> 3, is above zero) and has had a few turns
// to park, or after a millisecond in any case. It yields rather than
// sleeps: a sleep allocates a timer at the leaf's stack.
func waitForWaiter(mu *sync.Mutex) {
	state := (*atomic.Int32)(unsafe.Pointer(mu))
	deadline := time.Now().Add(time.Millisecond)
	for state.Load()>>3 == 0 && time.Now().Before(deadline) {
		runtime.Gosched()
	}
	for range 20 {
		runtime.Gosched()
	}
}

// profilingAtFullRate records every mutex and block event, and samples
// allocations every rate bytes, until the test ends.
func profilingAtFullRate(t testing.TB, memRate int) {
	t.Helper()
	mutexBefore := runtime.SetMutexProfileFraction(1)
	memBefore := runtime.MemProfileRate
	runtime.SetBlockProfileRate(1)
	runtime.MemProfileRate = memRate
	t.Cleanup(func() {
		runtime.SetMutexProfileFraction(mutexBefore)
		runtime.SetBlockProfileRate(0)
		runtime.MemProfileRate = memBefore
	})
}
