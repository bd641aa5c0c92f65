package main

import (
	"math/rand/v2"
	"strconv"
	"sync/atomic"
	"testing"
)

// ConfirmWorkloads are eight more services' maps, written on 2026-12-07
// after the regime rule was changed to pool mapbench's squares 0–11 with
// maplab's matrix, and before anything about them was measured: squares
// 12–14 run them, once, to confirm or refute that change on cases it was
// not chosen from. They run at confirmParallelisms.
var ConfirmWorkloads = []Workload{
	{"geoip", "IP-prefix lookup cache: 200k int prefixes, Zipf-hot, 97% hits, a fill on every miss", ImplRW, benchGeoIP},
	{"rooms", "chat rooms: 2048 int room ids, 60% member-count reads, 20% joins, 20% leaves (read-modify-write)", ImplLocked, benchRooms},
	{"idempotency", "idempotency keys: a new string key stored per request, a lookup of a recent one, the key 1024 requests back forgotten", ImplSync, benchIdempotency},
	{"flags", "per-user flag evaluations: 5000 string keys, 95% reads, 5% overwrites, a metrics export (Range) every 10k ops", ImplSharded, benchFlags},
	{"tokens", "auth tokens: 30k string tokens, validation lookups, one revoked and one issued every 2000 requests", ImplSnapshot, benchTokens},
	{"latency", "latency histograms: 64 string endpoints, every op records a sample into a 16-bucket value", ImplXsync, benchLatency},
	{"replicas", "replica states: 128 int ids, 64-byte values, half reads, half overwrites", ImplRW, benchReplicas},
	{"acks", "pending acks: message ids rising per goroutine, stored on send, deleted on the ack 32 later, 10% retransmit lookups", ImplLocked, benchAcks},
}

// confirmParallelisms are squares 12–14's goroutines per P: 2, 5 and 20.
var confirmParallelisms = []int{2, 5, 20}

func benchGeoIP(b *testing.B, impl Impl, r Regime) {
	const prefixes = 200_000
	m := newMap[int, uint16](impl)
	initial := make(map[int]uint16, prefixes/4)
	for p := 0; p < prefixes; p += 4 {
		initial[p] = uint16(p % 250)
	}
	fill(m, initial)
	parallel(b, r, func(rng *rand.Rand) func() {
		keys := newCycle(rng, prefixes, zipf(1.1, prefixes))
		return func() {
			p := keys.next()
			if _, ok := m.Load(p); !ok {
				m.Store(p, uint16(p%250))
			}
		}
	})
}

func benchRooms(b *testing.B, impl Impl, r Regime) {
	const rooms = 2048
	m := newMap[int, int32](impl)
	initial := make(map[int]int32, rooms)
	for id := range rooms {
		initial[id] = 10
	}
	fill(m, initial)
	parallel(b, r, func(rng *rand.Rand) func() {
		keys := newCycle(rng, rooms, uniform(rooms))
		n := 0
		return func() {
			n++
			id := keys.next()
			switch n % 5 {
			case 0:
				m.Update(id, func(c int32, _ bool) int32 { return c + 1 })
			case 1:
				m.Update(id, func(c int32, _ bool) int32 { return max(c-1, 0) })
			default:
				if c, ok := m.Load(id); !ok || c < 0 {
					b.Error("lost room")
				}
			}
		}
	})
}

func benchIdempotency(b *testing.B, impl Impl, r Regime) {
	m := newMap[string, int32](impl)
	var workers atomic.Int64
	parallel(b, r, func(rng *rand.Rand) func() {
		prefix := "req-" + strconv.FormatInt(workers.Add(1), 36) + "-"
		var ring [1024]string
		pos := 0
		n := 0
		return func() {
			n++
			key := prefix + strconv.Itoa(n)
			m.Store(key, int32(n))
			if recent := ring[(pos+1023-rng.IntN(64))%1024]; recent != "" {
				m.Load(recent)
			}
			if old := ring[pos]; old != "" {
				m.Delete(old)
			}
			ring[pos] = key
			pos = (pos + 1) % len(ring)
		}
	})
}

func benchFlags(b *testing.B, impl Impl, r Regime) {
	keys := make([]string, 5000)
	initial := make(map[string]bool, len(keys))
	for i := range keys {
		keys[i] = "user:" + strconv.Itoa(i*31) + ":checkout-v2"
		initial[keys[i]] = i%3 == 0
	}
	m := newMap[string, bool](impl)
	fill(m, initial)
	parallel(b, r, func(rng *rand.Rand) func() {
		picks := newCycle(rng, len(keys), uniform(len(keys)))
		n := 0
		return func() {
			n++
			key := keys[picks.next()]
			switch {
			case n%10_000 == 0:
				on := 0
				m.Range(func(_ string, v bool) bool {
					if v {
						on++
					}
					return true
				})
				sink.Add(uint64(on))
			case n%20 == 0:
				m.Store(key, n%2 == 0)
			default:
				m.Load(key)
			}
		}
	})
}

func benchTokens(b *testing.B, impl Impl, r Regime) {
	const tokens = 30_000
	names := make([]string, 2*tokens)
	for i := range names {
		names[i] = "tok_" + strconv.FormatUint(uint64(i)*0x9e3779b97f4a7c15, 36)
	}
	initial := make(map[string]int64, tokens)
	for _, t := range names[:tokens] {
		initial[t] = 1
	}
	m := newMap[string, int64](impl)
	fill(m, initial)
	var issued atomic.Int64
	parallel(b, r, func(rng *rand.Rand) func() {
		picks := newCycle(rng, tokens, uniform(tokens))
		n := 0
		return func() {
			n++
			if n%2000 == 0 {
				i := int(issued.Add(1)) % tokens
				m.Delete(names[i])
				m.Store(names[tokens+i], int64(n))
				return
			}
			m.Load(names[picks.next()])
		}
	})
}

type histogram struct {
	Buckets [16]uint32
}

func benchLatency(b *testing.B, impl Impl, r Regime) {
	endpoints := make([]string, 64)
	for i := range endpoints {
		endpoints[i] = "/v1/service/method" + strconv.Itoa(i)
	}
	m := newMap[string, histogram](impl)
	parallel(b, r, func(rng *rand.Rand) func() {
		picks := newCycle(rng, len(endpoints), uniform(len(endpoints)))
		return func() {
			bucket := rng.IntN(16)
			m.Update(endpoints[picks.next()], func(h histogram, _ bool) histogram {
				h.Buckets[bucket]++
				return h
			})
		}
	})
}

type replica struct {
	Term, Index, Commit uint64
	Leader              int32
	Lag                 int64
	Addr                [24]byte
}

func benchReplicas(b *testing.B, impl Impl, r Regime) {
	const replicas = 128
	m := newMap[int, replica](impl)
	initial := make(map[int]replica, replicas)
	for id := range replicas {
		initial[id] = replica{Term: 1, Leader: 0}
	}
	fill(m, initial)
	parallel(b, r, func(rng *rand.Rand) func() {
		keys := newCycle(rng, replicas, uniform(replicas))
		n := uint64(0)
		return func() {
			n++
			id := keys.next()
			if n%2 == 0 {
				m.Store(id, replica{Term: 1, Index: n, Commit: n - 1})
				return
			}
			if rep, ok := m.Load(id); !ok || rep.Term != 1 {
				b.Error("lost replica")
			}
		}
	})
}

func benchAcks(b *testing.B, impl Impl, r Regime) {
	const window = 32
	m := newMap[int64, int64](impl)
	var workers atomic.Int64
	parallel(b, r, func(rng *rand.Rand) func() {
		next := workers.Add(1) << 40
		acked := next
		n := 0
		return func() {
			n++
			switch {
			case n%10 == 0 && next > acked:
				m.Load(acked + rng.Int64N(next-acked))
			case next-acked < window:
				m.Store(next, int64(n))
				next++
			default:
				m.Delete(acked)
				acked++
			}
		}
	})
}
