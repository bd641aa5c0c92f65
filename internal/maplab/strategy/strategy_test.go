package strategy_test

import (
	"maps"
	"sync"
	"testing"

	"github.com/contendr/contendr/internal/maplab/strategy"
)

func newMap(t *testing.T, name string) strategy.Map {
	t.Helper()
	m, err := strategy.New(name, strategy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func contents(m strategy.Map) map[int]int {
	got := map[int]int{}
	m.Range(func(k, v int) bool {
		got[k] = v
		return true
	})
	return got
}

// TestConformance runs the same script of operations on every strategy and
// compares each map's state with a plain Go map's.
func TestConformance(t *testing.T) {
	for _, keys := range []strategy.KeyType{strategy.KeyInt, strategy.KeyString} {
		for _, name := range strategy.Names() {
			if !strategy.SupportsKeys(name, keys) {
				continue
			}
			t.Run(name+"/"+string(keys), func(t *testing.T) {
				m, err := strategy.New(name, strategy.Options{Keys: keys, KeySpace: 500})
				if err != nil {
					t.Fatal(err)
				}
				conform(t, m)
			})
		}
	}
	if _, err := strategy.New(strategy.NameLegacy, strategy.Options{Keys: strategy.KeyString}); err == nil {
		t.Error("legacy with string keys: New returned no error")
	}
}

// conform drives m through the script and compares it with a Go map.
func conform(t *testing.T, m strategy.Map) {
	t.Helper()
	want := map[int]int{}

	if _, ok := m.Load(1); ok {
		t.Fatal("Load on an empty map found key 1")
	}
	if got := contents(m); len(got) != 0 {
		t.Fatalf("Range on an empty map visited %v", got)
	}
	m.Delete(1) // deleting a missing key is a no-op

	// Enough keys, loads and deletes to drive the legacy map
	// through amendments, misses, promotions and expunged entries.
	for round := range 3 {
		for k := range 200 {
			m.Store(k, k*10+round)
			want[k] = k*10 + round
		}
		for k := range 200 {
			if v, ok := m.Load(k); !ok || v != want[k] {
				t.Fatalf("round %d: Load(%d) = %d, %v; want %d, true", round, k, v, ok, want[k])
			}
		}
		for k := 0; k < 200; k += 3 {
			m.Delete(k)
			delete(want, k)
		}
		// A brand-new key after deletes: the legacy map copies its
		// read map into a new dirty map and expunges the deleted
		// entries, which the next round's Stores must revive.
		m.Store(1000+round, round)
		want[1000+round] = round
		for k := 0; k < 200; k += 3 {
			if v, ok := m.Load(k); ok {
				t.Fatalf("round %d: Load(%d) after Delete = %d, true", round, k, v)
			}
		}
		if got := contents(m); !maps.Equal(got, want) {
			t.Fatalf("round %d: Range saw %d entries, want %d", round, len(got), len(want))
		}
	}
}

func TestRangeStopsWhenFReturnsFalse(t *testing.T) {
	for _, name := range strategy.Names() {
		t.Run(name, func(t *testing.T) {
			m := newMap(t, name)
			for k := range 100 {
				m.Store(k, k)
			}
			calls := 0
			m.Range(func(k, v int) bool {
				calls++
				return calls < 5
			})
			if calls != 5 {
				t.Fatalf("Range called f %d times after it returned false at the 5th call", calls)
			}
		})
	}
}

func TestFillMatchesStores(t *testing.T) {
	m := strategy.NewCOWMap()
	m.Store(1, 1)
	m.Fill(map[int]int{1: 10, 2: 20})
	want := map[int]int{1: 10, 2: 20}
	if got := contents(m); !maps.Equal(got, want) {
		t.Fatalf("after Fill: %v, want %v", got, want)
	}
}

func TestNew(t *testing.T) {
	tests := []struct {
		name    string
		opts    strategy.Options
		wantErr bool
	}{
		{name: "sharded", opts: strategy.Options{Shards: 7}},
		{name: "sharded", opts: strategy.Options{Shards: -1}, wantErr: true},
		{name: "btree", wantErr: true},
	}
	for _, tt := range tests {
		_, err := strategy.New(tt.name, tt.opts)
		if (err != nil) != tt.wantErr {
			t.Errorf("New(%q, %+v) error = %v, want error %v", tt.name, tt.opts, err, tt.wantErr)
		}
	}
	for _, name := range strategy.Names() {
		if !strategy.Valid(name) {
			t.Errorf("Valid(%q) = false for a listed name", name)
		}
	}
}

// TestConcurrent is meant for -race: goroutines load, store, delete and range
// over overlapping keys at once. Each goroutine owns the values it writes
// (k*1000+g), so any value read must have been written by someone.
func TestConcurrent(t *testing.T) {
	const goroutines, keys, ops = 8, 64, 2000
	for _, name := range strategy.Names() {
		t.Run(name, func(t *testing.T) {
			m := newMap(t, name)
			var wg sync.WaitGroup
			for g := range goroutines {
				wg.Go(func() {
					for i := range ops {
						k := (i*7 + g) % keys
						switch i % 10 {
						case 0:
							m.Delete(k)
						case 1, 2, 3:
							m.Store(k, k*1000+g)
						case 4:
							if i%200 == 4 {
								m.Range(func(k, v int) bool {
									if v/1000 != k {
										t.Errorf("Range saw %d=%d, a value never stored under that key", k, v)
									}
									return true
								})
							}
						default:
							if v, ok := m.Load(k); ok && v/1000 != k {
								t.Errorf("Load(%d) = %d, a value never stored under that key", k, v)
							}
						}
					}
				})
			}
			wg.Wait()
			// After the dust settles every strategy must agree with itself.
			for k, v := range contents(m) {
				if got, ok := m.Load(k); !ok || got != v {
					t.Errorf("Range saw %d=%d but Load says %d, %v", k, v, got, ok)
				}
			}
		})
	}
}
