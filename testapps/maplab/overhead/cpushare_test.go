package overhead

import (
	"math"
	"testing"

	"github.com/google/pprof/profile"
)

func TestSplitCPU(t *testing.T) {
	fn := map[string]*profile.Function{}
	loc := func(names ...string) []*profile.Location {
		var locs []*profile.Location
		for _, name := range names {
			if fn[name] == nil {
				fn[name] = &profile.Function{ID: uint64(len(fn) + 1), Name: name}
			}
			locs = append(locs, &profile.Location{ID: uint64(len(locs) + 1), Line: []profile.Line{{Function: fn[name]}}})
		}
		return locs
	}
	sample := func(ns int64, frames ...string) *profile.Sample {
		return &profile.Sample{Value: []int64{ns / 1e7, ns}, Location: loc(frames...)}
	}
	p := &profile.Profile{
		SampleType: []*profile.ValueType{{Type: "samples", Unit: "count"}, {Type: "cpu", Unit: "nanoseconds"}},
		Sample: []*profile.Sample{
			sample(7e8, "github.com/contendr/contendr/internal/maplab/strategy.(*MutexMap).Load", "main.main"),
			sample(1e8, "runtime.saveblockevent", "runtime.blockevent", "sync.(*Mutex).Lock"),
			sample(5e7, "runtime.(*mLockProfile).captureStack", "runtime.unlock"),
			sample(2e7, "runtime.saveblockevent", "runtime.mutexevent", "sync.(*Mutex).Unlock"),
			sample(1e8, "runtime/pprof.(*profileBuilder).build", "github.com/contendr/contendr/agent.(*Agent).collect"),
			sample(5e7, "github.com/contendr/contendr/window.Delta"),
		},
	}
	got, err := splitCPU(p)
	if err != nil {
		t.Fatal(err)
	}
	want := cpuCost{Total: 1.02, Sampling: 0.17, MutexSampling: 0.07, BlockSampling: 0.1, Agent: 0.15}
	if math.Abs(got.Total-want.Total) > 1e-9 || math.Abs(got.Sampling-want.Sampling) > 1e-9 || math.Abs(got.Agent-want.Agent) > 1e-9 ||
		math.Abs(got.MutexSampling-want.MutexSampling) > 1e-9 || math.Abs(got.BlockSampling-want.BlockSampling) > 1e-9 {
		t.Fatalf("splitCPU = %+v, want %+v", got, want)
	}
}
