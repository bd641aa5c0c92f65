package analyze

import (
	"regexp"
	"slices"
	"strings"

	"github.com/contendr/contendr/collectors/gc"
	"github.com/contendr/contendr/collectors/mutex"
	"github.com/contendr/contendr/collectors/stacks"
	"github.com/contendr/contendr/internal/symbol"
)

// identity is what a window shows of how a component guards its map, frame
// evidence apart from the component's name.
type identity struct {
	name string
	// kinds are the lock kinds seen under the component: contention sites
	// and CPU inside lock primitives.
	kinds  []mutex.Kind
	growth []*gc.MapGrowth
	// syncMapAllocs: allocation stacks through the component pass through
	// sync.(*Map).
	syncMapAllocs bool
}

// xsyncPackage matches the import path of puzpuzpuz/xsync (any major
// version): the package a frame is in, not a word in a user's path.
var xsyncPackage = regexp.MustCompile(`^github\.com/puzpuzpuz/xsync(/v[0-9]+)?$`)

// currentStrategy infers how a component guards its map, frames first and
// names last: the lock kinds under it (a sync.Map's internals, an RWMutex,
// a Mutex), the growth its writers cause (a read/dirty copy, a clone, a
// HashTrieMap node), allocation through sync.(*Map), xsync's own methods
// (the component's frames are in xsync's package), and only then the name.
// A strong design signal wins over a lock kind: legacy sync.Map locks a
// Mutex, and so does a hand-written read/dirty map or COW writer.
//
// Sharding cannot be seen in a profile — N shards are N locks with the same
// frames — so a component that locks a Mutex or RWMutex is called sharded
// only when its name says so ("shard"), and only when no frame says
// otherwise.
func currentStrategy(id identity) (Strategy, string) {
	hasGrowth := func(k gc.GrowthKind) bool {
		return slices.ContainsFunc(id.growth, func(g *gc.MapGrowth) bool { return g.Kind == k })
	}
	has := func(k mutex.Kind) bool { return slices.Contains(id.kinds, k) }
	switch {
	case has(mutex.KindSyncMapLegacy):
		return StrategySyncMapLegacy, "lock frames are sync.(*Mutex) under sync.(*Map) (read/dirty sync.Map)"
	case hasGrowth(gc.GrowthSyncMapDirty):
		return StrategySyncMapLegacy, "its writers allocate dirty-map copies (read/dirty design)"
	case has(mutex.KindSyncMap):
		return StrategySyncMap, "lock frames are HashTrieMap methods under sync.(*Map) (Go ≥1.24 sync.Map)"
	case hasGrowth(gc.GrowthHashTrieMap):
		return StrategySyncMap, "its writers allocate HashTrieMap nodes (Go ≥1.24 sync.Map)"
	case hasGrowth(gc.GrowthCOWClone):
		return StrategyCOW, "its writers clone the whole map (copy on write)"
	case id.syncMapAllocs && !hasRW(id.kinds) && !has(mutex.KindMutex):
		return StrategySyncMap, "its allocation stacks pass through sync.(*Map)"
	case isXsyncMap(id.name):
		return StrategyXsync, "its frames are github.com/puzpuzpuz/xsync's Map methods (its bucket locks are its own)"
	}
	named := strings.Contains(strings.ToLower(id.name), "shard")
	switch {
	case named && (has(mutex.KindMutex) || hasRW(id.kinds)):
		return StrategySharded, "the component is named as a shard and locks per shard (sharding has no frame of its own: the name decides)"
	case hasRW(id.kinds):
		return StrategyRWMutex, "lock frames are sync.(*RWMutex)"
	case has(mutex.KindMutex):
		return StrategyMutex, "lock frames are sync.(*Mutex)"
	}
	return StrategyUnknown, "no lock or growth frame tells how the map is guarded"
}

// isXsyncMap tells a component whose frames are xsync's own Map (or MapOf)
// methods: its package is xsync's, whatever else the name holds.
func isXsyncMap(component string) bool {
	n := symbol.Parse(component + ".Load")
	return xsyncPackage.MatchString(n.Pkg) && (strings.HasPrefix(n.Recv, "(*Map") || strings.HasPrefix(n.Recv, "(*MapOf"))
}

// identityOf gathers the frame evidence for a candidate.
func identityOf(c *candidate, sc *stacks.Component, growth []*gc.MapGrowth) identity {
	id := identity{name: c.name, growth: growth}
	if c.lock != nil {
		id.kinds = append(id.kinds, c.lock.Kinds...)
	}
	if sc != nil {
		for k := range sc.SyncCPUKinds {
			if !slices.Contains(id.kinds, k) && lockKind(k) {
				id.kinds = append(id.kinds, k)
			}
		}
		id.syncMapAllocs = sc.SyncMapAllocs
	}
	slices.Sort(id.kinds)
	return id
}

// lockKind tells the kinds that guard a map (guardsMap's set).
func lockKind(k mutex.Kind) bool {
	switch k {
	case mutex.KindMutex, mutex.KindRWMutexRead, mutex.KindRWMutexWrite, mutex.KindSyncMap, mutex.KindSyncMapLegacy:
		return true
	}
	return false
}
