package stacks

import "testing"

func TestClassifyStack(t *testing.T) {
	const comp = "main.(*Cache)"
	tests := []struct {
		name  string
		stack []string // leaf first
		want  MapOp
	}{
		{"sync.Map Load", []string{"internal/sync.(*HashTrieMap[go.shape.string,go.shape.int]).Load", "sync.(*Map).Load", "main.(*Cache).op", "main.main"}, OpRead},
		{"sync.Map LoadOrStore is a write though it loads", []string{"internal/sync.(*HashTrieMap[…]).Load", "internal/sync.(*HashTrieMap[…]).LoadOrStore", "sync.(*Map).LoadOrStore", "main.(*Cache).op"}, OpWrite},
		{"sync.Map Range", []string{"sync.(*Map).Range", "main.(*Cache).Snapshot"}, OpRange},
		{"Go map access under a method named op", []string{"internal/runtime/maps.runtime_mapaccess1_fast64", "main.(*Cache).op"}, OpRead},
		{"Go map assign", []string{"runtime.mapassign_fast64", "main.(*Cache).op"}, OpWrite},
		{"RLock contention", []string{"sync.(*RWMutex).RLock", "main.(*Cache).Get"}, OpRead},
		{"method name when no library frame", []string{"sync.(*Mutex).Unlock", "main.(*Cache).Set"}, OpWrite},
		{"method Get", []string{"sync.(*Mutex).Lock", "main.(*Cache).Get.func1"}, OpRead},
		{"clone in a COW writer", []string{"maps.Clone[go.shape.map[string]int]", "main.(*Cache).Put"}, OpWrite},
		{"iteration", []string{"internal/runtime/maps.(*Iter).Next", "main.(*Cache).Each"}, OpRange},
		{"frames above the component do not count", []string{"main.(*Cache).op", "sync.(*Map).Load", "main.main"}, OpNone},
		{"other component", []string{"sync.(*Map).Load", "main.(*Other).Get"}, OpNone},
	}
	for _, tt := range tests {
		if got := classify(tt.stack, comp); got != tt.want {
			t.Errorf("%s: classifyStack = %d, want %d", tt.name, got, tt.want)
		}
	}
}

// TestClassifyCopiesAndGenerics: iterating a map inside a write method (a
// read/dirty promotion, a hand-made clone) is a write, not a Range; frames
// of a generic type match its component's collapsed name.
func TestClassifyCopiesAndGenerics(t *testing.T) {
	const legacy = "main.(*Legacy)"
	const xsyncMap = "github.com/puzpuzpuz/xsync/v4.(*Map[...])"
	for _, tc := range []struct {
		name      string
		stack     []string
		component string
		want      MapOp
	}{
		{"promotion copy in dirtyLocked", []string{"runtime.mapiternext", legacy + ".dirtyLocked", legacy + ".Store", "main.worker"}, legacy, OpWrite},
		{"clone loop in Set", []string{"internal/runtime/maps.(*Iter).Next", "main.(*COW).Set.func1", "main.worker"}, "main.(*COW)", OpWrite},
		{"the user's Range", []string{"runtime.mapiternext", legacy + ".Range", "main.worker"}, legacy, OpRange},
		{"generic Range", []string{"github.com/puzpuzpuz/xsync/v4.(*Map[go.shape.int,go.shape.int]).Range", "main.worker"}, xsyncMap, OpRange},
		{"generic Load", []string{"github.com/puzpuzpuz/xsync/v4.(*Map[go.shape.int,go.shape.int]).Load", "main.worker"}, xsyncMap, OpRead},
	} {
		if got := classify(tc.stack, tc.component); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

// classify is ClassifyMapOp over function names.
func classify(names []string, component string) MapOp {
	op, _ := ClassifyMapOp(NewReader().FramesOf(names), component)
	return op
}

// TestDeletesAndMapCaller: deletes are told apart within writes (library
// frames and method names), and map CPU is charged to the first user frame
// above the map operation, never to its callers or to an RWMutex side.
func TestDeletesAndMapCaller(t *testing.T) {
	const comp = "main.(*Cache)"
	r := NewReader()
	for _, tc := range []struct {
		name    string
		stack   []string
		deletes bool
	}{
		{"mapdelete", []string{"runtime.mapdelete_fast64", "main.(*Cache).op"}, true},
		{"sync.Map Delete", []string{"internal/sync.(*HashTrieMap[…]).LoadAndDelete", "sync.(*Map).LoadAndDelete", "main.(*Cache).op"}, true},
		{"method Remove", []string{"sync.(*Mutex).Lock", "main.(*Cache).Remove"}, true},
		{"mapassign", []string{"runtime.mapassign_fast64", "main.(*Cache).Remove"}, false},
		{"Set", []string{"sync.(*Mutex).Lock", "main.(*Cache).Set"}, false},
	} {
		w := MapWorkOf(r.FramesOf(tc.stack), comp, 1)
		if w.Write != 1 || (w.Delete == 1) != tc.deletes {
			t.Errorf("%s: %+v, want a write, deletes %v", tc.name, w, tc.deletes)
		}
	}
	for _, tc := range []struct {
		name  string
		stack []string
		want  int
	}{
		{"map access", []string{"internal/runtime/maps.ctrlGroup.matchH2", "runtime.mapaccess2_fast64", "main.(*Cache).Get", "main.worker"}, 2},
		{"sync.Map", []string{"internal/sync.(*HashTrieMap[…]).Load", "sync.(*Map).Load", "main.(*Cache).Get"}, 2},
		{"RLock is lock work", []string{"sync/atomic.(*Int32).Add", "sync.(*RWMutex).RLock", "main.(*Cache).Get"}, -1},
		{"user leaf", []string{"main.(*Cache).Get", "main.worker"}, -1},
	} {
		if got := mapCaller(r.FramesOf(tc.stack)); got != tc.want {
			t.Errorf("%s: mapCaller = %d, want %d", tc.name, got, tc.want)
		}
	}
}
