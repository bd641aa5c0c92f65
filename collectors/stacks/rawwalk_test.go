package stacks

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// rawWalkers are the module's directories whose code may walk a profile's
// samples: the collectors (this one pass and what builds on it), flame
// (which builds its tree from the raw stacks), window (deltas, encoding,
// sizes) and the profile generator. Everything else reads what the
// collectors made of the stacks (DESIGN.md: analyze judges collector
// results only).
var rawWalkers = []string{"collectors/", "flame/", "window/", "internal/profilegen/"}

// sampleWalkingMethods are pprof's Profile methods that walk every sample.
var sampleWalkingMethods = map[string]bool{
	"FilterSamplesByName": true, "FilterSamplesByTag": true, "ShowFrom": true,
	"RemoveUninteresting": true, "Prune": true, "ScaleN": true, "Aggregate": true,
}

// TestOnlyCollectorsWalkSamples fails when code outside rawWalkers (tests
// excepted: they build fixtures) ranges over or indexes a profile's
// Sample slice, or calls pprof code that walks it (profile.Merge, Compact,
// the filters). It reads the syntax, not types: a field named Sample is
// taken for a profile's; len(p.Sample) is no walk.
func TestOnlyCollectorsWalkSamples(t *testing.T) {
	root := moduleRoot(t)
	var allowedSeen int
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		walks, err := sampleWalks(path)
		if err != nil {
			return err
		}
		allowed := false
		for _, dir := range rawWalkers {
			allowed = allowed || strings.HasPrefix(rel, dir)
		}
		if allowed {
			allowedSeen += len(walks)
			return nil
		}
		for _, w := range walks {
			t.Errorf("%s:%s walks raw profile samples outside the collectors layer and flame; "+
				"attribute the stacks in collectors/stacks and read its results", rel, w)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The check must see the walks it allows, or it sees nothing.
	if allowedSeen < 5 {
		t.Fatalf("found %d sample walks in %v: the check no longer recognises them", allowedSeen, rawWalkers)
	}
}

// sampleWalks lists the positions (line:column) in a Go file that walk a
// profile's samples.
func sampleWalks(path string) ([]string, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
	if err != nil {
		return nil, err
	}
	isSample := func(e ast.Expr) bool {
		sel, ok := e.(*ast.SelectorExpr)
		return ok && sel.Sel.Name == "Sample"
	}
	var out []string
	at := func(n ast.Node) { out = append(out, strings.TrimPrefix(fset.Position(n.Pos()).String(), path+":")) }
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.RangeStmt:
			if isSample(n.X) {
				at(n)
			}
		case *ast.IndexExpr:
			if isSample(n.X) {
				at(n)
			}
		case *ast.SliceExpr:
			if isSample(n.X) {
				at(n)
			}
		case *ast.CallExpr:
			sel, ok := n.Fun.(*ast.SelectorExpr)
			if !ok {
				break
			}
			pkg, _ := sel.X.(*ast.Ident)
			switch {
			case sampleWalkingMethods[sel.Sel.Name],
				sel.Sel.Name == "Compact" && len(n.Args) == 0, // Profile.Compact, not slices.Compact
				sel.Sel.Name == "Merge" && pkg != nil && pkg.Name == "profile":
				at(n)
			}
		}
		return true
	})
	return out, nil
}

func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}
