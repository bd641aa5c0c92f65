package gc

import (
	"testing"

	"github.com/contendr/contendr/collectors/figure"
	"github.com/contendr/contendr/window"
	"github.com/google/pprof/profile"
)

// stackSample builds a profile sample from function names, leaf first.
func stackSample(p *profile.Profile, values []int64, names ...string) {
	var locs []*profile.Location
	for _, name := range names {
		fn := &profile.Function{ID: uint64(len(p.Function) + 1), Name: name}
		loc := &profile.Location{ID: uint64(len(p.Location) + 1), Line: []profile.Line{{Function: fn}}}
		p.Function, p.Location, locs = append(p.Function, fn), append(p.Location, loc), append(locs, loc)
	}
	p.Sample = append(p.Sample, &profile.Sample{Location: locs, Value: values})
}

// A writer that makes a new map and fills it is a hand-written copy.
func TestCopyLoopIsCOW(t *testing.T) {
	p := &profile.Profile{SampleType: []*profile.ValueType{{Type: "alloc_objects", Unit: "count"}, {Type: "alloc_space", Unit: "bytes"}}}
	stackSample(p, []int64{1, 4096}, "runtime.makemap", "main.(*Table).Put")
	stackSample(p, []int64{4, 16384}, "internal/runtime/maps.newarray", "runtime.mapassign_fast64", "main.(*Table).Put")
	stackSample(p, []int64{2, 8192}, "runtime.mapassign_fast64", "main.(*Other).Put")
	w := &window.Window{}
	w.SetProfile(window.Allocs, p)
	r, err := Collect(w, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]GrowthKind{}
	for _, g := range r.MapGrowth {
		got[g.Function] = g.Kind
	}
	if got["main.(*Table).Put"] != GrowthCOWClone || got["main.(*Other).Put"] != GrowthGoMap || len(r.MapGrowth) != 2 {
		t.Errorf("growth %v, want Table.Put a copy loop (cow-clone) and Other.Put Go map growth", got)
	}
	if r.MapGrowth[0].Bytes != 4096+16384 {
		t.Errorf("copy loop bytes %d, want makemap and mapassign summed", r.MapGrowth[0].Bytes)
	}
}

func TestGCFractionFromCPUProfile(t *testing.T) {
	p := &profile.Profile{SampleType: []*profile.ValueType{{Type: "samples", Unit: "count"}, {Type: "cpu", Unit: "nanoseconds"}}}
	stackSample(p, []int64{3, 30e6}, "runtime.scanobject", "runtime.gcDrain", "runtime.gcBgMarkWorker.func2", "runtime.systemstack", "runtime.gcBgMarkWorker")
	stackSample(p, []int64{1, 10e6}, "runtime.scanobject", "runtime.gcDrainN", "runtime.gcAssistAlloc1", "runtime.gcAssistAlloc.func2", "runtime.mallocgc", "main.work")
	stackSample(p, []int64{6, 60e6}, "main.work", "main.main")
	w := &window.Window{ID: "cpu-only"}
	w.SetProfile(window.CPU, p)
	r, err := Collect(w, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.Pressure.Source != "cpu-profile" || r.Pressure.CPUFraction != 0.4 || !r.Measured.Estimated(figure.GCCPUFraction) {
		t.Errorf("pressure %+v, want source cpu-profile, estimated, fraction 0.4", r.Pressure)
	}
}
