package agent

import (
	"fmt"
	"runtime"
	"slices"

	"github.com/contendr/contendr/window"
)

// record is one of the runtime's cumulative profile records: a call stack
// (return PCs, leaf first) and what the runtime counted there since the
// process started. Block and mutex records use v[0] (count) and v[1]
// (cycles); memory records v[0..3] (allocated objects and bytes, freed
// objects and bytes).
type record struct {
	stack []uintptr
	v     [4]int64
}

// maxPublicDepth is how many frames the runtime's exported records hold
// (runtime.StackRecord.Stack0, runtime.MemProfileRecord.Stack0).
const maxPublicDepth = 32

// recordReader reads the runtime's mutex, block and memory profile records
// into buffers it keeps from one reading to the next, offered whole to the
// runtime first: when they hold every record, one walk of the runtime's
// buckets reads them, else a larger buffer takes a second. It is not safe
// for concurrent use: the agent reads under collectMu.
type recordReader struct {
	records []record
	// The runtime's own record types, as the exported API fills them
	// (readPublic), and the unexported deep ones (readDeep).
	block []runtime.BlockProfileRecord
	mem   []runtime.MemProfileRecord
	deep  deepBuffers
	// slab holds copies of the exported records' stacks, which live in the
	// reused buffers above.
	slab []uintptr
}

// read returns the runtime's current records of kind, in a buffer reused by
// the next call, and whether their stacks were cut at maxPublicDepth
// frames (the exported API; the deep one keeps what runtime/pprof writes).
// The stacks of a deep reading are the runtime's own bucket memory, which
// is never freed or changed: they may be kept past the next call.
func (rr *recordReader) read(kind window.ProfileKind) (recs []record, cut bool, err error) {
	if !slices.Contains(cumulativeKinds, kind) {
		return nil, false, fmt.Errorf("the runtime has no %s records", kind)
	}
	if recs, ok := rr.readDeep(kind); ok {
		return recs, false, nil
	}
	return rr.readPublic(kind), true, nil
}

// readPublic reads kind through runtime.MutexProfile, BlockProfile or
// MemProfile: stacks of at most 32 frames, the innermost, and for the
// contention profiles an inline expansion of every record on each call
// (most of the call's cost).
func (rr *recordReader) readPublic(kind window.ProfileKind) []record {
	rr.records = rr.records[:0]
	switch kind {
	case window.Mutex, window.Block:
		read := runtime.BlockProfile
		if kind == window.Mutex {
			read = runtime.MutexProfile
		}
		n, ok := read(rr.block[:cap(rr.block)])
		for !ok {
			rr.block = make([]runtime.BlockProfileRecord, n+n/8+50)
			n, ok = read(rr.block)
		}
		for i := range rr.block[:n] {
			r := &rr.block[i]
			rr.records = append(rr.records, record{stack: rr.keepStack(r.Stack()), v: [4]int64{r.Count, r.Cycles}})
		}
	case window.Allocs:
		n, ok := runtime.MemProfile(rr.mem[:cap(rr.mem)], true)
		for !ok {
			rr.mem = make([]runtime.MemProfileRecord, n+n/8+50)
			n, ok = runtime.MemProfile(rr.mem, true)
		}
		for i := range rr.mem[:n] {
			r := &rr.mem[i]
			rr.records = append(rr.records, record{stack: rr.keepStack(r.Stack()),
				v: [4]int64{r.AllocObjects, r.AllocBytes, r.FreeObjects, r.FreeBytes}})
		}
	}
	return rr.records
}

// keepStack copies stk into the slab. The slab is replaced, never
// overwritten, when full: earlier readings keep their stacks.
func (rr *recordReader) keepStack(stk []uintptr) []uintptr {
	if len(rr.slab)+len(stk) > cap(rr.slab) {
		rr.slab = make([]uintptr, 0, max(64<<10, 2*len(stk)))
	}
	start := len(rr.slab)
	rr.slab = append(rr.slab, stk...)
	return rr.slab[start:len(rr.slab):len(rr.slab)]
}
