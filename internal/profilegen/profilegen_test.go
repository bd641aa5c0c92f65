package profilegen_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/pprof/profile"

	"github.com/contendr/contendr/internal/profilegen"
	"github.com/contendr/contendr/window"
)

func TestGenerate(t *testing.T) {
	for _, kind := range profilegen.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			p := profilegen.MustGenerate(profilegen.Options{Kind: kind, Stacks: 2000, Seed: 7})
			if len(p.Sample) != 2000 {
				t.Fatalf("%d samples, want 2000", len(p.Sample))
			}
			distinct := map[string]bool{}
			inlined, mapFrames, syncLeaves := 0, 0, 0
			for _, s := range p.Sample {
				var key strings.Builder
				depth := 0
				for _, l := range s.Location {
					key.WriteString(l.Line[0].Function.Name + ";")
					depth += len(l.Line)
					if len(l.Line) > 1 {
						inlined++
					}
					for _, ln := range l.Line {
						if strings.HasPrefix(ln.Function.Name, "runtime.map") || strings.HasPrefix(ln.Function.Name, "internal/runtime/maps.") {
							mapFrames++
						}
					}
				}
				if depth < 10 || depth > 40 {
					t.Errorf("stack of depth %d, want about 10–40", depth)
				}
				if strings.HasPrefix(s.Location[0].Line[len(s.Location[0].Line)-1].Function.Name, "sync.") {
					syncLeaves++
				}
				distinct[key.String()] = true
			}
			if inlined == 0 {
				t.Error("no inlined frames")
			}
			if (kind == profilegen.CPU || kind == profilegen.Allocs) && mapFrames == 0 {
				t.Error("no runtime map frames")
			}
			if (kind == profilegen.Mutex || kind == profilegen.Block) && syncLeaves < len(p.Sample)/4 {
				t.Errorf("%d of %d leaves in sync, want most", syncLeaves, len(p.Sample))
			}
			if len(distinct) < len(p.Sample)*9/10 {
				t.Errorf("%d distinct frame sequences of %d stacks", len(distinct), len(p.Sample))
			}
			// What contendr reads from files tells the kind the same way.
			var buf bytes.Buffer
			if err := p.Write(&buf); err != nil {
				t.Fatal(err)
			}
			back, err := window.ParseProfile(buf.Bytes(), 0)
			if err != nil {
				t.Fatal(err)
			}
			if got := window.DetectKind(back); string(got) != string(kind) {
				t.Errorf("DetectKind = %q, want %q", got, kind)
			}
		})
	}
}

func TestGenerateDeterministic(t *testing.T) {
	encode := func(seed uint64) []byte {
		var buf bytes.Buffer
		p := profilegen.MustGenerate(profilegen.Options{Kind: profilegen.Mutex, Stacks: 500, Seed: seed})
		if err := p.WriteUncompressed(&buf); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	if !bytes.Equal(encode(3), encode(3)) {
		t.Error("same seed, different profiles")
	}
	if bytes.Equal(encode(3), encode(4)) {
		t.Error("different seeds, same profile")
	}
}

func TestEarlier(t *testing.T) {
	end := profilegen.MustGenerate(profilegen.Options{Kind: profilegen.Mutex, Stacks: 3000, Seed: 1})
	start := profilegen.Earlier(end, 0.2, 1)
	if err := start.CheckValid(); err != nil {
		t.Fatal(err)
	}
	delta, restarted, err := window.Delta(start, end)
	if err != nil || restarted {
		t.Fatalf("Delta: restarted %v, err %v", restarted, err)
	}
	// About a fifth of the stacks changed; the rest cancel out.
	if n := len(delta.Sample); n < 450 || n > 750 {
		t.Errorf("delta holds %d stacks, want about 600 of 3000", n)
	}
	for _, s := range delta.Sample {
		for _, v := range s.Value {
			if v < 0 {
				t.Fatalf("negative delta %v", s.Value)
			}
		}
	}
	_ = profile.Profile{}
}
