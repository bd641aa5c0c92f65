//go:build !go1.27

package agent

import (
	"go/ast"
	"go/build"
	"go/parser"
	"go/token"
	"go/types"
	"path/filepath"
	"reflect"
	"testing"
)

// TestDeepRecordLayout holds deepBlockRecord and deepMemRecord to the
// toolchain's internal/profilerecord types, field by field: the runtime
// writes records of its types into slices of ours (records_deep.go).
func TestDeepRecordLayout(t *testing.T) {
	src := filepath.Join(build.Default.GOROOT, "src", "internal", "profilerecord", "profilerecord.go")
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, src, nil, parser.SkipObjectResolution)
	if err != nil {
		t.Skipf("the toolchain's source is not here: %v", err)
	}
	pkg, err := (&types.Config{}).Check("profilerecord", fset, []*ast.File{file}, nil)
	if err != nil {
		t.Fatal(err)
	}
	sizes := types.SizesFor("gc", build.Default.GOARCH)
	for name, ours := range map[string]reflect.Type{
		"BlockProfileRecord": reflect.TypeFor[deepBlockRecord](),
		"MemProfileRecord":   reflect.TypeFor[deepMemRecord](),
	} {
		obj := pkg.Scope().Lookup(name)
		if obj == nil {
			t.Fatalf("internal/profilerecord has no %s", name)
		}
		theirs := obj.Type().Underlying().(*types.Struct)
		if theirs.NumFields() != ours.NumField() {
			t.Fatalf("%s: %d fields, ours %d", name, theirs.NumFields(), ours.NumField())
		}
		fields := make([]*types.Var, theirs.NumFields())
		for i := range fields {
			fields[i] = theirs.Field(i)
		}
		offsets := sizes.Offsetsof(fields)
		for i, f := range fields {
			o := ours.Field(i)
			if f.Name() != o.Name || f.Type().String() != o.Type.String() || offsets[i] != int64(o.Offset) {
				t.Errorf("%s field %d: %s %s at %d, ours %s %s at %d", name, i, f.Name(), f.Type(), offsets[i], o.Name, o.Type, o.Offset)
			}
		}
		if size := sizes.Sizeof(theirs); size != int64(ours.Size()) {
			t.Errorf("%s: %d bytes, ours %d", name, size, ours.Size())
		}
	}
}
