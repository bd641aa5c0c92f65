package stacks

import "strings"

// MapOp is what a stack did to a component's map.
type MapOp uint8

// Map operations.
const (
	OpNone MapOp = iota
	OpRead
	OpWrite
	OpRange
)

// MapWork weighs a component's stacks by what they did to its map, in the
// profile's unit (CPU or delay nanoseconds).
type MapWork struct {
	Read, Write, Range float64
	// Delete is the part of Write that deletes keys (mapdelete,
	// sync.Map's Delete, a component method named Delete/Remove/Evict…):
	// with Write, it tells a churning map from one that overwrites.
	Delete float64
	// MapFrames is the weight classified from map frames (runtime map,
	// sync.Map, maps.Clone…) rather than from method names or RWMutex
	// sides: evidence that the component really guards a map.
	MapFrames float64
	// All is the weight of every stack through the component, classified
	// or not.
	All float64
}

// minClassified is the part of a component's weight that must be
// classified before a mix is trusted: a mix read from a sliver of the
// samples says more about the sliver than about the workload.
const minClassified = 0.2

// Total is the classified weight.
func (t MapWork) Total() float64 { return t.Read + t.Write + t.Range }

// ReadShare counts Range as reading (it takes the read side of every
// strategy's lock); ok is false when too little of the weight was
// classified to trust a mix.
func (t MapWork) ReadShare() (share float64, ok bool) {
	if t.Total() == 0 || t.Total() < minClassified*t.All {
		return 0, false
	}
	return (t.Read + t.Range) / t.Total(), true
}

// Add folds another tally into t.
func (t *MapWork) Add(o MapWork) {
	t.Read += o.Read
	t.Write += o.Write
	t.Range += o.Range
	t.Delete += o.Delete
	t.MapFrames += o.MapFrames
	t.All += o.All
}

func (t *MapWork) add(op MapOp, weight float64, fromMapFrame, deletes bool) {
	t.All += weight
	switch op {
	case OpRead:
		t.Read += weight
	case OpWrite:
		t.Write += weight
		if deletes {
			t.Delete += weight
		}
	case OpRange:
		t.Range += weight
	}
	if fromMapFrame {
		t.MapFrames += weight
	}
}

// ClassifyMapOp says what a stack (leaf first) did to component's map: the
// first map operation below the component's innermost frame — the API the
// component called (sync.(*Map).LoadOrStore, runtime.mapassign…) — or,
// when none is visible, the component method's own name (Get, Set, Range).
// fromMapFrame says a map frame (not a method name, not an RWMutex side)
// decided. Stacks that do not pass through the component count as OpNone.
func ClassifyMapOp(stack []*Frame, component string) (op MapOp, fromMapFrame bool) {
	key := byName(component)
	for i, f := range stack {
		if key.member(f) {
			op, fromMapFrame, _ = classifyAt(stack, i, key)
			return op, fromMapFrame
		}
	}
	return OpNone, false
}

// componentKey names a component by its Reader number when the frames
// have one, else by name.
type componentKey struct {
	id   uint32
	name string
}

func byName(name string) componentKey { return componentKey{name: name} }

// member is Frame.InComponent by number when it can be.
func (k componentKey) member(f *Frame) bool {
	if k.id != 0 && f.compID != 0 {
		return f.compID == k.id || f.pkgID == k.id
	}
	return f.InComponent(k.name)
}

// methodOp is MethodOp(f.MethodIn(component)), and whether that method is
// a dirtyLocked copy, from the frame's precomputed values.
func (k componentKey) methodOp(f *Frame) (MapOp, bool) {
	if k.own(f) {
		return f.ownOp, f.ownDirty
	}
	return f.pkgOp, f.pkgDirty
}

// own tells a frame whose method is the component's own (not a method of
// another type in the component's package).
func (k componentKey) own(f *Frame) bool {
	if k.id == 0 {
		return f.Component == k.name || f.Recv == ""
	}
	return f.compID == k.id || f.Recv == ""
}

// classifyAt is ClassifyMapOp given the component's innermost frame, and
// whether the operation deletes.
func classifyAt(stack []*Frame, at int, key componentKey) (op MapOp, fromMapFrame, deletes bool) {
	for i := at - 1; i >= 0; i-- {
		if op := stack[i].Op; op != OpNone {
			if op == OpRange && inWritePath(stack[at:], key) {
				// A writer that iterates its map is copying it (a
				// read/dirty promotion, a hand-made clone), not scanning.
				op = OpWrite
			}
			return op, stack[i].Prim != PrimRWRead && stack[i].Prim != PrimRWWrite, stack[i].libDelete
		}
	}
	op, _ = key.methodOp(stack[at])
	return op, false, op == OpWrite && key.own(stack[at]) && stack[at].ownDelete
}

// inWritePath reports whether any of the component's frames at the leaf
// end of stack (stack[0] is its innermost) is a write method, or the
// read/dirty design's dirtyLocked copy.
func inWritePath(stack []*Frame, key componentKey) bool {
	for _, f := range stack {
		if !key.member(f) {
			return false
		}
		if op, dirty := key.methodOp(f); op == OpWrite || dirty {
			return true
		}
	}
	return false
}

// libraryOp classifies library frames that do map work. Names cover the
// Go ≤1.23 runtime map, the Go ≥1.24 Swiss-table map (internal/runtime/maps,
// linknamed as runtime.mapaccess… and reported under either name), sync.Map
// in both designs, RWMutex sides and maps.Clone (a copy-on-write writer).
func libraryOp(fr *Frame) MapOp {
	if fr.User {
		return OpNone
	}
	f := fr.Name
	switch {
	case strings.HasPrefix(f, "sync.(*Map)."):
		return syncMapOp(f[len("sync.(*Map)."):])
	case strings.Contains(f, "mapaccess"), strings.Contains(f, "maps.(*Map).Get"),
		strings.HasPrefix(f, "sync.(*RWMutex).RLock"), strings.HasPrefix(f, "sync.(*RWMutex).RUnlock"):
		return OpRead
	case strings.Contains(f, "mapassign"), strings.Contains(f, "mapdelete"),
		strings.Contains(f, "maps.(*Map).Put"), strings.Contains(f, "maps.(*Map).Delete"),
		strings.HasPrefix(f, "sync.(*RWMutex).Lock"), strings.HasPrefix(f, "sync.(*RWMutex).Unlock"),
		strings.HasPrefix(f, "maps.Clone"), strings.HasPrefix(f, "maps.Copy"):
		return OpWrite
	case strings.Contains(f, "mapiterinit"), strings.Contains(f, "mapiternext"),
		strings.Contains(f, "maps.(*Iter)."), strings.HasPrefix(f, "maps.All"),
		strings.HasPrefix(f, "maps.Keys"), strings.HasPrefix(f, "maps.Values"):
		return OpRange
	}
	return OpNone
}

// syncMapOp classifies a sync.Map method; LoadOrStore counts as a write
// because it stores on a miss and, in the legacy design, may promote.
func syncMapOp(method string) MapOp {
	switch {
	case strings.HasPrefix(method, "Range"):
		return OpRange
	case strings.HasPrefix(method, "LoadOrStore"), strings.HasPrefix(method, "LoadAndDelete"):
		return OpWrite
	case strings.HasPrefix(method, "Load"):
		return OpRead
	case strings.HasPrefix(method, "Store"), strings.HasPrefix(method, "Swap"),
		strings.HasPrefix(method, "Delete"), strings.HasPrefix(method, "Compare"),
		strings.HasPrefix(method, "Clear"):
		return OpWrite
	}
	return OpNone
}

// deletesKey tells library frames and method names that remove a key.
func deletesKey(fr *Frame) bool {
	if !fr.User {
		f := fr.Name
		return strings.Contains(f, "mapdelete") || strings.Contains(f, "maps.(*Map).Delete") ||
			strings.HasPrefix(f, "sync.(*Map).Delete") || strings.HasPrefix(f, "sync.(*Map).LoadAndDelete") ||
			strings.HasPrefix(f, "sync.(*Map).CompareAndDelete")
	}
	return false
}

// deleteMethods are a component's method-name prefixes that remove keys.
var deleteMethods = []string{"Delete", "Del", "Remove", "Evict", "LoadAndDelete", "CompareAndDelete"}

// Method-name prefixes of a component's own API, checked after the
// library frames: conventional names for reads, writes and scans.
var (
	// Read and Write are left out: on io-style types (loggers, buffers)
	// they name no map operation.
	readMethods  = []string{"Get", "Load", "Lookup", "Has", "Contains", "Find", "Peek", "Fetch", "Len", "Size", "Exists"}
	writeMethods = []string{"Set", "Store", "Put", "Add", "Insert", "Delete", "Del", "Remove", "Swap", "Update", "Upsert", "Incr", "Inc", "Evict", "Clear", "Compare"}
	rangeMethods = []string{"Range", "Each", "ForEach", "Iter", "Scan", "Snapshot", "All", "Keys", "Values", "Dump"}
)

// MethodOp classifies a component's method by its name (Get, Set, Range…).
func MethodOp(method string) MapOp {
	for _, set := range []struct {
		names []string
		op    MapOp
	}{{rangeMethods, OpRange}, {readMethods, OpRead}, {writeMethods, OpWrite}} {
		for _, n := range set.names {
			if strings.HasPrefix(method, n) {
				return set.op
			}
		}
	}
	return OpNone
}

// MapWorkOf weighs one leaf-first stack for component: the weight under
// the operation ClassifyMapOp reads, or only in All when none is read.
func MapWorkOf(stack []*Frame, component string, weight float64) MapWork {
	var t MapWork
	key := byName(component)
	for i, f := range stack {
		if key.member(f) {
			op, fromMap, deletes := classifyAt(stack, i, key)
			t.add(op, weight, fromMap, deletes)
			break
		}
	}
	return t
}
