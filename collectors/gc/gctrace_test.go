package gc

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/contendr/contendr/window"
)

const (
	gctraceChildEnv = "CONTENDR_GCTRACE_CHILD"
	gctraceWindow   = "contendr-gctrace-window"
)

// gctraceLine matches the runtime's GODEBUG=gctrace=1 summary of one cycle:
// "gc 12 @1.234s 5%: 0.020+1.5+0.030 ms clock, …". The number is the count
// of completed cycles including this one, the counter runtime/metrics'
// /gc/cycles/total:gc-cycles reads.
var gctraceLine = regexp.MustCompile(`^gc (\d+) @[0-9.]+s \d+%: ([0-9.]+)\+[0-9.]+\+([0-9.]+) ms clock`)

// TestCyclesAgreeWithGCTrace runs the copy-on-write workload in a child
// process under GODEBUG=gctrace=1 and checks that the cycles Collect reads
// from runtime/metrics are the cycles the runtime traced in the same span:
// the child names the cycle counts its window read, and every cycle
// numbered between them must have a trace line.
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
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child: %v\n%s\n%s", err, out, stderr.Bytes())
	}

	var first, last uint64
	var reported int
	var reportedMaxPause float64 // seconds
	for line := range strings.Lines(string(out)) {
		if rest, ok := strings.CutPrefix(line, gctraceWindow+" "); ok {
			if _, err := fmt.Sscanf(rest, "first=%d last=%d cycles=%d pause_max_seconds=%g", &first, &last, &reported, &reportedMaxPause); err != nil {
				t.Fatalf("child's window line %q: %v", line, err)
			}
		}
	}
	if last == 0 {
		t.Fatalf("the child printed no %s line:\n%s", gctraceWindow, out)
	}
	stwByCycle := map[uint64]float64{} // ms, the larger of the two stop-the-world phases
	sc := bufio.NewScanner(&stderr)
	for sc.Scan() {
		line := sc.Text()
		if m := gctraceLine.FindStringSubmatch(line); m != nil {
			n, _ := strconv.ParseUint(m[1], 10, 64)
			for _, ms := range m[2:] {
				v, _ := strconv.ParseFloat(ms, 64)
				stwByCycle[n] = max(stwByCycle[n], v)
			}
		}
	}
	var traced int
	var maxSTW float64
	var missing []uint64
	for n := first + 1; n <= last; n++ {
		stw, ok := stwByCycle[n]
		if !ok {
			missing = append(missing, n)
			continue
		}
		traced++
		maxSTW = max(maxSTW, stw)
	}
	t.Logf("gctrace: %d cycles numbered %d..%d, max STW phase %.3f ms; Collect: %d cycles, max pause ≤ %.3f ms",
		traced, first+1, last, maxSTW, reported, 1e3*reportedMaxPause)
	if traced < 10 {
		t.Fatalf("only %d gctrace lines in the window; is the workload allocating?", traced)
	}
	if len(missing) > 0 {
		t.Errorf("cycles %v completed in the window but have no gctrace line", missing)
	}
	if reported != traced {
		t.Errorf("gctrace shows %d cycles in the window, Collect %d", traced, reported)
	}
}

// gctraceChild is the child's side: one window over the COW workload.
func gctraceChild(t *testing.T) {
	w := &window.Window{ID: "gctrace", Start: time.Now(), Metrics: &window.SamplePair{Start: readMetrics(t)}}
	runWorkload(newCOWStore(), liveDuration/2)
	w.Metrics.End = readMetrics(t)
	w.End = time.Now()
	// The counts the window itself read, not a second reading beside it.
	first := uint64(w.Metrics.Start.Values[window.MetricGCCycles])
	last := uint64(w.Metrics.End.Values[window.MetricGCCycles])
	r, err := Collect(w, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The runtime counts a cycle before it prints the cycle's trace line;
	// a child that exits at once can take the last line with it (seen
	// under load: cycle "last" counted, never traced). runtime.GC returns
	// only after every earlier cycle has finished, its line included; the
	// cycle it runs itself is numbered past the window.
	runtime.GC()
	// Stdout: the runtime writes its trace lines to fd 2 unsynchronised
	// with os.Stderr, and a line there can be cut into by one of them.
	fmt.Printf("%s first=%d last=%d cycles=%d pause_max_seconds=%g\n", gctraceWindow, first, last, r.Pressure.Cycles, r.Pressure.PauseMaxSeconds)
}
