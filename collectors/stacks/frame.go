package stacks

import (
	"fmt"
	"slices"
	"strings"

	"github.com/google/pprof/profile"

	"github.com/contendr/contendr/internal/symbol"
)

// Frame is one function of a sampled stack, parsed and classified once per
// distinct function name.
type Frame struct {
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
	// Component is the package plus receiver type (symbol.Name.Component).
	Component string
	// Method is the first segment of Func: the method a component frame is
	// in (main.(*Cache).Get.func1 → Get).
	Method string

	// Machinery marks frames of the lock implementation itself (runtime,
	// sync, internal/sync, internal/poll): a lock site is the first frame
	// above them.
	Machinery bool
	// User marks user code: a package whose path's first element has a dot
	// (a module path), or main.
	User bool
	// Prim is the lock primitive the frame belongs to, if any.
	Prim Primitive
	// Op is the map work a library frame does (runtime map, sync.Map,
	// maps.Clone, RWMutex sides); OpNone for user frames, whose method
	// names are judged per component (see MethodOp).
	Op MapOp
	// Growth is what the frame says about map growth in an allocation
	// stack.
	Growth growthRole
	// RuntimeLock marks the runtime's internal lock functions
	// (runtime.lock2, runtime.unlock2, lockWithRank…): CPU spent there is
	// counted apart from user locks.
	RuntimeLock bool

	// id numbers the frame within its Reader, to key stacks cheaply.
	id uint32
	// compID and pkgID number Component and Pkg within the Reader (from 1;
	// 0 for an empty name, and for a frame parsed without a Reader), so
	// that walks compare numbers.
	compID, pkgID uint32
	// ownOp and pkgOp are MethodOp of the method as seen from the frame's
	// component and from its package; ownDirty and pkgDirty say that
	// method is a read/dirty map's dirtyLocked copy.
	ownOp, pkgOp       MapOp
	ownDirty, pkgDirty bool
	// libDelete marks a library frame that deletes a key; ownDelete a
	// method whose name says it does (Delete, Remove, Evict…).
	libDelete, ownDelete bool
}

// Reader turns samples into leaf-first frame lists, parsing each function
// name and each location once: a profile repeats the same few hundred
// frames across thousands of stacks. Function names are shared across
// profiles; locations belong to one profile, so call ForProfile before
// reading a profile's samples. A Reader is not safe for concurrent use.
type Reader struct {
	byName map[string]*Frame
	// names numbers component and package names (from 1).
	names map[string]uint32
	// frames lists every frame by its id.
	frames []*Frame
	// byID holds each location's frames, indexed by Location.ID, which
	// the runtime and pprof number densely from 1, and single the frame of
	// each location that has exactly one (most: only inlined calls add
	// more), so that most frames of a stack cost one load; byPointer is
	// the fallback for profiles with sparse IDs.
	byID      [][]*Frame
	single    []*Frame
	byPointer map[*profile.Location][]*Frame
	// byFunc caches the current profile's functions' frames by Function
	// pointer: a profile has a few thousand functions and more locations,
	// and a pointer hashes faster than a name. slab holds the locations'
	// frame lists, cut from one allocation.
	byFunc map[*profile.Function]*Frame
	slab   []*Frame
}

// NewReader returns an empty Reader.
func NewReader() *Reader {
	return &Reader{byName: map[string]*Frame{}, names: map[string]uint32{}}
}

// ForProfile resolves every location of p up front.
func (r *Reader) ForProfile(p *profile.Profile) {
	r.byID, r.single, r.byPointer = nil, nil, nil
	r.byFunc = make(map[*profile.Function]*Frame, len(p.Function))
	lines := 0
	for _, loc := range p.Location {
		lines += max(len(loc.Line), 1)
	}
	r.slab = make([]*Frame, 0, lines)
	var maxID uint64
	for _, loc := range p.Location {
		maxID = max(maxID, loc.ID)
	}
	if maxID <= uint64(2*len(p.Location)+16) {
		r.byID = make([][]*Frame, maxID+1)
		r.single = make([]*Frame, maxID+1)
		for _, loc := range p.Location {
			fs := r.resolve(loc)
			r.byID[loc.ID] = fs
			if len(fs) == 1 {
				r.single[loc.ID] = fs[0]
			}
		}
		return
	}
	r.byPointer = make(map[*profile.Location][]*Frame, len(p.Location))
	for _, loc := range p.Location {
		r.byPointer[loc] = r.resolve(loc)
	}
}

// Frames returns the sample's frames, leaf first, reusing buf. A location
// holding inlined calls has several Line entries, innermost first
// (Line[0]), and each becomes a frame of its own: sync.(*Mutex).Lock
// inlined into sync.(*RWMutex).Lock is two frames, as `go tool pprof
// -traces` prints it.
func (r *Reader) Frames(s *profile.Sample, buf []*Frame) []*Frame {
	buf = buf[:0]
	for _, loc := range s.Location {
		if id := loc.ID; id < uint64(len(r.single)) && r.single[id] != nil {
			buf = append(buf, r.single[id])
			continue
		}
		buf = append(buf, r.location(loc)...)
	}
	return buf
}

func (r *Reader) location(loc *profile.Location) []*Frame {
	if r.byID != nil && loc.ID < uint64(len(r.byID)) && r.byID[loc.ID] != nil {
		return r.byID[loc.ID]
	}
	if fs, ok := r.byPointer[loc]; ok {
		return fs
	}
	// A sample location missing from p.Location: resolve it on the spot.
	return r.resolve(loc)
}

func (r *Reader) resolve(loc *profile.Location) []*Frame {
	n := max(len(loc.Line), 1)
	if len(r.slab)+n > cap(r.slab) {
		r.slab = make([]*Frame, 0, max(n, 64))
	}
	fs := r.slab[len(r.slab) : len(r.slab) : len(r.slab)+n]
	r.slab = r.slab[:len(r.slab)+n]
	for i := range loc.Line {
		fn := loc.Line[i].Function
		if fn == nil {
			continue
		}
		f, ok := r.byFunc[fn]
		if !ok {
			f = r.Frame(fn.Name)
			if r.byFunc != nil {
				r.byFunc[fn] = f
			}
		}
		fs = append(fs, f)
	}
	if len(fs) == 0 {
		// Unsymbolized: name it by address, as pprof does.
		fs = append(fs, r.Frame(fmt.Sprintf("0x%x", loc.Address)))
	}
	return fs
}

// Frame returns the parsed frame of a function name.
func (r *Reader) Frame(name string) *Frame {
	if f, ok := r.byName[name]; ok {
		return f
	}
	f := ParseFrame(name)
	f.id = uint32(len(r.byName))
	f.compID, f.pkgID = r.nameID(f.Component), r.nameID(f.Pkg)
	r.byName[name] = f
	r.frames = append(r.frames, f)
	return f
}

func (r *Reader) nameID(name string) uint32 {
	if name == "" {
		return 0
	}
	if id, ok := r.names[name]; ok {
		return id
	}
	id := uint32(len(r.names) + 1)
	r.names[name] = id
	return id
}

// FramesOf parses a leaf-first list of function names (the evidence stacks
// results keep) into frames.
func (r *Reader) FramesOf(names []string) []*Frame {
	out := make([]*Frame, len(names))
	for i, n := range names {
		out[i] = r.Frame(n)
	}
	return out
}

// ParseFrame splits a symbol name into package, receiver and function
// (internal/symbol) and classifies the frame.
func ParseFrame(name string) *Frame {
	n := symbol.Parse(name)
	f := &Frame{Name: name, Pkg: n.Pkg, Recv: n.Recv, Func: n.Func, Component: n.Component()}
	f.Method, _, _ = strings.Cut(f.Func, ".")
	f.Machinery = isMachinery(f.Pkg)
	f.User = isUser(f.Pkg)
	f.Prim = primitiveOf(f)
	f.Op = libraryOp(f)
	f.Growth = growthRoleOf(f)
	f.RuntimeLock = f.Pkg == "runtime" && isRuntimeLockFunc(f.Func)
	pkgMethod := f.Method
	if f.Recv != "" {
		pkgMethod = f.Recv
	}
	f.ownOp, f.pkgOp = MethodOp(f.Method), MethodOp(pkgMethod)
	f.ownDirty, f.pkgDirty = strings.HasPrefix(f.Method, "dirtyLocked"), strings.HasPrefix(pkgMethod, "dirtyLocked")
	f.libDelete = deletesKey(f)
	f.ownDelete = slices.ContainsFunc(deleteMethods, func(p string) bool { return strings.HasPrefix(f.Method, p) })
	return f
}

// isMachinery reports packages that implement locks rather than use them:
// the runtime (and its internal packages), sync, sync/atomic (inlined into
// RWMutex.RLock, its reader count's atomic add is a CPU profile's leaf),
// internal/sync, and internal/poll, whose fdMutex serialises file and
// socket I/O.
func isMachinery(pkg string) bool {
	switch pkg {
	case "runtime", "sync", "sync/atomic", "internal/sync", "internal/poll":
		return true
	}
	return strings.HasPrefix(pkg, "internal/runtime/")
}

// IsStd tells a standard-library package (net/http, time, …) by its
// path.
func IsStd(pkg string) bool { return pkg != "" && !isUser(pkg) }

// isUser tells user code from the standard library: a standard package's
// path has no dot in its first element (and is not main).
func isUser(pkg string) bool {
	if pkg == "" {
		return false
	}
	if pkg == "main" {
		return true
	}
	first, _, _ := strings.Cut(pkg, "/")
	return strings.Contains(first, ".")
}

// isRuntimeLockFunc matches the runtime's internal lock functions
// (runtime/lock_futex.go, lock_sema.go, lock_spinbit.go, lockrank_on.go).
func isRuntimeLockFunc(fn string) bool {
	switch fn {
	case "lock", "lock2", "unlock", "unlock2", "unlock2Wake", "lockWithRank", "unlockWithRank", "_LostContendedRuntimeLock":
		return true
	}
	return false
}

// InComponent reports whether f belongs to component: its methods (and
// their closures) for a receiver type, or every function and method of the
// package for a package-level component (main.worker's component is main).
func (f *Frame) InComponent(component string) bool {
	return component != "" && (f.Component == component || f.Pkg == component)
}

// MethodIn is the method of component that f is in: main.(*Cache).Get.func1
// → Get for main.(*Cache); (*Cache) for the package component main.
func (f *Frame) MethodIn(component string) string {
	if f.Component != component && f.Recv != "" {
		return f.Recv
	}
	return f.Method
}
