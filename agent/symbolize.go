package agent

import (
	"runtime"
	"strings"
	_ "unsafe" // go:linkname

	"github.com/google/pprof/profile"
)

// These four are what runtime/pprof's proto builder uses to name frames
// and expand inlined calls. The runtime keeps them for other packages too
// ("Do not remove or change the type signature", go.dev/issue/67401).

// frameSymbolName is the frame's function as runtime/pprof writes it:
// generic shapes spelled out (…[go.shape.int]), not Frame.Function's "...".
//
//go:linkname frameSymbolName runtime/pprof.runtime_FrameSymbolName
func frameSymbolName(f *runtime.Frame) string

//go:linkname frameStartLine runtime/pprof.runtime_FrameStartLine
func frameStartLine(f *runtime.Frame) int

// expandFinalInlineFrame appends, after stk's last PC, the PCs of the
// calls it is inlined into.
//
//go:linkname expandFinalInlineFrame runtime/pprof.runtime_expandFinalInlineFrame
func expandFinalInlineFrame(stk []uintptr) []uintptr

// cyclesPerSecond converts the contention profiles' cycles to time, as
// runtime/pprof does.
//
//go:linkname cyclesPerSecond runtime/pprof.runtime_cyclesPerSecond
func cyclesPerSecond() int64

// maxCachedPCs bounds the symbolizer's cache. A process's profiles name
// at most the call sites of its binary, and a service's profiles a few
// tens of thousands of them; past the bound the cache starts again
// (the next windows symbolize their stacks anew), so that a binary with
// an unbounded variety of stacks cannot grow it without end.
const maxCachedPCs = 1 << 17

// symbolizer turns stacks of return PCs into the Locations runtime/pprof
// would write for them, caching every PC's frames, every function and
// every location for the process's life (up to maxCachedPCs). Locations
// and functions are shared by every profile it builds, numbered once:
// a window's profiles are read-only, and encoding copies them first.
type symbolizer struct {
	pcs   map[uintptr]*pcFrames
	funcs map[string]*symFunc
	// lastLoc and lastFunc are the last Location and Function IDs given.
	lastLoc, lastFunc uint64
	// gen counts the caches' generations; maxPCs, when set, bounds the
	// cache instead of maxCachedPCs.
	gen    uint64
	maxPCs int
	// locs holds the locations by ID, locListed the count of the last
	// profile that listed each (dense, so that listing a profile's
	// locations does not visit every one).
	locs      []*symLoc
	locListed []uint64
	// locSlab and lineSlab are where new locations and lines go.
	locSlab  []profile.Location
	lineSlab []profile.Line
	// listed counts the profiles built: a location or function stamped
	// with the current count is already in the profile being built.
	listed uint64
	// expanded is scratch for one stack's frames; kept, matched, sortKeys
	// and sorted for one profile's delta.
	expanded []*symFrame
	kept     []keptEntry
	matched  []int32
	sortKeys []delayKey
	sorted   []keptEntry
}

// pcFrames is what a return PC stands for: the chain of calls inlined at
// the instruction before it, innermost first, the last the physical
// function.
type pcFrames struct {
	frames []symFrame
	// hidden says the PC is in the runtime (by runtime.FuncForPC, as the
	// heap profile's writer judges it): the runtime's frames at the top
	// of an allocation stack are left out.
	hidden bool
	// unnamed: runtime.CallersFrames finds no function at the PC.
	unnamed bool
}

// symFrame is one frame of a PC's inline chain.
type symFrame struct {
	// retPC is how the frame appears in an expanded stack (Frame.PC+1),
	// callPC its Frame.PC.
	retPC, callPC uintptr
	fn            *symFunc
	line          int64
	entry         uintptr
	// inlined: the frame has no *runtime.Func of its own.
	inlined bool
	// loc is the location that starts with this frame, once made.
	loc *symLoc
}

type symFunc struct {
	fn     *profile.Function
	goexit bool // runtime.goexit: never written
	wait   bool // one of the agent's own waits (agentWaits)
	listed uint64
	// bound is the longest the function's proto message and strings
	// can be (string indexes at 5 bytes).
	bound int
}

// symLoc is one Location: a physical call site with the calls inlined
// into it.
type symLoc struct {
	loc    *profile.Location
	frames []*symFrame
	funcs  []*symFunc
	wait   bool // a frame is one of the agent's own waits
	bound  int  // the longest its proto message can be
}

// stack returns the locations of a stack of return PCs, leaf first, as
// runtime/pprof writes them: inlined calls expanded (runtime.CallersFrames'
// rule: a PC's chain stops where the stack already holds the next call's
// PC), runtime.goexit left out, inlined frames grouped into the location
// of their physical call site (runtime/pprof's pcDeck rule). An
// allocation stack (contention false) loses its leading runtime frames,
// as the heap profile's writer drops them, unless every frame is the
// runtime's. A contention stack goes through runtime.CallersFrames before
// runtime/pprof writes it, which leaves out the PCs it cannot name (the
// runtime's sentinel that marks a logical stack among them); an
// allocation stack does not, and such a PC is a location without a
// function.
func (s *symbolizer) stack(stk []uintptr, contention bool) symStack {
	if !contention {
		for i, pc := range stk {
			if !s.frames(pc).hidden {
				stk = stk[i:]
				break
			}
		}
	}
	frames := s.expanded[:0]
	for i, pc := range stk {
		pf := s.frames(pc)
		if contention && pf.unnamed {
			continue
		}
		chain := pf.frames
		for j := range chain {
			if j > 0 && i+1 < len(stk) && stk[i+1] == chain[j].retPC {
				break // the stack holds the rest of the chain itself
			}
			if !chain[j].fn.goexit {
				frames = append(frames, &chain[j])
			}
		}
	}
	s.expanded = frames
	out := symStack{gen: s.gen}
	for len(frames) > 0 {
		l := s.location(frames)
		out.locs = append(out.locs, l.loc)
		out.ids = append(out.ids, uint32(l.loc.ID))
		out.wait = out.wait || l.wait
		out.idBytes += varintLen(l.loc.ID)
		frames = frames[len(l.frames):]
	}
	return out
}

// begin starts a profile: the locations and functions it lists are
// stamped with a count of its own. Past maxCachedPCs the caches start a
// new generation, between two profiles so that none mixes IDs of two:
// stacks symbolized before are symbolized again, and IDs start from 1.
func (s *symbolizer) begin() {
	bound := maxCachedPCs
	if s.maxPCs > 0 {
		bound = s.maxPCs
	}
	if s.pcs == nil || len(s.pcs) > bound {
		s.gen++
		s.pcs, s.funcs = map[uintptr]*pcFrames{}, map[string]*symFunc{}
		s.locs, s.locListed, s.lastLoc, s.lastFunc = []*symLoc{nil}, []uint64{0}, 0, 0
	}
	s.listed++
}

// symStack is a symbolized stack: its locations, leaf first, for a
// sample, and theirs for listing them in a profile.
type symStack struct {
	locs []*profile.Location
	ids  []uint32 // the locations' IDs, to list them from symbolizer.locs
	gen  uint64   // the symbolizer's generation that made it
	wait bool     // a frame is one of the agent's own waits
	// idBytes is the length of the locations' IDs as varints, for a
	// profile's encodedBound.
	idBytes int
}

// location returns the location that starts frames: the one made before
// when it groups the same frames, else a new one of the frames that
// runtime/pprof's pcDeck would group (the leaf and the calls it is
// inlined in, up to their physical function).
func (s *symbolizer) location(frames []*symFrame) *symLoc {
	if l := frames[0].loc; l != nil && len(l.frames) <= len(frames) && sameFrames(l.frames, frames) {
		return l
	}
	n := 1
	for n < len(frames) && joinsDeck(frames[n-1], frames[n]) {
		n++
	}
	s.lastLoc++
	l := &symLoc{frames: frames[:n:n], funcs: make([]*symFunc, n)}
	// Locations and their lines come from slabs, in ID order: the
	// collectors walk them sample by sample, and neighbours share
	// cache lines.
	if len(s.locSlab) == cap(s.locSlab) {
		s.locSlab = make([]profile.Location, 0, 1024)
	}
	if len(s.lineSlab)+n > cap(s.lineSlab) {
		s.lineSlab = make([]profile.Line, 0, max(4096, n))
	}
	s.lineSlab = s.lineSlab[:len(s.lineSlab)+n]
	lines := s.lineSlab[len(s.lineSlab)-n : len(s.lineSlab) : len(s.lineSlab)]
	for i, f := range l.frames {
		lines[i] = profile.Line{Function: f.fn.fn, Line: f.line}
		l.funcs[i] = f.fn
		l.wait = l.wait || f.fn.wait
	}
	l.frames = append([]*symFrame(nil), l.frames...) // frames is scratch
	s.locSlab = append(s.locSlab, profile.Location{ID: s.lastLoc, Address: uint64(frames[0].callPC), Line: lines})
	l.loc = &s.locSlab[len(s.locSlab)-1]
	s.locs = append(s.locs, l)
	s.locListed = append(s.locListed, 0)
	l.bound = 1 + 5 + 1 + varintLen(l.loc.ID) + 1 + varintLen(l.loc.Address)
	for _, ln := range lines {
		l.bound += 2 + 1 + varintLen(ln.Function.ID) + 1 + varintLen(uint64(ln.Line))
	}
	if frames[0].loc == nil {
		frames[0].loc = l
	}
	return l
}

func sameFrames(a, b []*symFrame) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// joinsDeck is runtime/pprof's pcDeck.tryAdd: next belongs to last's
// location when last is inlined into the same physical function (same
// entry) and is not a recursive call of the same function.
func joinsDeck(last, next *symFrame) bool {
	return last.inlined && last.entry != 0 && next.entry != 0 && last.entry == next.entry && last.fn != next.fn
}

// frames returns pc's frames, symbolizing it on first use.
func (s *symbolizer) frames(pc uintptr) *pcFrames {
	if pf, ok := s.pcs[pc]; ok {
		return pf
	}
	pf := &pcFrames{}
	if f := runtime.FuncForPC(pc); f != nil {
		name := f.Name()
		pf.hidden = strings.HasPrefix(name, "runtime.") || strings.HasPrefix(name, "internal/runtime/")
	}
	cf := runtime.CallersFrames(expandFinalInlineFrame([]uintptr{pc}))
	for {
		fr, more := cf.Next()
		if fr.PC == 0 && fr.Function == "" && !more && len(pf.frames) == 0 {
			// Not symbolized: runtime/pprof writes a location with an
			// empty function at the call's address.
			fr.PC = pc - 1
			pf.unnamed = true
		}
		if fr.PC != 0 || fr.Function != "" {
			pf.frames = append(pf.frames, symFrame{retPC: fr.PC + 1, callPC: fr.PC, fn: s.function(&fr),
				line: int64(fr.Line), entry: fr.Entry, inlined: fr.Func == nil})
		}
		if !more {
			break
		}
	}
	s.pcs[pc] = pf
	return pf
}

// function returns the frame's function, made on first use.
func (s *symbolizer) function(fr *runtime.Frame) *symFunc {
	name := frameSymbolName(fr)
	if f, ok := s.funcs[name]; ok {
		return f
	}
	s.lastFunc++
	f := &symFunc{
		fn:     &profile.Function{ID: s.lastFunc, Name: name, SystemName: name, Filename: fr.File, StartLine: int64(frameStartLine(fr))},
		goexit: name == "runtime.goexit",
		wait:   agentWaits.MatchString(name),
	}
	f.bound = 1 + 5 + 1 + varintLen(f.fn.ID) + 3*(1+5) + 1 + varintLen(uint64(f.fn.StartLine)) +
		2*(1+5) + len(f.fn.Name) + len(f.fn.Filename)
	s.funcs[name] = f
	return f
}
