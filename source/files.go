package source

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/google/pprof/profile"

	"github.com/contendr/contendr/window"
)

// loadPath reads a bundle, a directory or one profile file.
func loadPath(ctx context.Context, path string, opts Options) (*window.Window, error) {
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = DefaultMaxBytes
	}
	info, err := os.Stat(path)
	if err != nil {
		return nil, pathError(path, err)
	}
	if info.IsDir() {
		return loadDir(ctx, path, opts)
	}
	data, err := readFile(path, opts.MaxBytes)
	if err != nil {
		return nil, err
	}
	if window.IsBundle(data) {
		return loadBundle(path, data, opts)
	}
	if window.IsTrace(data) {
		return loadTrace(path, data, info.ModTime(), opts), nil
	}
	return LoadFiles(ctx, []string{path}, opts)
}

func pathError(path string, err error) *Error {
	if errors.Is(err, fs.ErrNotExist) {
		return &Error{Target: path, Kind: ErrNotFound, Err: err, What: "no such file or directory",
			Hint: "check the path (a URL needs http://)"}
	}
	return &Error{Target: path, Kind: ErrNotFound, Err: err, What: "cannot read: " + oneLine(err.Error()),
		Hint: "check the path and its permissions"}
}

// readFile reads at most max bytes of path.
func readFile(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, pathError(path, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, pathError(path, err)
	}
	if int64(len(data)) > max {
		return nil, &Error{Target: path, Kind: ErrNotProfile, Err: window.ErrTooLarge,
			What: "file exceeds the size cap of " + byteSize(max), Hint: "raise --max-bytes if the profile is really this large"}
	}
	return data, nil
}

func loadBundle(path string, data []byte, opts Options) (*window.Window, error) {
	w, err := window.DecodeBundle(data)
	if err != nil {
		return nil, &Error{Target: path, Kind: ErrNotProfile, Err: err, What: oneLine(err.Error()),
			Hint: "the bundle is damaged or from an incompatible version; save it again"}
	}
	if opts.GoVersion != "" {
		w.Meta.GoVersion = opts.GoVersion
	}
	if w.Meta.Source == "" {
		w.Meta.Source = path
	}
	return w, nil
}

// loadTrace makes a window of an execution trace file alone; analyze
// diagnoses it (collectors/locktrace), and says so if it does not parse.
func loadTrace(path string, data []byte, modified time.Time, opts Options) *window.Window {
	return &window.Window{
		ID:    filepath.Base(path),
		Meta:  window.Meta{Source: path, GoVersion: opts.GoVersion, MutexProfileFraction: window.Unknown, BlockProfileRate: window.Unknown, MemProfileRate: window.Unknown},
		Trace: &window.Trace{Reason: "file", CapturedAt: modified, Bytes: len(data), Data: data},
	}
}

// Causes that decide how a directory scan or Group treats a file.
var (
	errUndecided = errors.New("mutex or block cannot be told apart")
	errBundle    = errors.New("a window bundle among profile files")
	errTrace     = errors.New("an execution trace among profile files")
)

// fileProfile is one parsed profile file.
type fileProfile struct {
	path string
	kind window.ProfileKind
	p    *profile.Profile
}

// LoadFiles reads profile files that together make one window, as written
// by `go test -mutexprofile m.out -blockprofile b.out -cpuprofile c.out
// -memprofile mem.out` or saved from a pprof endpoint. Each file's kind comes
// from its content (window.DetectKind); a contention profile whose content
// does not decide (an empty one) is told by "mutex" or "block" in its name.
// A heap profile (go test -memprofile) serves as the allocs profile.
//
// Such profiles are cumulative over the whole run; the window's length is
// the CPU profile's duration, else opts.Seconds when positive, else unknown.
func LoadFiles(ctx context.Context, paths []string, opts Options) (*window.Window, error) {
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = DefaultMaxBytes
	}
	target := strings.Join(paths, " + ")
	if len(paths) == 0 {
		return nil, &Error{Target: "(no files)", Kind: ErrNoProfiles, What: "no profile files given",
			Hint: "name profile files, a directory of them, or a URL"}
	}
	var profiles []fileProfile
	for _, path := range paths {
		if err := ctx.Err(); err != nil {
			return nil, &Error{Target: target, Kind: ErrCanceled, Err: err, What: "interrupted", Hint: "nothing was analyzed"}
		}
		fp, err := readProfileFile(path, opts.MaxBytes)
		if err != nil {
			return nil, err
		}
		profiles = append(profiles, *fp)
	}
	return assemble(target, profiles, opts)
}

// readProfileFile reads and classifies one profile file.
func readProfileFile(path string, max int64) (*fileProfile, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, pathError(path, err)
	}
	if fp := peeked.take(path, info, max); fp != nil {
		return fp, nil
	}
	if info.IsDir() {
		return nil, &Error{Target: path, Kind: ErrNotProfile, What: "is a directory",
			Hint: "name a directory on its own, not among profile files"}
	}
	data, err := readFile(path, max)
	if err != nil {
		return nil, err
	}
	bad := func(what string, cause error, hint string) *Error {
		return &Error{Target: path, Kind: ErrNotProfile, Err: cause, What: what, Hint: hint}
	}
	const rewrite = "write it again (go test -mutexprofile m.out …, or curl -o from /debug/pprof/…)"
	switch {
	case len(data) == 0:
		return nil, bad("empty file, no profile data", nil, rewrite)
	case window.IsBundle(data):
		return nil, bad("is a window bundle, not a profile", errBundle, "analyze the bundle on its own")
	case window.IsTrace(data):
		return nil, bad("is an execution trace, not a profile", errTrace, "analyze the trace on its own")
	case looksLikeHTML(data):
		return nil, bad("is an HTML page, not a profile", nil,
			"save the profile itself (curl -o FILE http://host/debug/pprof/mutex), not the page that links to it")
	}
	p, err := window.ParseProfile(data, window.MaxProfileBytes)
	if err != nil {
		return nil, bad(oneLine(err.Error()), err, rewrite)
	}
	kind, err := kindOf(path, p)
	if err != nil {
		return nil, err
	}
	return &fileProfile{path: path, kind: kind, p: p}, nil
}

// kindOf tells a profile's kind by content, falling back to the file name
// only for a contention profile whose frames do not decide.
func kindOf(path string, p *profile.Profile) (window.ProfileKind, error) {
	if k := window.DetectKind(p); k != "" {
		return k, nil
	}
	if isContention(p) {
		name := strings.ToLower(filepath.Base(path))
		switch {
		case strings.Contains(name, "mutex"):
			return window.Mutex, nil
		case strings.Contains(name, "block"):
			return window.Block, nil
		}
		return "", &Error{Target: path, Kind: ErrWrongKind, Err: errUndecided,
			What: "a contention profile whose frames do not tell whether it is a mutex or a block profile",
			Hint: "rename it to contain \"mutex\" or \"block\" (e.g. mutex.pb.gz)"}
	}
	types := make([]string, len(p.SampleType))
	for i, st := range p.SampleType {
		types[i] = st.Type + "/" + st.Unit
	}
	return "", &Error{Target: path, Kind: ErrWrongKind,
		What: "unrecognized profile (sample types " + strings.Join(types, ", ") + ")",
		Hint: "contendr reads mutex, block, allocs/heap, cpu, fgprof and goroutine profiles"}
}

func isContention(p *profile.Profile) bool {
	var delay, count bool
	for _, st := range p.SampleType {
		delay = delay || st.Type == "delay"
		count = count || st.Type == "contentions"
	}
	return delay && count
}

// loadDir reads every profile in a directory (not its subdirectories).
// Files that are not profiles — the test binary go test leaves, a README —
// are skipped (with a note when the name looked like a profile's); window.json from an unpacked bundle supplies the metadata.
func loadDir(ctx context.Context, dir string, opts Options) (*window.Window, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, pathError(dir, err)
	}
	var (
		profiles []fileProfile
		skipped  []string // profile-like names that did not parse
		looked   int      // files that were not profiles
		header   *window.Window
		// tracePath is an execution trace among the profiles.
		tracePath string
	)
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return nil, &Error{Target: dir, Kind: ErrCanceled, Err: err, What: "interrupted", Hint: "nothing was analyzed"}
		}
		name := e.Name()
		if !e.Type().IsRegular() || strings.HasPrefix(name, ".") {
			continue
		}
		path := filepath.Join(dir, name)
		if name == "window.json" {
			header = readWindowJSON(path, opts.MaxBytes)
			continue
		}
		fp, err := readProfileFile(path, opts.MaxBytes)
		if err != nil {
			if errors.Is(err, errUndecided) {
				return nil, err // a profile we cannot place: say so rather than drop it
			}
			if errors.Is(err, errTrace) && tracePath == "" {
				tracePath = path // an unpacked bundle's trace.out, kept with the window
				continue
			}
			looked++
			if profileLike(name) {
				skipped = append(skipped, fmt.Sprintf("%s (%s)", name, oneLine(errorWhat(err))))
			}
			continue
		}
		profiles = append(profiles, *fp)
	}
	if len(profiles) == 0 && tracePath != "" {
		return loadPath(ctx, tracePath, opts)
	}
	if len(profiles) == 0 {
		return nil, &Error{Target: dir, Kind: ErrNoProfiles,
			What: fmt.Sprintf("no profiles in this directory (%d files looked at)", looked),
			Hint: "write them with go test -mutexprofile m.out -blockprofile b.out -cpuprofile c.out -memprofile mem.out, or name a profile file"}
	}
	w, err := assemble(dir, profiles, opts)
	if err != nil {
		return nil, err
	}
	if header != nil {
		// An unpacked bundle: its window.json knows the window exactly.
		for k, p := range w.Profiles {
			header.SetProfile(k, p)
		}
		header.Notes = append(header.Notes, w.Notes...)
		if opts.GoVersion != "" {
			header.Meta.GoVersion = opts.GoVersion
		}
		w = header
	}
	if len(skipped) > 0 {
		w.Note(fmt.Sprintf("skipped %d files named like profiles that are not: %s", len(skipped), listSome(skipped, 5)))
	}
	if tracePath != "" {
		data, err := readFile(tracePath, opts.MaxBytes)
		if err != nil {
			return nil, err
		}
		reason := "file"
		if w.Trace != nil { // window.json described it
			reason = w.Trace.Reason
		}
		w.Trace = &window.Trace{Reason: reason, Bytes: len(data), Data: data}
	} else if w.Trace != nil {
		w.Note("window.json names a trace, but the directory holds none")
		w.Trace = nil
	}
	return w, nil
}

// readWindowJSON reads the window.json of an unpacked bundle; nil if it is
// unreadable (the profiles alone still make a window).
func readWindowJSON(path string, max int64) *window.Window {
	data, err := readFile(path, max)
	if err != nil {
		return nil
	}
	var w window.Window
	if json.Unmarshal(data, &w) != nil {
		return nil
	}
	return &w
}

// profileLike tells names a user would expect to be read as profiles;
// skipping one of them deserves a note, skipping go.mod or a test binary
// does not.
func profileLike(name string) bool {
	name = strings.ToLower(name)
	for _, ext := range []string{".out", ".pb", ".pb.gz", ".prof", ".pprof", ".gz"} {
		if strings.HasSuffix(name, ext) {
			return true
		}
	}
	for _, k := range window.Kinds {
		if strings.Contains(name, string(k)) {
			return true
		}
	}
	return false
}

// errorWhat is what happened, without the target an *Error repeats.
func errorWhat(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.What
	}
	return err.Error()
}

func listSome(names []string, n int) string {
	if len(names) <= n {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:n], ", ") + fmt.Sprintf(" and %d more", len(names)-n)
}

// assemble makes one window from classified profiles.
func assemble(target string, profiles []fileProfile, opts Options) (*window.Window, error) {
	byKind := map[window.ProfileKind]fileProfile{}
	for _, fp := range profiles {
		if prev, dup := byKind[fp.kind]; dup {
			return nil, &Error{Target: target, Kind: ErrWrongKind,
				What: fmt.Sprintf("two %s profiles: %s and %s", fp.kind, prev.path, fp.path),
				Hint: "analyze them one at a time"}
		}
		byKind[fp.kind] = fp
	}
	w := &window.Window{Meta: window.Meta{
		Source:               target,
		GoVersion:            opts.GoVersion,
		MutexProfileFraction: window.Unknown,
		BlockProfileRate:     window.Unknown,
		MemProfileRate:       window.Unknown,
	}}
	// go test -memprofile writes a heap profile; its alloc_space over the
	// whole run is what an allocs profile holds.
	if heap, ok := byKind[window.Heap]; ok {
		if _, ok := byKind[window.Allocs]; !ok {
			heap.p.DefaultSampleType = "alloc_space"
			heap.kind = window.Allocs
			byKind[window.Allocs] = heap
			delete(byKind, window.Heap)
		}
	}
	for k, fp := range byKind {
		w.SetProfile(k, fp.p)
	}
	if p := w.Profile(window.Allocs); p != nil && p.Period > 0 {
		w.Meta.MemProfileRate = int(p.Period)
	}
	setFileWindowTimes(w, byKind, opts.Seconds)
	for _, k := range []window.ProfileKind{window.Mutex, window.Block} {
		if fp, ok := byKind[k]; ok && len(fp.p.Sample) == 0 {
			w.Note(fmt.Sprintf("the %s profile %s is empty: nothing contended, or %s profiling was off in the process that wrote it", k, fp.path, k))
		}
	}
	if w.Profile(window.Mutex) == nil && w.Profile(window.Block) == nil {
		w.Note("no mutex or block profile among the files, so lock contention is not measured; add them (go test -mutexprofile m.out -blockprofile b.out)")
	}
	if w.Meta.GoVersion == "" {
		w.Note("Go version unknown for profile files (pass --go-version); map advice assumes the newest Go")
	}
	return w, nil
}

// setFileWindowTimes derives the window from the profiles' own clocks:
// it ends when the last profile was written; its length is the CPU
// profile's duration (go test profiles CPU over the same run the cumulative
// profiles cover), a delta profile's duration (a ?seconds= download), or
// the assumed length the caller passed.
func setFileWindowTimes(w *window.Window, byKind map[window.ProfileKind]fileProfile, assumed time.Duration) {
	var end time.Time
	var longest time.Duration
	for _, fp := range byKind {
		if fp.p.TimeNanos > 0 {
			if t := time.Unix(0, fp.p.TimeNanos+fp.p.DurationNanos); t.After(end) {
				end = t
			}
		}
		longest = max(longest, time.Duration(fp.p.DurationNanos))
	}
	if end.IsZero() {
		end = newestModTime(byKind)
	}
	var length time.Duration
	switch cpu, ok := byKind[window.CPU]; {
	case ok && cpu.p.DurationNanos > 0:
		length = time.Duration(cpu.p.DurationNanos)
	case longest >= time.Second:
		length = longest
	case assumed > 0:
		length = assumed
		w.Note(fmt.Sprintf("window length assumed to be %s (--seconds): the profile files carry none", assumed))
	default:
		w.Note("window length unknown: profiles from files are cumulative over the whole run and carry no duration, so per-second rates are unavailable; pass --seconds with the run's duration, or add a CPU profile (-cpuprofile)")
	}
	w.Start, w.End = end.Add(-length), end
	w.ID = "files-" + end.UTC().Format("20060102T150405Z")
}

func newestModTime(byKind map[window.ProfileKind]fileProfile) time.Time {
	var t time.Time
	for _, fp := range byKind {
		if info, err := os.Stat(fp.path); err == nil && info.ModTime().After(t) {
			t = info.ModTime()
		}
	}
	return t
}

// Group splits command-line targets into what Load and LoadFiles read: a
// URL, a directory, a bundle or a path that does not exist stands alone;
// consecutive profile files form one window until a kind repeats, so that
// `m.out b.out c.out` is one window and `run1/mutex.out run2/mutex.out` two.
func Group(args []string) [][]string {
	var (
		groups [][]string
		files  []string
		kinds  = map[window.ProfileKind]bool{}
	)
	flush := func() {
		if len(files) > 0 {
			groups = append(groups, files)
		}
		files, kinds = nil, map[window.ProfileKind]bool{}
	}
	for _, arg := range args {
		kind, ok := peekProfileFile(arg)
		if !ok {
			flush()
			groups = append(groups, []string{arg})
			continue
		}
		if kind != "" && kinds[kind] {
			flush()
		}
		files = append(files, arg)
		if kind != "" {
			kinds[kind] = true
		}
	}
	flush()
	return groups
}

// peekProfileFile tells whether arg is a regular file that is not a bundle,
// and its kind when it parses (heap counting as allocs, as in LoadFiles).
// A file that does not parse still joins a group, for LoadFiles to explain.
func peekProfileFile(arg string) (window.ProfileKind, bool) {
	if _, isURL := asURL(arg); isURL {
		return "", false
	}
	info, err := os.Stat(arg)
	if err != nil || !info.Mode().IsRegular() {
		return "", false
	}
	fp, err := readProfileFile(arg, DefaultMaxBytes)
	if err != nil {
		if errors.Is(err, errBundle) || errors.Is(err, errTrace) {
			return "", false
		}
		return "", true
	}
	peeked.keep(arg, info, fp)
	if fp.kind == window.Heap {
		return window.Allocs, true
	}
	return fp.kind, true
}

// peeked holds the profiles Group parsed to tell their kinds, for the load
// that follows, so that `contendr analyze FILES…` parses each file once: at
// 100,000 stacks a parse is a quarter of a second. An entry serves one
// load of the same file (same size and modification time, read under the
// a cap it fits under) and is dropped; at most maxPeeked are kept, the oldest going
// first, so a Group without a load holds little.
var peeked peekCache

const maxPeeked = 8

type peekCache struct {
	mu      sync.Mutex
	entries []peekEntry
}

type peekEntry struct {
	path  string
	size  int64
	mtime time.Time
	fp    *fileProfile
}

func (c *peekCache) keep(path string, info os.FileInfo, fp *fileProfile) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) == maxPeeked {
		c.entries = c.entries[1:]
	}
	c.entries = append(c.entries, peekEntry{path, info.Size(), info.ModTime(), fp})
}

func (c *peekCache) take(path string, info os.FileInfo, max int64) *fileProfile {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, e := range c.entries {
		if e.path == path && e.size == info.Size() && e.mtime.Equal(info.ModTime()) && e.size <= max {
			c.entries = append(c.entries[:i], c.entries[i+1:]...)
			return e.fp
		}
	}
	return nil
}
