// Command genprofile writes a synthetic profile from internal/profilegen to
// a file, for measuring whole processes (contendr, go tool pprof) on
// profiles of a chosen size:
//
//	go run ./internal/profilegen/cmd/genprofile -kind mutex -stacks 100000 -o big.pb.gz
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/contendr/contendr/internal/profilegen"
)

func main() {
	kind := flag.String("kind", "mutex", "profile kind: mutex, block, cpu or allocs")
	stacks := flag.Int("stacks", 100_000, "number of distinct stacks")
	seed := flag.Uint64("seed", 1, "random seed; the same seed gives the same profile")
	out := flag.String("o", "big.pb.gz", "output file (gzipped pprof proto)")
	flag.Parse()
	if err := profilegen.WriteFile(*out, profilegen.Options{Kind: profilegen.Kind(*kind), Stacks: *stacks, Seed: *seed}); err != nil {
		fmt.Fprintln(os.Stderr, "genprofile:", err)
		os.Exit(1)
	}
}
