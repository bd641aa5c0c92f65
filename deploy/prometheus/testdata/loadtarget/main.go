// Command loadtarget is a test helper: a process with the contendr agent
// embedded, either fighting over one lock (-contend) or working without
// contention, that prints its agent's address and runs until killed.
//
// Runtime metrics such as /sync/mutex/wait/total:seconds are process-wide,
// so a contended and an uncontended target must be separate processes.
package main

import (
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/contendr/contendr/agent"
)

func main() {
	contend := flag.Bool("contend", false, "64 goroutines writing one mutex-guarded map")
	service := flag.String("service", "loadtarget", "service label")
	role := flag.String("role", "baseline", "role label: canary or baseline")
	interval := flag.Duration("interval", time.Second, "agent window length")
	flag.Parse()

	a, err := agent.Start(agent.Config{Interval: *interval,
		Labels: map[string]string{"service": *service, "role": *role, "version": "test"}})
	if err != nil {
		log.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("http://%s\n", ln.Addr())
	os.Stdout.Sync()

	if *contend {
		contended()
	} else {
		go uncontended()
	}
	log.Fatal(http.Serve(ln, a.Handler()))
}

// contended runs 64 goroutines on a write-heavy map behind one sync.Mutex.
func contended() {
	var mu sync.Mutex
	m := make(map[int]int)
	for g := range 64 {
		go func() {
			r := rand.New(rand.NewPCG(uint64(g), 1))
			for {
				k := r.IntN(100_000)
				mu.Lock()
				if r.IntN(10) < 8 {
					m[k] = g
				} else {
					_ = m[k]
				}
				mu.Unlock()
			}
		}()
	}
}

// uncontended keeps one goroutine busy about half the time on a map of its
// own, so the process has user CPU but no lock waits. It also allocates, as
// a real service does: the runtime publishes CPU time only when a GC cycle
// ends (golang/go#59749), and a process that never collects would show
// stale user CPU beside fresh lock wait.
func uncontended() {
	m := make(map[int]int)
	r := rand.New(rand.NewPCG(7, 1))
	var garbage [][]byte
	for {
		deadline := time.Now().Add(5 * time.Millisecond)
		for time.Now().Before(deadline) {
			m[r.IntN(100_000)]++
		}
		garbage = append(garbage[:0], make([]byte, 64<<10))
		time.Sleep(5 * time.Millisecond)
	}
}
