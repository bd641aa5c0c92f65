package gc

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/contendr/contendr/window"
	"github.com/google/pprof/profile"
)

const fixtures = "../../testdata/profiles/"

// fixtureWindow loads a reference profile set as one window. The profiles
// are cumulative since process start; read here as the delta of a 10 s
// window.
func fixtureWindow(t *testing.T, dir string) *window.Window {
	t.Helper()
	start := time.Date(2026, 11, 25, 20, 0, 0, 0, time.UTC)
	w := &window.Window{ID: dir, Start: start, End: start.Add(10 * time.Second)}
	for _, k := range []window.ProfileKind{window.Allocs, window.Mutex, window.Block} {
		data, err := os.ReadFile(filepath.Join(fixtures, dir, string(k)+".pb.gz"))
		if err != nil {
			t.Fatal(err)
		}
		p, err := window.ParseProfile(data, 0)
		if err != nil {
			t.Fatalf("%s/%s: %v", dir, k, err)
		}
		w.SetProfile(k, p)
	}
	return w
}

// shareByKind sums ShareOfAlloc per growth kind.
func shareByKind(r *Result) map[GrowthKind]float64 {
	out := map[GrowthKind]float64{}
	for _, g := range r.MapGrowth {
		out[g.Kind] += g.ShareOfAlloc
	}
	return out
}

func TestMapGrowthFixtures(t *testing.T) {
	tests := []struct {
		dir       string
		kind      GrowthKind
		minShare  float64 // of the window's whole allocation
		component string  // of the largest growth
	}{
		{"go1.25-legacy-syncmap", GrowthSyncMapDirty, 0.95, "main.(*syncMapStore)"},
		{"go1.26-hashtriemap/syncmap", GrowthHashTrieMap, 0.9, "main.(*syncMapStore)"},
		{"go1.26-hashtriemap/mutex", GrowthGoMap, 0.6, "main.(*muStore)"},
		{"go1.26-hashtriemap/rwmutex", GrowthGoMap, 0.6, "main.(*rwStore)"},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			r, err := Collect(fixtureWindow(t, tt.dir), nil)
			if err != nil {
				t.Fatal(err)
			}
			shares := shareByKind(r)
			for _, g := range r.MapGrowth {
				t.Logf("%-22s %-18s %-40s %6.1f%% %d B of %d, inferred=%v", g.Component, g.Kind, g.Function, 100*g.ShareOfAlloc, g.Bytes, r.TotalAllocBytes, g.Inferred)
			}
			if shares[tt.kind] < tt.minShare {
				t.Errorf("%s is %.1f%% of allocation, want ≥ %.0f%%", tt.kind, 100*shares[tt.kind], 100*tt.minShare)
			}
			for kind, share := range shares {
				if kind != tt.kind && share > 0.01 {
					t.Errorf("also found %s (%.1f%% of allocation): kinds confused", kind, 100*share)
				}
			}
			if len(r.MapGrowth) == 0 || r.MapGrowth[0].Component != tt.component || r.MapGrowth[0].Kind != tt.kind {
				t.Fatalf("largest growth %+v, want %s of %s", r.MapGrowth, tt.kind, tt.component)
			}
			top := r.MapGrowth[0]
			if top.BytesPerSecond != float64(top.Bytes)/10 {
				t.Errorf("BytesPerSecond = %v, want Bytes/10 s = %v", top.BytesPerSecond, float64(top.Bytes)/10)
			}
		})
	}
}

// allocsWith builds an allocs profile of one copy-on-write writer stack
// holding inuse bytes, next to one unrelated allocation.
func allocsWith(allocBytes, inuseBytes int64) *profile.Profile {
	names := []string{"maps.clone", "maps.Clone[go.shape.map[int]int,go.shape.int,go.shape.int]", "main.(*Store).Set", "main.main", "bytes.growSlice"}
	p := &profile.Profile{
		SampleType: []*profile.ValueType{{Type: "alloc_objects", Unit: "count"}, {Type: "alloc_space", Unit: "bytes"},
			{Type: "inuse_objects", Unit: "count"}, {Type: "inuse_space", Unit: "bytes"}},
		DefaultSampleType: "alloc_space",
	}
	var locs []*profile.Location
	for i, name := range names {
		fn := &profile.Function{ID: uint64(i + 1), Name: name}
		loc := &profile.Location{ID: uint64(i + 1), Line: []profile.Line{{Function: fn}}}
		p.Function, p.Location, locs = append(p.Function, fn), append(p.Location, loc), append(locs, loc)
	}
	p.Sample = []*profile.Sample{
		{Location: locs[:4], Value: []int64{allocBytes / 1024, allocBytes, inuseBytes / 1024, inuseBytes}},
		{Location: []*profile.Location{locs[4], locs[3]}, Value: []int64{1, allocBytes, 1, 4096}},
	}
	return p
}

func TestInUseGrowthAcrossWindows(t *testing.T) {
	t0 := time.Unix(1000, 0)
	prev := &window.Window{ID: "1", Start: t0, End: t0.Add(10 * time.Second)}
	prev.SetProfile(window.Allocs, allocsWith(1<<20, 64<<10))
	w := &window.Window{ID: "2", Start: t0.Add(10 * time.Second), End: t0.Add(20 * time.Second)}
	w.SetProfile(window.Allocs, allocsWith(3<<20, 256<<10))

	r, err := Collect(w, prev)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.MapGrowth) != 1 {
		t.Fatalf("growth %+v, want the one clone", r.MapGrowth)
	}
	g := r.MapGrowth[0]
	want := MapGrowth{Component: "main.(*Store)", Function: "main.(*Store).Set", Kind: GrowthCOWClone,
		Bytes: 3 << 20, Objects: 3 << 10, BytesPerSecond: 3 << 20 / 10.0, ObjectsPerSecond: 3 << 10 / 10.0,
		ShareOfAlloc: 0.5, InUseGrowthBytes: 192 << 10}
	if *g != want {
		t.Errorf("got  %+v\nwant %+v", *g, want)
	}
	if r, _ := Collect(w, nil); r.MapGrowth[0].InUseGrowthBytes != 0 {
		t.Error("in-use growth reported without a previous window")
	}
}
