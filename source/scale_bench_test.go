package source_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/contendr/contendr/analyze"
	"github.com/contendr/contendr/internal/profilegen"
	"github.com/contendr/contendr/source"
)

// writeProfiles writes generated profiles of the given kinds, each with n
// distinct stacks, as go test -mutexprofile … would leave them.
func writeProfiles(b *testing.B, n int, kinds ...profilegen.Kind) []string {
	b.Helper()
	dir := b.TempDir()
	var paths []string
	for i, kind := range kinds {
		path := filepath.Join(dir, string(kind)+".pb.gz")
		if err := profilegen.WriteFile(path, profilegen.Options{Kind: kind, Stacks: n, Seed: uint64(i + 1)}); err != nil {
			b.Fatal(err)
		}
		paths = append(paths, path)
	}
	return paths
}

// BenchmarkAnalyzeFiles runs what `contendr analyze FILES…` runs, at each
// profile size: source.Group (which reads each file to tell its kind), then
// LoadFiles or LoadWithPrevious (which read them again), then
// analyze.Analyze (collectors and findings). "mutex" analyzes one mutex
// profile, as in issue #14; "all" a mutex, block, CPU and allocs profile
// together. The load and analyze sub-benchmarks split the time.
func BenchmarkAnalyzeFiles(b *testing.B) {
	ctx := context.Background()
	th := analyze.DefaultThresholds()
	for _, n := range profilegen.BenchStacks() {
		for _, set := range []struct {
			name  string
			kinds []profilegen.Kind
		}{
			{"mutex", []profilegen.Kind{profilegen.Mutex}},
			{"all", profilegen.Kinds},
		} {
			// Files are written only for the sizes a -bench pattern selects.
			b.Run(fmt.Sprintf("%s/stacks=%d", set.name, n), func(b *testing.B) {
				paths := writeProfiles(b, n, set.kinds...)
				load := func(b *testing.B) *analyze.Input {
					groups := source.Group(paths)
					if len(groups) != 1 {
						b.Fatalf("%d groups of files, want 1", len(groups))
					}
					in := &analyze.Input{Target: "bench"}
					var err error
					if len(groups[0]) > 1 {
						in.Window, err = source.LoadFiles(ctx, groups[0], source.Options{})
					} else {
						in.Window, in.Previous, err = source.LoadWithPrevious(ctx, groups[0][0], source.Options{})
					}
					if err != nil {
						b.Fatal(err)
					}
					return in
				}
				b.Run("load+analyze", func(b *testing.B) {
					b.ReportAllocs()
					for b.Loop() {
						if _, err := analyze.Analyze(*load(b), th); err != nil {
							b.Fatal(err)
						}
					}
				})
				b.Run("load", func(b *testing.B) {
					b.ReportAllocs()
					for b.Loop() {
						load(b)
					}
				})
				in := load(b)
				b.Run("analyze", func(b *testing.B) {
					b.ReportAllocs()
					for b.Loop() {
						if _, err := analyze.Analyze(*in, th); err != nil {
							b.Fatal(err)
						}
					}
				})
			})
		}
	}
}
