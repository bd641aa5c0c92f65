package agent

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/contendr/contendr/alert"
	"github.com/contendr/contendr/internal/loopback"
	"github.com/contendr/contendr/window"
)

// Default sampling rates, chosen by the overhead benchmark
// (testapps/maplab/results/overhead.md, `go run ./testapps/maplab overhead`):
// at 50:100000 the profiled CPU cost of sampling plus collection, at the
// default 10s interval, was 0.27–0.55% of the process's CPU on the mutex
// balanced case and 0.40–1.56% (median 0.75%) on the rwmutex write-heavy
// convoy across three runs; block rates of 1ms and 10ms were no cheaper
// (the convoy's waits last milliseconds), and 10:10000 and below cost
// clearly more. Nearly all sampling cost is in block events, so the block
// rate is the knob that matters; mutex events cost ~0 at any fraction.
// A side-by-side throughput benchmark (BenchmarkAgentOverhead) detects no
// loss at these rates. The runtime scales both profiles' values, so lower
// rates lose precision on rare events, not accuracy on the heavy ones a
// report is about.
const (
	// DefaultMutexProfileFraction samples on average 1 in 50 mutex
	// contention events (runtime.SetMutexProfileFraction).
	DefaultMutexProfileFraction = 50
	// DefaultBlockProfileRate samples on average one blocking event per
	// 100µs spent blocked (runtime.SetBlockProfileRate, in nanoseconds).
	DefaultBlockProfileRate = 100_000
)

// DefaultCPUProfileDuty is how long the CPU profile of each default 10s
// window runs (Config.CPUProfileDuty; other intervals get the same share,
// 30%). Its cost is below what this project's 2-core test machine can
// resolve even at 100% duty with a collection every second
// (BenchmarkCPUDutyOverhead, testapps/maplab/results/overhead-cpuduty):
// median throughput off vs on −0.2% (rwmutex write-heavy) and +42% (mutex
// balanced, a convoy that flips between fast and collapsed whatever the
// agent does) with run-to-run spreads of ±50–75%; a thread's CPU time per
// fixed computation moved −1.8% with the profiler on, within its ±5%
// noise (BenchmarkCPUProfilerCost); and the profiles never sampled the
// profiler's own goroutine in any of 24 runs. The profiler's cost
// is its SIGPROF handler, 100 times per CPU-second, which no profile can
// see. So the duty is chosen for what it yields: 3s at 100 Hz on 2 cores
// is up to 600 samples, enough to tell a map's read/write mix, and the
// profiler sits idle for 70% of every window.
const DefaultCPUProfileDuty = 3 * time.Second

// Other defaults filled in by Start.
const (
	DefaultInterval            = 10 * time.Second
	DefaultWindows             = 12
	DefaultWindowMaxBytes      = 4 << 20
	DefaultFgprofMaxGoroutines = 10_000
	DefaultMaxProfileSeconds   = 60
)

// Config configures an Agent. The zero Config works: Start fills in every
// zero field with its default.
type Config struct {
	// MutexProfileFraction is passed to runtime.SetMutexProfileFraction while
	// the agent runs. 0 means DefaultMutexProfileFraction; a negative value
	// turns mutex profiling off.
	MutexProfileFraction int
	// BlockProfileRate is passed to runtime.SetBlockProfileRate (nanoseconds
	// blocked per sample). 0 means DefaultBlockProfileRate; a negative value
	// turns block profiling off.
	BlockProfileRate int
	// PreviousBlockRate is the block profile rate Stop restores. The runtime
	// has no getter for the block rate (unlike the mutex fraction, which
	// Start reads and Stop restores by itself), so a host that had set its
	// own rate before Start must repeat it here; 0 (off, the runtime's
	// default) otherwise.
	PreviousBlockRate int

	// Interval is the length of a window (default 10s).
	Interval time.Duration
	// Windows is how many closed windows are kept (default 12); older ones
	// are dropped.
	Windows int
	// WindowMaxBytes caps one window's encoded bundle (default 4 MiB). A
	// window over the cap drops its largest profiles until it fits and says
	// so in its Notes. A flight-recorder trace has a cap of its own
	// (FlightRecorderConfig.SnapshotMaxBytes) and is not counted here.
	WindowMaxBytes int
	// CPUProfileDuty is how long a CPU profile runs at the start of each
	// window. 0 means DefaultCPUProfileDuty, scaled to Interval (the same
	// share of every window); a negative value records no CPU profile. It is
	// clamped to Interval. The agent's profile gives way to the user's: a
	// request to /debug/pprof/profile, /debug/pprof/trace or /debug/fgprof
	// stops it (the window keeps what it recorded and says so in a Note),
	// and a window that opens while the application holds the CPU profiler
	// goes without.
	CPUProfileDuty time.Duration

	// Labels describe the process: "service", "version" and "role"
	// ("canary" or "baseline"). They go into every window's Meta and, as
	// constant labels, onto every contendr_ metric.
	Labels map[string]string

	// ListenAddr, when set, makes the agent serve Handler() on its own
	// listener. An address without a host (":6061") binds loopback
	// (127.0.0.1); any other non-loopback host ("0.0.0.0:6061") requires a
	// Token or InsecureAllowNonLoopback.
	ListenAddr string
	// Token, when set, is required on every endpoint as
	// "Authorization: Bearer <Token>". Changing rates over HTTP (PUT
	// /debug/contendr/config) is refused without one.
	Token string
	// InsecureAllowNonLoopback lets ListenAddr bind a non-loopback address
	// without a Token. Start logs a warning when it is used.
	InsecureAllowNonLoopback bool

	// Alerts configures the rules evaluated at the end of every window
	// (contention cost, a component's cost, GC CPU, pause p99, map growth;
	// the lock wait share on request),
	// their hysteresis and delivery (callback, webhook, profile dumps).
	// nil means alert.DefaultRules, delivered to Logger and exposed as
	// contendr_alert_firing{rule}. Labels and Logger default to the agent's.
	Alerts *alert.Config
	// DisableAlerts turns alert evaluation off.
	DisableAlerts bool

	// Dashboard, when set, builds a handler that the agent serves at
	// DashboardPath (prefix stripped), behind the same Token as every other
	// endpoint. It is called once, by Start, with the agent's Windows.
	// Pass webui.ForAgent for contendr's dashboard: the agent does not
	// import it itself, so that binaries that want no UI carry none.
	Dashboard func(windows func() []*window.Window) http.Handler

	// Registerer receives the agent's metrics. nil means a private registry,
	// served at /metrics. The global registry is used only when this is
	// prometheus.DefaultRegisterer; /metrics then serves
	// prometheus.DefaultGatherer. A Registerer that is not also a Gatherer
	// leaves /metrics to the host.
	Registerer prometheus.Registerer
	// Logger receives the agent's logs; nil means slog.Default().
	Logger *slog.Logger

	// FlightRecorder, when set, keeps a runtime/trace flight recorder
	// running (Go ≥1.25) and writes a snapshot of its last seconds when a
	// contention alert (contention_cost, component_cost) fires, and on
	// demand at POST /debug/contendr/trace; the snapshot is kept with the
	// window it belongs to, served at /debug/contendr/windows/{id}/trace
	// and inside the window's bundle. nil (the default) records nothing.
	// If the recorder cannot start (the application runs its own), the
	// agent logs it, says so in every window's Notes and carries on.
	FlightRecorder *FlightRecorderConfig

	// GoroutineLeakEvery adds the goroutine leak profile to every Nth
	// window where the binary has it (Go 1.26 built with
	// GOEXPERIMENT=goroutineleakprofile; see LeakProfileSupported). 0 means
	// DefaultGoroutineLeakEvery; a negative value turns it off. Elsewhere
	// it does nothing.
	GoroutineLeakEvery int

	// FgprofMaxGoroutines refuses /debug/fgprof when more goroutines than
	// this are running (default 10000): each fgprof sample walks every
	// goroutine's stack, which stalls a process with very many of them.
	FgprofMaxGoroutines int
	// MaxProfileSeconds caps ?seconds= on /debug/pprof/* and /debug/fgprof
	// (default 60). A larger value is rejected with 400, not clamped: the
	// caller asked for something it will not get and should know.
	MaxProfileSeconds int
}

// FlightRecorderConfig configures the agent's flight recorder. Zero fields
// take the defaults below.
type FlightRecorderConfig struct {
	// MinAge is how much recent execution the recorder keeps
	// (runtime/trace.FlightRecorderConfig.MinAge; default
	// DefaultTraceMinAge), MaxBytes the memory it may use for it, which
	// wins over MinAge (default DefaultTraceMaxBytes).
	MinAge   time.Duration
	MaxBytes uint64
	// Cooldown is the least time between two snapshots, whatever asks for
	// them (default DefaultTraceCooldown).
	Cooldown time.Duration
	// SnapshotMaxBytes caps one snapshot (default 4 × MaxBytes: the
	// runtime treats MaxBytes as a hint); a larger one is dropped, with a
	// Note, rather than kept truncated, which no parser could read.
	SnapshotMaxBytes int
	// SnapshotTimeout bounds the time a snapshot may take (default
	// DefaultTraceSnapshotTimeout); one that takes longer is abandoned.
	SnapshotTimeout time.Duration
}

// Flight recorder defaults, from BenchmarkFlightRecorderOverhead
// (testapps/maplab/tracecheck; README, "The trace behind the alert"): 22
// interleaved rounds on maplab's two overhead cases, GOMAXPROCS 2, load
// average 25–30. On the RWMutex write-heavy convoy throughput was 21% lower
// with the recorder running (2.29M vs 2.91M ops/s, p=0.014) while ops per
// CPU-second did not move detectably (−5%, p=0.30); on the Mutex balanced
// case neither did (−9% ops/s, p=0.44). The tracer's cost is per scheduling
// event, and a convoy is nothing but those: hence opt-in. The trace it
// writes was 98–130 KiB/s (medians), so 10s — one default window, all of
// the window an alert fires on — is about 1.3 MB, and 16 MiB leaves room for
// a program ten times as eventful before MaxBytes shortens the window.
const (
	DefaultTraceMinAge          = 10 * time.Second
	DefaultTraceMaxBytes        = 16 << 20
	DefaultTraceCooldown        = time.Minute
	DefaultTraceSnapshotTimeout = 5 * time.Second
)

func (c FlightRecorderConfig) withDefaults() FlightRecorderConfig {
	if c.MinAge <= 0 {
		c.MinAge = DefaultTraceMinAge
	}
	if c.MaxBytes == 0 {
		c.MaxBytes = DefaultTraceMaxBytes
	}
	if c.Cooldown <= 0 {
		c.Cooldown = DefaultTraceCooldown
	}
	if c.SnapshotMaxBytes <= 0 {
		c.SnapshotMaxBytes = int(min(4*c.MaxBytes, uint64(window.MaxProfileBytes)))
	}
	if c.SnapshotTimeout <= 0 {
		c.SnapshotTimeout = DefaultTraceSnapshotTimeout
	}
	return c
}

// withDefaults returns c with its zero fields filled in and its values
// checked.
func (c Config) withDefaults() (Config, error) {
	switch {
	case c.MutexProfileFraction == 0:
		c.MutexProfileFraction = DefaultMutexProfileFraction
	case c.MutexProfileFraction < 0:
		c.MutexProfileFraction = 0
	}
	switch {
	case c.BlockProfileRate == 0:
		c.BlockProfileRate = DefaultBlockProfileRate
	case c.BlockProfileRate < 0:
		c.BlockProfileRate = 0
	}
	if c.PreviousBlockRate < 0 {
		c.PreviousBlockRate = 0
	}
	if c.Interval <= 0 {
		c.Interval = DefaultInterval
	}
	if c.Windows <= 0 {
		c.Windows = DefaultWindows
	}
	if c.WindowMaxBytes <= 0 {
		c.WindowMaxBytes = DefaultWindowMaxBytes
	}
	switch {
	case c.CPUProfileDuty == 0:
		// In floating point: Interval × DefaultCPUProfileDuty overflows
		// int64 nanoseconds past about 50 minutes.
		c.CPUProfileDuty = time.Duration(float64(c.Interval) * (float64(DefaultCPUProfileDuty) / float64(DefaultInterval)))
	case c.CPUProfileDuty < 0:
		c.CPUProfileDuty = 0
	}
	c.CPUProfileDuty = min(c.CPUProfileDuty, c.Interval)
	if c.FgprofMaxGoroutines <= 0 {
		c.FgprofMaxGoroutines = DefaultFgprofMaxGoroutines
	}
	if c.MaxProfileSeconds <= 0 {
		c.MaxProfileSeconds = DefaultMaxProfileSeconds
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.GoroutineLeakEvery == 0 {
		c.GoroutineLeakEvery = DefaultGoroutineLeakEvery
	}
	if c.FlightRecorder != nil {
		fr := c.FlightRecorder.withDefaults()
		c.FlightRecorder = &fr // the host's struct stays its own
	}
	if err := checkLabels(c.Labels); err != nil {
		return c, err
	}
	c.Labels = maps.Clone(c.Labels) // windows share it; the host may reuse its map
	if c.ListenAddr != "" {
		addr, err := c.listenAddr()
		if err != nil {
			return c, err
		}
		c.ListenAddr = addr
	}
	return c, nil
}

// labelName is a Prometheus label name (names starting with "__" are
// reserved).
var labelName = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

func checkLabels(labels map[string]string) error {
	for name := range labels {
		if !labelName.MatchString(name) || strings.HasPrefix(name, "__") {
			return fmt.Errorf("agent config: label name %q is not a valid Prometheus label name", name)
		}
	}
	switch role := labels["role"]; role {
	case "", "canary", "baseline":
	default:
		return fmt.Errorf("agent config: label role=%q, want \"canary\" or \"baseline\"", role)
	}
	return nil
}

// listenAddr normalizes ListenAddr (an empty host becomes 127.0.0.1) and
// refuses a non-loopback host that nothing protects.
func (c Config) listenAddr() (string, error) {
	host, port, err := net.SplitHostPort(c.ListenAddr)
	if err != nil {
		return "", fmt.Errorf("agent config: ListenAddr %q: %w", c.ListenAddr, err)
	}
	if host == "" {
		host = "127.0.0.1"
	}
	if !loopback.IsHost(host) && c.Token == "" && !c.InsecureAllowNonLoopback {
		return "", errors.New("agent config: ListenAddr " + c.ListenAddr +
			" is not a loopback address; anyone who can reach it could read profiles and command lines. " +
			"Set Config.Token (bearer authentication), bind 127.0.0.1, " +
			"or set Config.InsecureAllowNonLoopback to accept the exposure")
	}
	return net.JoinHostPort(host, port), nil
}
