// Package window holds one measurement interval of a Go process — delta
// profiles, runtime/metrics samples and metadata — the unit that the agent
// collects, the CLI fetches and every collector and renderer reads.
//
// A Window encodes to a single file, a bundle (see bundle.go), so that it can
// be saved, attached to a ticket and analyzed later.
package window

import (
	"bytes"
	"sync"
	"time"

	"github.com/google/pprof/profile"
)

// ProfileKind names a profile a window may hold.
type ProfileKind string

// The profiles a window may hold. Mutex, Block and Allocs are deltas over the
// window; CPU and Fgprof are recorded during it; Goroutine and Heap are
// snapshots taken at its end.
const (
	Mutex     ProfileKind = "mutex"
	Block     ProfileKind = "block"
	Allocs    ProfileKind = "allocs"
	Heap      ProfileKind = "heap"
	CPU       ProfileKind = "cpu"
	Fgprof    ProfileKind = "fgprof"
	Goroutine ProfileKind = "goroutine"
	// GoroutineLeak is the runtime's goroutine leak profile (Go 1.26 built
	// with GOEXPERIMENT=goroutineleakprofile): goroutines blocked forever
	// on something no live goroutine can reach, as a GC found them at the
	// window's end.
	GoroutineLeak ProfileKind = "goroutineleak"
)

// Kinds lists every ProfileKind in a stable order.
var Kinds = []ProfileKind{Mutex, Block, Allocs, Heap, CPU, Fgprof, Goroutine, GoroutineLeak}

// Window is everything measured over one interval [Start, End].
type Window struct {
	// ID identifies the window within its source (the agent numbers them).
	ID    string    `json:"id"`
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	Meta  Meta      `json:"meta"`

	// Profiles are keyed by kind. Cumulative profiles (mutex, block, allocs)
	// already hold end minus start; see Delta.
	Profiles map[ProfileKind]*profile.Profile `json:"-"`

	// Metrics holds runtime/metrics samples taken at both ends of the window
	// (nil for a plain net/http/pprof target or profile files).
	Metrics *SamplePair `json:"metrics,omitempty"`

	// MemStats holds two heap?debug=1 MemStats readings at both ends, the
	// fallback source of GC figures for a target without runtime/metrics.
	MemStats *MemStatsPair `json:"memstats,omitempty"`

	// Trace is an execution trace captured during the window (the agent's
	// flight-recorder snapshot), or nil. See Trace.
	Trace *Trace `json:"trace,omitempty"`

	// Notes say what the window lacks and why ("fgprof skipped: 12000
	// goroutines above the limit of 10000"), for reports to repeat.
	Notes []string `json:"notes,omitempty"`

	// encoded holds each profile's gzipped proto, made on first use. It is
	// made by SetProfile, before the window is shared (a Window stays
	// copyable: a copy shares the cache, whose entries know their profile).
	encoded *encodings
}

// encodings caches a window's encoded profiles.
type encodings struct {
	mu     sync.Mutex
	ofKind map[ProfileKind]*encoding
}

// encoding is one profile's gzipped proto, made at most once.
type encoding struct {
	// of is the profile encoded: a profile replaced in Profiles directly,
	// without SetProfile, gets an encoding of its own.
	of   *profile.Profile
	once sync.Once
	data []byte
	err  error
}

// Meta describes the process and the settings a window was measured under.
type Meta struct {
	// Source is where the window came from: a URL, a file path, "in-process".
	Source     string `json:"source"`
	GoVersion  string `json:"go_version,omitempty"`
	GOMAXPROCS int    `json:"gomaxprocs,omitempty"`
	NumCPU     int    `json:"num_cpu,omitempty"`
	// Goroutines is the goroutine count at the window's end.
	Goroutines int `json:"goroutines,omitempty"`

	// Sampling rates in force during the window. Values are already scaled
	// by the runtime; the rates say whether an empty profile means "no
	// contention" or "profiling disabled" (a rate of 0). -1 means unknown.
	MutexProfileFraction int `json:"mutex_profile_fraction"`
	BlockProfileRate     int `json:"block_profile_rate"`
	MemProfileRate       int `json:"mem_profile_rate"`

	// Labels carry service, version and role (canary|baseline).
	Labels map[string]string `json:"labels,omitempty"`

	// Restarted is set when a cumulative counter went down between the two
	// readings: the target restarted and the window restarts its baseline.
	Restarted bool `json:"restarted,omitempty"`
}

// Trace is an execution trace kept with a window: `go tool trace` opens
// Data as it is, and collectors/locktrace diagnoses its locks.
type Trace struct {
	// Reason says why it was captured: the alert that fired
	// ("alert contention_cost_warn") or "on demand".
	Reason     string    `json:"reason"`
	CapturedAt time.Time `json:"captured_at"`
	// Bytes is len(Data), for readers of window.json alone.
	Bytes int    `json:"bytes"`
	Data  []byte `json:"-"`
}

// IsTrace tells whether data starts like a Go execution trace ("go 1.N
// trace" header).
func IsTrace(data []byte) bool { return bytes.HasPrefix(data, []byte("go 1.")) }

// Unknown marks a rate that could not be read from the target.
const Unknown = -1

// Seconds is the window's length.
func (w *Window) Seconds() float64 { return w.End.Sub(w.Start).Seconds() }

// Profile returns the window's profile of kind k, or nil.
func (w *Window) Profile(k ProfileKind) *profile.Profile {
	if w == nil || w.Profiles == nil {
		return nil
	}
	return w.Profiles[k]
}

// SetProfile stores p under kind k, creating the map when needed. p is not
// encoded here: most windows are analyzed and never written, and encoding a
// large profile costs about as much as reading it. Encode, ProfileBytes and
// ProfileCopy encode each profile the first time it is asked for, once,
// without writing to p (see encodeShared), so they are safe while other
// goroutines read the window.
func (w *Window) SetProfile(k ProfileKind, p *profile.Profile) {
	if w.Profiles == nil {
		w.Profiles = make(map[ProfileKind]*profile.Profile)
	}
	w.Profiles[k] = p
	if w.encoded == nil {
		w.encoded = &encodings{ofKind: make(map[ProfileKind]*encoding)}
	}
	w.encoded.mu.Lock()
	delete(w.encoded.ofKind, k)
	w.encoded.mu.Unlock()
}

// ProfileBytes returns the gzipped proto of the window's profile of kind k,
// or nil (also when it cannot be encoded; Encode reports why). The first
// call for a kind encodes the profile; later ones share those bytes: do not
// modify them.
func (w *Window) ProfileBytes(k ProfileKind) []byte {
	data, _ := w.profileBytes(k)
	return data
}

// profileBytes encodes the profile of kind k at most once.
func (w *Window) profileBytes(k ProfileKind) ([]byte, error) {
	p := w.Profile(k)
	if p == nil {
		return nil, nil
	}
	if w.encoded == nil {
		// Profiles filled in without SetProfile: nowhere to keep the
		// bytes that every reader could share, so encode each time.
		return encodeShared(p)
	}
	w.encoded.mu.Lock()
	e := w.encoded.ofKind[k]
	if e == nil || e.of != p {
		e = &encoding{of: p}
		w.encoded.ofKind[k] = e
	}
	w.encoded.mu.Unlock()
	e.once.Do(func() { e.data, e.err = encodeShared(p) })
	return e.data, e.err
}

// DeleteProfile removes the window's profile of kind k.
func (w *Window) DeleteProfile(k ProfileKind) {
	delete(w.Profiles, k)
	if w.encoded != nil {
		w.encoded.mu.Lock()
		delete(w.encoded.ofKind, k)
		w.encoded.mu.Unlock()
	}
}

// ProfileCopy returns a private copy of the window's profile of kind k that
// the caller may modify (or hand to code that does, such as pprof's driver);
// nil when the window has no such profile.
func (w *Window) ProfileCopy(k ProfileKind) (*profile.Profile, error) {
	data, err := w.profileBytes(k)
	if err != nil || data == nil {
		return nil, err
	}
	return ParseProfile(data, MaxProfileBytes)
}

// Note records why the window lacks something.
func (w *Window) Note(format string) { w.Notes = append(w.Notes, format) }
