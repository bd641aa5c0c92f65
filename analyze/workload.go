package analyze

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
