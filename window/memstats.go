package window

import "time"

// MemStats is the part of runtime.MemStats that a plain net/http/pprof target
// prints at the end of /debug/pprof/heap?debug=1, read at one instant.
// ParseMemStats reads it from that text.
type MemStats struct {
	Time         time.Time `json:"time"`
	TotalAlloc   uint64    `json:"total_alloc"`
	Mallocs      uint64    `json:"mallocs"`
	Frees        uint64    `json:"frees"`
	HeapAlloc    uint64    `json:"heap_alloc"`
	HeapInuse    uint64    `json:"heap_inuse"`
	HeapObjects  uint64    `json:"heap_objects"`
	Sys          uint64    `json:"sys"`
	NextGC       uint64    `json:"next_gc"`
	LastGC       uint64    `json:"last_gc"`
	PauseTotalNs uint64    `json:"pause_total_ns"`
	// PauseNs and PauseEnd are the runtime's circular buffers of the last 256
	// GC pauses; the most recent is at (NumGC+255)%256.
	PauseNs     [256]uint64 `json:"pause_ns"`
	PauseEnd    [256]uint64 `json:"pause_end"`
	NumGC       uint32      `json:"num_gc"`
	NumForcedGC uint32      `json:"num_forced_gc"`
	// GCCPUFraction is a lifetime average: kept for completeness, never to
	// be presented as a window's GC CPU share.
	GCCPUFraction float64 `json:"gc_cpu_fraction"`
}

// MemStatsPair holds the readings at a window's start and end.
type MemStatsPair struct {
	Start MemStats `json:"start"`
	End   MemStats `json:"end"`
}
