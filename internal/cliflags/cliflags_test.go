package cliflags

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{"10": 10 * time.Second, "10s": 10 * time.Second, "0.5": 500 * time.Millisecond, "1m30s": 90 * time.Second, "0.001": time.Millisecond} {
		if got, err := ParseDuration(in); err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0", "-1", "soon", "10x"} {
		if _, err := ParseDuration(in); err == nil {
			t.Errorf("ParseDuration(%q) accepted", in)
		}
	}
}

func TestParseFraction(t *testing.T) {
	for in, want := range map[string]float64{"5%": 0.05, "0.05": 0.05, "100%": 1, "1": 1, "0": 0, " 2.5 % ": 0.025} {
		if got, err := ParseFraction(in); err != nil || got != want {
			t.Errorf("ParseFraction(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for in, hint := range map[string]string{"5": "write 5%", "50": "write 50%", "101%": "outside", "250": "above 1", "-0.1": "negative", "x": "5%"} {
		if _, err := ParseFraction(in); err == nil || !strings.Contains(err.Error(), hint) {
			t.Errorf("ParseFraction(%q): %v, want an error with %q", in, err, hint)
		}
	}
}

func TestSize(t *testing.T) {
	for in, want := range map[string]Size{"64MiB": 64 << 20, "1GiB": 1 << 30, "500MB": 500e6, "4096": 4096} {
		var s Size
		if err := s.Set(in); err != nil || s != want {
			t.Errorf("Size.Set(%q) = %d, %v; want %d", in, s, err, want)
		}
	}
	var s Size
	if err := s.Set("0"); err == nil {
		t.Error("a zero size accepted")
	}
}

// TestWriteAtomic: a failed write leaves the old file as it was and no
// temporary file behind; a good one replaces it.
func TestWriteAtomic(t *testing.T) {
	path := filepath.Join(t.TempDir(), "report.txt")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	if err := WriteAtomic(path, func(w io.Writer) error { w.Write([]byte("half")); return boom }); !errors.Is(err, boom) {
		t.Fatalf("failed write: %v", err)
	}
	if data, _ := os.ReadFile(path); string(data) != "old" {
		t.Errorf("after a failed write the file holds %q, want the old one", data)
	}
	if err := WriteAtomic(path, func(w io.Writer) error { _, err := w.Write([]byte("new")); return err }); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if data, _ := os.ReadFile(path); string(data) != "new" || len(entries) != 1 {
		t.Errorf("file %q, %d entries in its directory; want new and 1", data, len(entries))
	}
}

func TestVersionOf(t *testing.T) {
	info := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.3.0"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "5a1e81e7883d972f05b480cbf9a411718c961a55"},
		{Key: "vcs.time", Value: "2026-12-01T22:09:20Z"}, {Key: "vcs.modified", Value: "true"}}}
	want := "v0.3.0, revision 5a1e81e7883d+modified, committed 2026-12-01T22:09:20Z, built with go1.26.8"
	if got := versionOf(info); got != want {
		t.Errorf("versionOf = %q, want %q", got, want)
	}
	if got := versionOf(&debug.BuildInfo{GoVersion: "go1.26.8"}); got != "(devel), built with go1.26.8" {
		t.Errorf("no module version: %q", got)
	}
}
