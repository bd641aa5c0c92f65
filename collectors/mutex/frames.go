package mutex

import (
	"fmt"
	"strings"

	"github.com/google/pprof/profile"

	"github.com/contendr/contendr/internal/symbol"
)

// frame is one function of a sampled stack, parsed once per distinct name.
type frame struct {
	// Name is the function name as the profile spells it.
	Name string
	// Pkg is the import path ("sync", "internal/sync", "github.com/x/y").
	Pkg string
	// Recv is the receiver type with generic arguments collapsed to [...]
	// ("(*RWMutex)", "(*HashTrieMap[...])"), or "" for a plain function.
	Recv string
	// Func is what follows the package (and receiver): the method or
	// function name, closures included ("Lock", "main.func1").
	Func string
	// Component is the package plus receiver type; see componentOf.
	Component string
	// machinery marks frames of the lock implementation itself (runtime,
	// sync, internal/sync, the standard library's lock wrappers): a lock
	// site is the first frame above them.
	machinery bool
	prim      primitive
	// id numbers the frame within its stackReader, to key stacks cheaply.
	id uint32
}

// stackReader turns samples into leaf-first frame lists, parsing each
// function name and each location once: a profile repeats the same few
// hundred frames across thousands of stacks. Function names are shared
// across profiles; locations belong to one profile, so use forProfile
// before reading a profile's samples.
type stackReader struct {
	byName map[string]*frame
	// byID holds each location's frames, indexed by Location.ID, which
	// the runtime and pprof number densely from 1; byPointer is the
	// fallback for profiles with sparse IDs.
	byID      [][]*frame
	byPointer map[*profile.Location][]*frame
}

func newStackReader() *stackReader {
	return &stackReader{byName: map[string]*frame{}}
}

// forProfile resolves every location of p up front.
func (r *stackReader) forProfile(p *profile.Profile) {
	r.byID, r.byPointer = nil, nil
	var maxID uint64
	for _, loc := range p.Location {
		maxID = max(maxID, loc.ID)
	}
	if maxID <= uint64(2*len(p.Location)+16) {
		r.byID = make([][]*frame, maxID+1)
		for _, loc := range p.Location {
			r.byID[loc.ID] = r.resolve(loc)
		}
		return
	}
	r.byPointer = make(map[*profile.Location][]*frame, len(p.Location))
	for _, loc := range p.Location {
		r.byPointer[loc] = r.resolve(loc)
	}
}

// frames returns the sample's frames, leaf first. A location holding
// inlined calls has several Line entries, innermost first (Line[0]), and
// each becomes a frame of its own: sync.(*Mutex).Lock inlined into
// sync.(*RWMutex).Lock is two frames, as `go tool pprof -traces` prints it.
func (r *stackReader) frames(s *profile.Sample, buf []*frame) []*frame {
	buf = buf[:0]
	for _, loc := range s.Location {
		buf = append(buf, r.location(loc)...)
	}
	return buf
}

func (r *stackReader) location(loc *profile.Location) []*frame {
	if r.byID != nil && loc.ID < uint64(len(r.byID)) && r.byID[loc.ID] != nil {
		return r.byID[loc.ID]
	}
	if fs, ok := r.byPointer[loc]; ok {
		return fs
	}
	// A sample location missing from p.Location: resolve it on the spot.
	return r.resolve(loc)
}

func (r *stackReader) resolve(loc *profile.Location) []*frame {
	fs := make([]*frame, 0, len(loc.Line))
	for _, line := range loc.Line {
		if line.Function == nil {
			continue
		}
		fs = append(fs, r.frame(line.Function.Name))
	}
	if len(fs) == 0 {
		// Unsymbolized: name it by address, as pprof does.
		fs = append(fs, r.frame(fmt.Sprintf("0x%x", loc.Address)))
	}
	return fs
}

func (r *stackReader) frame(name string) *frame {
	if f, ok := r.byName[name]; ok {
		return f
	}
	f := parseFrame(name)
	f.id = uint32(len(r.byName))
	r.byName[name] = f
	return f
}

// parseFrame splits a symbol name into package, receiver and function
// (internal/symbol) and classifies the frame.
func parseFrame(name string) *frame {
	n := symbol.Parse(name)
	f := &frame{Name: name, Pkg: n.Pkg, Recv: n.Recv, Func: n.Func, Component: n.Component()}
	f.machinery = isMachinery(f.Pkg)
	f.prim = primitiveOf(f)
	return f
}

// isMachinery reports packages that implement locks rather than use them:
// the runtime (and its internal packages), sync, internal/sync, and
// internal/poll, whose fdMutex serialises file and socket I/O.
func isMachinery(pkg string) bool {
	switch pkg {
	case "runtime", "sync", "internal/sync", "internal/poll":
		return true
	}
	return strings.HasPrefix(pkg, "internal/runtime/")
}
