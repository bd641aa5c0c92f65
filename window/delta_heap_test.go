package window

import (
	"testing"

	"github.com/google/pprof/profile"
)

// allocsProfile builds a one-stack allocs profile.
func allocsProfile(t0, allocBytes, inuseBytes int64) *profile.Profile {
	fn := &profile.Function{ID: 1, Name: "main.grow"}
	loc := &profile.Location{ID: 1, Line: []profile.Line{{Function: fn}}}
	return &profile.Profile{
		SampleType: []*profile.ValueType{{Type: "alloc_objects", Unit: "count"}, {Type: "alloc_space", Unit: "bytes"},
			{Type: "inuse_objects", Unit: "count"}, {Type: "inuse_space", Unit: "bytes"}},
		DefaultSampleType: "alloc_space",
		Function:          []*profile.Function{fn}, Location: []*profile.Location{loc}, TimeNanos: t0,
		Sample: []*profile.Sample{{Location: []*profile.Location{loc}, Value: []int64{allocBytes / 64, allocBytes, inuseBytes / 64, inuseBytes}}},
	}
}

// In-use memory shrinks when the GC frees it: that is no restart.
func TestDeltaAllocsInUseMayShrink(t *testing.T) {
	d, restarted, err := Delta(allocsProfile(1e9, 6400, 6400), allocsProfile(2e9, 12800, 640))
	if err != nil || restarted {
		t.Fatalf("Delta: restarted=%v err=%v, want a plain delta", restarted, err)
	}
	if got := d.Sample[0].Value; got[1] != 6400 || got[3] != 640-6400 {
		t.Errorf("delta values %v, want alloc_space 6400 and inuse_space −5760", got)
	}
	if _, restarted, _ := Delta(allocsProfile(1e9, 6400, 0), allocsProfile(2e9, 640, 640)); !restarted {
		t.Error("alloc_space went down: want a restart")
	}
}
