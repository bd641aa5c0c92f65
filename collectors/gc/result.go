package gc

import (
	"github.com/contendr/contendr/collectors/figure"
	"github.com/contendr/contendr/collectors/stacks"
)

// Pressure is the window's GC cost. Fields a source cannot provide are left
// zero and marked missing in Result.Measured.
type Pressure struct {
	// CPUFraction = Δ/cpu/classes/gc/total ÷ Δ/cpu/classes/total; never the
	// lifetime-average MemStats.GCCPUFraction.
	CPUFraction float64 `json:"cpu_fraction"`
	// AssistShare is the part of GC CPU spent in mark assists by user
	// goroutines (a direct tax on request latency).
	AssistShare           float64 `json:"assist_share"`
	PauseP50Seconds       float64 `json:"pause_p50_seconds"`
	PauseP99Seconds       float64 `json:"pause_p99_seconds"`
	PauseMaxSeconds       float64 `json:"pause_max_seconds"`
	Cycles                int64   `json:"cycles"`
	CyclesPerSecond       float64 `json:"cycles_per_second"`
	AllocBytesPerSecond   float64 `json:"alloc_bytes_per_second"`
	AllocObjectsPerSecond float64 `json:"alloc_objects_per_second"`
	HeapLiveBytes         float64 `json:"heap_live_bytes"`
	HeapGoalBytes         float64 `json:"heap_goal_bytes"`
	GOGC                  float64 `json:"gogc"`       // percent; -1 when off
	GOMEMLIMIT            float64 `json:"gomemlimit"` // bytes
	// Source is "runtime/metrics", "memstats" or "cpu-profile" ("" when
	// the window has none of them).
	Source string `json:"source"`
}

// GrowthKind names the map machinery that allocated (stacks.GrowthKind).
type GrowthKind = stacks.GrowthKind

// Growth kinds.
const (
	GrowthSyncMapDirty = stacks.GrowthSyncMapDirty // legacy sync.(*Map).dirtyLocked
	GrowthHashTrieMap  = stacks.GrowthHashTrieMap  // newEntryNode / newIndirectNode
	GrowthGoMap        = stacks.GrowthGoMap        // internal/runtime/maps, runtime.makemap*
	GrowthCOWClone     = stacks.GrowthCOWClone     // maps.Clone or a copy loop in a writer
)

// MapGrowth is allocation a component's map did to grow or copy itself.
type MapGrowth struct {
	Component        string     `json:"component"`
	Function         string     `json:"function"` // the user frame that caused it
	Kind             GrowthKind `json:"kind"`
	Bytes            int64      `json:"bytes"`
	Objects          int64      `json:"objects"`
	BytesPerSecond   float64    `json:"bytes_per_second"`
	ObjectsPerSecond float64    `json:"objects_per_second"`
	ShareOfAlloc     float64    `json:"share_of_alloc"`
	// InUseGrowthBytes is the change of in-use bytes of this growth between
	// consecutive windows, when the previous window is known.
	InUseGrowthBytes int64 `json:"inuse_growth_bytes,omitempty"`
	// Inferred marks Go map growth read from a lock-taking user function's
	// own allocation: runtime/pprof hides the map's runtime frames.
	Inferred bool `json:"inferred,omitempty"`
}

// Result is what the collector found in one window.
type Result struct {
	WindowSeconds float64  `json:"window_seconds"`
	Pressure      Pressure `json:"pressure"`
	// Measured says which of the GC figures (figure.GC) and map growth
	// the window measured, estimated or lacked, and why.
	Measured  figure.Set   `json:"measured"`
	MapGrowth []*MapGrowth `json:"map_growth"` // sorted by bytes, descending
	// TotalAllocBytes is the window's sampled allocation (allocs profile).
	TotalAllocBytes int64    `json:"total_alloc_bytes"`
	Notes           []string `json:"notes,omitempty"`
}
