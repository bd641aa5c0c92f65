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
