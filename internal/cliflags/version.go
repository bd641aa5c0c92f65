package cliflags

import (
	"runtime/debug"
	"strings"
)

// Version says which build of the CLI this is, from the build information
// the Go toolchain records: the module version (a tag, or a pseudo-version
// for `go install …@latest` of an untagged commit; "(devel)" in a work
// tree), the VCS revision and time, and whether the tree was modified.
func Version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown (built without module information)"
	}
	return versionOf(info)
}

func versionOf(info *debug.BuildInfo) string {
	parts := []string{info.Main.Version}
	if parts[0] == "" {
		parts[0] = "(devel)"
	}
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	if rev := settings["vcs.revision"]; rev != "" {
		rev = rev[:min(len(rev), 12)]
		if settings["vcs.modified"] == "true" {
			rev += "+modified"
		}
		parts = append(parts, "revision "+rev)
	}
	if t := settings["vcs.time"]; t != "" {
		parts = append(parts, "committed "+t)
	}
	parts = append(parts, "built with "+info.GoVersion)
	return strings.Join(parts, ", ")
}
