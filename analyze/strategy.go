package analyze

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

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

func hasRW(kinds []mutex.Kind) bool {
	return slices.Contains(kinds, mutex.KindRWMutexRead) || slices.Contains(kinds, mutex.KindRWMutexWrite)
}

// guardsMap tells a component with a lock kind that guards a map; those
// with only channel, WaitGroup or Cond contention get no map
// recommendation.
func guardsMap(lc *mutex.Component) bool { return slices.ContainsFunc(lc.Kinds, lockKind) }
