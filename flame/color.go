package flame

import (
	"fmt"
	"hash/fnv"
	"math"
	"strings"
)

// Category groups frames that a reader of a contention profile wants to tell
// apart at a glance; each has its own hue range.
type Category string

// Frame categories, most specific first (see Categorize).
const (
	CatLock    Category = "lock"    // sync primitives, runtime locks, semaphores, channels
	CatMap     Category = "map"     // Go map internals, sync.Map and its HashTrieMap
	CatGC      Category = "gc"      // garbage collector and allocator
	CatRuntime Category = "runtime" // the rest of the runtime
	CatStd     Category = "std"     // the standard library
	CatApp     Category = "app"     // everything else: the program itself and its modules
	CatPruned  Category = "pruned"  // "[pruned N]" aggregates
)

// Categorize tells which category a frame belongs to from its function name.
// Map internals win over locks so that sync.Map's HashTrieMap, which locks
// internally, reads as a map.
func Categorize(name string) Category {
	if strings.HasPrefix(name, "[pruned ") {
		return CatPruned
	}
	pkg := Package(name)
	switch {
	case isMapFrame(pkg, name):
		return CatMap
	case isLockFrame(pkg, name):
		return CatLock
	case isGCFrame(pkg, name):
		return CatGC
	case pkg == "runtime" || strings.HasPrefix(pkg, "internal/runtime/") || strings.HasPrefix(pkg, "runtime/"):
		return CatRuntime
	case pkg != "" && !strings.Contains(strings.SplitN(pkg, "/", 2)[0], ".") && pkg != "main":
		return CatStd
	}
	return CatApp
}

func isMapFrame(pkg, name string) bool {
	switch {
	case pkg == "internal/runtime/maps":
		return true
	case pkg == "internal/sync" && (strings.Contains(name, "HashTrieMap") ||
		strings.Contains(name, ".newEntryNode") || strings.Contains(name, ".newIndirectNode") ||
		strings.Contains(name, ".(*entry[") || strings.Contains(name, ".(*indirect[")):
		return true
	case pkg == "sync" && strings.HasPrefix(name, "sync.(*Map)."):
		return true
	case pkg == "runtime":
		fn := strings.TrimPrefix(name, "runtime.")
		for _, p := range []string{"mapaccess", "mapassign", "mapdelete", "mapiter", "mapclear", "makemap", "hashGrow", "growWork", "evacuate", "maps_"} {
			if strings.HasPrefix(fn, p) {
				return true
			}
		}
	}
	return false
}

func isLockFrame(pkg, name string) bool {
	switch pkg {
	case "sync", "internal/sync", "sync/atomic":
		return true
	case "runtime":
		fn := strings.TrimPrefix(name, "runtime.")
		for _, p := range []string{"lock", "unlock", "lock2", "unlock2", "_LostContendedRuntimeLock", "semacquire", "semrelease",
			"sync_runtime_", "chansend", "chanrecv", "selectgo", "block", "notetsleep", "gopark", "goparkunlock", "futex", "park_m"} {
			if fn == p || strings.HasPrefix(fn, p) {
				return true
			}
		}
	}
	return false
}

func isGCFrame(pkg, name string) bool {
	if pkg != "runtime" {
		return false
	}
	fn := strings.TrimPrefix(name, "runtime.")
	for _, p := range []string{"gc", "GC", "mallocgc", "malloc", "newobject", "newarray", "makeslice", "growslice", "scanobject", "scanblock",
		"scanstack", "markroot", "greyobject", "bgsweep", "bgscavenge", "sweepone", "(*mheap)", "(*mcache)", "(*mcentral)", "(*gcWork)",
		"(*sweepLocked)", "(*mspan)", "memclrNoHeapPointers", "wbBuf", "bulkBarrier", "typedmemmove", "heapSetType"} {
		if strings.HasPrefix(fn, p) {
			return true
		}
	}
	return false
}

// Package returns the import path of a Go function name:
// "github.com/a/b.(*T).M" → "github.com/a/b", "sync.(*Mutex).Lock" → "sync".
// Names that are not Go functions return "".
func Package(name string) string {
	slash := strings.LastIndexByte(name, '/')
	rest := name[slash+1:]
	// Generic type arguments may hold dots and slashes of their own.
	if i := strings.IndexByte(name, '['); i >= 0 && i < slash {
		slash = strings.LastIndexByte(name[:i], '/')
		rest = name[slash+1:]
	}
	dot := strings.IndexByte(rest, '.')
	if dot < 0 {
		return ""
	}
	return name[:slash+1+dot]
}

// hue ranges per category: [start, width) in degrees, saturation, lightness.
var palette = map[Category]struct{ hue, width, sat, light float64 }{
	CatApp:     {hue: 8, width: 42, sat: 78, light: 62},   // red to orange: the program itself
	CatStd:     {hue: 45, width: 15, sat: 55, light: 60},  // ochre
	CatLock:    {hue: 275, width: 40, sat: 55, light: 66}, // violet: where goroutines wait
	CatMap:     {hue: 170, width: 25, sat: 55, light: 52}, // teal: map internals
	CatGC:      {hue: 95, width: 30, sat: 45, light: 55},  // green: GC and allocation
	CatRuntime: {hue: 205, width: 20, sat: 25, light: 65}, // grey-blue: the rest of the runtime
	CatPruned:  {hue: 0, width: 0, sat: 0, light: 80},     // grey
}

// Color returns a deterministic fill for a frame: the category picks the hue
// range, a hash of the package the hue within it, so one package keeps one
// colour across graphs and runs.
func Color(name string) string {
	c := palette[Categorize(name)]
	h := fnv.New32a()
	h.Write([]byte(Package(name)))
	sum := h.Sum32()
	hue := c.hue + c.width*float64(sum%1000)/1000
	light := c.light + float64((sum/1000)%8) - 4
	return hslToHex(hue, c.sat, light)
}

// Differential colours: blue for a frame whose share shrank, orange for one
// that grew (distinguishable with every common colour-vision deficiency),
// fading to neutral grey for no change.
var (
	diffNeutral = [3]float64{0xdd, 0xdd, 0xdd}
	diffShrunk  = [3]float64{0x21, 0x66, 0xac}
	diffGrew    = [3]float64{0xe6, 0x61, 0x01}
)

// diffColor colours a change in share relative to the largest change in the
// graph; the square root keeps small but real changes visible.
func diffColor(change, maxChange float64) string {
	if maxChange <= 0 || change == 0 {
		return rgbHex(diffNeutral)
	}
	t := math.Min(1, math.Sqrt(math.Abs(change)/maxChange))
	to := diffGrew
	if change < 0 {
		to = diffShrunk
	}
	var c [3]float64
	for i := range c {
		c[i] = diffNeutral[i] + (to[i]-diffNeutral[i])*t
	}
	return rgbHex(c)
}

func rgbHex(c [3]float64) string {
	return fmt.Sprintf("#%02x%02x%02x", uint8(math.Round(c[0])), uint8(math.Round(c[1])), uint8(math.Round(c[2])))
}

func hslToHex(h, s, l float64) string {
	s, l = s/100, l/100
	chroma := (1 - math.Abs(2*l-1)) * s
	hp := math.Mod(h, 360) / 60
	x := chroma * (1 - math.Abs(math.Mod(hp, 2)-1))
	var r, g, b float64
	switch {
	case hp < 1:
		r, g = chroma, x
	case hp < 2:
		r, g = x, chroma
	case hp < 3:
		g, b = chroma, x
	case hp < 4:
		g, b = x, chroma
	case hp < 5:
		r, b = x, chroma
	default:
		r, b = chroma, x
	}
	m := l - chroma/2
	return rgbHex([3]float64{(r + m) * 255, (g + m) * 255, (b + m) * 255})
}

// maxChange is the largest absolute change in share over the tree.
func (g *Graph) maxChange(n *Node) float64 {
	m := math.Abs(g.change(n))
	for _, c := range n.Children {
		m = math.Max(m, g.maxChange(c))
	}
	return m
}
