// Package symbol splits Go function names, as the runtime writes them in
// profiles, into package, receiver and function, and names the component
// (package plus receiver type) that lock sites and map growth are reported
// by. One definition, so that a lock site and its map's growth always land
// on the same component.
package symbol

import "strings"

// Name is a function name split into its parts.
type Name struct {
	// Pkg is the import path ("github.com/x/y", "main").
	Pkg string
	// Recv is the receiver type with generic arguments collapsed to [...]
	// ("(*RWMutex)", "(*HashTrieMap[...])"), or "" for a plain function.
	Recv string
	// Func is the rest: method or function, closures included ("Get.func1").
	Func string
}

// Component is the package plus receiver type: main.(*Cache).Get and
// main.(*Cache).Set → main.(*Cache). A plain function belongs to its
// package (main.worker → main). A closure belongs to its enclosing
// function, so main.(*Cache).Get.func1 → main.(*Cache) and
// main.main.func1 → main: goroutine bodies are rarely the unit a map
// strategy is chosen for. Generic receivers keep their brackets collapsed
// (pkg.(*Map[...])), so all instantiations form one component.
func (n Name) Component() string {
	if n.Recv == "" {
		return n.Pkg
	}
	return n.Pkg + "." + n.Recv
}

// Component is Parse(name).Component().
func Component(name string) string { return Parse(name).Component() }

// Package is Parse(name).Pkg.
func Package(name string) string { return Parse(name).Pkg }

// Parse splits a symbol name into package, receiver and function. Generic
// type arguments are collapsed first, so the proto spelling
// (HashTrieMap[go.shape.interface {},go.shape.interface {}]) and the
// ?debug=1 text spelling (HashTrieMap[...]) parse alike, and a '/' or '.'
// inside a type argument cannot be taken for the package separator. The
// linker escapes dots in an import path's last element (yaml%2ev3), so the
// first '.' after the last '/' ends the package. A name with no package
// (an unsymbolized address) is all Pkg.
func Parse(name string) Name {
	// Split on a dotless placeholder, then spell it [...] again.
	norm := strings.ReplaceAll(CollapseTypeArgs(name), typeArgs, typeArgsMark)
	n := Name{Pkg: norm}
	afterSlash := strings.LastIndex(norm, "/") + 1
	if dot := strings.IndexByte(norm[afterSlash:], '.'); dot >= 0 {
		n.Pkg = norm[:afterSlash+dot]
		n.Recv, n.Func = splitReceiver(norm[afterSlash+dot+1:])
	}
	unmark := func(s string) string { return strings.ReplaceAll(s, typeArgsMark, typeArgs) }
	n.Pkg, n.Recv, n.Func = unmark(n.Pkg), unmark(n.Recv), unmark(n.Func)
	return n
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

// CollapseTypeArgs replaces every outermost [...] group with "[...]", the
// spelling the runtime uses in ?debug=1 text profiles.
func CollapseTypeArgs(name string) string {
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
