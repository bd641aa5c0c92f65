package main

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/pprof"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/contendr/contendr/agent"
	"github.com/contendr/contendr/source"
	"github.com/contendr/contendr/window"
)

const flameFixtures = "../../testdata/profiles"

func TestFlameWritesEachFormat(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(flameFixtures, "go1.26-hashtriemap/syncmap")
	for _, tc := range []struct {
		out   string
		check func(t *testing.T, data []byte)
	}{
		{"g.svg", func(t *testing.T, data []byte) {
			dec := xml.NewDecoder(bytes.NewReader(data))
			for {
				if _, err := dec.Token(); err == io.EOF {
					break
				} else if err != nil {
					t.Fatalf("SVG is not XML: %v", err)
				}
			}
		}},
		{"g.html", func(t *testing.T, data []byte) {
			if !bytes.Contains(data, []byte(`class="cf-flame"`)) {
				t.Error("HTML page holds no flame graph")
			}
		}},
		{"g.folded", func(t *testing.T, data []byte) {
			if !bytes.Contains(data, []byte("sync.(*Map).Store;")) {
				t.Errorf("folded output lacks sync.Map frames:\n%.300s", data)
			}
		}},
		{"g.json", func(t *testing.T, data []byte) {
			if !bytes.Contains(data, []byte(`"type":"sampled"`)) {
				t.Error("not a sampled speedscope profile")
			}
		}},
		{"g.pb.gz", func(t *testing.T, data []byte) {
			p, err := window.ParseProfile(data, 0)
			if err != nil || p.DefaultSampleType != "delay" {
				t.Errorf("pprof output: %v, default sample type %q", err, p.DefaultSampleType)
			}
		}},
	} {
		t.Run(tc.out, func(t *testing.T) {
			out := filepath.Join(dir, tc.out)
			if err := runFlame(context.Background(), io.Discard, target, flameOptions{profile: "mutex", output: out, minWidth: 0.1}); err != nil {
				t.Fatal(err)
			}
			data, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, data)
		})
	}
}

func TestFlameDiffToStdout(t *testing.T) {
	var out bytes.Buffer
	err := runFlame(context.Background(), &out, filepath.Join(flameFixtures, "go1.26-hashtriemap/syncmap/mutex.pb.gz"),
		flameOptions{base: filepath.Join(flameFixtures, "go1.25-legacy-syncmap/mutex.pb.gz")})
	if err != nil {
		t.Fatal(err)
	}
	// Two value columns: base and target. The legacy map's mutex frames
	// are in the base only.
	found := false
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		f := strings.Fields(line)
		if strings.HasSuffix(line, " 0") && strings.Contains(line, "sync.(*Mutex).Unlock") && len(f) >= 3 {
			found = true
		}
	}
	if !found {
		t.Errorf("no vanished sync.(*Mutex).Unlock line with a zero target column in:\n%.500s", out.String())
	}
}

func TestFlameErrors(t *testing.T) {
	syncmap := filepath.Join(flameFixtures, "go1.26-hashtriemap/syncmap")
	for _, tc := range []struct {
		name   string
		target string
		opts   flameOptions
		want   string
		code   int
	}{
		{"missing kind", syncmap, flameOptions{profile: "cpu"}, "no cpu profile in", exitError},
		{"unknown sample", syncmap, flameOptions{profile: "mutex", sample: "alloc_space"}, "the profile has: contentions, delay", exitError},
		{"wrong kind file", filepath.Join(syncmap, "block.pb.gz"), flameOptions{profile: "mutex"}, "holds a block profile", exitError},
		{"unknown extension", syncmap, flameOptions{output: "x.png"}, "cannot tell the format", exitUsage},
		{"unknown profile", syncmap, flameOptions{profile: "mutexes"}, "unknown --profile", exitUsage},
		{"diff to speedscope", syncmap, flameOptions{base: syncmap, format: "speedscope"}, "svg, html or folded", exitUsage},
		{"missing target", filepath.Join(t.TempDir(), "nope"), flameOptions{}, "no such file", exitError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := runFlame(context.Background(), io.Discard, tc.target, tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
			code := exitError
			var ce *codeError
			if errors.As(err, &ce) {
				code = ce.code
			}
			if code != tc.code {
				t.Errorf("exit code %d, want %d", code, tc.code)
			}
		})
	}
}

// TestFlameLiveEmptyProfile measures a real net/http/pprof server in which
// nothing blocks: the error must say the profile is empty and why.
func TestFlameLiveEmptyProfile(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	err := runFlame(context.Background(), io.Discard, srv.URL, flameOptions{profile: "block", load: source.Options{Seconds: time.Second, Timeout: 10 * time.Second, MaxBytes: 1 << 20}})
	if err == nil || !strings.Contains(err.Error(), "block") {
		t.Fatalf("got %v, want an error about the empty or missing block profile", err)
	}
	t.Log(err)
}

func TestFlameCommandLine(t *testing.T) {
	out := filepath.Join(t.TempDir(), "g.svg")
	code := run(context.Background(), []string{"flame", filepath.Join(flameFixtures, "go1.25-legacy-syncmap"), "--profile", "block", "--sample", "contentions", "-o", out})
	if code != exitOK {
		t.Fatalf("exit code %d", code)
	}
	if info, err := os.Stat(out); err != nil || info.Size() == 0 {
		t.Fatalf("no SVG written: %v", err)
	}
	if code := run(context.Background(), []string{"flame"}); code != exitUsage {
		t.Errorf("no target: exit code %d, want %d", code, exitUsage)
	}
}

// TestFlameHeapFromAnAgent draws the heap profile of an agent that serves
// /debug/pprof/heap (no window holds it) with the CLI's own flags, through
// the token and -o written atomically.
func TestFlameHeapFromAnAgent(t *testing.T) {
	a, err := agent.Start(agent.Config{Interval: time.Hour, Token: "s3cret", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Stop()
	srv := httptest.NewServer(a.Handler())
	defer srv.Close()
	out := filepath.Join(t.TempDir(), "heap.svg")
	var stderr bytes.Buffer
	if code := runIO(context.Background(), []string{"flame", srv.URL, "--profile", "heap", "--seconds", "1", "--token", "s3cret", "-o", out}, io.Discard, &stderr); code != exitOK {
		t.Fatalf("flame --profile heap: exit %d: %s", code, stderr.String())
	}
	if data, err := os.ReadFile(out); err != nil || !bytes.Contains(data, []byte("<svg")) {
		t.Fatalf("no SVG written: %v", err)
	}
}
