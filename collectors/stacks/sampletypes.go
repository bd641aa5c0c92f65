package stacks

import (
	"fmt"

	"github.com/google/pprof/profile"
)

// ValueIndex finds a sample type by name, never by position: runtime/pprof
// writes contentions first and delay second, but converted and merged
// profiles need not. It returns -1 when the type is absent.
func ValueIndex(p *profile.Profile, typ string) int {
	for i, st := range p.SampleType {
		if st.Type == typ {
			return i
		}
	}
	return -1
}

// nanosPerUnit converts a time sample type's unit to nanoseconds.
func nanosPerUnit(unit string) (int64, error) {
	switch unit {
	case "nanoseconds", "ns", "":
		return 1, nil
	case "microseconds", "us":
		return 1e3, nil
	case "milliseconds", "ms":
		return 1e6, nil
	case "seconds", "s":
		return 1e9, nil
	}
	return 0, fmt.Errorf("unknown time unit %q", unit)
}

// contentionIndexes locates the delay (required) and contentions
// (optional, -1 when absent) sample types of a mutex or block profile, and
// the factor that turns delay values into nanoseconds.
func contentionIndexes(p *profile.Profile) (delay, contentions int, delayNanos int64, err error) {
	delay = ValueIndex(p, "delay")
	if delay < 0 {
		return -1, -1, 0, fmt.Errorf("no delay sample type (has %s): not a mutex or block profile", sampleTypeNames(p))
	}
	delayNanos, err = nanosPerUnit(p.SampleType[delay].Unit)
	if err != nil {
		return -1, -1, 0, fmt.Errorf("delay sample type: %w", err)
	}
	return delay, ValueIndex(p, "contentions"), delayNanos, nil
}

// cpuIndex locates the cpu/nanoseconds sample type of a CPU profile.
func cpuIndex(p *profile.Profile) (index int, nanos int64, err error) {
	index = ValueIndex(p, "cpu")
	if index < 0 {
		return -1, 0, fmt.Errorf("no cpu sample type (has %s): not a CPU profile", sampleTypeNames(p))
	}
	nanos, err = nanosPerUnit(p.SampleType[index].Unit)
	if err != nil {
		return -1, 0, fmt.Errorf("cpu sample type: %w", err)
	}
	return index, nanos, nil
}

func sampleTypeNames(p *profile.Profile) string {
	names := ""
	for i, st := range p.SampleType {
		if i > 0 {
			names += ", "
		}
		names += st.Type + "/" + st.Unit
	}
	if names == "" {
		return "none"
	}
	return names
}
