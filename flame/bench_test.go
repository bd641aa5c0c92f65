package flame

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/google/pprof/profile"
)

// syntheticProfile makes a contention-like profile with n distinct stacks:
// a few hundred functions in a few dozen packages, shared prefixes as in a
// real call tree, lock frames at the leaves, and heavy-tailed values so that
// a few stacks dominate and many are tiny, as in real profiles.
func syntheticProfile(n int) *profile.Profile {
	rng := rand.New(rand.NewPCG(1, 2))
	p := &profile.Profile{
		SampleType: []*profile.ValueType{{Type: "contentions", Unit: "count"}, {Type: "delay", Unit: "nanoseconds"}},
		PeriodType: &profile.ValueType{Type: "contentions", Unit: "count"},
		Period:     1,
	}
	var locs []*profile.Location
	newLoc := func(name string) *profile.Location {
		id := uint64(len(locs) + 1)
		fn := &profile.Function{ID: id, Name: name, SystemName: name, Filename: "/src/" + name + ".go"}
		loc := &profile.Location{ID: id, Address: 0x1000 + id, Line: []profile.Line{{Function: fn, Line: int64(id)}}}
		p.Function = append(p.Function, fn)
		p.Location = append(p.Location, loc)
		locs = append(locs, loc)
		return loc
	}
	const funcs = 600
	for i := range funcs {
		newLoc(fmt.Sprintf("example.com/svc/pkg%02d.(*T%d).Method%d", i%40, i%7, i))
	}
	leaves := []*profile.Location{newLoc("sync.(*Mutex).Unlock"), newLoc("sync.(*RWMutex).RUnlock"), newLoc("runtime.unlock"), newLoc("internal/sync.(*HashTrieMap[go.shape.int,go.shape.int]).Swap")}
	root := newLoc("main.main")
	seen := make(map[string]bool, n)
	for len(seen) < n {
		depth := 4 + rng.IntN(24)
		stack := []*profile.Location{leaves[rng.IntN(len(leaves))]}
		// Frames near the root come from a small set, deeper ones from a
		// growing one, so that stacks share prefixes as in a real program.
		for d := depth; d > 0; d-- {
			width := min(funcs, 1+d/4)
			stack = append(stack, locs[(d*7+rng.IntN(width))%funcs])
		}
		stack = append(stack, root)
		var key strings.Builder
		for _, l := range stack {
			fmt.Fprintf(&key, "%d,", l.ID)
		}
		if seen[key.String()] {
			continue
		}
		seen[key.String()] = true
		delay := int64(1000 / (rng.Float64() + 0.001)) // heavy tail: 1 µs to 1 ms
		p.Sample = append(p.Sample, &profile.Sample{Location: stack, Value: []int64{1 + int64(rng.IntN(10)), delay}})
	}
	return p
}

// BenchmarkRender100kStacks renders a profile of 100,000 distinct stacks in
// every format; bytes/op is the size of the output.
func BenchmarkRender100kStacks(b *testing.B) {
	p := syntheticProfile(100_000)
	g, err := Build(p, "")
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("100,000 stacks: %d frames in the merged tree", countFrames(g.Root))
	// To compare with `go tool pprof -raw/-traces` on the same input, save
	// the generated profile: FLAME_BENCH_PROFILE=/tmp/100k.pb.gz.
	if path := os.Getenv("FLAME_BENCH_PROFILE"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			b.Fatal(err)
		}
		if err := p.Write(f); err != nil {
			b.Fatal(err)
		}
		if err := f.Close(); err != nil {
			b.Fatal(err)
		}
	}
	formats := []struct {
		name  string
		write func(io.Writer) error
	}{
		{"folded", func(w io.Writer) error { return WriteFolded(w, g) }},
		{"svg", func(w io.Writer) error { return WriteSVG(w, g, Options{}) }},
		{"html", func(w io.Writer) error { return WriteHTML(w, g, Options{}) }},
		{"speedscope", func(w io.Writer) error { return WriteSpeedscope(w, g, "bench") }},
		{"pprof", func(w io.Writer) error { return WritePprof(w, g) }},
	}
	b.Run("build", func(b *testing.B) {
		for b.Loop() {
			if _, err := Build(p, ""); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, f := range formats {
		b.Run(f.name, func(b *testing.B) {
			var buf bytes.Buffer
			for b.Loop() {
				buf.Reset()
				if err := f.write(&buf); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(buf.Len()), "bytes/op")
		})
	}
}
