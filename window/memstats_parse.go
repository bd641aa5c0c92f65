package window

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// memStatsHeader starts the block that runtime/pprof appends to
// /debug/pprof/heap?debug=1 output (see writeHeapInternal in runtime/pprof).
const memStatsHeader = "# runtime.MemStats"

// requiredMemStats are the fields without which no GC figure can be derived.
// A reading missing any of them is rejected rather than read as zeros, which
// would turn into huge or negative deltas later.
var requiredMemStats = []string{"TotalAlloc", "Mallocs", "HeapAlloc", "NextGC", "NumGC", "PauseNs"}

// maxMemStatsLineBytes bounds one line; the longest real line (PauseEnd:
// 256 numbers of up to 20 digits) is about 5.4 KB.
const maxMemStatsLineBytes = 64 << 10

// ParseMemStats reads the "# runtime.MemStats" block at the end of a
// /debug/pprof/heap?debug=1 response. Text before the block (the legacy heap
// profile itself) is skipped; fields it does not know (Stack = a / b,
// MaxRSS, …) are ignored. It returns an error naming what is missing when the
// block or one of TotalAlloc, Mallocs, HeapAlloc, NextGC, NumGC and PauseNs
// is absent or malformed: truncated input must never read as zeros.
//
// The text carries no timestamp: the caller sets MemStats.Time to when it
// fetched it.
func ParseMemStats(text []byte) (MemStats, error) {
	var ms MemStats
	start := bytes.Index(text, []byte(memStatsHeader))
	if start < 0 {
		return ms, errors.New("parsing heap?debug=1 MemStats: no \"# runtime.MemStats\" block (not heap?debug=1 output, or truncated before it)")
	}
	seen := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(text[start+len(memStatsHeader):]))
	sc.Buffer(make([]byte, 0, 8<<10), maxMemStatsLineBytes)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		name, value, ok := strings.Cut(strings.TrimPrefix(line, "#"), "=")
		if !strings.HasPrefix(line, "#") || !ok {
			return ms, fmt.Errorf("parsing heap?debug=1 MemStats: unexpected line %q", clip(line))
		}
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		known, err := ms.setField(name, value)
		if err != nil {
			return ms, fmt.Errorf("parsing heap?debug=1 MemStats field %s: %w", name, err)
		}
		if known {
			if seen[name] {
				return ms, fmt.Errorf("parsing heap?debug=1 MemStats: field %s appears twice", name)
			}
			seen[name] = true
		}
	}
	if err := sc.Err(); err != nil {
		return ms, fmt.Errorf("parsing heap?debug=1 MemStats: %w", err)
	}
	var missing []string
	for _, name := range requiredMemStats {
		if !seen[name] {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return ms, fmt.Errorf("parsing heap?debug=1 MemStats: missing %s (truncated or partial output)", strings.Join(missing, ", "))
	}
	return ms, nil
}

// setField stores one "Name = value" line. known is false for fields
// MemStats does not keep.
func (ms *MemStats) setField(name, value string) (known bool, err error) {
	uints := map[string]*uint64{
		"TotalAlloc": &ms.TotalAlloc, "Mallocs": &ms.Mallocs, "Frees": &ms.Frees,
		"HeapAlloc": &ms.HeapAlloc, "HeapInuse": &ms.HeapInuse, "HeapObjects": &ms.HeapObjects,
		"Sys": &ms.Sys, "NextGC": &ms.NextGC, "LastGC": &ms.LastGC, "PauseTotalNs": &ms.PauseTotalNs,
	}
	if dst, ok := uints[name]; ok {
		*dst, err = strconv.ParseUint(value, 10, 64)
		return true, err
	}
	switch name {
	case "NumGC", "NumForcedGC":
		n, err := strconv.ParseUint(value, 10, 32)
		if name == "NumGC" {
			ms.NumGC = uint32(n)
		} else {
			ms.NumForcedGC = uint32(n)
		}
		return true, err
	case "PauseNs":
		return true, parseRing(value, &ms.PauseNs)
	case "PauseEnd":
		return true, parseRing(value, &ms.PauseEnd)
	case "GCCPUFraction":
		ms.GCCPUFraction, err = strconv.ParseFloat(value, 64)
		return true, err
	}
	return false, nil
}

// parseRing reads "[n0 n1 … n255]", the way fmt prints a [256]uint64.
func parseRing(value string, ring *[256]uint64) error {
	if !strings.HasPrefix(value, "[") || !strings.HasSuffix(value, "]") {
		return fmt.Errorf("want [%d numbers], got %q (truncated?)", len(ring), clip(value))
	}
	fields := strings.Fields(value[1 : len(value)-1])
	if len(fields) != len(ring) {
		return fmt.Errorf("want %d numbers, got %d (truncated?)", len(ring), len(fields))
	}
	for i, f := range fields {
		n, err := strconv.ParseUint(f, 10, 64)
		if err != nil {
			return fmt.Errorf("entry %d: %w", i, err)
		}
		ring[i] = n
	}
	return nil
}

// clip shortens s for an error message.
func clip(s string) string {
	if len(s) > 60 {
		return s[:60] + "…"
	}
	return s
}
