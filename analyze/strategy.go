package analyze

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/contendr/contendr/collectors/gc"
	"github.com/contendr/contendr/collectors/mutex"
)

// goVersion is a target's Go release, as far as the window says.
type goVersion struct {
	Minor int // 26 for go1.26.8; meaningful only when Known
	Known bool
}

// parseGoVersion reads "go1.26.8", "go1.23", "devel go1.27-abcdef …".
func parseGoVersion(v string) goVersion {
	i := strings.Index(v, "go1.")
	if i < 0 {
		return goVersion{}
	}
	rest := v[i+len("go1."):]
	end := 0
	for end < len(rest) && rest[end] >= '0' && rest[end] <= '9' {
		end++
	}
	minor, err := strconv.Atoi(rest[:end])
	if err != nil {
		return goVersion{}
	}
	return goVersion{Minor: minor, Known: true}
}

// hashTrieSyncMap reports whether the target's sync.Map is the Go ≥1.24
// HashTrieMap (go.dev/doc/go1.24: "the implementation of sync.Map has been
// changed, improving performance, particularly for map modifications").
func (g goVersion) hashTrieSyncMap() bool { return g.Known && g.Minor >= 24 }

func (g goVersion) String() string {
	if !g.Known {
		return "an unknown Go version"
	}
	return fmt.Sprintf("go1.%d", g.Minor)
}

// currentStrategy infers how a component guards its map from the lock
// kinds under it and the growth its writers cause. The strongest signal
// wins: a dirty-map copy or a clone identifies the design even when the
// lock kinds look like a plain mutex (legacy sync.Map locks a Mutex; a
// hand-written read/dirty map or COW writer does too).
//
// Sharding cannot be seen in a profile — N shards are N locks with the same
// frames — so only a component named like one ("shard") is called sharded;
// anything else that locks a Mutex is "mutex", and a component with no
// map-guarding evidence is "unknown".
func currentStrategy(name string, lc *mutex.Component, growth []*gc.MapGrowth) (Strategy, string) {
	var kinds []mutex.Kind
	if lc != nil {
		kinds = lc.Kinds
	}
	hasGrowth := func(k gc.GrowthKind) bool {
		return slices.ContainsFunc(growth, func(g *gc.MapGrowth) bool { return g.Kind == k })
	}
	named := strings.Contains(strings.ToLower(name), "shard")
	switch {
	case slices.Contains(kinds, mutex.KindSyncMapLegacy):
		return StrategySyncMapLegacy, "lock frames are sync.(*Mutex) under sync.(*Map) (read/dirty sync.Map)"
	case hasGrowth(gc.GrowthSyncMapDirty):
		return StrategySyncMapLegacy, "its writers allocate dirty-map copies (read/dirty design)"
	case hasGrowth(gc.GrowthCOWClone):
		return StrategyCOW, "its writers clone the whole map (copy on write)"
	case strings.Contains(name, "puzpuzpuz/xsync"):
		return StrategyXsync, "the component is github.com/puzpuzpuz/xsync's Map (its bucket locks are its own)"
	case named && (slices.Contains(kinds, mutex.KindMutex) || hasRW(kinds)):
		return StrategySharded, "the component is named as a shard and locks per shard"
	case slices.Contains(kinds, mutex.KindSyncMap):
		return StrategySyncMap, "lock frames are HashTrieMap methods under sync.(*Map) (Go ≥1.24 sync.Map)"
	case hasGrowth(gc.GrowthHashTrieMap):
		return StrategySyncMap, "its writers allocate HashTrieMap nodes (Go ≥1.24 sync.Map)"
	case hasRW(kinds):
		return StrategyRWMutex, "lock frames are sync.(*RWMutex)"
	case slices.Contains(kinds, mutex.KindMutex):
		return StrategyMutex, "lock frames are sync.(*Mutex)"
	}
	return StrategyUnknown, "no lock or growth frame tells how the map is guarded"
}

func hasRW(kinds []mutex.Kind) bool {
	return slices.Contains(kinds, mutex.KindRWMutexRead) || slices.Contains(kinds, mutex.KindRWMutexWrite)
}

// mapKinds are the lock kinds that guard a map; components with only
// channel, WaitGroup or Cond contention get no map recommendation.
func guardsMap(lc *mutex.Component) bool {
	for _, k := range lc.Kinds {
		switch k {
		case mutex.KindMutex, mutex.KindRWMutexRead, mutex.KindRWMutexWrite,
			mutex.KindSyncMap, mutex.KindSyncMapLegacy:
			return true
		}
	}
	return false
}
