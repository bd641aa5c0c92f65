package window

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// The captured heap?debug=1 responses live with the collector that reads
// them (collectors/gc/testdata); see capture-main.go.txt there.
const heapDebug1Dir = "../collectors/gc/testdata/"

func readHeapDebug1(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(heapDebug1Dir + name)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestParseMemStatsRealOutput(t *testing.T) {
	tests := []struct {
		file       string
		numGC      uint32
		totalAlloc uint64
		mallocs    uint64
		nextGC     uint64
	}{
		{"heap-debug1-a.txt", 155, 168526800, 0, 0},
		{"heap-debug1-c.txt", 1225, 1357483336, 3391664, 20704480},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			ms, err := ParseMemStats(readHeapDebug1(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if ms.NumGC != tt.numGC || ms.TotalAlloc != tt.totalAlloc {
				t.Errorf("NumGC=%d TotalAlloc=%d, want %d and %d", ms.NumGC, ms.TotalAlloc, tt.numGC, tt.totalAlloc)
			}
			if tt.mallocs != 0 && (ms.Mallocs != tt.mallocs || ms.NextGC != tt.nextGC) {
				t.Errorf("Mallocs=%d NextGC=%d, want %d and %d", ms.Mallocs, ms.NextGC, tt.mallocs, tt.nextGC)
			}
			// The most recent pause sits at (NumGC+255)%256 and ended at LastGC.
			if last := ms.PauseEnd[(ms.NumGC+255)%256]; last != ms.LastGC {
				t.Errorf("PauseEnd of the last GC = %d, want LastGC %d", last, ms.LastGC)
			}
			if ms.PauseNs[(ms.NumGC+255)%256] == 0 {
				t.Error("last GC pause is 0 ns")
			}
		})
	}
}

func TestParseMemStatsRejectsBadInput(t *testing.T) {
	real := string(readHeapDebug1(t, "heap-debug1-a.txt"))
	block := real[strings.Index(real, memStatsHeader):]
	pauseAt := strings.Index(real, "# PauseNs = [")
	tests := []struct {
		name    string
		text    string
		wantErr string
	}{
		{"empty", "", "no \"# runtime.MemStats\" block"},
		{"html", "<html><body>404 page not found</body></html>", "no \"# runtime.MemStats\" block"},
		{"profile without the block", real[:strings.Index(real, memStatsHeader)], "no \"# runtime.MemStats\" block"},
		{"header only", memStatsHeader + "\n", "missing TotalAlloc, Mallocs, HeapAlloc, NextGC, NumGC, PauseNs"},
		{"truncated inside PauseNs", real[:pauseAt+200], "PauseNs"},
		{"truncated before NumGC", real[:strings.Index(real, "# NumGC")], "missing NumGC"},
		{"partial: no Mallocs", strings.Replace(block, "# Mallocs =", "# Mallocz =", 1), "missing Mallocs"},
		{"garbage value", strings.Replace(block, "# HeapAlloc = ", "# HeapAlloc = x", 1), "field HeapAlloc"},
		{"negative", strings.Replace(block, "# NextGC = ", "# NextGC = -", 1), "field NextGC"},
		{"garbage line", block + "not a memstats line\n", "unexpected line"},
		{"short ring", memStatsHeader + "\n# PauseNs = [1 2 3]\n", "want 256 numbers, got 3"},
		{"duplicate field", block + "# NumGC = 1\n", "appears twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms, err := ParseMemStats([]byte(tt.text))
			if err == nil {
				t.Fatalf("no error; got NumGC=%d TotalAlloc=%d", ms.NumGC, ms.TotalAlloc)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q does not mention %q", err, tt.wantErr)
			}
		})
	}
}

// formatMemStats writes ms the way runtime/pprof does (the fields
// MemStats keeps), for the fuzz round trip.
func formatMemStats(ms MemStats) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", memStatsHeader)
	for _, f := range []struct {
		name string
		v    uint64
	}{
		{"TotalAlloc", ms.TotalAlloc}, {"Sys", ms.Sys}, {"Mallocs", ms.Mallocs}, {"Frees", ms.Frees},
		{"HeapAlloc", ms.HeapAlloc}, {"HeapInuse", ms.HeapInuse}, {"HeapObjects", ms.HeapObjects},
		{"NextGC", ms.NextGC}, {"LastGC", ms.LastGC}, {"PauseTotalNs", ms.PauseTotalNs},
	} {
		fmt.Fprintf(&b, "# %s = %d\n", f.name, f.v)
	}
	fmt.Fprintf(&b, "# PauseNs = %d\n# PauseEnd = %d\n", ms.PauseNs, ms.PauseEnd)
	fmt.Fprintf(&b, "# NumGC = %d\n# NumForcedGC = %d\n", ms.NumGC, ms.NumForcedGC)
	fmt.Fprintf(&b, "# GCCPUFraction = %v\n", ms.GCCPUFraction)
	return b.String()
}

func FuzzParseMemStats(f *testing.F) {
	for _, name := range []string{"heap-debug1-a.txt", "heap-debug1-b.txt"} {
		// Only the MemStats block: the profile text before it is skipped
		// by a single bytes.Index and would only slow the fuzzer down.
		data := readHeapDebug1(f, name)
		block := data[strings.Index(string(data), memStatsHeader):]
		f.Add(block)
		f.Add(block[:len(block)/2])
	}
	f.Add([]byte(memStatsHeader + "\n# NumGC = 4294967296\n"))
	f.Fuzz(func(t *testing.T, text []byte) {
		ms, err := ParseMemStats(text)
		if err != nil {
			return
		}
		// Whatever parsed must survive a round trip through the runtime's
		// own format unchanged.
		again, err := ParseMemStats([]byte(formatMemStats(ms)))
		if err != nil {
			t.Fatalf("re-parsing formatted MemStats: %v", err)
		}
		if fmt.Sprint(again) != fmt.Sprint(ms) {
			t.Fatalf("round trip changed MemStats:\n%v\n%v", ms, again)
		}
	})
}
