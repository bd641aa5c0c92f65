package stacks

import "testing"

func TestClassifyGrowth(t *testing.T) {
	r := NewReader()
	lockTakers := map[*Frame]bool{r.Frame("main.(*Cache).Set"): true}
	tests := []struct {
		name     string
		stack    []string // leaf first
		kind     GrowthKind
		function string
		inferred bool
	}{
		{"legacy dirty copy", []string{"sync.(*Map).dirtyLocked", "sync.(*Map).LoadOrStore", "main.(*S).op", "main.main.func1"},
			GrowthSyncMapDirty, "main.(*S).op", false},
		{"legacy lock wait is not growth", []string{"internal/sync.runtime_SemacquireMutex", "internal/sync.(*Mutex).lockSlow", "sync.(*Mutex).Lock", "sync.(*Map).Swap", "main.(*S).op"},
			"", "", false},
		{"hashtriemap insert", []string{"internal/sync.newEntryNode[go.shape.string,go.shape.int]", "internal/sync.(*HashTrieMap[go.shape.string,go.shape.int]).Swap", "sync.(*Map).Swap", "sync.(*Map).Store", "main.(*S).put"},
			GrowthHashTrieMap, "main.(*S).put", false},
		{"hashtriemap under unique.Make is not the user's map", []string{"internal/sync.newEntryNode[go.shape.string,go.shape.string]", "internal/sync.(*HashTrieMap[go.shape.string,go.shape.string]).LoadOrStore", "unique.Make[go.shape.string]", "main.intern"},
			"", "", false},
		{"maps.Clone", []string{"maps.clone", "maps.Clone[go.shape.map[string]int,go.shape.string,go.shape.int]", "example.com/svc.(*Routes).Add"},
			GrowthCOWClone, "example.com/svc.(*Routes).Add", false},
		{"visible Go map growth", []string{"internal/runtime/maps.newarray", "internal/runtime/maps.newTable", "internal/runtime/maps.(*table).grow", "runtime.mapassign_faststr", "main.(*Index).Add"},
			GrowthGoMap, "main.(*Index).Add", false},
		{"makemap", []string{"runtime.makemap_small", "main.newIndex"}, GrowthGoMap, "main.newIndex", false},
		{"hidden growth in a lock taker", []string{"main.(*Cache).Set", "main.handler"}, GrowthGoMap, "main.(*Cache).Set", true},
		{"hidden allocation elsewhere is not growth", []string{"main.(*Cache).Get", "main.handler"}, "", "", false},
		{"growth inside a closure called by the map's Range is not the map's", []string{"main.main.func2", "sync.(*Map).Range", "main.main"}, "", "", false},
		{"a hand-written read/dirty map's copy", []string{"example.com/m/strategy.(*Legacy).dirtyLocked", "example.com/m/strategy.(*Legacy).Store", "main.worker"},
			GrowthSyncMapDirty, "example.com/m/strategy.(*Legacy).dirtyLocked", false},
		{"runtime only", []string{"runtime.malg", "runtime.newproc1"}, "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key, _, ok := classifyGrowth(r.FramesOf(tt.stack), lockTakers)
			if ok != (tt.kind != "") || key.Kind != tt.kind || key.Function != tt.function || key.Inferred != tt.inferred {
				t.Errorf("classify = %+v, %v; want kind %q function %q inferred %v", key, ok, tt.kind, tt.function, tt.inferred)
			}
		})
	}
}
