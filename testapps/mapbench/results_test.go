package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestCommitStamp: a checkout is dirty when its code differs from HEAD,
// not when results were rewritten.
func TestCommitStamp(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	dir := t.TempDir()
	run := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	write := func(name, text string) {
		t.Helper()
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	run("init", "-q")
	write("a.go", "package a\n")
	write("app/results/accuracy.md", "first\n")
	run("add", ".")
	run("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "first")

	clean := commitStamp(dir)
	if clean == "" || strings.HasSuffix(clean, "-dirty") {
		t.Fatalf("a fresh commit stamps %q, want its hash alone", clean)
	}
	write("app/results/accuracy.md", "rewritten\n")
	write("app/results/windows/case.zip", "new\n")
	if got := commitStamp(dir); got != clean {
		t.Errorf("rewritten results stamp %q, want %q: they do not change what ran", got, clean)
	}
	write("b.go", "package a\n")
	if got := commitStamp(dir); got != clean+"-dirty" {
		t.Errorf("a new source file stamps %q, want %q", got, clean+"-dirty")
	}
	os.Remove(filepath.Join(dir, "b.go"))
	write("a.go", "package a // changed\n")
	if got := commitStamp(dir); got != clean+"-dirty" {
		t.Errorf("changed code stamps %q, want %q", got, clean+"-dirty")
	}
}

// TestCLIStamp: the advice of a -contendr binary is stamped with the
// commit it was built from, and says so when the binary cannot tell.
func TestCLIStamp(t *testing.T) {
	if got := cliStamp(filepath.Join(t.TempDir(), "missing")); !strings.HasPrefix(got, "an unreadable CLI") {
		t.Errorf("a missing binary: %q", got)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// Test binaries carry no VCS stamp.
	if got := cliStamp(self); !strings.HasPrefix(got, "a CLI without a VCS stamp") {
		t.Errorf("the test binary: %q", got)
	}
}
