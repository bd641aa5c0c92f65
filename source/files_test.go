package source

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/pprof/profile"

	"github.com/contendr/contendr/window"
)

const fixtures = "../testdata/profiles"

// writeGoTestProfiles writes what `go test -mutexprofile m.out -blockprofile
// b.out -cpuprofile c.out -memprofile mem.out` writes: the same
// runtime/pprof calls, after a contended run.
func writeGoTestProfiles(t *testing.T, dir string) {
	t.Helper()
	cpuFile, err := os.Create(filepath.Join(dir, "c.out"))
	if err != nil {
		t.Fatal(err)
	}
	if err := pprof.StartCPUProfile(cpuFile); err != nil {
		t.Skipf("CPU profiler busy (test run with -cpuprofile?): %v", err)
	}
	contend(t, 1, 1)
	time.Sleep(300 * time.Millisecond)
	pprof.StopCPUProfile()
	cpuFile.Close()
	for name, profile := range map[string]string{"m.out": "mutex", "b.out": "block", "mem.out": "heap"} {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := pprof.Lookup(profile).WriteTo(f, 0); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
}

func kindsOf(w *window.Window) []window.ProfileKind {
	var ks []window.ProfileKind
	for _, k := range window.Kinds {
		if w.Profile(k) != nil {
			ks = append(ks, k)
		}
	}
	return ks
}

func TestLoadGoTestProfiles(t *testing.T) {
	dir := t.TempDir()
	writeGoTestProfiles(t, dir)
	// go test leaves its binary next to the profiles; a damaged profile
	// deserves a note.
	os.WriteFile(filepath.Join(dir, "pkg.test"), []byte("\x7fELF not a profile"), 0o755)
	os.WriteFile(filepath.Join(dir, "old.out"), []byte("garbage"), 0o644)

	paths := []string{filepath.Join(dir, "m.out"), filepath.Join(dir, "b.out"), filepath.Join(dir, "c.out"), filepath.Join(dir, "mem.out")}
	fromFiles, err := LoadFiles(context.Background(), paths, Options{GoVersion: "go1.26.8"})
	if err != nil {
		t.Fatal(err)
	}
	fromDir, err := Load(context.Background(), dir, Options{GoVersion: "go1.26.8"})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []*window.Window{fromFiles, fromDir} {
		want := []window.ProfileKind{window.Mutex, window.Block, window.Allocs, window.CPU}
		if got := kindsOf(w); !slices.Equal(got, want) {
			t.Errorf("%s: kinds %v, want %v (heap from -memprofile read as allocs)", w.Meta.Source, got, want)
		}
		if got := w.Profile(window.Allocs).DefaultSampleType; got != "alloc_space" {
			t.Errorf("allocs default sample type %q, want alloc_space", got)
		}
		// The CPU profile's duration is the window's length.
		if got, want := w.Seconds(), time.Duration(w.Profile(window.CPU).DurationNanos).Seconds(); got != want || got <= 0 {
			t.Errorf("window length %vs, want the CPU profile's %vs", got, want)
		}
		if w.Meta.MemProfileRate != runtime.MemProfileRate || w.Meta.GoVersion != "go1.26.8" {
			t.Errorf("meta = %+v", w.Meta)
		}
	}
	cpuOnly, err := Load(context.Background(), filepath.Join(dir, "c.out"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(cpuOnly.Notes, "\n"), "no mutex or block profile among the files") {
		t.Errorf("a lone CPU profile should say contention is not measured: %q", cpuOnly.Notes)
	}
	if !strings.Contains(strings.Join(fromDir.Notes, "\n"), "skipped 1 files named like profiles that are not: old.out (not a pprof profile") {
		t.Errorf("notes = %q", fromDir.Notes)
	}
}

func TestLoadFixtureDirectories(t *testing.T) {
	for _, dir := range []string{"go1.25-legacy-syncmap", "go1.26-hashtriemap/mutex", "go1.26-hashtriemap/rwmutex", "go1.26-hashtriemap/syncmap"} {
		t.Run(dir, func(t *testing.T) {
			path := filepath.Join(fixtures, dir)
			w, err := Load(context.Background(), path, Options{})
			if err != nil {
				t.Fatal(err)
			}
			want := []window.ProfileKind{window.Mutex, window.Block, window.Allocs}
			if got := kindsOf(w); !slices.Equal(got, want) {
				t.Errorf("kinds %v, want %v", got, want)
			}
			notes := strings.Join(w.Notes, "\n")
			if !strings.Contains(notes, "window length unknown") || !strings.Contains(notes, "pass --seconds") {
				t.Errorf("notes do not say the length is unknown: %q", w.Notes)
			}
			if w.Seconds() != 0 {
				t.Errorf("window length %vs, want 0 (unknown)", w.Seconds())
			}

			assumed, err := Load(context.Background(), path, Options{Seconds: 4 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			if assumed.Seconds() != 4 || !strings.Contains(strings.Join(assumed.Notes, "\n"), "assumed to be 4s") {
				t.Errorf("with Seconds=4s: length %vs, notes %q", assumed.Seconds(), assumed.Notes)
			}
		})
	}
}

// fixtureWindow is a window made of the Go 1.26 mutex fixture.
func fixtureWindow(t *testing.T) *window.Window {
	t.Helper()
	w, err := Load(context.Background(), filepath.Join(fixtures, "go1.26-hashtriemap/mutex"), Options{Seconds: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	w.ID = "w-42"
	w.Meta.GoVersion = "go1.26.8"
	return w
}

func TestLoadBundle(t *testing.T) {
	w := fixtureWindow(t)
	var buf bytes.Buffer
	if err := w.Encode(&buf); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "window.zip")
	os.WriteFile(path, buf.Bytes(), 0o644)

	got, err := Load(context.Background(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != "w-42" || got.Meta.GoVersion != "go1.26.8" || !slices.Equal(kindsOf(got), kindsOf(w)) {
		t.Errorf("bundle read back as id %q, go %q, kinds %v", got.ID, got.Meta.GoVersion, kindsOf(got))
	}

	// An unpacked bundle is a directory with window.json beside the profiles.
	dir := t.TempDir()
	zr, _ := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	for _, f := range zr.File {
		rc, _ := f.Open()
		var data bytes.Buffer
		data.ReadFrom(rc)
		rc.Close()
		os.WriteFile(filepath.Join(dir, f.Name), data.Bytes(), 0o644)
	}
	unpacked, err := Load(context.Background(), dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if unpacked.ID != "w-42" || unpacked.Meta.GoVersion != "go1.26.8" || !slices.Equal(kindsOf(unpacked), kindsOf(w)) {
		t.Errorf("unpacked bundle read as id %q, go %q, kinds %v", unpacked.ID, unpacked.Meta.GoVersion, kindsOf(unpacked))
	}
}

func TestLoadEmptyContentionProfileNamedByFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "service-mutex.pb.gz")
	os.WriteFile(path, emptyContention(t), 0o644)

	w, err := Load(context.Background(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if w.Profile(window.Mutex) == nil {
		t.Fatalf("kinds %v, want mutex from the file name", kindsOf(w))
	}
	if !strings.Contains(strings.Join(w.Notes, "\n"), "is empty: nothing contended, or mutex profiling was off") {
		t.Errorf("notes = %q", w.Notes)
	}
}

// emptyContention is what a process with mutex profiling off writes for
// -mutexprofile: the contention sample types and no samples.
func emptyContention(t *testing.T) []byte {
	t.Helper()
	p := &profile.Profile{
		SampleType: []*profile.ValueType{{Type: "contentions", Unit: "count"}, {Type: "delay", Unit: "nanoseconds"}},
		PeriodType: &profile.ValueType{Type: "contentions", Unit: "count"},
		Period:     1,
		TimeNanos:  time.Now().UnixNano(),
	}
	var buf bytes.Buffer
	if err := p.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestGroup(t *testing.T) {
	dir := t.TempDir()
	run1, run2 := filepath.Join(dir, "run1"), filepath.Join(dir, "run2")
	for _, d := range []string{run1, run2} {
		os.Mkdir(d, 0o755)
		for _, k := range []string{"mutex", "block"} {
			data, _ := os.ReadFile(filepath.Join(fixtures, "go1.26-hashtriemap/mutex", k+".pb.gz"))
			os.WriteFile(filepath.Join(d, k+".out"), data, 0o644)
		}
	}
	var bundle bytes.Buffer
	fixtureWindow(t).Encode(&bundle)
	bundlePath := filepath.Join(dir, "w.zip")
	os.WriteFile(bundlePath, bundle.Bytes(), 0o644)
	m1, b1, m2, b2 := filepath.Join(run1, "mutex.out"), filepath.Join(run1, "block.out"), filepath.Join(run2, "mutex.out"), filepath.Join(run2, "block.out")

	for _, tc := range []struct {
		args []string
		want [][]string
	}{
		{[]string{m1, b1}, [][]string{{m1, b1}}},
		{[]string{m1, b1, m2, b2}, [][]string{{m1, b1}, {m2, b2}}},
		{[]string{m1, m2}, [][]string{{m1}, {m2}}},
		{[]string{"http://127.0.0.1:6060", m1, b1, run2}, [][]string{{"http://127.0.0.1:6060"}, {m1, b1}, {run2}}},
		{[]string{m1, bundlePath, b1}, [][]string{{m1}, {bundlePath}, {b1}}},
		{[]string{"missing.out", m1}, [][]string{{"missing.out"}, {m1}}},
	} {
		if got := Group(tc.args); !slices.EqualFunc(got, tc.want, slices.Equal) {
			t.Errorf("Group(%q)\n got %q\nwant %q", tc.args, got, tc.want)
		}
	}
}

// TestLoadFileBadInput checks each bad file target's one-line message.
func TestLoadFileBadInput(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	mutex, _ := os.ReadFile(filepath.Join(fixtures, "go1.26-hashtriemap/mutex/mutex.pb.gz"))
	emptyDir := filepath.Join(dir, "nothing-here")
	os.Mkdir(emptyDir, 0o755)
	os.WriteFile(filepath.Join(emptyDir, "README"), []byte("notes"), 0o644)
	var notBundle bytes.Buffer
	zw := zip.NewWriter(&notBundle)
	f, _ := zw.Create("readme.txt")
	f.Write([]byte("hello"))
	zw.Close()
	header, _ := json.Marshal(map[string]any{"schema": "contendr.window/v0"})
	var oldBundle bytes.Buffer
	zw = zip.NewWriter(&oldBundle)
	f, _ = zw.Create("window.json")
	f.Write(header)
	zw.Close()

	for _, tc := range []struct {
		name  string
		paths []string
		opts  Options
		kind  error
		want  []string
	}{
		{"file that does not exist", []string{filepath.Join(dir, "nope.out")}, Options{}, ErrNotFound,
			[]string{"nope.out: no such file or directory", "check the path (a URL needs http://)"}},
		{"empty file", []string{write("empty.out", nil)}, Options{}, ErrNotProfile,
			[]string{"empty.out: empty file, no profile data", "write it again"}},
		{"HTML page saved as a profile", []string{write("mutex.html", []byte("<html><body>pprof</body></html>"))}, Options{}, ErrNotProfile,
			[]string{"mutex.html: is an HTML page, not a profile", "curl -o"}},
		{"truncated gzip", []string{write("cut.pb.gz", mutex[:len(mutex)/3])}, Options{}, ErrNotProfile,
			[]string{"cut.pb.gz: truncated or corrupt gzip data", "write it again"}},
		{"garbage", []string{write("garbage.out", []byte("this is not a profile at all"))}, Options{}, ErrNotProfile,
			[]string{"garbage.out: not a pprof profile"}},
		{"directory with no profiles", []string{emptyDir}, Options{}, ErrNoProfiles,
			[]string{"nothing-here: no profiles in this directory (1 files looked at)", "go test -mutexprofile"}},
		{"file over the size cap", []string{write("big.pb.gz", mutex)}, Options{MaxBytes: 1024}, window.ErrTooLarge,
			[]string{"big.pb.gz: file exceeds the size cap of 1 KiB", "raise --max-bytes"}},
		{"contention profile of undecidable kind", []string{write("contention.out", emptyContention(t))}, Options{}, ErrWrongKind,
			[]string{"contention.out: a contention profile whose frames do not tell", `rename it to contain "mutex" or "block"`}},
		{"two profiles of one kind", []string{write("a.out", mutex), write("b.out", mutex)}, Options{}, ErrWrongKind,
			[]string{"two mutex profiles:", "analyze them one at a time"}},
		{"unrecognized profile", []string{write("odd.pb", synthetic(t, "widgets/count"))}, Options{}, ErrWrongKind,
			[]string{"odd.pb: unrecognized profile (sample types widgets/count)"}},
		{"zip that is not a bundle", []string{write("other.zip", notBundle.Bytes())}, Options{}, ErrNotProfile,
			[]string{"other.zip: not a contendr window bundle", "save it again"}},
		{"bundle of another schema", []string{write("old.zip", oldBundle.Bytes())}, Options{}, ErrNotProfile,
			[]string{`old.zip: bundle schema "contendr.window/v0"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			if len(tc.paths) == 1 {
				_, err = Load(context.Background(), tc.paths[0], tc.opts)
			} else {
				_, err = LoadFiles(context.Background(), tc.paths, tc.opts)
			}
			wantErrContains(t, err, tc.want...)
			if !errors.Is(err, tc.kind) {
				t.Errorf("errors.Is(err, %v) = false for %v", tc.kind, err)
			}
		})
	}
}
