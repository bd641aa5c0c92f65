// Package profilegen makes synthetic but realistic Go profiles — mutex,
// block, CPU and allocs — with a chosen number of distinct stacks, for
// benchmarks and whole-process measurements at profile scale.
//
// The profiles look like what a Go service's runtime writes: Go-like
// function names across a few packages and receiver types, call trees that
// share prefixes (a few entry points, fanning out towards the leaves),
// sync.(*Mutex), sync.(*RWMutex) and sync.(*Map) primitives at the leaves of
// contention profiles, runtime map frames (runtime.mapaccess1_fast64,
// internal/runtime/maps.…) in CPU and allocs profiles, inlined frames
// (several Lines in one Location), depths from 10 to 40, and heavy-tailed
// values. The same Options always give the same profile, and every profile
// passes profile.CheckValid.
package profilegen

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"

	"github.com/google/pprof/profile"
)

// Kind is the profile to make.
type Kind string

// The kinds Generate makes, named as window.ProfileKind names them.
const (
	Mutex  Kind = "mutex"
	Block  Kind = "block"
	CPU    Kind = "cpu"
	Allocs Kind = "allocs"
)

// Kinds lists every Kind.
var Kinds = []Kind{Mutex, Block, CPU, Allocs}

// Options say what to make. Stacks is required; a zero Seed is a seed like
// any other.
type Options struct {
	Kind   Kind
	Stacks int
	Seed   uint64
}

// Stack depths, counted in frames (inlined calls included), as in real
// services behind net/http or a worker pool.
const (
	minDepth = 10
	maxDepth = 40
)

// Generate makes a profile of opts.Kind with exactly opts.Stacks distinct
// stacks, one sample each.
func Generate(opts Options) (*profile.Profile, error) {
	if opts.Stacks <= 0 {
		return nil, errors.New("profilegen: Stacks must be positive")
	}
	g, err := newGenerator(opts)
	if err != nil {
		return nil, err
	}
	seen := make(map[uint64]struct{}, opts.Stacks)
	stack := make([]*profile.Location, 0, maxDepth)
	for len(g.p.Sample) < opts.Stacks {
		stack = g.stack(stack[:0])
		key := stackKey(stack)
		if _, dup := seen[key]; dup {
			continue
		}
		seen[key] = struct{}{}
		g.p.Sample = append(g.p.Sample, &profile.Sample{
			Location: append([]*profile.Location(nil), stack...),
			Value:    g.values(),
		})
	}
	if err := g.p.CheckValid(); err != nil {
		return nil, fmt.Errorf("profilegen: generated an invalid profile: %w", err)
	}
	return g.p, nil
}

// MustGenerate is Generate for tests and benchmarks, panicking on error.
func MustGenerate(opts Options) *profile.Profile {
	p, err := Generate(opts)
	if err != nil {
		panic(err)
	}
	return p
}

// Earlier returns a cumulative reading of the same process taken before
// end, as an agent reads the mutex, block or allocs profile at a window's
// start: the share changed of end's stacks have smaller values in it, and a
// tenth of those are not in it at all (stacks first seen during the window);
// every other stack is unchanged, so a delta drops it. end is not modified.
func Earlier(end *profile.Profile, changed float64, seed uint64) *profile.Profile {
	rng := rand.New(rand.NewPCG(seed, 0x5ca1e))
	start := end.Copy()
	kept := start.Sample[:0]
	for _, s := range start.Sample {
		if rng.Float64() >= changed {
			kept = append(kept, s)
			continue
		}
		if rng.IntN(10) == 0 {
			continue // new during the window
		}
		for i, v := range s.Value {
			s.Value[i] = v - v*int64(1+rng.IntN(9))/10 // 10–90% of the window's growth
		}
		kept = append(kept, s)
	}
	start.Sample = kept
	start.TimeNanos = end.TimeNanos - 10e9
	return start.Compact()
}

// stackKey hashes a stack's location IDs (FNV-1a): profiles of a million
// stacks must not build a million strings to tell duplicates.
func stackKey(stack []*profile.Location) uint64 {
	h := uint64(14695981039346656037)
	for _, l := range stack {
		h ^= l.ID
		h *= 1099511628211
	}
	return h
}

// generator holds the function and location pools of one profile.
type generator struct {
	opts    Options
	rng     *rand.Rand
	p       *profile.Profile
	mapping *profile.Mapping
	funcs   map[string]*profile.Function

	// entries are the goroutines' outermost frames, root first.
	entries [][]*profile.Location
	// middle are application call sites, ordered from the outer layers
	// (handlers) to the inner ones (caches, stores), so that stacks drawn
	// by depth share prefixes as a real call tree does.
	middle []*profile.Location
	// leaves are the innermost frames for this kind, leaf first.
	leaves [][]*profile.Location
}

func newGenerator(opts Options) (*generator, error) {
	g := &generator{
		opts:  opts,
		rng:   rand.New(rand.NewPCG(opts.Seed, uint64(opts.Stacks))),
		funcs: map[string]*profile.Function{},
	}
	g.p = &profile.Profile{TimeNanos: 1_767_225_600_000_000_000} // 2026-01-01, so output is stable
	g.mapping = &profile.Mapping{ID: 1, Start: 0x400000, Limit: 0x4000000, File: "/srv/shop/bin/shop",
		BuildID: "5f2a3c0e9b7d4a1f8e6c2b0a9d8e7f6a5b4c3d2e", HasFunctions: true, HasFilenames: true, HasLineNumbers: true}
	g.p.Mapping = []*profile.Mapping{g.mapping}
	switch opts.Kind {
	case Mutex, Block:
		g.p.SampleType = []*profile.ValueType{{Type: "contentions", Unit: "count"}, {Type: "delay", Unit: "nanoseconds"}}
		g.p.PeriodType = &profile.ValueType{Type: "contentions", Unit: "count"}
		g.p.Period = 1
	case CPU:
		g.p.SampleType = []*profile.ValueType{{Type: "samples", Unit: "count"}, {Type: "cpu", Unit: "nanoseconds"}}
		g.p.PeriodType = &profile.ValueType{Type: "cpu", Unit: "nanoseconds"}
		g.p.Period = 10_000_000 // 100 Hz
		g.p.DurationNanos = 10e9
	case Allocs:
		g.p.SampleType = []*profile.ValueType{{Type: "alloc_objects", Unit: "count"}, {Type: "alloc_space", Unit: "bytes"},
			{Type: "inuse_objects", Unit: "count"}, {Type: "inuse_space", Unit: "bytes"}}
		g.p.PeriodType = &profile.ValueType{Type: "space", Unit: "bytes"}
		g.p.Period = 512 * 1024
		g.p.DefaultSampleType = "alloc_space"
	default:
		return nil, fmt.Errorf("profilegen: unknown kind %q; one of mutex, block, cpu, allocs", opts.Kind)
	}
	g.makeEntries()
	g.makeMiddle()
	g.makeLeaves()
	return g, nil
}

// fn interns a function by name.
func (g *generator) fn(name string) *profile.Function {
	if f, ok := g.funcs[name]; ok {
		return f
	}
	f := &profile.Function{ID: uint64(len(g.p.Function) + 1), Name: name, SystemName: name,
		Filename: sourceFile(name), StartLine: int64(10 + g.rng.IntN(400))}
	g.funcs[name] = f
	g.p.Function = append(g.p.Function, f)
	return f
}

// loc makes a call site; names are innermost first, so more than one name
// is an inlined call (Line[0] the inlined callee, the last its caller).
func (g *generator) loc(names ...string) *profile.Location {
	id := uint64(len(g.p.Location) + 1)
	l := &profile.Location{ID: id, Mapping: g.mapping, Address: g.mapping.Start + 0x40*id}
	for _, name := range names {
		f := g.fn(name)
		l.Line = append(l.Line, profile.Line{Function: f, Line: f.StartLine + int64(1+g.rng.IntN(60))})
	}
	g.p.Location = append(g.p.Location, l)
	return l
}

func (g *generator) chain(names ...[]string) []*profile.Location {
	out := make([]*profile.Location, len(names))
	for i, n := range names {
		out[i] = g.loc(n...)
	}
	return out
}

func (g *generator) makeEntries() {
	g.entries = [][]*profile.Location{
		// root first
		g.chain([]string{"runtime.goexit"}, []string{"net/http.(*conn).serve"}, []string{"net/http.serverHandler.ServeHTTP"},
			[]string{"net/http.(*ServeMux).ServeHTTP"}, []string{"net/http.HandlerFunc.ServeHTTP"}),
		g.chain([]string{"runtime.goexit"}, []string{"google.golang.org/grpc.(*Server).serveStreams.func2.1"},
			[]string{"google.golang.org/grpc.(*Server).handleStream"}, []string{"google.golang.org/grpc.(*Server).processUnaryRPC"}),
		g.chain([]string{"runtime.goexit"}, []string{modPath + "/internal/worker.(*Pool).run.gowrap1"},
			[]string{modPath + "/internal/worker.(*Pool).run"}),
		g.chain([]string{"runtime.goexit"}, []string{"main.main.func3"}, []string{modPath + "/internal/ingest.(*Consumer).Loop"}),
	}
}

const modPath = "github.com/acme/shop"

// The application: packages, their receiver types and method names. Layers
// run from the outside in.
var (
	appLayers = [][]string{
		{"api", "rpc", "gateway"},
		{"checkout", "catalog", "accounts", "search"},
		{"pricing", "inventory", "session", "ranking"},
		{"cache", "store", "index", "ratelimit"},
	}
	appTypes   = []string{"Server", "Service", "Handler", "Cache", "Store", "Shard", "Index", "Limiter", "Registry", "Tracker"}
	appMethods = []string{"Get", "Set", "Load", "Store", "Lookup", "Update", "Delete", "Range", "Handle", "Process",
		"Validate", "Resolve", "refresh", "evict", "insertLocked", "lookupLocked", "compute", "flush"}
	helperNames = []string{"hash", "keyOf", "clone", "encode", "less", "bucket", "nowNanos", "isExpired"}
	stdFrames   = []string{"encoding/json.Marshal", "encoding/json.(*decodeState).object", "strconv.AppendInt",
		"sort.Slice", "bytes.(*Buffer).Write", "fmt.Sprintf", "context.(*cancelCtx).Done", "time.Now", "slices.SortFunc[go.shape.[]string,go.shape.string]"}
)

// makeMiddle makes the application's call sites: more functions for larger
// profiles (a service with a million distinct stacks is a bigger program),
// each called from one to four places, a quarter of those with an inlined
// helper, and some standard library frames in between.
func (g *generator) makeMiddle() {
	nfuncs := min(max(g.opts.Stacks/40, 240), 12000)
	for layer, pkgs := range appLayers {
		count := nfuncs / len(appLayers)
		for i := range count {
			pkg := pkgs[i%len(pkgs)]
			typ := appTypes[(i/len(pkgs)+layer)%len(appTypes)]
			method := appMethods[(i/(len(pkgs)*len(appTypes)))%len(appMethods)]
			name := fmt.Sprintf("%s/internal/%s.(*%s).%s", modPath, pkg, typ, method)
			if v := i / (len(pkgs) * len(appTypes) * len(appMethods)); v > 0 {
				name += fmt.Sprintf("%d", v) // a bigger program has more methods
			}
			for range 1 + g.rng.IntN(4) {
				if g.rng.IntN(4) == 0 {
					helper := fmt.Sprintf("%s/internal/%s.%s", modPath, pkg, helperNames[g.rng.IntN(len(helperNames))])
					g.middle = append(g.middle, g.loc(helper, name))
				} else {
					g.middle = append(g.middle, g.loc(name))
				}
			}
		}
		for _, std := range stdFrames {
			if g.rng.IntN(2) == 0 {
				g.middle = append(g.middle, g.loc(std))
			}
		}
	}
}

// Leaf chains per kind, innermost location first, each location's lines
// innermost first — as the Go 1.26 runtime writes them.
func (g *generator) makeLeaves() {
	hashTrie := "internal/sync.(*HashTrieMap[go.shape.string,go.shape.interface {}])"
	switch g.opts.Kind {
	case Mutex: // the unlocker's side
		g.leaves = [][]*profile.Location{
			g.chain([]string{"sync.(*Mutex).Unlock"}),
			g.chain([]string{"sync.(*Mutex).Unlock", "sync.(*RWMutex).Unlock"}),
			g.chain([]string{"sync.(*RWMutex).Unlock"}),
			g.chain([]string{"sync.(*RWMutex).RUnlock"}),
			g.chain([]string{hashTrie + ".Swap", "sync.(*Map).Store"}),
			g.chain([]string{hashTrie + ".LoadOrStore", "sync.(*Map).LoadOrStore"}),
			g.chain([]string{"runtime.unlock", "runtime.semrelease1"}, []string{"internal/sync.runtime_Semrelease"},
				[]string{"internal/sync.(*Mutex).unlockSlow"}, []string{"internal/sync.(*Mutex).Unlock", "sync.(*Mutex).Unlock"}),
		}
	case Block: // the waiter's side
		g.leaves = [][]*profile.Location{
			g.chain([]string{"sync.(*Mutex).Lock"}),
			g.chain([]string{"sync.(*RWMutex).Lock"}),
			g.chain([]string{"sync.(*RWMutex).RLock"}),
			g.chain([]string{"sync.(*Mutex).Lock", "sync.(*Map).Load"}),
			g.chain([]string{"runtime.chanrecv1"}),
			g.chain([]string{"runtime.selectgo"}),
			g.chain([]string{"sync.(*WaitGroup).Wait"}),
			g.chain([]string{"sync.(*Cond).Wait"}),
		}
	case CPU:
		g.leaves = [][]*profile.Location{
			g.chain([]string{"internal/runtime/maps.(*Map).getWithKeySmall"}, []string{"runtime.mapaccess1_fast64"}),
			g.chain([]string{"internal/runtime/maps.(*table).getWithKey"}, []string{"runtime.mapaccess2_faststr"}),
			g.chain([]string{"internal/runtime/maps.(*table).uncheckedPutSlot"}, []string{"internal/runtime/maps.(*table).grow"},
				[]string{"internal/runtime/maps.(*table).rehash"}, []string{"runtime.mapassign_faststr"}),
			g.chain([]string{"runtime.mapassign_fast64"}),
			g.chain([]string{"internal/runtime/maps.(*Iter).Next"}, []string{"runtime.mapiternext"}),
			g.chain([]string{"internal/sync.(*Mutex).lockSlow"}, []string{"internal/sync.(*Mutex).Lock", "sync.(*Mutex).Lock"}),
			g.chain([]string{"sync/atomic.(*Int32).Add", "sync.(*RWMutex).RLock"}),
			g.chain([]string{"runtime.futex"}, []string{"runtime.futexwakeup"}, []string{"runtime.semrelease1"},
				[]string{"internal/sync.runtime_Semrelease"}, []string{"internal/sync.(*Mutex).unlockSlow"}),
			g.chain([]string{hashTrie + ".Load", "sync.(*Map).Load"}),
			g.chain([]string{"runtime.memmove"}),
			g.chain([]string{"runtime.mallocgc"}, []string{"runtime.newobject"}),
			g.chain([]string{"aeshashbody"}, []string{"runtime.mapaccess1_faststr"}),
		}
	case Allocs:
		g.leaves = [][]*profile.Location{
			g.chain([]string{"internal/runtime/maps.newarray"}, []string{"internal/runtime/maps.newTable"},
				[]string{"internal/runtime/maps.(*table).split"}, []string{"runtime.mapassign_faststr"}),
			g.chain([]string{"internal/runtime/maps.newarray"}, []string{"internal/runtime/maps.(*Map).growToSmall"},
				[]string{"runtime.mapassign_fast64"}),
			g.chain([]string{"runtime.makemap_small"}),
			g.chain([]string{"internal/sync.newEntryNode[go.shape.string,go.shape.interface {}]", hashTrie + ".LoadOrStore", "sync.(*Map).LoadOrStore"}),
			g.chain([]string{"sync.(*Map).dirtyLocked"}, []string{"sync.(*Map).Store"}),
			g.chain([]string{"runtime.growslice"}),
			g.chain([]string{"runtime.newobject"}),
			g.chain([]string{"runtime.makeslice"}),
			g.chain([]string{"strings.(*Builder).grow", "strings.(*Builder).WriteString"}),
		}
	}
}

// stack draws one stack, leaf first (as profiles store them): a leaf chain,
// application frames, an entry chain. Frame i from the root is drawn from a
// slice of the middle pool that widens with depth, so stacks near the root
// share frames and differ more towards the leaves.
func (g *generator) stack(stack []*profile.Location) []*profile.Location {
	entry := g.entries[g.rng.IntN(len(g.entries))]
	leaf := g.leaves[g.skewed(len(g.leaves))]
	// In frames, inlined calls included; a stack may end one short of it.
	depth := minDepth + 1 + g.rng.IntN(maxDepth-minDepth)
	lines := 0
	for _, l := range entry {
		lines += len(l.Line)
	}
	for _, l := range leaf {
		lines += len(l.Line)
	}
	frames := max(depth-lines, 3) // application locations at most: an inlined one holds two frames
	stack = append(stack, leaf...)
	n := len(g.middle)
	mid := len(stack)
	for i := range frames {
		// i counts from the root: pick from a window starting at the layer
		// for this depth, growing quadratically to the whole pool.
		start := i * n / (maxDepth + 1)
		width := max(2, n*(i+1)*(i+1)/(frames*frames))
		l := g.middle[(start+g.rng.IntN(width))%n]
		if i >= 3 && lines+len(l.Line) > depth {
			break
		}
		lines += len(l.Line)
		stack = append(stack, l)
	}
	// The middle frames were drawn root first; the stack is leaf first.
	for a, b := mid, len(stack)-1; a < b; a, b = a+1, b-1 {
		stack[a], stack[b] = stack[b], stack[a]
	}
	for i := len(entry) - 1; i >= 0; i-- {
		stack = append(stack, entry[i])
	}
	return stack
}

// skewed picks an index in [0, n) favouring the first ones, as a few lock
// kinds dominate a real profile.
func (g *generator) skewed(n int) int {
	i := int(float64(n) * g.rng.Float64() * g.rng.Float64())
	return min(i, n-1)
}

// values draws one sample's values: heavy-tailed, so that a few stacks
// dominate and most are tiny.
func (g *generator) values() []int64 {
	heavy := func(scale float64) int64 { return 1 + int64(scale/(g.rng.Float64()+0.001)) }
	switch g.opts.Kind {
	case Mutex, Block:
		return []int64{1 + int64(g.rng.IntN(50)), heavy(1000)} // 1 µs to 1 ms
	case CPU:
		samples := heavy(0.5)
		return []int64{samples, samples * g.p.Period}
	default: // Allocs
		objects := heavy(2)
		size := int64(16 << g.rng.IntN(8))
		inuse := objects * int64(g.rng.IntN(3)) / 4
		return []int64{objects, objects * size, inuse, inuse * size}
	}
}

// sourceFile makes a plausible file name for a function.
func sourceFile(name string) string {
	pkg := name
	if i := indexOfFuncDot(name); i > 0 {
		pkg = name[:i]
	}
	switch {
	case len(pkg) > len(modPath) && pkg[:len(modPath)] == modPath:
		return "/src/shop" + pkg[len(modPath):] + "/" + lastElem(pkg) + ".go"
	case pkg == "main":
		return "/src/shop/cmd/shop/main.go"
	}
	return "/usr/local/go/src/" + pkg + "/" + lastElem(pkg) + ".go"
}

// indexOfFuncDot is the index of the dot after a name's import path.
func indexOfFuncDot(name string) int {
	slash := -1
	for i := 0; i < len(name); i++ {
		switch name[i] {
		case '/':
			slash = i
		case '.':
			if i > slash {
				return i
			}
		case '(', '[':
			return -1
		}
	}
	return -1
}

func lastElem(pkg string) string {
	for i := len(pkg) - 1; i >= 0; i-- {
		if pkg[i] == '/' {
			return pkg[i+1:]
		}
	}
	return pkg
}

// WriteFile generates a profile and writes it to path as a gzipped proto,
// as `go test -mutexprofile` or a pprof endpoint would leave it.
func WriteFile(path string, opts Options) error {
	p, err := Generate(opts)
	if err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := p.Write(f); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return f.Close()
}

// BenchStacks are the profile sizes of the scale benchmarks (issue #14):
// 1,000, 10,000 and 100,000 distinct stacks, and a million when the
// environment sets CONTENDR_BENCH_1M — a million-stack profile takes seconds
// to generate and GiBs to analyze, too much for every benchmark run.
func BenchStacks() []int {
	sizes := []int{1_000, 10_000, 100_000}
	if os.Getenv("CONTENDR_BENCH_1M") != "" {
		sizes = append(sizes, 1_000_000)
	}
	return sizes
}
