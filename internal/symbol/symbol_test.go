package symbol

import "testing"

func TestParse(t *testing.T) {
	tests := []struct {
		name, pkg, recv, fn, component string
	}{
		{"main.(*Cache).Get", "main", "(*Cache)", "Get", "main.(*Cache)"},
		{"main.Cache.Get", "main", "Cache", "Get", "main.Cache"},
		{"main.worker", "main", "", "worker", "main"},
		// Closures belong to their enclosing function.
		{"main.main.func1", "main", "", "main.func1", "main"},
		{"main.main.func1.2", "main", "", "main.func1.2", "main"},
		{"main.main.gowrap1", "main", "", "main.gowrap1", "main"},
		{"main.init.0", "main", "", "init.0", "main"},
		{"main.(*Cache).Get.func1", "main", "(*Cache)", "Get.func1", "main.(*Cache)"},
		{"main.(*Cache).Get-fm", "main", "(*Cache)", "Get-fm", "main.(*Cache)"},
		// Generic receivers: proto and ?debug=1 spellings are one component.
		{"pkg.(*Map[go.shape.int,go.shape.int]).Load", "pkg", "(*Map[...])", "Load", "pkg.(*Map[...])"},
		{"pkg.(*Map[...]).Load", "pkg", "(*Map[...])", "Load", "pkg.(*Map[...])"},
		{"pkg.Set[go.shape.string].Has", "pkg", "Set[...]", "Has", "pkg.Set[...]"},
		{"pkg.Index[go.shape.int]", "pkg", "", "Index[...]", "pkg"},
		// A type argument's '/' and '.' do not move the package boundary.
		{"example.com/a.(*M[go.shape.struct { example.com/b.X int }]).Get", "example.com/a", "(*M[...])", "Get", "example.com/a.(*M[...])"},
		{"github.com/x/y.(*Store).op", "github.com/x/y", "(*Store)", "op", "github.com/x/y.(*Store)"},
		{"gopkg.in/yaml%2ev3.(*parser).parse", "gopkg.in/yaml%2ev3", "(*parser)", "parse", "gopkg.in/yaml%2ev3.(*parser)"},
		{"internal/sync.(*HashTrieMap[go.shape.interface {},go.shape.interface {}]).Swap", "internal/sync", "(*HashTrieMap[...])", "Swap", "internal/sync.(*HashTrieMap[...])"},
		{"runtime.unlock", "runtime", "", "unlock", "runtime"},
		{"0x4e3d24", "0x4e3d24", "", "", "0x4e3d24"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := Parse(tt.name)
			if n.Pkg != tt.pkg || n.Recv != tt.recv || n.Func != tt.fn || n.Component() != tt.component {
				t.Errorf("Parse(%q) = pkg %q recv %q func %q component %q, want %q %q %q %q",
					tt.name, n.Pkg, n.Recv, n.Func, n.Component(), tt.pkg, tt.recv, tt.fn, tt.component)
			}
		})
	}
}

func TestCollapseTypeArgs(t *testing.T) {
	for in, want := range map[string]string{
		"a.(*M[int]).F":               "a.(*M[...]).F",
		"a.(*M[b.T[int],[]string]).F": "a.(*M[...]).F",
		"a.F[x].func1":                "a.F[...].func1",
		"a.plain":                     "a.plain",
	} {
		if got := CollapseTypeArgs(in); got != want {
			t.Errorf("CollapseTypeArgs(%q) = %q, want %q", in, got, want)
		}
	}
}
