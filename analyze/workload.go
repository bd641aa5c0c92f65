package analyze

import "fmt"

// mixOf names a read share. The bands sit halfway between the mixes
// testapps/maplab measures (read-only 99.99% reads, read-mostly 99%,
// read-heavy 90%, balanced 50%, write-heavy 10%; read-only's band starts at
// 99.9%, between the first two on a log scale of the write share), so that
// a measured component maps to the ground-truth row closest to it.
func mixOf(readShare float64, known bool) string {
	switch {
	case !known:
		return "unknown"
	case readShare >= 0.999:
		return "read-only"
	case readShare >= 0.95:
		return "read-mostly"
	case readShare >= 0.7:
		return "read-heavy"
	case readShare > 0.3:
		return "balanced"
	}
	return "write-heavy"
}

// clonesHideMix drops a copy-on-write component's CPU-weighted mix. Each
// write clones the whole map, so the CPU profile weighs a write by the
// map's size, not by its count: under COW, maplab's read-mostly workload
// (99% reads) read as 5% reads and its read-heavy one (90%) as 0–1%, and
// the rules advised for writes that hardly happen. The mix of operations
// is then unknown, and the rules judge every mix.
func (wl *Workload) clonesHideMix() {
	if wl.ReadShareSource != "cpu-profile" {
		return
	}
	wl.MixNote = fmt.Sprintf("copy on write clones the whole map on every write, so the CPU profile's %s reads weigh each write by the map's size, not by its count: the mix of operations is not measured", pct(wl.ReadShare))
	wl.Mix = "unknown"
}
