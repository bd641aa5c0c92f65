// Package source turns a target — a contendr agent's URL, any net/http/pprof
// server, profile files or a directory of them, or a saved window bundle —
// into a window.Window, with errors that say what to do next.
//
// Load is the edge where the network, files and the clock are touched; the
// window it returns is plain data for the collectors and analyze.
package source

import (
	"context"
	"net"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/contendr/contendr/window"
)

// Defaults for zero Options fields.
const (
	DefaultSeconds  = 10 * time.Second
	DefaultTimeout  = 30 * time.Second
	DefaultMaxBytes = 64 << 20
)

// Options says how to read a target. The zero value works.
type Options struct {
	// Seconds is the window length for live targets (default 10s); HTTP
	// profile endpoints take whole seconds, so it is rounded up. For
	// profile files, which carry no window length unless a CPU profile is
	// among them, a positive Seconds is taken as the assumed length.
	Seconds time.Duration
	// Timeout bounds each HTTP request beyond the Seconds it is asked to
	// wait (default 30s): a server that accepts and never answers fails
	// after Seconds+Timeout.
	Timeout time.Duration
	// Headers go on every request, e.g. Authorization.
	Headers http.Header
	// Profiles are extra profiles to fetch: window.CPU, window.Fgprof,
	// window.Heap (a snapshot at the window's end),
	// window.Goroutine.
	Profiles []window.ProfileKind
	// MaxBytes caps one response or file (default 64 MiB).
	MaxBytes int64
	// Progress, when set, is called about every 200ms while Load waits for
	// a live window, with the time waited and the time it will wait.
	Progress func(elapsed, total time.Duration)
	// Client makes the HTTP requests; nil means one with dial and TLS
	// handshake timeouts.
	Client *http.Client
	// GoVersion overrides or supplies the target's Go version ("go1.23.4"),
	// which plain pprof targets and profile files do not carry.
	GoVersion string
	// Live measures a fresh window of Seconds from the target's pprof
	// endpoints even when the target is a contendr agent, instead of taking
	// the agent's latest window: repeated loads then give repeated,
	// disjoint windows (the gate's). The window has MemStats from
	// heap?debug=1 rather than runtime/metrics.
	Live bool
	// GOMAXPROCS supplies the target's GOMAXPROCS, which a window measured
	// from pprof endpoints does not carry; the contention cost needs it.
	GOMAXPROCS int
	// DisableCPU skips the CPU profile that Load takes from a plain pprof
	// target by default (it estimates the lock fraction's user-CPU
	// denominator). A CPU profile listed in Profiles is fetched anyway.
	DisableCPU bool
}

func (o Options) withDefaults() Options {
	if o.Seconds <= 0 {
		o.Seconds = DefaultSeconds
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.Client == nil {
		o.Client = defaultClient()
	}
	return o
}

func (o Options) wants(k window.ProfileKind) bool {
	for _, x := range o.Profiles {
		if x == k {
			return true
		}
	}
	return false
}

var (
	clientOnce   sync.Once
	sharedClient *http.Client
)

// defaultClient bounds connecting and the TLS handshake; the rest of each
// request is bounded by its context (Seconds + Timeout), since a profile
// endpoint legitimately stays silent for the whole window.
func defaultClient() *http.Client {
	clientOnce.Do(func() {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.DialContext = (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext
		t.TLSHandshakeTimeout = 10 * time.Second
		sharedClient = &http.Client{Transport: t}
	})
	return sharedClient
}

// Load reads one target into a window:
//
//   - http(s)://… (or host:port): a contendr agent when it answers
//     /debug/contendr/windows, whose latest window is taken; otherwise a
//     plain net/http/pprof server, measured live for opts.Seconds.
//   - a window bundle file (zip) saved by the agent or `contendr`.
//   - a directory of profiles, or one profile file; see LoadFiles.
//
// Every error is an *Error naming the target, what happened and what to do.
func Load(ctx context.Context, target string, opts Options) (*window.Window, error) {
	w, _, err := load(ctx, target, opts, false)
	return w, err
}

// LoadWithPrevious is Load that also returns the window before the one
// loaded, for figures measured across windows (the in-use growth of maps).
// Only an agent keeps history: previous is nil for every other target, and
// when the agent has one window only.
func LoadWithPrevious(ctx context.Context, target string, opts Options) (w, previous *window.Window, err error) {
	return load(ctx, target, opts, true)
}

func load(ctx context.Context, target string, opts Options, withPrevious bool) (w, previous *window.Window, err error) {
	if u, ok := asURL(target); ok {
		return loadURL(ctx, target, u, opts.withDefaults(), withPrevious)
	}
	w, err = loadPath(ctx, target, opts)
	return w, nil, err
}

var hostPort = regexp.MustCompile(`^([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):[0-9]+(/.*)?$`)

// asURL tells whether target names an HTTP target: a URL, or a bare
// host:port that is not also a file name.
func asURL(target string) (string, bool) {
	if strings.HasPrefix(target, "http://") || strings.HasPrefix(target, "https://") {
		return target, true
	}
	if hostPort.MatchString(target) {
		if _, err := os.Stat(target); err != nil {
			return "http://" + target, true
		}
	}
	return "", false
}

// startProgress calls fn about every 200ms until the returned stop is
// called; fn is never called after stop returns.
func startProgress(ctx context.Context, fn func(elapsed, total time.Duration), total time.Duration) (stop func()) {
	if fn == nil {
		return func() {}
	}
	start := time.Now()
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		fn(0, total)
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-tick.C:
				fn(min(time.Since(start), total), total)
			}
		}
	})
	var once sync.Once
	return func() {
		once.Do(func() { close(done) })
		wg.Wait()
	}
}
