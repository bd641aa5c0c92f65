// Command convoy writes testdata/mutex-convoy.trace: seven readers and one
// slow writer on one sync.Mutex for 500ms. Run from collectors/locktrace:
//
//	GOMAXPROCS=2 go run ./testdata/convoy testdata/mutex-convoy.trace

package main

import (
	"os"
	"runtime/trace"
	"sync"
	"time"
)

type cache struct {
	mu sync.Mutex
	m  map[int]int
}

func (c *cache) get(k int) int { c.mu.Lock(); defer c.mu.Unlock(); return c.m[k] }
func (c *cache) set(k int) {
	c.mu.Lock()
	for i := 0; i < 2000; i++ {
		c.m[k+i%7]++
	}
	c.mu.Unlock()
}

func main() {
	f, _ := os.Create(os.Args[1])
	trace.Start(f)
	c := &cache{m: map[int]int{}}
	var wg sync.WaitGroup
	stop := time.Now().Add(500 * time.Millisecond)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(stop) {
				if i == 0 {
					c.set(i)
				} else {
					c.get(i)
				}
			}
		}()
	}
	wg.Wait()
	trace.Stop()
	f.Close()
}
