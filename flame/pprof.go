package flame

import (
	"errors"
	"fmt"
	"io"
)

// WritePprof writes the profile the graph was built from, gzipped proto, with
// the graph's sample type as DefaultSampleType so that `go tool pprof` opens
// it on the same view. The graph's profile is not modified.
func WritePprof(w io.Writer, g *Graph) error {
	if g.source == nil {
		return errors.New("pprof output of a differential graph is not supported; use `go tool pprof -diff_base`")
	}
	p := g.source.Copy()
	p.DefaultSampleType = g.SampleType
	if err := p.Write(w); err != nil {
		return fmt.Errorf("writing pprof profile: %w", err)
	}
	return nil
}
