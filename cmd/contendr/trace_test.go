package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// traceFixture is a real trace: seven readers and one slow writer on one
// sync.Mutex (collectors/locktrace/testdata/convoy).
const traceFixture = "../../collectors/locktrace/testdata/mutex-convoy.trace"

func TestAnalyzeTrace(t *testing.T) {
	ctx := context.Background()
	code, stdout, stderr := execute(t, ctx, "analyze", traceFixture)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"TRACE (exact", "P-time lost to locks", "main.(*cache).get  [mutex]", "woken by main.(*cache).set", "chain of"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("text report lacks %q:\n%s", want, stdout)
		}
	}
	code, stdout, stderr = execute(t, ctx, "analyze", traceFixture, "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	r := decodeReports(t, stdout)[0]
	if r.Trace == nil || r.Trace.Top().Function != "main.(*cache).get" || r.Trace.LostPSeconds <= 0 {
		t.Errorf("JSON report's trace: %+v", r.Trace)
	}

	// A directory holding the trace (an unpacked bundle) reads it too.
	data, err := os.ReadFile(traceFixture)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "trace.out"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	if code, stdout, stderr := execute(t, ctx, "analyze", dir); code != 0 || !strings.Contains(stdout, "TRACE (exact") {
		t.Errorf("analyze of a directory with trace.out: exit %d, %s%s", code, stdout, stderr)
	}
}

func TestAnalyzeBadTrace(t *testing.T) {
	data, err := os.ReadFile(traceFixture)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for name, body := range map[string][]byte{
		"truncated.trace": data[:len(data)/2],
		"future.trace":    append([]byte("go 1.99 trace\x00\x00\x00"), data[16:]...),
	} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, body, 0o644); err != nil {
			t.Fatal(err)
		}
		code, _, stderr := execute(t, context.Background(), "analyze", path)
		lines := strings.Split(strings.TrimSpace(stderr), "\n")
		if code != 1 || len(lines) != 1 || !strings.Contains(lines[0], path) || !strings.Contains(lines[0], "trace") {
			t.Errorf("%s: exit %d, stderr %q; want 1 and one line naming the file", name, code, stderr)
		}
	}
}

func TestFlameTraceSync(t *testing.T) {
	code, stdout, stderr := execute(t, context.Background(), "flame", traceFixture, "--profile", "sync", "--format", "folded")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "main.(*cache).set;sync.(*Mutex).Lock") {
		t.Errorf("folded sync graph lacks the writer's wait:\n%s", stdout)
	}
	code, _, stderr = execute(t, context.Background(), "flame", traceFixture, "--format", "folded")
	if code != 1 || !strings.Contains(stderr, "--profile sync") {
		t.Errorf("flame of a trace without --profile sync: exit %d, %q; want a pointer to --profile sync", code, stderr)
	}
}
