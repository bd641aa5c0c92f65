package procstat

import (
	"runtime"
	"testing"
	"time"
)

// TestReadMovesForward: on Linux two readings apart in time have grown
// by about the wall time × CPUs, idle within total; elsewhere Read says
// it cannot.
func TestReadMovesForward(t *testing.T) {
	a, ok := Read()
	if runtime.GOOS != "linux" {
		if ok {
			t.Fatal("Read claims /proc/stat off Linux")
		}
		t.Skip("/proc/stat is Linux's")
	}
	if !ok {
		t.Fatal("Read could not read /proc/stat on Linux")
	}
	time.Sleep(300 * time.Millisecond)
	b, _ := Read()
	grew := b.Total - a.Total
	if b.Idle < a.Idle || grew <= 0 || b.Idle-a.Idle > grew || a.Busy() < 0 {
		t.Errorf("readings %+v then %+v: want both to grow, idle within total", a, b)
	}
}
