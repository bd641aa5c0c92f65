package analyze

import (
	"testing"

	"github.com/google/pprof/profile"

	"github.com/contendr/contendr/collectors/mutex"
	"github.com/contendr/contendr/window"
)

// cpuProfile builds a CPU profile whose samples are the given stacks (leaf
// first) with the given CPU nanoseconds, as runtime/pprof would write them.
func cpuProfile(samples map[int64][]string) *profile.Profile {
	p := &profile.Profile{
		SampleType: []*profile.ValueType{{Type: "samples", Unit: "count"}, {Type: "cpu", Unit: "nanoseconds"}},
		PeriodType: &profile.ValueType{Type: "cpu", Unit: "nanoseconds"},
		Period:     10_000_000,
	}
	funcs := map[string]*profile.Function{}
	for ns, stack := range samples {
		var locs []*profile.Location
		for _, name := range stack {
			fn := funcs[name]
			if fn == nil {
				fn = &profile.Function{ID: uint64(len(funcs) + 1), Name: name}
				funcs[name] = fn
				p.Function = append(p.Function, fn)
			}
			loc := &profile.Location{ID: uint64(len(p.Location) + 1), Line: []profile.Line{{Function: fn}}}
			p.Location = append(p.Location, loc)
			locs = append(locs, loc)
		}
		p.Sample = append(p.Sample, &profile.Sample{Location: locs, Value: []int64{ns / 10_000_000, ns}})
	}
	return p
}

func TestMeasureWorkloadFromCPUProfile(t *testing.T) {
	const comp = "main.(*Cache)"
	w := &window.Window{Meta: window.Meta{GOMAXPROCS: 16, Goroutines: 200}}
	w.SetProfile(window.CPU, cpuProfile(map[int64][]string{
		// Reads: 6s, of which 2s inside RLock itself (reader cache line).
		4e9: {"internal/runtime/maps.runtime_mapaccess2_fast64", comp + ".Get", "main.handler"},
		2e9: {"sync.(*RWMutex).RLock", comp + ".Get", "main.handler"},
		// Writes: 3s. Range: 1s.
		3e9: {"runtime.mapassign_fast64", comp + ".Set", "main.handler"},
		1e9: {"runtime.mapiternext", comp + ".Snapshot", "main.report"},
		// Another component's map work does not count.
		9e9: {"runtime.mapassign_fast64", "main.(*Other).Set"},
	}))
	c := &candidate{name: comp, lock: &mutex.Component{Name: comp, Kinds: []mutex.Kind{mutex.KindRWMutexRead}, Fraction: 0.01}}
	lock, err := mutex.Collect(w, mutex.Options{})
	if err != nil {
		t.Fatal(err)
	}
	wl, tally := measureWorkload(w, lock, c, DefaultThresholds())
	if wl.ReadShareSource != "cpu-profile" || wl.ReadShare != 0.7 || wl.Mix != "read-heavy" {
		t.Errorf("workload = %+v, want 70%% reads (Range counts as reading) from the CPU profile", wl)
	}
	if !wl.Range {
		t.Error("Range not detected from mapiternext under the component")
	}
	if got := tally.cpuRLock / tally.cpu.Total(); got != 0.2 {
		t.Errorf("RLock CPU share = %g, want 0.2", got)
	}
	// A read-heavy RWMutex on 16 Ps whose readers burn CPU in RLock: the
	// many-core rule applies though the mutex profile is quiet.
	rec, ok := recommendOne(w, lock, c, DefaultThresholds())
	if !ok || rec.Rule != "rwmutex-readers-many-cores" || rec.Recommended != StrategySharded {
		t.Errorf("recommendation = %s → %s by %s (ok %v)", rec.Current, rec.Recommended, rec.Rule, ok)
	}
}

func TestMixNeedsEnoughClassifiedWeight(t *testing.T) {
	const comp = "main.(*Store)"
	w := &window.Window{}
	w.SetProfile(window.CPU, cpuProfile(map[int64][]string{
		95e8: {"main.hash", comp + ".op"},                // says nothing about the mix
		5e8:  {"runtime.mapassign_fast64", comp + ".op"}, // 5% of the weight
	}))
	lock, err := mutex.Collect(w, mutex.Options{})
	if err != nil {
		t.Fatal(err)
	}
	wl, tally := measureWorkload(w, lock, &candidate{name: comp}, DefaultThresholds())
	if wl.ReadShareSource != "" || wl.Mix != "unknown" {
		t.Errorf("mix from 5%% of the samples: %+v", wl)
	}
	if tally.cpu.All != 100e8 || tally.cpu.Write != 5e8 {
		t.Errorf("tally %+v, want all 10s of CPU through the component and 0.5s of it writing", tally.cpu)
	}
}
