package gc

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// pprofTop runs `go tool pprof -top` on an allocs profile and returns the
// total alloc_space and the summed flat bytes of functions matching match.
func pprofTop(t *testing.T, file string, match *regexp.Regexp) (total, flat int64) {
	t.Helper()
	goTool := filepath.Join(os.Getenv("GOROOT"), "bin", "go")
	if _, err := os.Stat(goTool); err != nil {
		var lookErr error
		if goTool, lookErr = exec.LookPath("go"); lookErr != nil {
			t.Skip("go command not found: cannot run go tool pprof")
		}
	}
	out, err := exec.Command(goTool, "tool", "pprof", "-sample_index=alloc_space", "-unit=B", "-top", "-nodefraction=0", file).Output()
	if err != nil {
		t.Fatalf("go tool pprof %s: %v", file, err)
	}
	showing := regexp.MustCompile(`of (\d+)B total`)
	for _, line := range strings.Split(string(out), "\n") {
		if m := showing.FindStringSubmatch(line); m != nil {
			total, _ = strconv.ParseInt(m[1], 10, 64)
			continue
		}
		fields := strings.Fields(line)
		if len(fields) < 6 || !strings.HasSuffix(fields[0], "B") {
			continue
		}
		if name := fields[5]; match.MatchString(name) {
			v, err := strconv.ParseInt(strings.TrimSuffix(fields[0], "B"), 10, 64)
			if err != nil {
				t.Fatalf("pprof line %q: %v", line, err)
			}
			flat += v
		}
	}
	return total, flat
}

// TestAgreesWithGoToolPprof checks the growth figures against what a user
// sees in `go tool pprof -sample_index=alloc_space -top` on the same file:
// the window's total is pprof's total, and a kind's bytes are the flat
// bytes of the frames that kind is made of.
func TestAgreesWithGoToolPprof(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go tool pprof")
	}
	tests := []struct {
		dir    string
		kind   GrowthKind
		frames string // the flat frames pprof shows for that kind
	}{
		// Legacy: the dirty copy, plus what the map allocates itself on
		// writes (new entries, boxed values, the dirty map's growth, the
		// read-only struct of a promotion) — everything in sync but the
		// sudogs of waiting on its mutex.
		{"go1.25-legacy-syncmap", GrowthSyncMapDirty, `^sync\.(\(\*Map\)\.|\(\*entry\)\.|newEntry)`},
		{"go1.26-hashtriemap/syncmap", GrowthHashTrieMap, `^internal/sync\.new(Entry|Indirect)Node`},
		// Hidden runtime frames: the map's growth is the lock-taking
		// function's own flat allocation.
		{"go1.26-hashtriemap/mutex", GrowthGoMap, `^main\.\(\*muStore\)\.op$`},
		{"go1.26-hashtriemap/rwmutex", GrowthGoMap, `^main\.\(\*rwStore\)\.op$`},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			r, err := Collect(fixtureWindow(t, tt.dir), nil)
			if err != nil {
				t.Fatal(err)
			}
			var ours int64
			for _, g := range r.MapGrowth {
				if g.Kind == tt.kind {
					ours += g.Bytes
				}
			}
			total, flat := pprofTop(t, filepath.Join(fixtures, tt.dir, "allocs.pb.gz"), regexp.MustCompile(tt.frames))
			t.Logf("%s: contendr %d B of %d; go tool pprof flat %d B of %d", tt.kind, ours, r.TotalAllocBytes, flat, total)
			if total != r.TotalAllocBytes {
				t.Errorf("total alloc_space: contendr %d, pprof %d", r.TotalAllocBytes, total)
			}
			if flat != ours {
				t.Errorf("%s bytes: contendr %d, pprof flat of %s %d", tt.kind, ours, tt.frames, flat)
			}
		})
	}
}
