package main

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
)

// FreshWorkloads are eight more services' maps, written on 2026-12-03
// after the accuracy figures of squares 0–5 were read and before the rule
// changes those figures suggested: squares 6–8 run them, at goroutines per
// P that neither maplab nor squares 0–5 measured (freshParallelisms but
// 1), so that a rule changed because of a miss in squares 0–5 is scored on
// cases it was not written from. They start from every implementation,
// including the two no earlier workload starts from (copy-on-write and
// xsync), where the right advice is often to keep.
var FreshWorkloads = []Workload{
	{"conns", "connection registry: int ids of 1024 live connections per goroutine, 90% lookups, 10% a close and an open", ImplLocked, benchConns},
	{"dns", "DNS cache: 2000 hostnames, Zipf-hot, 98% lookups, 2% refreshed answers", ImplRW, benchDNS},
	{"profiles", "user profiles: 100k int ids, 256-byte values stored by value, 95% reads, 5% replaced", ImplSync, benchProfiles},
	{"topics", "pub/sub subscriber counts: 32 topics, half lookups, half subscribe or unsubscribe", ImplRW, benchTopics},
	{"leases", "leases: 4096 string keys, 75% renewals, 25% checks, a scan for expired ones every 1000 ops", ImplLocked, benchLeases},
	{"blocklist", "IP blocklist: 50k addresses, lookups only but one addition every 100k requests", ImplSnapshot, benchBlocklist},
	{"thumbs", "thumbnail cache: 64k int keys, 256-byte values, 70% reads, 30% re-rendered", ImplSharded, benchThumbs},
	{"labels", "metric series by label set: 1000 string keys, Zipf-hot, every op adds to a counter", ImplXsync, benchLabels},
}

// freshParallelisms are squares 6–8's goroutines per P: 1, the level a
// plain b.RunParallel benchmark runs at, and 6 and 24, which no square or
// maplab row has measured.
var freshParallelisms = []int{1, 6, 24}

type conn struct {
	ID     int64
	Remote string
	Opened int64
}

func benchConns(b *testing.B, impl Impl, r Regime) {
	const live = 1024
	goroutines := r.PerP * runtime.GOMAXPROCS(0)
	initial := make(map[int64]*conn, goroutines*live)
	for g := range int64(goroutines) {
		for i := range int64(live) {
			id := (g+1)<<40 + i
			initial[id] = &conn{ID: id, Remote: "10.0.0.1:443"}
		}
	}
	m := newMap[int64, *conn](impl)
	fill(m, initial)
	var workers atomic.Int64
	parallel(b, r, func(rng *rand.Rand) func() {
		base := workers.Add(1) << 40
		var ring [live]int64
		for i := range ring {
			ring[i] = base + int64(i)
		}
		next, oldest, n := int64(live), 0, 0
		picks := newCycle(rng, live, uniform(live))
		return func() {
			n++
			if n%10 == 0 {
				m.Delete(ring[oldest])
				id := base + next
				next++
				m.Store(id, &conn{ID: id, Remote: "10.0.0.2:443", Opened: int64(n)})
				ring[oldest] = id
				oldest = (oldest + 1) % live
				return
			}
			if c, ok := m.Load(ring[picks.next()]); !ok || c.ID < 0 {
				b.Error("lost connection")
			}
		}
	})
}

type dnsAnswer struct {
	Addrs   [2][4]byte
	Expires int64
}

func benchDNS(b *testing.B, impl Impl, r Regime) {
	hosts := make([]string, 2000)
	initial := make(map[string]dnsAnswer, len(hosts))
	for i := range hosts {
		hosts[i] = "svc-" + strconv.Itoa(i) + ".prod.internal"
		initial[hosts[i]] = dnsAnswer{Addrs: [2][4]byte{{10, 1, byte(i >> 8), byte(i)}}, Expires: 1}
	}
	m := newMap[string, dnsAnswer](impl)
	fill(m, initial)
	parallel(b, r, func(rng *rand.Rand) func() {
		keys := newCycle(rng, len(hosts), zipf(1.1, len(hosts)))
		n := int64(0)
		return func() {
			n++
			host := hosts[keys.next()]
			if n%50 == 0 {
				m.Store(host, dnsAnswer{Addrs: [2][4]byte{{10, 2, byte(n >> 8), byte(n)}}, Expires: n})
				return
			}
			if a, ok := m.Load(host); !ok || a.Expires < 0 {
				b.Error("missing answer")
			}
		}
	})
}

type profile struct {
	ID       int64
	Locale   [8]byte
	Settings [30]int64
}

func benchProfiles(b *testing.B, impl Impl, r Regime) {
	const users = 100_000
	initial := make(map[int64]profile, users)
	for u := range int64(users) {
		initial[u] = profile{ID: u, Locale: [8]byte{'e', 'n'}}
	}
	m := newMap[int64, profile](impl)
	fill(m, initial)
	parallel(b, r, func(rng *rand.Rand) func() {
		keys := newCycle(rng, users, uniform(users))
		n := int64(0)
		return func() {
			n++
			u := int64(keys.next())
			if n%20 == 0 {
				p := profile{ID: u, Locale: [8]byte{'d', 'e'}}
				p.Settings[n%30] = n
				m.Store(u, p)
				return
			}
			if p, ok := m.Load(u); !ok || p.ID != u {
				b.Error("wrong profile")
			}
		}
	})
}

func benchTopics(b *testing.B, impl Impl, r Regime) {
	topics := make([]string, 32)
	initial := make(map[string]int64, len(topics))
	for i := range topics {
		topics[i] = "orders.region-" + strconv.Itoa(i)
		initial[topics[i]] = 1000
	}
	m := newMap[string, int64](impl)
	fill(m, initial)
	subscribe := func(old int64, _ bool) int64 { return old + 1 }
	unsubscribe := func(old int64, _ bool) int64 { return old - 1 }
	parallel(b, r, func(rng *rand.Rand) func() {
		keys := newCycle(rng, len(topics), uniform(len(topics)))
		n := 0
		return func() {
			n++
			topic := topics[keys.next()]
			switch n % 4 {
			case 0:
				m.Update(topic, subscribe)
			case 2:
				m.Update(topic, unsubscribe)
			default:
				if subs, _ := m.Load(topic); subs < 0 {
					b.Error("negative subscribers")
				}
			}
		}
	})
}

type lease struct {
	Holder  int32
	Expires int64
}

func benchLeases(b *testing.B, impl Impl, r Regime) {
	names := make([]string, 4096)
	initial := make(map[string]lease, len(names))
	for i := range names {
		names[i] = fmt.Sprintf("locks/job-%04d", i)
		initial[names[i]] = lease{Holder: int32(i % 7), Expires: 100}
	}
	m := newMap[string, lease](impl)
	fill(m, initial)
	var workers atomic.Int32
	parallel(b, r, func(rng *rand.Rand) func() {
		holder := workers.Add(1)
		keys := newCycle(rng, len(names), uniform(len(names)))
		n := int64(0)
		return func() {
			n++
			name := names[keys.next()]
			switch {
			case n%1000 == 0:
				expired := 0
				m.Range(func(_ string, l lease) bool {
					if l.Expires < n {
						expired++
					}
					return true
				})
				sink.Add(uint64(expired))
			case n%4 == 0:
				if l, ok := m.Load(name); !ok || l.Holder < 0 {
					b.Error("lost lease")
				}
			default:
				m.Update(name, func(l lease, _ bool) lease {
					return lease{Holder: holder, Expires: n + 100}
				})
			}
		}
	})
}

func benchBlocklist(b *testing.B, impl Impl, r Regime) {
	addrs := make([]string, 50_000)
	initial := make(map[string]struct{}, len(addrs))
	for i := range addrs {
		addrs[i] = fmt.Sprintf("172.%d.%d.%d", i>>16&255, i>>8&255, i&255)
		if i%2 == 0 {
			initial[addrs[i]] = struct{}{}
		}
	}
	m := newMap[string, struct{}](impl)
	fill(m, initial)
	parallel(b, r, func(rng *rand.Rand) func() {
		keys := newCycle(rng, len(addrs), uniform(len(addrs)))
		n := 0
		blocked := 0
		return func() {
			n++
			addr := addrs[keys.next()]
			if n%100_000 == 0 {
				m.Store(addr, struct{}{})
				return
			}
			if _, ok := m.Load(addr); ok {
				blocked++
			}
			if n%4096 == 0 {
				sink.Add(uint64(blocked))
			}
		}
	})
}

func benchThumbs(b *testing.B, impl Impl, r Regime) {
	const images = 65_536
	thumb := func(k, n int) []byte {
		out := make([]byte, 256)
		out[0], out[1] = byte(k), byte(n)
		return out
	}
	initial := make(map[int][]byte, images)
	for k := range images {
		initial[k] = thumb(k, 0)
	}
	m := newMap[int, []byte](impl)
	fill(m, initial)
	parallel(b, r, func(rng *rand.Rand) func() {
		keys := newCycle(rng, images, uniform(images))
		n := 0
		return func() {
			n++
			k := keys.next()
			if n%10 < 3 {
				m.Store(k, thumb(k, n))
				return
			}
			if t, ok := m.Load(k); !ok || len(t) != 256 {
				b.Error("missing thumbnail")
			}
		}
	})
}

func benchLabels(b *testing.B, impl Impl, r Regime) {
	series := make([]string, 1000)
	for i := range series {
		series[i] = fmt.Sprintf(`http_requests_total{code="%d",route="/r%d"}`, 200+i%5, i)
	}
	m := newMap[string, float64](impl)
	parallel(b, r, func(rng *rand.Rand) func() {
		keys := newCycle(rng, len(series), zipf(1.05, len(series)))
		return func() {
			m.Update(series[keys.next()], func(old float64, _ bool) float64 { return old + 1 })
		}
	})
}
