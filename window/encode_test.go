package window

import (
	"bytes"
	"strings"
	"sync"
	"testing"

	"github.com/google/pprof/profile"

	"github.com/contendr/contendr/internal/profilegen"
)

// TestEncodeSharedMatchesWrite: the copy encodeShared writes holds the same
// profile as the original.
func TestEncodeSharedMatchesWrite(t *testing.T) {
	for _, kind := range profilegen.Kinds {
		p := profilegen.MustGenerate(profilegen.Options{Kind: kind, Stacks: 500, Seed: 2})
		p.Sample[0].Label = map[string][]string{"span": {"a", "b"}}
		p.Sample[1].NumLabel = map[string][]int64{"bytes": {64}}
		p.Sample[1].NumUnit = map[string][]string{"bytes": {"bytes"}}
		p.Comments = []string{"generated"}
		want := p.String()
		data, err := encodeShared(p)
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParseProfile(data, 0)
		if err != nil {
			t.Fatal(err)
		}
		if got := back.String(); got != want {
			t.Errorf("%s: encodeShared's profile differs from the original:\n%s", kind, firstDiff(want, got))
		}
		if p.String() != want {
			t.Errorf("%s: encodeShared changed the profile", kind)
		}
	}
}

func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range min(len(al), len(bl)) {
		if al[i] != bl[i] {
			return "want " + al[i] + "\ngot  " + bl[i]
		}
	}
	return "lengths differ"
}

// TestSetProfileEncodesLazily: SetProfile does not encode; the first
// reader does, once, and every reader gets the same bytes.
func TestSetProfileEncodesLazily(t *testing.T) {
	w := &Window{}
	p := profilegen.MustGenerate(profilegen.Options{Kind: profilegen.Mutex, Stacks: 100, Seed: 1})
	w.SetProfile(Mutex, p)
	if len(w.encoded.ofKind) != 0 {
		t.Fatal("SetProfile encoded the profile")
	}
	first := w.ProfileBytes(Mutex)
	if first == nil {
		t.Fatal("no bytes")
	}
	if again := w.ProfileBytes(Mutex); &again[0] != &first[0] {
		t.Error("the second ProfileBytes encoded again")
	}
	// A profile set again, or put in Profiles directly, is encoded anew.
	q := profilegen.MustGenerate(profilegen.Options{Kind: profilegen.Mutex, Stacks: 50, Seed: 2})
	w.Profiles[Mutex] = q
	if got, _ := ParseProfile(w.ProfileBytes(Mutex), 0); got == nil || len(got.Sample) != 50 {
		t.Error("ProfileBytes served the bytes of the profile replaced")
	}
	w.SetProfile(Mutex, p)
	if got, _ := ParseProfile(w.ProfileBytes(Mutex), 0); got == nil || len(got.Sample) != 100 {
		t.Error("ProfileBytes served the bytes of the profile replaced by SetProfile")
	}
	w.DeleteProfile(Mutex)
	if w.ProfileBytes(Mutex) != nil {
		t.Error("bytes of a deleted profile")
	}
	// Profiles filled in without SetProfile are encoded too, each time.
	direct := &Window{Profiles: map[ProfileKind]*profile.Profile{Block: q}}
	if c, err := direct.ProfileCopy(Block); err != nil || c == nil || len(c.Sample) != 50 {
		t.Errorf("ProfileCopy of a profile set without SetProfile: %v, %v", c, err)
	}
}

// TestSharedWindowReadersDoNotRace runs, under -race, what goroutines do to
// one window at once: the agent's HTTP handlers and the dump serve bytes
// and bundles, the web UI takes private copies, collectors walk samples,
// locations (copying Line values) and functions.
func TestSharedWindowReadersDoNotRace(t *testing.T) {
	w := &Window{ID: "1"}
	for _, kind := range []profilegen.Kind{profilegen.Mutex, profilegen.Block, profilegen.Allocs} {
		w.SetProfile(ProfileKind(kind), profilegen.MustGenerate(profilegen.Options{Kind: kind, Stacks: 300, Seed: 3}))
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	sizes := make(chan int, 64)
	for range 3 {
		wg.Go(func() {
			<-start
			for _, k := range []ProfileKind{Mutex, Block, Allocs} {
				sizes <- len(w.ProfileBytes(k))
			}
		})
		wg.Go(func() {
			<-start
			var buf bytes.Buffer
			if err := w.Encode(&buf); err != nil {
				t.Error(err)
			}
		})
		wg.Go(func() {
			<-start
			for _, k := range []ProfileKind{Allocs, Mutex} {
				c, err := w.ProfileCopy(k)
				if err != nil || c == nil {
					t.Errorf("ProfileCopy(%s): %v", k, err)
					continue
				}
				c.Sample = c.Sample[:1] // a private copy: writes are fine
			}
		})
		wg.Go(func() {
			<-start
			for _, k := range []ProfileKind{Mutex, Block, Allocs} {
				collectorRead(w.Profile(k))
			}
		})
	}
	close(start)
	wg.Wait()
	close(sizes)
	want := map[int]bool{len(w.ProfileBytes(Mutex)): true, len(w.ProfileBytes(Block)): true, len(w.ProfileBytes(Allocs)): true}
	for n := range sizes {
		if !want[n] {
			t.Errorf("a reader got %d bytes, not one of the window's encodings", n)
		}
	}
}

// collectorRead reads a profile the way collectors/ and flame/ do.
func collectorRead(p *profile.Profile) (n int) {
	for _, s := range p.Sample {
		c := *s // a whole Sample, unexported fields included
		n += len(c.Value)
		for _, loc := range s.Location {
			for _, line := range loc.Line { // copies each Line value
				if line.Function != nil {
					n += len(line.Function.Name)
				}
			}
			if loc.Mapping != nil {
				m := *loc.Mapping
				n += len(m.File)
			}
		}
	}
	for _, loc := range p.Location {
		l := *loc
		n += int(l.ID)
	}
	for _, f := range p.Function {
		fn := *f
		n += len(fn.Name)
	}
	for _, st := range p.SampleType {
		v := *st
		n += len(v.Type)
	}
	return n
}
