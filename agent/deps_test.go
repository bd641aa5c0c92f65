package agent

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencies holds the line DESIGN.md draws: the agent goes into
// production binaries, so it pulls in nothing the CLI alone needs, and not
// net/http/pprof, whose init registers handlers on http.DefaultServeMux.
func TestDependencies(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go command not found: cannot list dependencies")
	}
	out, err := exec.Command(goTool, "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		switch {
		case dep == "net/http/pprof",
			strings.HasPrefix(dep, "github.com/spf13/"),
			strings.HasPrefix(dep, "github.com/contendr/contendr/cmd"),
			strings.HasPrefix(dep, "github.com/contendr/contendr/webui"),
			strings.HasPrefix(dep, "github.com/contendr/contendr/flame"):
			t.Errorf("the agent depends on %s", dep)
		}
	}
}
