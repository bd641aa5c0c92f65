package main

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync/atomic"
	"testing"
)

// HoldoutWorkloads are eight more services' maps, written on 2026-12-03
// after the rules and the maplab matrix of 313c87b were fixed and before
// anything about them was measured: squares 9–11 run them, once, so that
// the accuracy of those rules has a figure from cases no change was
// chosen after. They run at holdoutParallelisms.
var HoldoutWorkloads = []Workload{
	{"prices", "price table: 10k int SKUs, 99.5% lookups, 0.5% repriced", ImplRW, benchPrices},
	{"inflight", "request coalescing: 4096 Zipf-hot string keys, look up, register when absent, forget 64 requests later", ImplSync, benchInflight},
	{"carts", "shopping carts: 20k int user ids, 16-byte values, half reads, half an item added", ImplLocked, benchCarts},
	{"routes", "route table: 300 string paths, lookups only, a listing of every route every 20k requests", ImplSnapshot, benchRoutes},
	{"negcache", "negative cache: 1M int key space, look up, store on a miss, every 4th op a random delete", ImplSharded, benchNegcache},
	{"quotas", "tenant quotas: 16 string keys, uniform, 70% increments, 30% checks", ImplXsync, benchQuotas},
	{"presence", "online users: 50k int ids, 40% lookups, 40% heartbeats (overwrites), 20% logins and logouts", ImplRW, benchPresence},
	{"jobs", "job table: ids rising per goroutine, a submit, a status update and a completion in turn, a dashboard scan every 5000 ops", ImplLocked, benchJobs},
}

// holdoutParallelisms are squares 9–11's goroutines per P: 1, and 3 and 12,
// a few per P as services run, levels no square or maplab row measured.
var holdoutParallelisms = []int{1, 3, 12}

func benchPrices(b *testing.B, impl Impl, r Regime) {
	const skus = 10_000
	initial := make(map[int]float64, skus)
	for k := range skus {
		initial[k] = float64(k%500) + 0.99
	}
	m := newMap[int, float64](impl)
	fill(m, initial)
	parallel(b, r, func(rng *rand.Rand) func() {
		keys := newCycle(rng, skus, uniform(skus))
		n := 0
		return func() {
			n++
			k := keys.next()
			if n%200 == 0 {
				m.Store(k, float64(n%500)+0.49)
				return
			}
			if p, ok := m.Load(k); !ok || p < 0 {
				b.Error("missing price")
			}
		}
	})
}

type call struct {
	Key    string
	Waiter int32
}

func benchInflight(b *testing.B, impl Impl, r Regime) {
	keys := make([]string, 4096)
	for i := range keys {
		keys[i] = "GET /api/v2/items/" + strconv.Itoa(i)
	}
	m := newMap[string, *call](impl)
	parallel(b, r, func(rng *rand.Rand) func() {
		picks := newCycle(rng, len(keys), zipf(1.2, len(keys)))
		var ring [64]string
		pos := 0
		return func() {
			key := keys[picks.next()]
			if c, ok := m.Load(key); ok {
				if c.Key != key {
					b.Error("wrong call")
				}
			} else {
				m.Store(key, &call{Key: key})
			}
			if old := ring[pos]; old != "" {
				m.Delete(old)
			}
			ring[pos] = key
			pos = (pos + 1) % len(ring)
		}
	})
}

type cart struct {
	Items int32
	Total int64
}

func benchCarts(b *testing.B, impl Impl, r Regime) {
	const users = 20_000
	initial := make(map[int]cart, users)
	for u := range users {
		initial[u] = cart{Items: 1, Total: 999}
	}
	m := newMap[int, cart](impl)
	fill(m, initial)
	parallel(b, r, func(rng *rand.Rand) func() {
		keys := newCycle(rng, users, uniform(users))
		n := 0
		return func() {
			n++
			u := keys.next()
			if n%2 == 0 {
				m.Update(u, func(c cart, _ bool) cart { return cart{Items: c.Items + 1, Total: c.Total + 499} })
				return
			}
			if c, ok := m.Load(u); !ok || c.Items < 0 {
				b.Error("lost cart")
			}
		}
	})
}

func benchRoutes(b *testing.B, impl Impl, r Regime) {
	paths := make([]string, 300)
	initial := make(map[string]int, len(paths))
	for i := range paths {
		paths[i] = fmt.Sprintf("/v1/service-%d/resource-%d", i/10, i%10)
		initial[paths[i]] = i
	}
	m := newMap[string, int](impl)
	fill(m, initial)
	parallel(b, r, func(rng *rand.Rand) func() {
		keys := newCycle(rng, len(paths), zipf(1.01, len(paths)))
		n := 0
		return func() {
			n++
			if n%20_000 == 0 {
				routes := 0
				m.Range(func(string, int) bool { routes++; return true })
				sink.Add(uint64(routes))
				return
			}
			if h, ok := m.Load(paths[keys.next()]); !ok || h < 0 {
				b.Error("missing route")
			}
		}
	})
}

func benchNegcache(b *testing.B, impl Impl, r Regime) {
	const space = 1 << 20
	m := newMap[int, struct{}](impl)
	parallel(b, r, func(rng *rand.Rand) func() {
		keys := newCycle(rng, space, uniform(space))
		evict := newCycle(rng, space, uniform(space))
		n := 0
		return func() {
			n++
			if n%4 == 0 {
				m.Delete(evict.next())
				return
			}
			k := keys.next()
			if _, ok := m.Load(k); !ok {
				m.Store(k, struct{}{})
			}
		}
	})
}

func benchQuotas(b *testing.B, impl Impl, r Regime) {
	tenants := make([]string, 16)
	for i := range tenants {
		tenants[i] = "tenant-" + strconv.Itoa(1000+i)
	}
	m := newMap[string, int64](impl)
	parallel(b, r, func(rng *rand.Rand) func() {
		keys := newCycle(rng, len(tenants), uniform(len(tenants)))
		n := 0
		return func() {
			n++
			t := tenants[keys.next()]
			if n%10 < 7 {
				m.Update(t, func(used int64, _ bool) int64 { return used + 1 })
				return
			}
			if used, _ := m.Load(t); used < 0 {
				b.Error("negative quota")
			}
		}
	})
}

func benchPresence(b *testing.B, impl Impl, r Regime) {
	const users = 50_000
	initial := make(map[int]int64, users/2)
	for u := 0; u < users; u += 2 {
		initial[u] = 1
	}
	m := newMap[int, int64](impl)
	fill(m, initial)
	parallel(b, r, func(rng *rand.Rand) func() {
		keys := newCycle(rng, users, uniform(users))
		n := int64(0)
		return func() {
			n++
			u := keys.next()
			switch n % 10 {
			case 0, 1, 2, 3:
				if seen, ok := m.Load(u); ok && seen < 0 {
					b.Error("bad heartbeat")
				}
			case 4:
				m.Store(u, n) // login
			case 5:
				m.Delete(u) // logout
			default:
				m.Store(u, n) // heartbeat
			}
		}
	})
}

type job struct {
	ID     int64
	Status uint8
}

func benchJobs(b *testing.B, impl Impl, r Regime) {
	const open = 256
	m := newMap[int64, job](impl)
	var workers atomic.Int64
	parallel(b, r, func(*rand.Rand) func() {
		base := workers.Add(1) << 40
		submitted, completed := base, base
		n := 0
		return func() {
			n++
			switch {
			case n%5000 == 0:
				running := 0
				m.Range(func(_ int64, j job) bool {
					if j.Status == 1 {
						running++
					}
					return true
				})
				sink.Add(uint64(running))
			case n%3 == 0:
				m.Store(submitted, job{ID: submitted})
				submitted++
			case n%3 == 1 && submitted-completed > 1:
				id := submitted - 1 - int64(n)%(submitted-completed)
				m.Update(id, func(j job, _ bool) job { return job{ID: id, Status: 1} })
			case submitted-completed > open:
				m.Delete(completed)
				completed++
			default:
				if j, ok := m.Load(completed); ok && j.ID != completed {
					b.Error("wrong job")
				}
			}
		}
	})
}
