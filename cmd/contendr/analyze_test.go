package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/pprof"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/contendr/contendr/internal/testload"

	"github.com/contendr/contendr/agent"
	"github.com/contendr/contendr/analyze"
)

const fixtures = "../../testdata/profiles"

var legacyFixture = filepath.Join(fixtures, "go1.25-legacy-syncmap")

// execute runs the CLI as main does and returns what it wrote.
func execute(t *testing.T, ctx context.Context, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = runIO(ctx, args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func decodeReports(t *testing.T, data string) []analyze.Report {
	t.Helper()
	var reports []analyze.Report
	if strings.HasPrefix(strings.TrimSpace(data), "[") {
		if err := json.Unmarshal([]byte(data), &reports); err != nil {
			t.Fatalf("output is not a JSON array of reports: %v\n%s", err, data)
		}
		return reports
	}
	var r analyze.Report
	if err := json.Unmarshal([]byte(data), &r); err != nil {
		t.Fatalf("output is not a JSON report: %v\n%s", err, data)
	}
	return []analyze.Report{r}
}

func TestAnalyzeProfileDirectory(t *testing.T) {
	code, stdout, stderr := execute(t, context.Background(), "analyze", legacyFixture, "--seconds", "10", "--go-version", "go1.25.0", "--format", "json")
	if code != exitOK {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	reports := decodeReports(t, stdout)
	if len(reports) != 1 || reports[0].Target.Source != legacyFixture || reports[0].Target.GoVersion != "go1.25.0" {
		t.Errorf("reports = %+v", reports)
	}
	if reports[0].Worst() != analyze.SeverityCrit {
		t.Errorf("legacy sync.Map fixture judged %s, want crit (its dirty-map copies are ~100%% of allocation)", reports[0].Worst())
	}
}

func TestAnalyzeFormats(t *testing.T) {
	for format, want := range map[string]string{
		"text":     "contendr report for " + legacyFixture,
		"markdown": "#",
		"md":       "#",
		"html":     "<html",
		"json":     `"schema": "contendr.report/v1"`,
	} {
		code, stdout, stderr := execute(t, context.Background(), "analyze", legacyFixture, "--format", format)
		if code != exitOK || !strings.Contains(stdout, want) {
			t.Errorf("--format %s: exit %d, stderr %q, output lacks %q", format, code, stderr, want)
		}
	}
}

func TestAnalyzeSeveralTargets(t *testing.T) {
	mutexDir := filepath.Join(fixtures, "go1.26-hashtriemap/mutex")
	code, stdout, stderr := execute(t, context.Background(), "analyze", legacyFixture, mutexDir, "--format", "json")
	if code != exitOK {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	reports := decodeReports(t, stdout)
	if len(reports) != 2 || reports[0].Target.Source != legacyFixture || reports[1].Target.Source != mutexDir {
		t.Fatalf("want two reports in target order, got %d", len(reports))
	}

	// Profile files given one by one make one window.
	files := []string{filepath.Join(mutexDir, "mutex.pb.gz"), filepath.Join(mutexDir, "block.pb.gz"), filepath.Join(mutexDir, "allocs.pb.gz")}
	code, stdout, stderr = execute(t, context.Background(), append([]string{"analyze", "--format", "json"}, files...)...)
	if code != exitOK {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if reports := decodeReports(t, stdout); len(reports) != 1 || reports[0].Target.Source != strings.Join(files, " + ") {
		t.Errorf("three profile files should make one report, got %d", len(reports))
	}
}

func TestAnalyzeFailOn(t *testing.T) {
	code, stdout, stderr := execute(t, context.Background(), "analyze", legacyFixture, "--fail-on", "crit")
	if code != exitThreshold {
		t.Fatalf("exit %d, want %d; stderr %q", code, exitThreshold, stderr)
	}
	if !strings.Contains(stdout, "contendr report for") {
		t.Error("the report should still be written when a threshold is crossed")
	}
	if want := "contendr: " + legacyFixture + ": findings reached crit (--fail-on crit)\n"; stderr != want {
		t.Errorf("stderr = %q, want %q", stderr, want)
	}
	// Raised limits: nothing reaches crit any more.
	code, _, stderr = execute(t, context.Background(), "analyze", legacyFixture, "--fail-on", "crit", "--growth-warn", "99.9%", "--growth-crit", "100%", "--lock-crit", "0.99", "--site-crit", "99%")
	if code != exitOK {
		t.Errorf("with raised limits: exit %d, stderr %q", code, stderr)
	}
}

func TestAnalyzeThresholdsFileAndFlags(t *testing.T) {
	path := filepath.Join(t.TempDir(), "limits.yaml")
	os.WriteFile(path, []byte("map_growth_share: {warn: 40%, crit: 70%}\n"), 0o644)
	code, stdout, stderr := execute(t, context.Background(), "analyze", legacyFixture, "--format", "json", "--thresholds", path, "--growth-crit", "0.8")
	if code != exitOK {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	var found bool
	for _, f := range decodeReports(t, stdout)[0].Findings {
		if f.ID == "map_growth_share" || strings.HasPrefix(f.ID, "map_growth_share") {
			found = true
			if f.Warn != 0.4 || f.Crit != 0.8 {
				t.Errorf("finding %s judged against warn %v crit %v, want 0.4 (file) and 0.8 (flag)", f.ID, f.Warn, f.Crit)
			}
		}
	}
	if !found {
		t.Error("no map_growth_share finding in the report")
	}
}

func TestAnalyzeOutputFile(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "report.md")
	code, stdout, stderr := execute(t, context.Background(), "analyze", legacyFixture, "--format", "markdown", "-o", out)
	if code != exitOK || stdout != "" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if data, err := os.ReadFile(out); err != nil || !strings.Contains(string(data), "#") {
		t.Errorf("report file: %v, %q", err, data)
	}

	// A failed target: no file that looks complete.
	partial := filepath.Join(dir, "partial.md")
	missing := filepath.Join(dir, "missing.out")
	code, _, stderr = execute(t, context.Background(), "analyze", legacyFixture, missing, "-o", partial)
	if code != exitError {
		t.Errorf("exit %d, want %d", code, exitError)
	}
	if _, err := os.Stat(partial); err == nil {
		t.Error("report file written although a target failed")
	}
	wantLines(t, stderr,
		"contendr: "+missing+": no such file or directory; check the path (a URL needs http://)",
		"contendr: "+partial+": not written, since 1 of 2 targets failed; fix them and run again")
}

// wantLines checks stderr line by line.
func wantLines(t *testing.T, stderr string, lines ...string) {
	t.Helper()
	got := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
	if len(got) != len(lines) {
		t.Fatalf("stderr has %d lines, want %d:\n%s", len(got), len(lines), stderr)
	}
	for i := range lines {
		if got[i] != lines[i] {
			t.Errorf("stderr line %d\n got %q\nwant %q", i+1, got[i], lines[i])
		}
	}
}

func TestAnalyzeUsageErrors(t *testing.T) {
	badThresholds := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(badThresholds, []byte("lock_fraction: {warn: 50%, crit: 10%}\n"), 0o644)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"analyze"}, "contendr: requires at least 1 arg(s), only received 0"},
		{[]string{"analyze", "x", "--bogus"}, "contendr: unknown flag: --bogus"},
		{[]string{"analyze", "x", "--format", "pdf"}, `contendr: --format "pdf": want text, json, markdown or html`},
		{[]string{"analyze", "x", "--fail-on", "sometimes"}, `contendr: --fail-on "sometimes": want warn or crit`},
		{[]string{"analyze", "x", "--fail-on", "ok"}, `contendr: --fail-on "ok": want warn or crit`},
		{[]string{"analyze", "x", "--header", "Authorization Bearer x"}, `contendr: --header "Authorization Bearer x": want 'Name: value'`},
		{[]string{"analyze", "x", "--seconds", "soon"}, `contendr: invalid argument "soon" for "--seconds" flag: want seconds (10) or a duration (10s, 1m30s)`},
		{[]string{"analyze", "x", "--seconds", "-3"}, `contendr: invalid argument "-3" for "--seconds" flag: want a positive duration (10, 10s, 1m)`},
		{[]string{"analyze", "x", "--lock-warn", "lots"}, `contendr: invalid argument "lots" for "--lock-warn" flag: want a fraction (0.05) or a percentage (5%)`},
		{[]string{"analyze", "x", "--lock-crit", "50"}, `contendr: invalid argument "50" for "--lock-crit" flag: 50 is above 1 (100%): for 50 percent write 50%`},
		{[]string{"analyze", "x", "--cost-warn", "30%", "--cost-crit", "10%"}, "contendr: thresholds: contention_cost: warn 0.3 is above crit 0.1"},
		{[]string{"analyze", "x", "--thresholds", badThresholds}, "contendr: --thresholds " + badThresholds + ": reading thresholds from " + badThresholds + ": lock_fraction: warn 0.5 is above crit 0.1; fix the file"},
		{[]string{"analyze", "x", "--thresholds", "/nonexistent/t.yaml"}, "contendr: --thresholds /nonexistent/t.yaml: reading thresholds: open /nonexistent/t.yaml: no such file or directory"},
		{[]string{"analyze", "x", "--profiles", "trace"}, `contendr: --profiles "trace": want cpu, fgprof or goroutine`},
		{[]string{"analyze", "x", "--max-bytes", "lots"}, `contendr: invalid argument "lots" for "--max-bytes" flag: want a positive size like 64MiB`},
		{[]string{"analyze", "x", "--timeout", "0s"}, `contendr: invalid argument "0s" for "--timeout" flag: want a positive duration (10, 10s, 1m)`},
		{[]string{"analyze", "x", "--token", "t", "--header", "Authorization: Bearer u"}, "contendr: --token and --header 'Authorization: …' both set the Authorization header"},
	} {
		code, stdout, stderr := execute(t, context.Background(), tc.args...)
		if code != exitUsage {
			t.Errorf("%q: exit %d, want %d (stderr %q)", tc.args, code, exitUsage, stderr)
		}
		if !strings.HasPrefix(stderr, tc.want) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%q: stderr %q, want one line starting %q", tc.args, stderr, tc.want)
		}
		if stdout != "" {
			t.Errorf("%q: stdout %q, want nothing", tc.args, stdout)
		}
	}
}

// TestAnalyzeBadTargets checks that each bad target ends in exit 1 and one
// line on stderr naming it, what happened and what to do, with no report.
func TestAnalyzeBadTargets(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + l.Addr().String()
	l.Close()
	notFound := httptest.NewServer(http.NewServeMux())
	defer notFound.Close()
	unauthorized := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
	}))
	defer unauthorized.Close()
	html := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte("<!doctype html><title>Grafana</title>"))
	}))
	defer html.Close()
	hanging := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	defer hanging.Close()
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.out")
	os.WriteFile(empty, nil, 0o644)
	noProfiles := filepath.Join(dir, "notes")
	os.Mkdir(noProfiles, 0o755)
	os.WriteFile(filepath.Join(noProfiles, "README"), []byte("hi"), 0o644)

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{filepath.Join(dir, "nope.out")}, filepath.Join(dir, "nope.out") + ": no such file or directory; check the path"},
		{[]string{empty}, empty + ": empty file, no profile data; write it again"},
		{[]string{noProfiles}, noProfiles + ": no profiles in this directory (1 files looked at); write them with go test -mutexprofile"},
		{[]string{refused}, refused + ": connection refused; check that the process is running"},
		{[]string{"http://no-such-host.invalid:6060"}, `http://no-such-host.invalid:6060: cannot resolve host "no-such-host.invalid"; check the host name`},
		{[]string{notFound.URL}, notFound.URL + ": GET /debug/pprof/heap?debug=1: 404 Not Found; is net/http/pprof imported"},
		{[]string{unauthorized.URL}, unauthorized.URL + ": GET /debug/contendr/windows: 401 Unauthorized: unauthorized; pass --header 'Authorization: Bearer <token>'"},
		{[]string{html.URL}, html.URL + ": GET /debug/pprof/heap?debug=1: got an HTML page instead of a heap profile; check that the URL points at a Go pprof server"},
		{[]string{hanging.URL, "--timeout", "300ms"}, hanging.URL + ": GET /debug/contendr/windows: no answer within 300ms; check that the server is a Go pprof endpoint and not stalled, or raise --timeout"},
	} {
		code, stdout, stderr := execute(t, context.Background(), append([]string{"analyze"}, tc.args...)...)
		if code != exitError {
			t.Errorf("%q: exit %d, want %d (stderr %q)", tc.args, code, exitError, stderr)
		}
		if want := "contendr: " + tc.want; !strings.HasPrefix(stderr, want) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%q:\nstderr %q\nwant one line starting %q", tc.args, stderr, want)
		}
		if stdout != "" {
			t.Errorf("%q: a failed target wrote a report: %q", tc.args, stdout)
		}
	}
}

// contendedPprofServer is a net/http/pprof server in a process with lock
// contention going on.
func contendedPprofServer(t *testing.T) string {
	t.Helper()
	testload.Contend(t, 5, 10_000)
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestAnalyzeLivePprofServer(t *testing.T) {
	url := contendedPprofServer(t)
	code, stdout, stderr := execute(t, context.Background(), "analyze", url, "--seconds", "1", "--format", "json")
	if code != exitOK {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	r := decodeReports(t, stdout)[0]
	if r.Target.Source != url || len(r.Lock.Components) == 0 {
		t.Errorf("report for %s has target %q and %d contended components", url, r.Target.Source, len(r.Lock.Components))
	}
	if stderr != "" {
		t.Errorf("no progress line should go to a stderr that is not a terminal, got %q", stderr)
	}

	// Ctrl-C during the window: one line, exit 1, no report.
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	code, stdout, stderr = execute(t, ctx, "analyze", url, "--seconds", "30")
	if code != exitError || stdout != "" || !strings.HasPrefix(stderr, "contendr: "+url+": interrupted while fetching") {
		t.Errorf("interrupted: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

func TestAnalyzeAgentWithToken(t *testing.T) {
	a, err := agent.Start(agent.Config{Interval: time.Hour, Token: "s3cret", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Stop()
	for range 2 {
		if _, err := a.CollectNow(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	srv := httptest.NewServer(a.Handler())
	defer srv.Close()

	code, stdout, stderr := execute(t, context.Background(), "analyze", srv.URL, "--header", "Authorization: Bearer s3cret", "--format", "json")
	if code != exitOK {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if r := decodeReports(t, stdout)[0]; r.Target.GoVersion != runtime.Version() {
		t.Errorf("report's Go version %q, want the agent's %q", r.Target.GoVersion, runtime.Version())
	}

	code, _, stderr = execute(t, context.Background(), "analyze", srv.URL, "--header", "Authorization: Bearer wrong")
	if want := "contendr: " + srv.URL + ": GET /debug/contendr/windows: 401 Unauthorized"; code != exitError || !strings.HasPrefix(stderr, want) ||
		!strings.HasSuffix(stderr, "the Authorization header was rejected; check the token\n") {
		t.Errorf("wrong token: exit %d, stderr %q", code, stderr)
	}
}

// TestProgressLine checks the terminal line: redrawn only when its text
// changes, erased at the end. (newProgressLine only enables it on a
// terminal; `script` showed the real thing.)
func TestProgressLine(t *testing.T) {
	var term bytes.Buffer
	p := &progressLine{w: &term, target: "http://127.0.0.1:6060"}
	p.update(0, 10*time.Second)
	p.update(200*time.Millisecond, 10*time.Second)
	p.update(3*time.Second, 10*time.Second)
	p.clear()
	want := "\r\033[Kcollecting 0s/10s from http://127.0.0.1:6060" +
		"\r\033[Kcollecting 3s/10s from http://127.0.0.1:6060" +
		"\r\033[K"
	if term.String() != want {
		t.Errorf("terminal got %q\nwant %q", term.String(), want)
	}
	if silent := newProgressLine(&term, "x"); silent.w != nil {
		t.Error("a progress line on a buffer, not a terminal, should stay silent")
	}
}
