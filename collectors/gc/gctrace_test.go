package gc

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/contendr/contendr/window"
)

const (
	gctraceChildEnv = "CONTENDR_GCTRACE_CHILD"
	gctraceBegin    = "contendr-gctrace-begin"
	gctraceEnd      = "contendr-gctrace-end"
)

// gctraceLine matches the runtime's GODEBUG=gctrace=1 summary of one cycle:
// "gc 12 @1.234s 5%: 0.020+1.5+0.030 ms clock, …".
var gctraceLine = regexp.MustCompile(`^gc (\d+) @[0-9.]+s \d+%: ([0-9.]+)\+[0-9.]+\+([0-9.]+) ms clock`)

// TestCyclesAgreeWithGCTrace runs the copy-on-write workload in a child
// process under GODEBUG=gctrace=1 and checks that the cycles Collect reads
// from runtime/metrics are the cycles the runtime traced in the same span.
func TestCyclesAgreeWithGCTrace(t *testing.T) {
	if os.Getenv(gctraceChildEnv) == "1" {
		gctraceChild(t)
		return
	}
	if testing.Short() {
		t.Skip("runs a child process for 0.5 s")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestCyclesAgreeWithGCTrace$")
	cmd.Env = append(os.Environ(), "GODEBUG=gctrace=1", gctraceChildEnv+"=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if out, err := cmd.Output(); err != nil {
		t.Fatalf("child: %v\n%s\n%s", err, out, stderr.Bytes())
	}

	var inside bool
	var traced, reported int
	var reportedMaxPause float64 // seconds
	var maxSTW float64           // ms, the larger of the two stop-the-world phases
	sc := bufio.NewScanner(&stderr)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == gctraceBegin:
			inside = true
		case len(line) > len(gctraceEnd) && line[:len(gctraceEnd)] == gctraceEnd:
			inside = false
			if _, err := fmt.Sscanf(line, gctraceEnd+" cycles=%d pause_max_seconds=%g", &reported, &reportedMaxPause); err != nil {
				t.Fatalf("child's end line %q: %v", line, err)
			}
		case inside:
			if m := gctraceLine.FindStringSubmatch(line); m != nil {
				traced++
				for _, ms := range m[2:] {
					v, _ := strconv.ParseFloat(ms, 64)
					maxSTW = max(maxSTW, v)
				}
			}
		}
	}
	t.Logf("gctrace: %d cycles between the markers, max STW phase %.3f ms; Collect: %d cycles, max pause ≤ %.3f ms",
		traced, maxSTW, reported, 1e3*reportedMaxPause)
	if traced < 10 {
		t.Fatalf("only %d gctrace lines between the markers; is the workload allocating?", traced)
	}
	// The markers bracket the metrics readings; a cycle that completes
	// between a marker and a reading, or whose trace line is printed just
	// after its count went up, shifts the figures by one at either end.
	if diff := traced - reported; diff < -2 || diff > 2 {
		t.Errorf("gctrace shows %d cycles, Collect %d: want them within 2", traced, reported)
	}
}

// gctraceChild is the child's side: one window over the COW workload.
func gctraceChild(t *testing.T) {
	fmt.Fprintln(os.Stderr, gctraceBegin)
	w := &window.Window{ID: "gctrace", Start: time.Now(), Metrics: &window.SamplePair{Start: readMetrics(t)}}
	runWorkload(newCOWStore(), liveDuration/2)
	w.Metrics.End = readMetrics(t)
	w.End = time.Now()
	r, err := Collect(w, nil)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(os.Stderr, "%s cycles=%d pause_max_seconds=%g\n", gctraceEnd, r.Pressure.Cycles, r.Pressure.PauseMaxSeconds)
}
