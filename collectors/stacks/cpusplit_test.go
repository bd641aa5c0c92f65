package stacks

import (
	"regexp"
	"testing"
)

// Each sample goes to the first pattern a function of its stack matches,
// an inlined one included; the rest to none.
func TestSplitCPU(t *testing.T) {
	p := cpuProfile(map[int64][]string{
		1e9: {"runtime.futex", "runtime.lock2", "example.com/agent.(*Agent).collect", "example.com/agent.(*Agent).loop"},
		2e9: {"runtime.mapaccess1", "example.com/agent.(*Agent).collect", "runtime/pprof.profileWriter"},
		3e9: {"main.work", "main.main"},
		4e9: {"runtime/pprof.profileWriter"},
	})
	total, by, err := SplitCPU(p, regexp.MustCompile(`^runtime/pprof\.profileWriter$`), regexp.MustCompile(`^example\.com/agent\.`))
	if err != nil {
		t.Fatal(err)
	}
	if total != 10e9 || by[0] != 6e9 || by[1] != 1e9 {
		t.Errorf("SplitCPU: total %d, by pattern %v; want 10e9, [6e9 1e9]", total, by)
	}
	p.SampleType[1].Type = "delay"
	if _, _, err := SplitCPU(p); err == nil {
		t.Error("a profile without cpu values: no error")
	}
}
