//go:build !go1.27

package agent

import (
	_ "unsafe" // go:linkname

	"github.com/contendr/contendr/window"
)

// The runtime keeps stacks of up to 128 frames (GODEBUG profstackdepth)
// and runtime/pprof reads them whole through these functions, which fill
// records of internal/profilerecord's types. Their records are what
// WriteTo writes, before inline expansion: the block and mutex stacks as
// frame-pointer unwinding found them (physical frames, expanded
// afterwards, here by the symbolizer's cache, once per PC for the
// process's life, instead of once per record per reading as
// runtime.MutexProfile does), the memory stacks as runtime.Callers does.
//
// The mirrored types must match internal/profilerecord field for field:
// TestDeepRecordLayout checks them against the toolchain's source. The
// layout is known for Go 1.23 to 1.26; from Go 1.27 (which changed
// MemProfileRecord) the exported API is used instead (records_public.go).

type deepBlockRecord struct {
	Count  int64
	Cycles int64
	Stack  []uintptr
}

type deepMemRecord struct {
	AllocBytes, FreeBytes     int64
	AllocObjects, FreeObjects int64
	Stack                     []uintptr
}

//go:linkname deepMutexProfile runtime.pprof_mutexProfileInternal
func deepMutexProfile(p []deepBlockRecord) (n int, ok bool)

//go:linkname deepBlockProfile runtime.pprof_blockProfileInternal
func deepBlockProfile(p []deepBlockRecord) (n int, ok bool)

//go:linkname deepMemProfile runtime.pprof_memProfileInternal
func deepMemProfile(p []deepMemRecord, inuseZero bool) (n int, ok bool)

type deepBuffers struct {
	block []deepBlockRecord
	mem   []deepMemRecord
}

// readDeep reads kind's records whole. Its stacks are the runtime's
// bucket memory (persistentalloc: never freed, never written again).
func (rr *recordReader) readDeep(kind window.ProfileKind) ([]record, bool) {
	rr.records = rr.records[:0]
	switch kind {
	case window.Mutex, window.Block:
		read := deepBlockProfile
		if kind == window.Mutex {
			read = deepMutexProfile
		}
		n, ok := read(rr.deep.block[:cap(rr.deep.block)])
		for !ok {
			rr.deep.block = make([]deepBlockRecord, n+n/8+50)
			n, ok = read(rr.deep.block)
		}
		for i := range rr.deep.block[:n] {
			r := &rr.deep.block[i]
			rr.records = append(rr.records, record{stack: r.Stack, v: [4]int64{r.Count, r.Cycles}})
		}
	case window.Allocs:
		n, ok := deepMemProfile(rr.deep.mem[:cap(rr.deep.mem)], true)
		for !ok {
			rr.deep.mem = make([]deepMemRecord, n+n/8+50)
			n, ok = deepMemProfile(rr.deep.mem, true)
		}
		for i := range rr.deep.mem[:n] {
			r := &rr.deep.mem[i]
			rr.records = append(rr.records, record{stack: r.Stack,
				v: [4]int64{r.AllocObjects, r.AllocBytes, r.FreeObjects, r.FreeBytes}})
		}
	default:
		return nil, false
	}
	return rr.records, true
}
