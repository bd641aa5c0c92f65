package flame

import (
	"fmt"
	"strconv"
)

// FormatValue renders v in the unit's natural scale: nanoseconds as µs, ms or
// s, bytes as KiB, MiB or GiB, anything else as a count with thousands
// separators. The HTML page's script mirrors these rules.
func FormatValue(v int64, unit string) string {
	f := float64(v)
	switch unit {
	case "nanoseconds":
		switch a := abs(f); {
		case a >= 1e9:
			return trim(f/1e9) + " s"
		case a >= 1e6:
			return trim(f/1e6) + " ms"
		case a >= 1e3:
			return trim(f/1e3) + " µs"
		}
		return strconv.FormatInt(v, 10) + " ns"
	case "bytes":
		switch a := abs(f); {
		case a >= 1<<30:
			return trim(f/(1<<30)) + " GiB"
		case a >= 1<<20:
			return trim(f/(1<<20)) + " MiB"
		case a >= 1<<10:
			return trim(f/(1<<10)) + " KiB"
		}
		return strconv.FormatInt(v, 10) + " B"
	}
	s := groupThousands(v)
	if unit != "" && unit != "count" {
		s += " " + unit
	}
	return s
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}

// trim prints three significant digits at most: 1.23, 12.3, 123.
func trim(f float64) string {
	switch a := abs(f); {
	case a >= 100:
		return fmt.Sprintf("%.0f", f)
	case a >= 10:
		return fmt.Sprintf("%.1f", f)
	}
	return fmt.Sprintf("%.2f", f)
}

func groupThousands(v int64) string {
	s := strconv.FormatInt(v, 10)
	neg := v < 0
	if neg {
		s = s[1:]
	}
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}

// percent renders a fraction as a percentage with sensible precision.
func percent(f float64) string {
	p := f * 100
	if abs(p) < 10 {
		return fmt.Sprintf("%.2f%%", p)
	}
	return fmt.Sprintf("%.1f%%", p)
}
