// Package cliflags registers and validates the flags contendr's commands
// share — the target flags (--seconds, --timeout, --header/-H,
// --max-bytes, --go-version, --token), durations such as --interval,
// fractions such as --cost-warn, and an atomic -o — so that each has one
// spelling, one type and one notation in every command:
//
//   - a duration is seconds (10, 0.5) or a Go duration (10s, 1m30s);
//   - a size is bytes or a number with KiB, MiB, GiB (or KB, MB, GB);
//   - a fraction is 0.05 or 5%, never above 100% ("5" is refused with a
//     hint at 5%).
package cliflags

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Duration is a flag value of seconds (10) or a Go duration (10s); it
// must be positive.
type Duration time.Duration

func (d *Duration) String() string {
	if *d == 0 {
		return "0"
	}
	return time.Duration(*d).String()
}

// Type names the notation in --help.
func (d *Duration) Type() string { return "duration" }

// Set reads seconds or a Go duration.
func (d *Duration) Set(s string) error {
	v, err := ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// ParseDuration reads seconds (10, 0.5) or a Go duration (10s, 1m30s),
// refusing anything not positive.
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	d, err := time.ParseDuration(s)
	if err != nil {
		f, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil {
			return 0, fmt.Errorf("want seconds (10) or a duration (10s, 1m30s)")
		}
		d = time.Duration(f * float64(time.Second))
	}
	if d <= 0 {
		return 0, fmt.Errorf("want a positive duration (10, 10s, 1m)")
	}
	return d, nil
}

// Size is a flag value in bytes, or a number with KiB/MiB/GiB (KB/MB/GB).
type Size int64

func (b *Size) String() string {
	switch n := int64(*b); {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%dGiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%dMiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%dKiB", n>>10)
	default:
		return strconv.FormatInt(n, 10)
	}
}

// Type names the notation in --help.
func (b *Size) Type() string { return "size" }

// Set reads 64MiB, 1GiB, 500MB or a number of bytes.
func (b *Size) Set(v string) error {
	num, mult := strings.TrimSpace(v), int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}, {"B", 1}} {
		if n, ok := strings.CutSuffix(num, u.suffix); ok {
			num, mult = strings.TrimSpace(n), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 || n > (1<<62)/mult {
		return fmt.Errorf("want a positive size like 64MiB")
	}
	*b = Size(n * mult)
	return nil
}

// Fraction is a flag value in [0, 1], written 0.05 or 5%. Given tells a
// value set on the command line from the default.
type Fraction struct {
	Value float64
	Given bool
}

func (f *Fraction) String() string {
	if !f.Given && f.Value == 0 {
		return ""
	}
	return strconv.FormatFloat(f.Value*100, 'g', -1, 64) + "%"
}

// Type names the notation in --help.
func (f *Fraction) Type() string { return "fraction" }

// Set reads 0.05 or 5%, refusing values above 100% and hinting at a
// percentage for a bare number above 1.
func (f *Fraction) Set(s string) error {
	v, err := ParseFraction(s)
	if err != nil {
		return err
	}
	f.Value, f.Given = v, true
	return nil
}

// ParseFraction reads 0.05 or 5% as 0.05.
func ParseFraction(s string) (float64, error) {
	s = strings.TrimSpace(s)
	if p, ok := strings.CutSuffix(s, "%"); ok {
		v, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		switch {
		case err != nil:
			return 0, fmt.Errorf("want a fraction (0.05) or a percentage (5%%)")
		case v < 0 || v > 100:
			return 0, fmt.Errorf("%s is outside 0%%–100%%", s)
		}
		return v / 100, nil
	}
	v, err := strconv.ParseFloat(s, 64)
	switch {
	case err != nil:
		return 0, fmt.Errorf("want a fraction (0.05) or a percentage (5%%)")
	case v < 0:
		return 0, fmt.Errorf("%s is negative: want a fraction in [0, 1] or a percentage", s)
	case v > 1 && v <= 100:
		return 0, fmt.Errorf("%s is above 1 (100%%): for %s percent write %s%%", s, s, s)
	case v > 1:
		return 0, fmt.Errorf("%s is above 1 (100%%): want a fraction in [0, 1] or a percentage", s)
	}
	return v, nil
}
