package analyze

import (
	"slices"
	"strings"

	"github.com/google/pprof/profile"

	"github.com/contendr/contendr/internal/symbol"
)

// mapOp is what a stack did to a component's map.
type mapOp int

const (
	opNone mapOp = iota
	opRead
	opWrite
	opRange
)

// opTally weighs a component's stacks by what they did to its map.
type opTally struct {
	read, write, rangeW float64
	// mapFrames is the weight classified from map frames (runtime map,
	// sync.Map, maps.Clone…) rather than from method names: evidence that
	// the component really guards a map.
	mapFrames float64
	// all is the weight of every stack through the component, classified
	// or not.
	all float64
}

// minClassified is the part of a component's weight that must be
// classified before a mix is trusted: a mix read from a sliver of the
// samples says more about the sliver than about the workload.
const minClassified = 0.2

func (t opTally) total() float64 { return t.read + t.write + t.rangeW }

// readShare counts Range as reading: it takes the read side of every
// strategy's lock.
func (t opTally) readShare() (float64, bool) {
	if t.total() == 0 || t.total() < minClassified*t.all {
		return 0, false
	}
	return (t.read + t.rangeW) / t.total(), true
}

func (t *opTally) add(op mapOp, weight float64) {
	switch op {
	case opRead:
		t.read += weight
	case opWrite:
		t.write += weight
	case opRange:
		t.rangeW += weight
	}
}

// tallyProfile classifies every sample of p whose stack passes through
// component, weighted by the sample type named valueType (the last type
// when absent).
func tallyProfile(p *profile.Profile, component, valueType string) opTally {
	var t opTally
	if p == nil {
		return t
	}
	idx := len(p.SampleType) - 1
	for i, st := range p.SampleType {
		if st.Type == valueType {
			idx = i
		}
	}
	if idx < 0 {
		return t
	}
	for _, s := range p.Sample {
		if idx >= len(s.Value) || s.Value[idx] <= 0 {
			continue
		}
		stack := frames(s)
		if !slices.ContainsFunc(stack, func(f string) bool { return inComponent(f, component) }) {
			continue
		}
		t.all += float64(s.Value[idx])
		op, fromMapFrame := classify(stack, component)
		t.add(op, float64(s.Value[idx]))
		if fromMapFrame {
			t.mapFrames += float64(s.Value[idx])
		}
	}
	return t
}

// frames flattens a sample's stack to function names, leaf first,
// inlined frames included (Line[0] is the innermost).
func frames(s *profile.Sample) []string {
	var out []string
	for _, loc := range s.Location {
		for _, ln := range loc.Line {
			if ln.Function != nil {
				out = append(out, ln.Function.Name)
			}
		}
	}
	return out
}

// classifyStack says what a stack (leaf first) did to component's map: the
// first map operation below the component's innermost frame — the API the
// component called (sync.(*Map).LoadOrStore, runtime.mapassign…) — or,
// when none is visible, the component method's own name (Get, Set, Range).
// Stacks that do not pass through the component count as opNone.
func classifyStack(stack []string, component string) mapOp {
	op, _ := classify(stack, component)
	return op
}

// classify is classifyStack that also says whether a map frame (rather
// than a method name) decided.
func classify(stack []string, component string) (mapOp, bool) {
	at := -1
	for i, f := range stack {
		if inComponent(f, component) {
			at = i
			break
		}
	}
	if at < 0 {
		return opNone, false
	}
	for i := at - 1; i >= 0; i-- {
		if op := runtimeOp(stack[i]); op != opNone {
			if op == opRange && inWritePath(stack[at:], component) {
				// A writer that iterates its map is copying it (a
				// read/dirty promotion, a hand-made clone), not scanning.
				op = opWrite
			}
			return op, !strings.HasPrefix(stack[i], "sync.(*RWMutex)")
		}
	}
	return methodOp(stack[at], component), false
}

// inWritePath reports whether any of the component's frames at the leaf
// end of stack (stack[0] is its innermost) is a write method, or the
// read/dirty design's dirtyLocked copy.
func inWritePath(stack []string, component string) bool {
	for _, f := range stack {
		if !inComponent(f, component) {
			return false
		}
		if methodOp(f, component) == opWrite || strings.HasPrefix(methodName(f, component), "dirtyLocked") {
			return true
		}
	}
	return false
}

// inComponent reports whether function f belongs to component: its methods
// (main.(*Cache).Get and their closures) for a receiver type, or its
// functions for a package-level component.
func inComponent(f, component string) bool {
	// Components name generic types with collapsed type arguments
	// (xsync.(*Map[...])); proto profiles spell them out per shape.
	return component != "" && strings.HasPrefix(symbol.CollapseTypeArgs(f), component+".")
}

// runtimeOp classifies library frames that do map work. Names cover the
// Go ≤1.23 runtime map, the Go ≥1.24 Swiss-table map (internal/runtime/maps,
// linknamed as runtime.mapaccess… and reported under either name), sync.Map
// in both designs, RWMutex sides and maps.Clone (a copy-on-write writer).
func runtimeOp(f string) mapOp {
	switch {
	case strings.HasPrefix(f, "sync.(*Map)."):
		return syncMapOp(f[len("sync.(*Map)."):])
	case strings.Contains(f, "mapaccess"), strings.Contains(f, "maps.(*Map).Get"),
		strings.HasPrefix(f, "sync.(*RWMutex).RLock"), strings.HasPrefix(f, "sync.(*RWMutex).RUnlock"):
		return opRead
	case strings.Contains(f, "mapassign"), strings.Contains(f, "mapdelete"),
		strings.Contains(f, "maps.(*Map).Put"), strings.Contains(f, "maps.(*Map).Delete"),
		strings.HasPrefix(f, "sync.(*RWMutex).Lock"), strings.HasPrefix(f, "sync.(*RWMutex).Unlock"),
		strings.HasPrefix(f, "maps.Clone"), strings.HasPrefix(f, "maps.Copy"):
		return opWrite
	case strings.Contains(f, "mapiterinit"), strings.Contains(f, "mapiternext"),
		strings.Contains(f, "maps.(*Iter)."), strings.HasPrefix(f, "maps.All"),
		strings.HasPrefix(f, "maps.Keys"), strings.HasPrefix(f, "maps.Values"):
		return opRange
	}
	return opNone
}

// syncMapOp classifies a sync.Map method; LoadOrStore counts as a write
// because it stores on a miss and, in the legacy design, may promote.
func syncMapOp(method string) mapOp {
	switch {
	case strings.HasPrefix(method, "Range"):
		return opRange
	case strings.HasPrefix(method, "LoadOrStore"), strings.HasPrefix(method, "LoadAndDelete"):
		return opWrite
	case strings.HasPrefix(method, "Load"):
		return opRead
	case strings.HasPrefix(method, "Store"), strings.HasPrefix(method, "Swap"),
		strings.HasPrefix(method, "Delete"), strings.HasPrefix(method, "Compare"),
		strings.HasPrefix(method, "Clear"):
		return opWrite
	}
	return opNone
}

// Method-name prefixes of a component's own API, checked after the
// library frames: conventional names for reads, writes and scans.
var (
	// Read and Write are left out: on io-style types (loggers, buffers)
	// they name no map operation.
	readMethods  = []string{"Get", "Load", "Lookup", "Has", "Contains", "Find", "Peek", "Fetch", "Len", "Size", "Exists"}
	writeMethods = []string{"Set", "Store", "Put", "Add", "Insert", "Delete", "Del", "Remove", "Swap", "Update", "Upsert", "Incr", "Inc", "Evict", "Clear", "Compare"}
	rangeMethods = []string{"Range", "Each", "ForEach", "Iter", "Scan", "Snapshot", "All", "Keys", "Values", "Dump"}
)

// methodOp classifies a component frame by its method name, the name right
// after the component (main.(*Cache).Get.func1 → Get).
func methodOp(f, component string) mapOp {
	method := methodName(f, component)
	for _, set := range []struct {
		names []string
		op    mapOp
	}{{rangeMethods, opRange}, {readMethods, opRead}, {writeMethods, opWrite}} {
		for _, n := range set.names {
			if strings.HasPrefix(method, n) {
				return set.op
			}
		}
	}
	return opNone
}

// methodName is the method of component that frame f is in:
// main.(*Cache).Get.func1 → Get.
func methodName(f, component string) string {
	method := strings.TrimPrefix(symbol.CollapseTypeArgs(f), component+".")
	if i := strings.IndexByte(method, '.'); i >= 0 {
		method = method[:i]
	}
	return method
}

// mixOf names a read share. The bands sit halfway between the mixes
// testapps/maplab measures (read-mostly 99% reads, read-heavy 90%,
// balanced 50%, write-heavy 10%), so that a measured component maps to the
// ground-truth row closest to it.
func mixOf(readShare float64, known bool) string {
	switch {
	case !known:
		return "unknown"
	case readShare >= 0.95:
		return "read-mostly"
	case readShare >= 0.7:
		return "read-heavy"
	case readShare > 0.3:
		return "balanced"
	}
	return "write-heavy"
}
