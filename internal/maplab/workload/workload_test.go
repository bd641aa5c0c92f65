package workload_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/contendr/contendr/internal/maplab/strategy"
	"github.com/contendr/contendr/internal/maplab/workload"
)

func TestNamedWorkloadsAreValid(t *testing.T) {
	for _, name := range workload.Names() {
		spec, err := workload.Named(name)
		if err != nil {
			t.Fatalf("Named(%q): %v", name, err)
		}
		if err := spec.Validate(); err != nil {
			t.Errorf("Named(%q) is invalid: %v", name, err)
		}
		if spec.Name != name {
			t.Errorf("Named(%q).Name = %q", name, spec.Name)
		}
	}
	if _, err := workload.Named("nonsense"); err == nil {
		t.Error("Named(nonsense) returned no error")
	}
}

func TestValidate(t *testing.T) {
	good := workload.Custom(0.9)
	tests := []struct {
		name   string
		change func(*workload.Spec)
	}{
		{"reads above 1", func(s *workload.Spec) { s.Reads = 1.5 }},
		{"fractions sum above 1", func(s *workload.Spec) { s.Inserts, s.Deletes = 0.1, 0.1 }},
		{"no keys", func(s *workload.Spec) { s.Keys = 0 }},
		{"no goroutines", func(s *workload.Spec) { s.Goroutines = 0 }},
		{"negative value size", func(s *workload.Spec) { s.ValueSize = -1 }},
		{"zipf exponent 1", func(s *workload.Spec) { s.ZipfS = 1 }},
		{"negative duration", func(s *workload.Spec) { s.Duration = -time.Second }},
	}
	if err := good.Validate(); err != nil {
		t.Fatalf("Custom(0.9) is invalid: %v", err)
	}
	for _, tt := range tests {
		spec := good
		tt.change(&spec)
		if err := spec.Validate(); err == nil {
			t.Errorf("%s: Validate accepted %+v", tt.name, spec)
		}
	}
}

// TestRunEveryWorkload runs each named workload briefly on a small map and
// checks that work happened and the map kept its prefilled keys.
func TestRunEveryWorkload(t *testing.T) {
	for _, name := range workload.Names() {
		t.Run(name, func(t *testing.T) {
			spec, err := workload.Named(name)
			if err != nil {
				t.Fatal(err)
			}
			spec.Keys, spec.Goroutines, spec.ValueSize = 500, 4, 16
			spec.Duration = 20 * time.Millisecond
			if spec.RangeEvery > 0 {
				spec.RangeEvery = 50
			}
			m := strategy.NewRWMap()
			res, err := workload.Run(context.Background(), m, spec)
			if err != nil {
				t.Fatal(err)
			}
			if res.Ops == 0 || res.OpsPerSec <= 0 {
				t.Fatalf("Run did no work: %+v", res)
			}
			if spec.RangeEvery > 0 && res.Ranges == 0 {
				t.Errorf("range workload ran no Range: %+v", res)
			}
			for k := range spec.Keys {
				if _, ok := m.Load(k); !ok {
					t.Fatalf("prefilled key %d is gone after the run", k)
				}
			}
		})
	}
}

func TestRunUntilContextEnds(t *testing.T) {
	spec := workload.Custom(0.5)
	spec.Keys, spec.Goroutines = 100, 2
	ctx, cancel := context.WithCancel(context.Background())
	// Cancel once the run has begun (its first Load) rather than after a
	// fixed time, which a loaded machine can spend before any worker runs.
	res, err := workload.Run(ctx, &cancelOnLoad{Map: strategy.NewMutexMap(), cancel: cancel}, spec)
	if err != nil {
		t.Fatal(err)
	}
	if res.Ops == 0 {
		t.Fatal("Run with Duration 0 stopped before doing any work")
	}
}

func TestPrefillUsesFillerAndChurnOccupancy(t *testing.T) {
	spec, _ := workload.Named(workload.Churn)
	spec.Keys = 1000
	m := strategy.NewCOWMap()
	workload.Prefill(m, spec)
	n := 0
	m.Range(func(k, v int) bool { n++; return true })
	// Equal inserts and deletes keep half the churn range occupied.
	if want := 1500; n != want {
		t.Fatalf("prefilled %d keys, want %d", n, want)
	}
}

// TestRegimeAxes runs each kind of work between operations with string
// keys and goroutines per P, and checks the spec resolved and the map kept
// its keys.
func TestRegimeAxes(t *testing.T) {
	for _, between := range []workload.Between{workload.BetweenNone, workload.BetweenCPU, workload.BetweenIO} {
		t.Run(string(between), func(t *testing.T) {
			spec := workload.Custom(0.5)
			spec.Keys, spec.Goroutines, spec.GoroutinesPerP = 300, 0, 2
			spec.Between, spec.KeyType, spec.Duration = between, strategy.KeyString, 20*time.Millisecond
			if got := spec.Resolve(3).Goroutines; got != 6 {
				t.Fatalf("2 goroutines per P on 3 Ps resolved to %d goroutines", got)
			}
			m, err := workload.NewMap(strategy.NameSharded, spec, strategy.Options{})
			if err != nil {
				t.Fatal(err)
			}
			res, err := workload.Run(context.Background(), m, spec)
			if err != nil {
				t.Fatal(err)
			}
			if res.Ops == 0 {
				t.Fatalf("Run did no work: %+v", res)
			}
			for k := range spec.Keys {
				if _, ok := m.Load(k); !ok {
					t.Fatalf("prefilled key %d is gone after the run", k)
				}
			}
		})
	}
	bad := workload.Custom(0.5)
	bad.Between = "nap"
	if bad.Validate() == nil {
		t.Error("Validate accepted an unknown kind of work between operations")
	}
}

// cancelOnLoad calls cancel on the first Load.
type cancelOnLoad struct {
	strategy.Map
	once   sync.Once
	cancel func()
}

func (m *cancelOnLoad) Load(k int) (int, bool) {
	m.once.Do(m.cancel)
	return m.Map.Load(k)
}

// BenchmarkSleep measures how long a time.Sleep lasts (ns/op) with the
// other Ps idle and beside a goroutine that never blocks: why IOWait is
// milliseconds long. On the 2-core machine the results were measured on
// (3 runs each): 50µs lasted 1.08–1.11 ms idle and 1.04–1.08 ms busy — 21
// times its length; 0.73 ms when eight goroutines slept — and 2ms lasted
// 2.155–2.162 ms either way.
//
//	go test -run '^$' -bench Sleep -benchtime 200x ./internal/maplab/workload
func BenchmarkSleep(b *testing.B) {
	for _, wait := range []time.Duration{50 * time.Microsecond, workload.IOWait} {
		for _, busy := range []bool{false, true} {
			b.Run(fmt.Sprintf("wait=%v/busy=%v", wait, busy), func(b *testing.B) {
				stop := make(chan struct{})
				var wg sync.WaitGroup
				if busy {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for x := uint64(1); ; x ^= x << 13 {
							select {
							case <-stop:
								return
							default:
							}
						}
					}()
				}
				for b.Loop() {
					time.Sleep(wait)
				}
				close(stop)
				wg.Wait()
			})
		}
	}
}
