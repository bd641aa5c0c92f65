package agent

import (
	"cmp"
	"fmt"
	"hash/maphash"
	"math"
	"runtime"
	"slices"
	"time"
	"unsafe"

	"github.com/google/pprof/profile"

	"github.com/contendr/contendr/window"
)

// reading is one reading of a cumulative profile (mutex, block or allocs):
// the runtime's records, summed by stack (and block size, for allocs),
// with the values runtime/pprof would write for them.
type reading struct {
	kind window.ProfileKind
	time time.Time
	// rate is MemProfileRate when an allocs profile was read, the period
	// of its proto.
	rate    int64
	entries []entry
	// cut says the stacks were read through the exported API, which keeps
	// a stack's 32 innermost frames; else they are the runtime's buckets,
	// one record each, listed newest first, so that a later reading lists
	// the same buckets after its new ones, in the same order.
	cut bool
	// index maps a stack's hash to its newest entry; older ones with the
	// same hash are chained through entry.next. Made when first needed.
	index map[uint64]int32
}

// entry is one stack of a reading.
type entry struct {
	stack []uintptr
	// size is an allocation's block size (the "bytes" label runtime/pprof
	// writes), 0 for contention profiles.
	size int64
	// v holds the values as runtime/pprof writes them: contentions and
	// delay in nanoseconds, or the allocs profile's alloc_objects,
	// alloc_space, inuse_objects and inuse_space, scaled for sampling.
	v    [4]int64
	next int32
	// sym is the symbolized stack, once a window needed it; a later
	// reading inherits it for the same stack.
	sym symStack
}

var stackSeed = maphash.MakeSeed()

// readCumulative reads kind's records and sums them into a reading.
func (a *Agent) readCumulative(kind window.ProfileKind, now time.Time) (*reading, error) {
	recs, cut, err := a.records.read(kind)
	if err != nil {
		return nil, err
	}
	return newReading(kind, now, recs, cut), nil
}

// newReading sums kind's records into a reading taken at now; cut says
// their stacks were cut at maxPublicDepth frames, so that two records may
// share one.
func newReading(kind window.ProfileKind, now time.Time, recs []record, cut bool) *reading {
	r := &reading{kind: kind, time: now, cut: cut, entries: make([]entry, 0, len(recs))}
	if kind == window.Allocs {
		r.rate = int64(runtime.MemProfileRate)
	}
	ghz := float64(cyclesPerSecond()) / 1e9
	for i := range recs {
		rec := &recs[i]
		e := entry{stack: rec.stack, next: -1}
		switch kind {
		case window.Mutex, window.Block:
			e.v[0], e.v[1] = rec.v[0], int64(float64(rec.v[1])/ghz)
		case window.Allocs:
			allocObjects, allocBytes, freeObjects, freeBytes := rec.v[0], rec.v[1], rec.v[2], rec.v[3]
			if allocObjects > 0 {
				e.size = allocBytes / allocObjects
			}
			e.v[0], e.v[1] = scaleHeapSample(allocObjects, allocBytes, r.rate)
			e.v[2], e.v[3] = scaleHeapSample(allocObjects-freeObjects, allocBytes-freeBytes, r.rate)
		}
		if cut {
			r.add(e)
		} else {
			r.entries = append(r.entries, e)
		}
	}
	return r
}

// add adds e's values to its stack's entry, making one when new.
func (r *reading) add(e entry) {
	if i := r.find(e.stack, e.size); i >= 0 {
		for j := range e.v {
			r.entries[i].v[j] += e.v[j]
		}
		return
	}
	r.entries = append(r.entries, e)
	r.link(int32(len(r.entries) - 1))
}

// find returns the index of the entry of stack and size, or -1.
func (r *reading) find(stack []uintptr, size int64) int32 {
	if r.index == nil {
		r.index = make(map[uint64]int32, len(r.entries))
		for i := range r.entries {
			r.link(int32(i))
		}
	}
	i, ok := r.index[stackHash(stack, size)]
	if !ok {
		return -1
	}
	for ; i >= 0; i = r.entries[i].next {
		e := &r.entries[i]
		if e.size == size && sameStack(e.stack, stack) {
			return i
		}
	}
	return -1
}

// link adds entry i to the index.
func (r *reading) link(i int32) {
	e := &r.entries[i]
	h := stackHash(e.stack, e.size)
	e.next = -1
	if prev, ok := r.index[h]; ok {
		e.next = prev
	}
	r.index[h] = i
}

// matches returns in buf, for each of end's entries, the index of start's
// entry of the same stack, or −1. Readings of the runtime's buckets list start's
// after end's new ones, in the same order: then the match is by position,
// each checked by the bucket's memory; otherwise by hash.
func matches(buf []int32, start, end *reading) []int32 {
	out := slices.Grow(buf[:0], len(end.entries))[:len(end.entries)]
	if offset := len(end.entries) - len(start.entries); !start.cut && !end.cut && offset >= 0 {
		same := true
		for i := range start.entries {
			s, e := &start.entries[i], &end.entries[offset+i]
			// The bucket, not its block size: a bucket read before its
			// first allocation was counted has none yet.
			if len(s.stack) != len(e.stack) || unsafe.SliceData(s.stack) != unsafe.SliceData(e.stack) {
				same = false
				break
			}
		}
		if same {
			for i := range out {
				out[i] = int32(i - offset) // negative for end's new buckets
				if out[i] < 0 {
					out[i] = -1
				}
			}
			return out
		}
	}
	for i := range end.entries {
		e := &end.entries[i]
		out[i] = start.find(e.stack, e.size)
	}
	return out
}

func sameStack(a, b []uintptr) bool {
	return len(a) == len(b) && (len(a) == 0 || unsafe.SliceData(a) == unsafe.SliceData(b) || slices.Equal(a, b))
}

func stackHash(stack []uintptr, size int64) uint64 {
	var h maphash.Hash
	h.SetSeed(stackSeed)
	h.Write(unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(stack))), len(stack)*int(unsafe.Sizeof(uintptr(0)))))
	if size != 0 {
		var b [8]byte
		*(*int64)(unsafe.Pointer(&b)) = size
		h.Write(b[:])
	}
	return h.Sum64()
}

// scaleHeapSample is runtime/pprof's (protomem.go): it adjusts a heap
// record for its probability of having been sampled, 1−exp(−size/rate).
func scaleHeapSample(count, size, rate int64) (int64, int64) {
	if count == 0 || size == 0 {
		return 0, 0
	}
	if rate <= 1 {
		return count, size
	}
	avgSize := float64(size) / float64(count)
	scale := 1 / (1 - math.Exp(-avgSize/float64(rate)))
	return int64(float64(count) * scale), int64(float64(size) * scale)
}

// deltaOf is a window's profile of kind from two readings at its ends
// (start nil when there is none): end − start stack by stack, computed on
// the records and symbolized only for the stacks whose values changed,
// as window.DeltaWith computes it from the profiles runtime/pprof writes
// — the allocs profile's in-use columns as they stand at the end, the
// contention profiles without the agent's own waits. A counter that went
// down means the baseline restarted: the profile then holds everything
// since process start.
func (s *symbolizer) deltaOf(start, end *reading) windowDelta {
	nvalues := 2
	if end.kind == window.Allocs {
		nvalues = 4
	}
	cumulative := nvalues // the allocs profile's in-use columns are not
	if end.kind == window.Allocs {
		cumulative = 2
	}
	kept := s.kept[:0]
	whole := start == nil || totals(end, cumulative) < totals(start, cumulative)
	if !whole {
		matched := 0
		s.matched = matches(s.matched, start, end)
		for i, j := range s.matched {
			e := &end.entries[i]
			d := keptEntry{e: e, v: e.v}
			if j >= 0 {
				from := &start.entries[j]
				matched++
				for c := range cumulative {
					d.v[c] -= from.v[c]
				}
				if e.sym.gen == 0 && from.sym.gen == s.gen {
					e.sym = from.sym
				}
			}
			if slices.ContainsFunc(d.v[:cumulative], func(v int64) bool { return v < 0 }) {
				whole = true
				break
			}
			if d.v != ([4]int64{}) {
				kept = append(kept, d)
			}
		}
		// A stack start had and end has not went down to nothing.
		if !whole && matched < len(start.entries) && startOnly(start, end, cumulative) {
			whole = true
		}
	}
	if whole {
		kept = kept[:0]
		for i := range end.entries {
			if e := &end.entries[i]; e.v != ([4]int64{}) {
				kept = append(kept, keptEntry{e: e, v: e.v})
			}
		}
	}
	d := s.build(start, end, kept, nvalues)
	d.restarted = whole && start != nil
	s.kept = kept[:0]
	return d
}

// windowDelta is a window's profile of one kind.
type windowDelta struct {
	p         *profile.Profile
	restarted bool
	// cut counts the stacks the runtime's exported records cut at 32
	// frames.
	cut int
	// bound bounds the profile's size gzipped from above: the length of
	// its proto encoding, field by field (IDs and values at their varint
	// length, a string table entry per function name and file), plus what
	// gzip adds to data it cannot shrink.
	bound int
}

// sortByDelay sorts kept by the delay at the end, heaviest first, ties in
// the order of the records: through keys of their own, as comparing
// through the entries' pointers costs a cache miss per comparison. keys
// and sorted are scratch, returned for the next call.
func sortByDelay(kept []keptEntry, keys []delayKey, sorted []keptEntry) ([]delayKey, []keptEntry) {
	keys = keys[:0]
	for i, k := range kept {
		keys = append(keys, delayKey{k.e.v[1], int32(i)})
	}
	slices.SortFunc(keys, func(a, b delayKey) int {
		if c := cmp.Compare(b.delay, a.delay); c != 0 {
			return c
		}
		return cmp.Compare(a.i, b.i)
	})
	sorted = sorted[:0]
	for _, k := range keys {
		sorted = append(sorted, kept[k.i])
	}
	copy(kept, sorted)
	clear(sorted) // no entries kept alive by scratch
	return keys, sorted[:0]
}

type delayKey struct {
	delay int64
	i     int32
}

// keptEntry is a stack a window's profile holds, with its values there.
type keptEntry struct {
	e *entry
	v [4]int64
}

// startOnly reports a stack of start with values that end lacks.
func startOnly(start, end *reading, cumulative int) bool {
	for i := range start.entries {
		e := &start.entries[i]
		if slices.ContainsFunc(e.v[:cumulative], func(v int64) bool { return v != 0 }) &&
			end.find(e.stack, e.size) < 0 {
			return true
		}
	}
	return false
}

func totals(r *reading, cumulative int) int64 {
	var t int64
	for i := range r.entries {
		for _, v := range r.entries[i].v[:cumulative] {
			t += v
		}
	}
	return t
}

// build makes the profile runtime/pprof would write for kept, with its
// sample types, period and labels: mutex and block profiles sorted by
// delay at the end, heaviest first, as runtime/pprof sorts its records.
func (s *symbolizer) build(start, end *reading, kept []keptEntry, nvalues int) windowDelta {
	p := &profile.Profile{TimeNanos: end.time.UnixNano()}
	d := windowDelta{p: p, bound: 128} // times, period, default sample type, the fixed strings
	if start != nil {
		p.DurationNanos = end.time.Sub(start.time).Nanoseconds()
	}
	switch end.kind {
	case window.Mutex, window.Block:
		p.PeriodType = &profile.ValueType{Type: "contentions", Unit: "count"}
		p.Period = 1
		p.SampleType = []*profile.ValueType{{Type: "contentions", Unit: "count"}, {Type: "delay", Unit: "nanoseconds"}}
		s.sortKeys, s.sorted = sortByDelay(kept, s.sortKeys, s.sorted)
	case window.Allocs:
		p.PeriodType = &profile.ValueType{Type: "space", Unit: "bytes"}
		p.Period = end.rate
		p.SampleType = []*profile.ValueType{{Type: "alloc_objects", Unit: "count"}, {Type: "alloc_space", Unit: "bytes"},
			{Type: "inuse_objects", Unit: "count"}, {Type: "inuse_space", Unit: "bytes"}}
		p.DefaultSampleType = "alloc_space"
	default:
		panic(fmt.Sprintf("no proto for a %s reading", end.kind))
	}

	samples := make([]profile.Sample, 0, len(kept))
	values := make([]int64, 0, nvalues*len(kept))
	labels := map[int64]map[string][]int64{}
	s.begin()
	for _, k := range kept {
		e := k.e
		if e.sym.gen != s.gen {
			e.sym = s.stack(e.stack, end.kind != window.Allocs)
		}
		if e.sym.wait && end.kind != window.Allocs {
			continue
		}
		if end.cut && len(e.stack) >= maxPublicDepth {
			d.cut++
		}
		values = append(values, k.v[:nvalues]...)
		valueBytes := 0
		for _, v := range k.v[:nvalues] {
			valueBytes += varintLen(uint64(v))
		}
		d.bound += 1 + 5 + 1 + varintLen(uint64(e.sym.idBytes)) + e.sym.idBytes + 1 + varintLen(uint64(valueBytes)) + valueBytes
		smp := profile.Sample{Location: e.sym.locs, Value: values[len(values)-nvalues : len(values) : len(values)]}
		if e.size != 0 {
			l, ok := labels[e.size]
			if !ok {
				l = map[string][]int64{"bytes": {e.size}}
				labels[e.size] = l
			}
			smp.NumLabel = l
			d.bound += 2 + 2*(1+5) + 1 + 10
		}
		samples = append(samples, smp)
		for _, id := range e.sym.ids {
			if s.locListed[id] == s.listed {
				continue
			}
			s.locListed[id] = s.listed
			l := s.locs[id]
			p.Location = append(p.Location, l.loc)
			d.bound += l.bound
			for _, f := range l.funcs {
				if f.listed != s.listed {
					f.listed = s.listed
					p.Function = append(p.Function, f.fn)
					d.bound += f.bound
				}
			}
		}
	}
	ptrs := make([]*profile.Sample, len(samples))
	for i := range samples {
		ptrs[i] = &samples[i]
	}
	p.Sample = ptrs
	d.bound += len(p.SampleType) * (2 + 2*(1+5))
	d.bound += 18 + 5*(d.bound/16383+1) // gzip's header and trailer, stored blocks
	return d
}
