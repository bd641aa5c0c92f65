package analyze

import (
	"fmt"
	"math"
	"strconv"
)

// pct formats a fraction as a percentage with three significant digits at
// most: 0.3412 → "34.1%", 0.0004 → "0.04%".
func pct(f float64) string {
	v := f * 100
	switch {
	case v == 0:
		return "0%"
	case math.Abs(v) < 0.01:
		return "<0.01%"
	case math.Abs(v) >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64) + "%"
	case math.Abs(v) >= 1:
		return strconv.FormatFloat(v, 'f', 2, 64) + "%"
	}
	return strconv.FormatFloat(v, 'g', 2, 64) + "%"
}

// dur formats seconds in the unit a reader expects: "850µs", "1.2ms", "3.4s".
func dur(s float64) string {
	switch {
	case s == 0:
		return "0s"
	case s < 1e-3:
		return trim(s*1e6) + "µs"
	case s < 1:
		return trim(s*1e3) + "ms"
	case s >= 100:
		return strconv.FormatFloat(s, 'f', 0, 64) + "s"
	}
	return trim(s) + "s"
}

func trim(v float64) string { return strconv.FormatFloat(v, 'g', 3, 64) }

// bytesHuman formats a byte count in binary units: "12.3 MiB".
func bytesHuman(b float64) string {
	const unit = 1024
	if b < unit {
		return fmt.Sprintf("%.0f B", b)
	}
	div, exp := float64(unit), 0
	for n := b / unit; n >= unit && exp < 5; n /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", b/div, "KMGTPE"[exp])
}

// secondsPerSecond formats a delay rate: 2.95 s/s means about three
// goroutines waiting at any moment.
func secondsPerSecond(v float64) string { return trim(v) + " s/s" }

// Rates need the window's length; profile files may not carry it. These
// fall back to the window's totals when a rate is 0 but its total is not.

func delayText(perSecond, total float64) string {
	if perSecond == 0 && total > 0 {
		return dur(total) + " of delay in total"
	}
	return secondsPerSecond(perSecond) + " of delay"
}

func contentionsText(perSecond float64, total int64) string {
	if perSecond == 0 && total > 0 {
		return fmt.Sprintf("%d contentions in total", total)
	}
	return fmt.Sprintf("%.0f contentions/s", perSecond)
}

func bytesText(perSecond float64, total int64) string {
	if perSecond == 0 && total > 0 {
		return bytesHuman(float64(total)) + " in total"
	}
	return bytesHuman(perSecond) + "/s"
}
