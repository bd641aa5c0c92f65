package gc

import "strings"

// Frame names as the Go runtime writes them: "path/to/pkg.Func",
// "path/to/pkg.(*Type).Method", "path/to/pkg.Type.Method",
// "pkg.Func.func1" for closures, with generic shapes in brackets that may
// themselves hold dots, slashes and parentheses.

// component is the package plus receiver type of a function — the unit a
// recommendation speaks about (DESIGN.md, "Component"):
//
//	main.(*Cache).Set        → main.(*Cache)
//	main.Cache.Get           → main.Cache
//	main.(*Cache).Set.func1  → main.(*Cache)
//	main.worker.func2        → main.worker   (a plain function is its own component)
func component(fn string) string {
	dot := packageEnd(fn)
	if dot < 0 {
		return fn
	}
	rest := fn[dot+1:]
	if strings.HasPrefix(rest, "(") {
		if end := closingParen(rest); end > 0 {
			return fn[:dot+1+end+1]
		}
		return fn
	}
	// Value receiver (pkg.Type.Method) and closure (pkg.Func.func1) alike:
	// the first name after the package is the component.
	return fn[:dot+1] + splitOutsideBrackets(rest)[0]
}

// packageOf is the import path of fn's package ("" when fn has none).
func packageOf(fn string) string {
	if dot := packageEnd(fn); dot >= 0 {
		return fn[:dot]
	}
	return ""
}

// packageEnd is the index of the dot that ends fn's package path: the first
// dot after the last slash, looking only before any generic bracket.
func packageEnd(fn string) int {
	head := fn
	if i := strings.IndexAny(fn, "[("); i >= 0 {
		head = fn[:i]
	}
	slash := strings.LastIndexByte(head, '/')
	dot := strings.IndexByte(fn[slash+1:], '.')
	if dot < 0 {
		return -1
	}
	return slash + 1 + dot
}

// closingParen returns the index of the parenthesis closing s[0].
func closingParen(s string) int {
	depth := 0
	for i, r := range s {
		switch r {
		case '(', '[':
			depth++
		case ')', ']':
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	return -1
}

// splitOutsideBrackets splits s at dots that are not inside [...].
func splitOutsideBrackets(s string) []string {
	var parts []string
	depth, start := 0, 0
	for i, r := range s {
		switch r {
		case '[':
			depth++
		case ']':
			depth--
		case '.':
			if depth == 0 {
				parts = append(parts, s[start:i])
				start = i + 1
			}
		}
	}
	return append(parts, s[start:])
}
