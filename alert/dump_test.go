package alert_test

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/contendr/contendr/alert"
	"github.com/contendr/contendr/window"
)

// profiledWin is win(i) carrying real mutex and block profiles.
func profiledWin(t *testing.T, i int) *window.Window {
	t.Helper()
	w := win(i)
	for _, kind := range []window.ProfileKind{window.Mutex, window.Block} {
		data, err := os.ReadFile(filepath.Join("testdata", string(kind)+".pb.gz"))
		if err != nil {
			t.Fatal(err)
		}
		p, err := window.ParseProfile(data, 0)
		if err != nil {
			t.Fatal(err)
		}
		w.SetProfile(kind, p)
	}
	return w
}

func dumpFiles(t *testing.T, dir string) (names []string, total int64) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		info, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, e.Name())
		if strings.HasSuffix(e.Name(), ".pb.gz") {
			total += info.Size()
		}
	}
	return names, total
}

func TestDumpWritesPprofFilesWithinBounds(t *testing.T) {
	dir := t.TempDir()
	keep := filepath.Join(dir, "README.txt") // not a dump: never pruned
	if err := os.WriteFile(keep, []byte("dumps"), 0o644); err != nil {
		t.Fatal(err)
	}
	first := profiledWin(t, 1)
	var oneDump int64 // bytes of one firing's files
	for _, k := range []window.ProfileKind{window.Mutex, window.Block} {
		var buf bytes.Buffer
		if err := first.Profile(k).Write(&buf); err != nil {
			t.Fatal(err)
		}
		oneDump += int64(buf.Len())
	}
	cfg := oneRule(nil)
	cfg.DumpDir = dir
	cfg.DumpMaxFiles = 5
	cfg.DumpMaxBytes = 2*oneDump + 100 // room for two firings' files, not one more file
	ev, err := alert.NewEvaluator(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer ev.Close()

	var last alert.Event
	for i := 1; i <= 12; i++ { // fires on odd windows, resolves on even ones
		f := 0.5
		if i%2 == 0 {
			f = 0.01
		}
		for _, e := range ev.Observe(profiledWin(t, i), lockValues(f)) {
			if e.State == alert.Firing {
				last = e
			}
		}
	}

	names, total := dumpFiles(t, dir)
	if total > cfg.DumpMaxBytes || len(names)-1 > cfg.DumpMaxFiles {
		t.Errorf("dump dir holds %d files, %d bytes; bounds are %d files, %d bytes: %v",
			len(names)-1, total, cfg.DumpMaxFiles, cfg.DumpMaxBytes, names)
	}
	want := []string{
		"README.txt",
		"lock_fraction_crit-11-20261125T121100Z.block.pb.gz",
		"lock_fraction_crit-11-20261125T121100Z.mutex.pb.gz",
		"lock_fraction_crit-9-20261125T120900Z.block.pb.gz",
		"lock_fraction_crit-9-20261125T120900Z.mutex.pb.gz",
	}
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Errorf("dump dir holds %v, want the newest two firings and the README: %v", names, want)
	}
	if len(last.Dumps) != 2 {
		t.Fatalf("last firing lists dumps %v, want its two files", last.Dumps)
	}
	for _, path := range last.Dumps {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := window.ParseProfile(data, 0); err != nil {
			t.Errorf("dump %s is not a profile pprof reads: %v", path, err)
		}
	}
}

func TestUnwritableDumpDirIsLoggedNotFatal(t *testing.T) {
	notADir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notADir, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	readOnly := filepath.Join(t.TempDir(), "ro")
	if err := os.Mkdir(readOnly, 0o555); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		dir  string
	}{
		{"parent is a file", filepath.Join(notADir, "dumps")},
		{"read-only directory", readOnly},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.dir == readOnly && os.Geteuid() == 0 {
				t.Skip("running as root: permission bits do not stop writes")
			}
			var logs bytes.Buffer
			cfg := oneRule(nil)
			cfg.DumpDir = tt.dir
			cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
			var delivered []alert.Event
			cfg.OnAlert = func(e alert.Event) { delivered = append(delivered, e) }
			ev, err := alert.NewEvaluator(cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer ev.Close()
			ev.Observe(profiledWin(t, 1), lockValues(0.5))
			if len(delivered) != 1 || len(delivered[0].Dumps) != 0 {
				t.Errorf("delivered %+v, want the firing without dumps", delivered)
			}
			if !strings.Contains(logs.String(), "profile dump failed") {
				t.Errorf("log lacks the dump error:\n%s", logs.String())
			}
			if got := counter(t, ev, "contendr_alert_dump_errors_total"); got == 0 {
				t.Error("dump error counter stayed 0")
			}
		})
	}
}
