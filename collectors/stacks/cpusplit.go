package stacks

import (
	"fmt"
	"regexp"

	"github.com/google/pprof/profile"
)

// SplitCPU splits a CPU profile's CPU by the functions on its stacks: each
// sample goes to the first of patterns that some function of its stack
// matches (by name), or to none. It returns the profile's CPU nanoseconds
// and, per pattern, the part that went to it. Each location is matched
// once, not once per sample. Harnesses that measure a program's own
// overhead (the agent's CPU share of a benchmark) use it.
func SplitCPU(p *profile.Profile, patterns ...*regexp.Regexp) (total int64, byPattern []int64, err error) {
	if len(patterns) > 64 {
		return 0, nil, fmt.Errorf("splitting CPU: %d patterns, at most 64", len(patterns))
	}
	idx, nanos, err := cpuIndex(p)
	if err != nil {
		return 0, nil, err
	}
	byPattern = make([]int64, len(patterns))
	matched := map[*profile.Location]uint64{} // bit k: pattern k matches a function of the location
	for _, s := range p.Sample {
		if idx >= len(s.Value) {
			continue
		}
		v := s.Value[idx] * nanos
		total += v
		var mask uint64
		for _, loc := range s.Location {
			m, ok := matched[loc]
			if !ok {
				m = matchLocation(loc, patterns)
				matched[loc] = m
			}
			mask |= m
		}
		for k := range patterns {
			if mask&(1<<k) != 0 {
				byPattern[k] += v
				break
			}
		}
	}
	return total, byPattern, nil
}

func matchLocation(loc *profile.Location, patterns []*regexp.Regexp) uint64 {
	var m uint64
	for i := range loc.Line {
		fn := loc.Line[i].Function
		if fn == nil {
			continue
		}
		for k, re := range patterns {
			if re.MatchString(fn.Name) {
				m |= 1 << k
			}
		}
	}
	return m
}
