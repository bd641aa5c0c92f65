package main

import (
	"encoding/json"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
)

func TestChooseWorkload(t *testing.T) {
	tests := []struct {
		args      []string
		wantName  string
		wantReads float64
	}{
		{args: nil, wantName: "read-heavy", wantReads: 0.9},
		{args: []string{"-workload", "write-heavy"}, wantName: "write-heavy", wantReads: 0.1},
		{args: []string{"-reads", "0.75"}, wantName: "reads-0.75", wantReads: 0.75},
		{args: []string{"-workload", "churn", "-reads", "0.4"}, wantName: "churn-reads-0.4", wantReads: 0.4},
	}
	for _, tt := range tests {
		fs := flag.NewFlagSet("test", flag.ContinueOnError)
		name := fs.String("workload", "read-heavy", "")
		reads := fs.Float64("reads", -1, "")
		if err := fs.Parse(tt.args); err != nil {
			t.Fatal(err)
		}
		spec, err := chooseWorkload(fs, *name, *reads)
		if err != nil {
			t.Fatalf("%v: %v", tt.args, err)
		}
		if spec.Name != tt.wantName || spec.Reads != tt.wantReads {
			t.Errorf("%v: got %s with reads %g, want %s with %g", tt.args, spec.Name, spec.Reads, tt.wantName, tt.wantReads)
		}
	}
}

func TestSplitList(t *testing.T) {
	all := []string{"a", "b"}
	for _, tt := range []struct {
		in   string
		want []string
	}{{"", all}, {"all", all}, {"b, a,", []string{"b", "a"}}} {
		if got := splitList(tt.in, all); !slices.Equal(got, tt.want) {
			t.Errorf("splitList(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// TestProgram builds maplab and runs it as a user would, briefly, with the
// agent on its own port and with JSON output.
func TestProgram(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the program")
	}
	bin := filepath.Join(t.TempDir(), "maplab")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		t.Fatalf("building maplab: %v", err)
	}
	for _, args := range [][]string{
		{"-strategy", "legacy", "-workload", "write-heavy", "-keys", "1000", "-goroutines", "4", "-duration", "300ms", "-interval", "100ms", "-listen", "127.0.0.1:0", "-json"},
		{"-strategy", "sharded", "-reads", "0.5", "-keys", "1000", "-duration", "100ms", "-agent=false", "-listen", "127.0.0.1:0", "-json"},
	} {
		out, err := exec.Command(bin, args...).Output()
		if err != nil {
			t.Fatalf("maplab %v: %v", args, err)
		}
		var report runReport
		if err := json.Unmarshal(out, &report); err != nil {
			t.Fatalf("maplab %v printed something other than JSON: %v\n%s", args, err, out)
		}
		if report.Result.Ops == 0 || report.GOMAXPROCS < 1 || report.Strategy != args[1] {
			t.Errorf("maplab %v reported %+v", args, report)
		}
	}
	if err := exec.Command(bin, "-strategy", "btree", "-duration", "10ms", "-agent=false").Run(); err == nil {
		t.Error("maplab accepted an unknown strategy")
	}
}
