package agent

import (
	"sync"
	"testing"
	"time"
)

// BenchmarkCollectWindow measures one window collection (the agent's own
// cost per interval) while 8 goroutines contend on a mutex, so that the
// profiles have content.
func BenchmarkCollectWindow(b *testing.B) {
	a, err := Start(Config{Interval: time.Hour, Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	defer a.Stop()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	for range 8 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				mu.Lock()
				time.Sleep(time.Microsecond)
				mu.Unlock()
			}
		})
	}
	defer wg.Wait()
	defer close(stop)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.closeWindow(); err != nil {
			b.Fatal(err)
		}
	}
}
