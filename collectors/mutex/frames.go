package mutex

import (
	"fmt"
	"strings"

	"github.com/google/pprof/profile"
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

// parseFrame splits a symbol name into package, receiver and function.
// Generic type arguments are collapsed first, so the proto spelling
// (HashTrieMap[go.shape.interface {},go.shape.interface {}]) and the
// ?debug=1 text spelling (HashTrieMap[...]) parse alike, and a '/' or '.'
// inside a type argument cannot be taken for the package separator. The
// linker escapes dots in an import path's last element (yaml%2ev3), so the
// first '.' after the last '/' ends the package.
func parseFrame(name string) *frame {
	// Split on a dotless placeholder, then spell it [...] again.
	norm := strings.ReplaceAll(collapseTypeArgs(name), typeArgs, typeArgsMark)
	f := &frame{Name: name, Pkg: norm}
	afterSlash := strings.LastIndex(norm, "/") + 1
	if dot := strings.IndexByte(norm[afterSlash:], '.'); dot >= 0 {
		f.Pkg = norm[:afterSlash+dot]
		rest := norm[afterSlash+dot+1:]
		f.Recv, f.Func = splitReceiver(rest)
	}
	unmark := func(s string) string { return strings.ReplaceAll(s, typeArgsMark, typeArgs) }
	f.Pkg, f.Recv, f.Func = unmark(f.Pkg), unmark(f.Recv), unmark(f.Func)
	f.Component = componentOf(f)
	f.machinery = isMachinery(f.Pkg)
	f.prim = primitiveOf(f)
	return f
}

// splitReceiver tells a method's receiver ("(*T)" in "(*T).Get", "T" in
// "T.Get") from a plain function followed by its closures ("main" in
// "main.func1"): closure and wrapper segments are dropped before counting.
func splitReceiver(rest string) (recv, fn string) {
	first, method, ok := strings.Cut(rest, ".")
	if !ok {
		return "", rest
	}
	if strings.HasPrefix(first, "(") {
		return first, method
	}
	segs := strings.Split(strings.TrimSuffix(rest, "-fm"), ".")
	for len(segs) > 1 && isClosureSuffix(segs[len(segs)-1]) {
		segs = segs[:len(segs)-1]
	}
	if len(segs) >= 2 {
		return first, method
	}
	return "", rest
}

// componentOf is the package plus receiver type: main.(*Cache).Get and
// main.(*Cache).Set → main.(*Cache). A plain function belongs to its
// package (main.worker → main). A closure belongs to its enclosing
// function, so main.(*Cache).Get.func1 → main.(*Cache) and
// main.main.func1 → main: goroutine bodies are rarely the unit a map
// strategy is chosen for. Generic receivers keep their brackets collapsed
// (pkg.(*Map[...])), so all instantiations form one component.
func componentOf(f *frame) string {
	if f.Recv == "" {
		return f.Pkg
	}
	return f.Pkg + "." + f.Recv
}

// isClosureSuffix matches the names the compiler gives closures and
// wrappers: func1, gowrap2, deferwrap3, and the nested-closure digits of
// main.main.func1.2.
func isClosureSuffix(seg string) bool {
	for _, prefix := range []string{"func", "gowrap", "deferwrap", ""} {
		if digits, ok := strings.CutPrefix(seg, prefix); ok && digits != "" && isDigits(digits) {
			return true
		}
	}
	return false
}

func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

const (
	typeArgs     = "[...]"
	typeArgsMark = "[]" // never part of a symbol outside type arguments
)

// collapseTypeArgs replaces every outermost [...] group with "[...]", the
// spelling the runtime uses in ?debug=1 text profiles.
func collapseTypeArgs(name string) string {
	if strings.IndexByte(name, '[') < 0 {
		return name
	}
	var b strings.Builder
	depth := 0
	for _, c := range name {
		switch {
		case c == '[':
			if depth == 0 {
				b.WriteString(typeArgs)
			}
			depth++
		case c == ']' && depth > 0:
			depth--
		case depth == 0:
			b.WriteRune(c)
		}
	}
	return b.String()
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
