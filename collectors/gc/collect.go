package gc

import (
	"errors"
	"fmt"

	"github.com/contendr/contendr/collectors/figure"
	"github.com/contendr/contendr/collectors/stacks"
	"github.com/contendr/contendr/window"
)

// Collect measures one window: GC pressure from its runtime/metrics samples
// (or, for a plain pprof target, its two MemStats readings and CPU profile)
// and map growth from its allocs profile delta. prev, the window before w
// from the same source, may be nil; with it, map growth also reports how the
// in-use bytes of each growth changed across the two windows.
//
// Collect never fails for a missing source: what a window lacks is listed
// in Result.Measured and Result.Notes. It fails only on a profile it cannot
// read.
func Collect(w *window.Window, prev *window.Window) (*Result, error) {
	if w == nil {
		return nil, errors.New("collecting GC figures: no window")
	}
	var prevAttr *stacks.Attribution
	if prev != nil {
		prevAttr = stacks.AttributeGrowth(prev)
	}
	return CollectFrom(w, stacks.Attribute(w), prevAttr)
}

// CollectFrom is Collect over stack attributions the caller already has:
// the window's, and the previous window's (Attribute or AttributeGrowth, nil
// when there is none), of which only the map growth is read.
func CollectFrom(w *window.Window, attr, prev *stacks.Attribution) (*Result, error) {
	if w == nil || attr == nil {
		return nil, errors.New("collecting GC figures: no window")
	}
	seconds := windowSeconds(w)
	r := &Result{WindowSeconds: seconds}
	if seconds <= 0 {
		r.Notes = append(r.Notes, "window length unknown: per-second rates left 0")
	}

	switch {
	case w.Metrics != nil:
		r.Pressure, r.Measured = pressureFromMetrics(w.Metrics, seconds)
	case w.MemStats != nil:
		var notes []string
		r.Pressure, r.Measured, notes = pressureFromMemStats(w.MemStats, attr.CPU, memStatsSeconds(w.MemStats, seconds))
		r.Notes = append(r.Notes, notes...)
	case w.Profile(window.CPU) != nil:
		r.Pressure = Pressure{Source: "cpu-profile"}
		r.Measured = figure.Set{}
		r.Measured.Miss("the window has no runtime/metrics or MemStats", figure.GC...)
		frac, err := gcFractionFromCPU(attr.CPU)
		if err != nil {
			return nil, fmt.Errorf("reading GC CPU share of window %s from its CPU profile: %w", w.ID, err)
		}
		r.Pressure.CPUFraction = frac
		r.Measured.Estimate(figure.GCCPUFraction, "from the CPU profile's GC frames over all sampled CPU; the window has no runtime/metrics or MemStats")
	default:
		r.Measured = figure.Set{}
		r.Measured.Miss("the window has no runtime/metrics, MemStats or CPU profile", figure.GC...)
	}
	switch {
	case !attr.Growth.Present:
		r.Measured.Miss("the window has no allocs profile", figure.MapGrowth)
	default:
		r.Measured.Know(figure.MapGrowth)
	}

	growth, total, notes, err := mapGrowth(attr.Growth, prev, seconds)
	if err != nil {
		return nil, fmt.Errorf("attributing map growth in window %s: %w", w.ID, err)
	}
	r.MapGrowth, r.TotalAllocBytes = growth, total
	r.Notes = append(r.Notes, notes...)
	return r, nil
}

// windowSeconds is the window's length, from its bounds or else from what
// its sources recorded.
func windowSeconds(w *window.Window) float64 {
	if s := w.Seconds(); s > 0 {
		return s
	}
	if m := w.Metrics; m != nil && !m.Start.Time.IsZero() && m.End.Time.After(m.Start.Time) {
		return m.End.Time.Sub(m.Start.Time).Seconds()
	}
	if ms := w.MemStats; ms != nil {
		if s := memStatsSeconds(ms, 0); s > 0 {
			return s
		}
	}
	if p := w.Profile(window.Allocs); p != nil && p.DurationNanos > 0 {
		return float64(p.DurationNanos) / 1e9
	}
	return 0
}

// memStatsSeconds prefers the time between the two readings themselves.
func memStatsSeconds(ms *window.MemStatsPair, fallback float64) float64 {
	if !ms.Start.Time.IsZero() && ms.End.Time.After(ms.Start.Time) {
		return ms.End.Time.Sub(ms.Start.Time).Seconds()
	}
	return fallback
}
