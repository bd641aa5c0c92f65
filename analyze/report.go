// Package analyze judges one window's collector results against thresholds:
// it turns them into findings (ok/warn/crit), per-component map-strategy
// recommendations and a Report rendered as text, JSON, Markdown or HTML.
//
// Build is a pure function of the collectors' results, so every rule is
// table-testable; Analyze runs the collectors on a window and calls Build.
// The JSON form is a stable contract, described in docs/report-schema.md.
package analyze

import (
	"fmt"

	"github.com/contendr/contendr/collectors/figure"
	"strings"
	"time"

	"github.com/contendr/contendr/collectors/leaks"
	"github.com/contendr/contendr/collectors/locktrace"
)

// Schema identifies the report's JSON layout. Fields are only ever added
// under one schema; a rename or removal needs a new one.
const Schema = "contendr.report/v1"

// Severity grades a finding: ok < warn < crit.
type Severity string

// Severities, in increasing order.
const (
	SeverityOK   Severity = "ok"
	SeverityWarn Severity = "warn"
	SeverityCrit Severity = "crit"
)

func (s Severity) rank() int {
	switch s {
	case SeverityWarn:
		return 1
	case SeverityCrit:
		return 2
	}
	return 0
}

// AtLeast reports whether s is as severe as other or more.
func (s Severity) AtLeast(other Severity) bool { return s.rank() >= other.rank() }

// ParseSeverity reads "ok", "warn" or "crit" (case-insensitive;
// "warning" and "critical" are accepted too).
func ParseSeverity(s string) (Severity, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "ok":
		return SeverityOK, nil
	case "warn", "warning":
		return SeverityWarn, nil
	case "crit", "critical":
		return SeverityCrit, nil
	}
	return "", fmt.Errorf("unknown severity %q: want ok, warn or crit", s)
}

func maxSeverity(a, b Severity) Severity {
	if a.rank() >= b.rank() {
		return a
	}
	return b
}

func minSeverity(a, b Severity) Severity {
	if a.rank() <= b.rank() {
		return a
	}
	return b
}

// Report is the verdict on one window.
type Report struct {
	Schema string     `json:"schema"`
	Target Target     `json:"target"`
	Window WindowInfo `json:"window"`
	// Worst is the most severe finding; Verdict says it in one sentence.
	WorstSeverity Severity `json:"worst"`
	Verdict       string   `json:"verdict"`
	// Measured says, per figure, whether the window measured it, estimated
	// it (and why) or lacked it (and why): the one account every renderer,
	// watch, gate and the web UI read before showing a figure, so that an
	// unmeasured figure is never shown as 0.
	Measured figure.Set `json:"measured"`

	Lock            LockSection      `json:"lock"`
	GC              GCSection        `json:"gc"`
	MapGrowth       []MapGrowth      `json:"map_growth"`
	Findings        []Finding        `json:"findings"`
	Recommendations []Recommendation `json:"recommendations"`
	// Trace is the exact lock diagnosis of the window's execution trace
	// (collectors/locktrace), when it has one.
	Trace *locktrace.Diagnosis `json:"trace,omitempty"`
	// Leaks are the goroutines the window's goroutine leak profile found
	// (collectors/leaks), when it has one; apart from the contention cost.
	Leaks *leaks.Result `json:"leaks,omitempty"`
	Notes []string      `json:"notes"`
}

// Worst returns the most severe finding's severity (ok when none).
func (r *Report) Worst() Severity {
	worst := SeverityOK
	for _, f := range r.Findings {
		worst = maxSeverity(worst, f.Severity)
	}
	return worst
}

// Target describes the measured process.
type Target struct {
	Source     string            `json:"source"`
	GoVersion  string            `json:"go_version"`
	GOMAXPROCS int               `json:"gomaxprocs"`
	NumCPU     int               `json:"num_cpu,omitempty"`
	Goroutines int               `json:"goroutines,omitempty"`
	Labels     map[string]string `json:"labels"`
}

// WindowInfo describes the measured interval.
type WindowInfo struct {
	ID      string     `json:"id,omitempty"`
	Start   *time.Time `json:"start,omitempty"`
	End     *time.Time `json:"end,omitempty"`
	Seconds float64    `json:"seconds"`
	// Restarted is set when the target restarted during the window and its
	// counters start from a new baseline.
	Restarted bool `json:"restarted,omitempty"`
	// Profiles lists the profiles the window held.
	Profiles []string `json:"profiles"`
	// RuntimeMetrics is true when the window had runtime/metrics samples,
	// the exact source of lock fraction and GC figures.
	RuntimeMetrics bool `json:"runtime_metrics"`
}

// LockSection is the window's lock contention.
type LockSection struct {
	// Cost is the contention cost (DESIGN.md, "Contention cost"), the
	// headline: (CPU inside lock primitives + Ps idle while goroutines
	// waited on locks) ÷ (GOMAXPROCS × window); meaningful only when
	// CostKnown. CostEstimated is set when a half was not measured
	// directly, CostLowerBound when a half is missing (no CPU profile: idle
	// Ps only); CostReason says which, in words.
	Cost           float64    `json:"cost"`
	CostKnown      bool       `json:"cost_known"`
	CostEstimated  bool       `json:"cost_estimated"`
	CostLowerBound bool       `json:"cost_lower_bound,omitempty"`
	CostReason     string     `json:"cost_reason,omitempty"`
	CostDetail     CostDetail `json:"cost_detail"`
	// Waiters is goroutines blocked on locks on average (Δwait ÷ window),
	// a latency figure; Runnable is goroutines runnable on average (Go
	// ≥1.26), the saturation context: runnable ≫ 0 means lock waits mostly
	// replaced run-queue waits.
	Waiters       float64 `json:"waiters"`
	WaitersKnown  bool    `json:"waiters_known"`
	Runnable      float64 `json:"runnable"`
	RunnableKnown bool    `json:"runnable_known"`

	// Fraction is the lock wait share, Δwait / (Δwait + Δuser_cpu), kept
	// under its old name for compatibility; meaningful only when Known. It
	// counts waits that cost no throughput (a goroutine blocked on a lock
	// while another ran in its place), so it is context, never time lost.
	Fraction  float64 `json:"fraction"`
	Known     bool    `json:"known"`
	Estimated bool    `json:"estimated"`
	// EstimateReason says what an estimated fraction was derived from.
	EstimateReason      string  `json:"estimate_reason,omitempty"`
	WaitSeconds         float64 `json:"wait_seconds"`
	UserCPUSeconds      float64 `json:"user_cpu_seconds"`
	MutexProfileEnabled bool    `json:"mutex_profile_enabled"`
	BlockProfileEnabled bool    `json:"block_profile_enabled"`

	// Sites are user-code lock sites, both sides, heaviest first.
	Sites []LockSite `json:"sites"`
	// Components join the two sides per component, heaviest first.
	Components []LockComponent `json:"components"`
	// Runtime holds runtime-internal lock contention, never blamed on user
	// code.
	Runtime []LockSite `json:"runtime"`
}

// CostDetail is what the contention cost was made of, in seconds over the
// window.
type CostDetail struct {
	// CapacitySeconds is GOMAXPROCS × window, the denominator.
	CapacitySeconds float64 `json:"capacity_seconds"`
	// SyncCPUSeconds is CPU inside lock primitives; SyncCPUKnown is false
	// without a usable CPU profile. CPUProfileSeconds is how much of the
	// window the CPU profile covered (SyncCPUSeconds is scaled from it).
	SyncCPUSeconds    float64 `json:"sync_cpu_seconds"`
	SyncCPUKnown      bool    `json:"sync_cpu_known"`
	CPUProfileSeconds float64 `json:"cpu_profile_seconds,omitempty"`
	// RuntimeLockCPUSeconds is CPU in the runtime's internal locks, not in
	// the cost: no user code chose those locks.
	RuntimeLockCPUSeconds float64 `json:"runtime_lock_cpu_seconds"`
	// IdleSeconds is P-seconds no goroutine ran, read from IdleSource
	// ("runtime/metrics", "scheduler-samples", "os-process-cpu",
	// "cpu-profile"; empty when unknown).
	IdleSeconds float64 `json:"idle_seconds"`
	IdleSource  string  `json:"idle_source,omitempty"`
	// OffCPUSeconds is P-seconds counted busy while the process's threads
	// slept off the CPU with cores free (mutex.Cost.OffCPUSeconds).
	OffCPUSeconds float64 `json:"off_cpu_seconds,omitempty"`
	// WaitSeconds is goroutine-seconds blocked on locks; IdleLostSeconds
	// = min(IdleSeconds + OffCPUSeconds, WaitSeconds), the idle half of
	// the cost.
	WaitSeconds     float64 `json:"wait_seconds"`
	IdleLostSeconds float64 `json:"idle_lost_seconds"`
}

// LockSite is one lock site on one side.
type LockSite struct {
	Component             string  `json:"component"`
	Function              string  `json:"function"`
	Kind                  string  `json:"kind"`
	Side                  string  `json:"side"`
	Primitive             string  `json:"primitive,omitempty"`
	DelaySecondsPerSecond float64 `json:"delay_seconds_per_second"`
	ContentionsPerSecond  float64 `json:"contentions_per_second"`
	// DelaySeconds and Contentions are the window's totals, the figures to
	// read when the window's length is unknown (profile files).
	DelaySeconds float64 `json:"delay_seconds"`
	Contentions  int64   `json:"contentions"`
	Share        float64 `json:"share"`
	Fraction     float64 `json:"fraction"`
	// Stack is the heaviest stack behind the site, leaf first.
	Stack []string `json:"stack,omitempty"`
}

// LockComponent is one component's contention, both sides joined.
type LockComponent struct {
	Name                  string   `json:"name"`
	Kinds                 []string `json:"kinds"`
	DelaySecondsPerSecond float64  `json:"delay_seconds_per_second"`
	// DelaySeconds is the same over the whole window.
	DelaySeconds float64 `json:"delay_seconds"`
	// Cost is the component's part of the contention cost: its CPU inside
	// lock primitives plus the idle time lost to locks × its share of lock
	// wait, over GOMAXPROCS × window.
	Cost            float64 `json:"cost"`
	SyncCPUSeconds  float64 `json:"sync_cpu_seconds"`
	IdleLostSeconds float64 `json:"idle_lost_seconds"`
	// Fraction is the component's lock wait share (context, not time
	// lost); Share its part of all lock delay.
	Fraction          float64 `json:"fraction"`
	Share             float64 `json:"share"`
	ReadDelaySeconds  float64 `json:"read_delay_seconds"`
	WriteDelaySeconds float64 `json:"write_delay_seconds"`
	// Holder and Waiter are the heaviest site on each side, so that a
	// reader sees who makes whom wait.
	Holder string `json:"holder,omitempty"`
	Waiter string `json:"waiter,omitempty"`
}

// GCSection is the window's GC pressure.
type GCSection struct {
	// Known is false when the window had no source of GC figures.
	Known                 bool    `json:"known"`
	Source                string  `json:"source,omitempty"`
	Estimated             bool    `json:"estimated"`
	CPUFraction           float64 `json:"cpu_fraction"`
	AssistShare           float64 `json:"assist_share"`
	PauseP50Seconds       float64 `json:"pause_p50_seconds"`
	PauseP99Seconds       float64 `json:"pause_p99_seconds"`
	PauseMaxSeconds       float64 `json:"pause_max_seconds"`
	Cycles                int64   `json:"cycles"`
	CyclesPerSecond       float64 `json:"cycles_per_second"`
	AllocBytesPerSecond   float64 `json:"alloc_bytes_per_second"`
	AllocObjectsPerSecond float64 `json:"alloc_objects_per_second"`
	HeapLiveBytes         float64 `json:"heap_live_bytes"`
	HeapGoalBytes         float64 `json:"heap_goal_bytes"`
	GOGC                  float64 `json:"gogc"`
	GOMEMLIMIT            float64 `json:"gomemlimit"`
	// Missing says "figure: reason" for each GC figure the window lacked,
	// for readers of the first reports; Report.Measured is the same, typed.
	Missing []string `json:"missing,omitempty"`
}

// MapGrowth is allocation a component's map did to grow or copy itself.
type MapGrowth struct {
	Component        string  `json:"component"`
	Function         string  `json:"function"`
	Kind             string  `json:"kind"`
	Bytes            int64   `json:"bytes"`
	BytesPerSecond   float64 `json:"bytes_per_second"`
	ObjectsPerSecond float64 `json:"objects_per_second"`
	ShareOfAlloc     float64 `json:"share_of_alloc"`
	InUseGrowthBytes int64   `json:"inuse_growth_bytes,omitempty"`
	// Inferred marks Go map growth read from a locking user function's own
	// allocation, where the profile hid the map's runtime frames.
	Inferred bool `json:"inferred,omitempty"`
}

// Finding IDs. The lock wait share findings (lock_fraction,
// site_fraction, runtime_lock_fraction) are no longer raised: the
// contention cost replaced them, and the wait share is quoted in its
// message as context. Their IDs stay for readers of old reports.
const (
	FindingContentionCost    = "contention_cost"
	FindingComponentCost     = "component_cost"
	FindingRuntimeLockCost   = "runtime_lock_cost"
	FindingLockFraction      = "lock_fraction"
	FindingSiteFraction      = "site_fraction"
	FindingRuntimeLocks      = "runtime_lock_fraction"
	FindingGCCPUFraction     = "gc_cpu_fraction"
	FindingGCPauseP99        = "gc_pause_p99"
	FindingMapGrowthShare    = "map_growth_share"
	FindingProfilingDisabled = "profiling_disabled"
)

// Finding is one headline number judged against its threshold.
type Finding struct {
	ID       string   `json:"id"`
	Severity Severity `json:"severity"`
	Value    float64  `json:"value"`
	// Threshold is the limit the value was judged against: crit for a
	// critical finding, warn otherwise.
	Threshold float64 `json:"threshold"`
	Warn      float64 `json:"warn"`
	Crit      float64 `json:"crit"`
	// Unit is "fraction", "seconds" or "rate".
	Unit string `json:"unit"`
	// Component is the component judged, "" for a process-wide figure.
	Component string `json:"component"`
	Estimated bool   `json:"estimated,omitempty"`
	// LowerBound marks a value that can only be higher (a contention cost
	// without a CPU profile).
	LowerBound bool   `json:"lower_bound,omitempty"`
	Message    string `json:"message"`
}

// Strategy is a concurrent-map strategy (DESIGN.md, "Map strategy
// recommendation").
type Strategy string

// Strategies. Current is one of mutex…unknown; Recommended one of
// mutex…xsync or keep.
const (
	StrategyMutex         Strategy = "mutex"          // sync.Mutex + map
	StrategyRWMutex       Strategy = "rwmutex"        // sync.RWMutex + map
	StrategySyncMap       Strategy = "syncmap"        // sync.Map, Go ≥1.24 HashTrieMap
	StrategySyncMapLegacy Strategy = "syncmap-legacy" // read/dirty sync.Map (Go ≤1.23) or a hand-written one
	StrategySharded       Strategy = "sharded"        // N independently locked shards
	StrategyCOW           Strategy = "cow"            // atomic.Pointer to an immutable map
	StrategyXsync         Strategy = "xsync"          // github.com/puzpuzpuz/xsync Map
	StrategyUnknown       Strategy = "unknown"
	StrategyKeep          Strategy = "keep"
)

// Recommendation is the map strategy advised for one component.
type Recommendation struct {
	Component   string   `json:"component"`
	Current     Strategy `json:"current"`
	Recommended Strategy `json:"recommended"`
	// Rule names the rule in rules.go that decided.
	Rule       string   `json:"rule"`
	Confidence float64  `json:"confidence"`
	Reasons    []string `json:"reasons"`
	Evidence   []string `json:"evidence"`
	// ExpectedGain says what the change should give back, in words; Gain
	// holds the upper bounds behind it.
	ExpectedGain string `json:"expected_gain"`
	Gain         Gain   `json:"gain"`
	// GainSource says where the expected gain's figures come from: a
	// contendr verify measurement (then in Measured), the ground truth's
	// rows (maplab's matrix, mapbench's cases) on their cores, or the
	// window's bounds only.
	GainSource GainSource       `json:"gain_source"`
	Measured   *GainMeasurement `json:"measured,omitempty"`
	Workload   Workload         `json:"workload"`
	// Decide says what data would settle a thin-evidence "keep".
	Decide string `json:"decide,omitempty"`
}

// Gain bounds what a recommendation can give back.
type Gain struct {
	// Cost is the component's part of the contention cost, the share of
	// the CPU capacity the change can give back at most.
	Cost float64 `json:"cost"`
	// LockFraction is the component's lock wait share, kept for
	// compatibility; it is not time the change would give back.
	LockFraction float64 `json:"lock_fraction"`
	// AllocShare is the share of the window's allocation it can remove at
	// most.
	AllocShare float64 `json:"alloc_share"`
}

// Workload is what the window says about how a component is used.
type Workload struct {
	// ReadShare is the share of the component's map work that reads (0..1);
	// ReadShareSource says from what ("cpu-profile", "rwmutex-contention",
	// "contention-stacks"); empty when unknown.
	ReadShare       float64 `json:"read_share"`
	ReadShareSource string  `json:"read_share_source,omitempty"`
	// Mix is read-only (≥99.9% reads), read-mostly (≥95%), read-heavy (≥70%), balanced,
	// write-heavy (≤30%) or unknown.
	Mix string `json:"mix"`
	// Contention is the severity of the component's contention cost
	// against ComponentCost when the window measured the cost (not a
	// lower bound), else of its lock wait share against SiteFraction.
	Contention Severity `json:"contention"`
	// Cost is the component's part of the contention cost.
	Cost     float64 `json:"cost"`
	Fraction float64 `json:"fraction"`
	// FractionLowerBound is set when the window had no lock fraction and
	// Fraction is a lower bound (delay over delay + GOMAXPROCS).
	FractionLowerBound bool `json:"fraction_lower_bound,omitempty"`
	// GrowthShare is the component's map growth/copy allocation as a share
	// of the window's allocation; GrowthKinds names the machinery.
	GrowthShare          float64  `json:"growth_share"`
	GrowthBytesPerSecond float64  `json:"growth_bytes_per_second"`
	GrowthKinds          []string `json:"growth_kinds,omitempty"`
	// Range is true when Range/iteration frames appear under the component.
	Range      bool `json:"range"`
	Goroutines int  `json:"goroutines,omitempty"`
	GOMAXPROCS int  `json:"gomaxprocs,omitempty"`
	// DeleteShare and RangeShare are parts of the map work, as ReadShare
	// is (deletes are writes; ranges count as reads in ReadShare).
	DeleteShare float64 `json:"delete_share,omitempty"`
	RangeShare  float64 `json:"range_share,omitempty"`
	// MixNote says how far the mix's source can be trusted: CPU-weighted,
	// or from contention when the window had no CPU profile.
	MixNote string `json:"mix_note,omitempty"`
	// MultiOpMethods are the component's methods seen doing both reads and
	// writes of its map: likely a read-modify-write under one lock.
	MultiOpMethods []string `json:"multi_op_methods,omitempty"`
	// Regime is how the component's goroutines ran in the window;
	// RegimeClass the maplab regime it was placed in (g<goroutines per
	// P>-<none|cpu|io>), which the few-core advice looks up.
	Regime      Regime `json:"regime"`
	RegimeClass string `json:"regime_class,omitempty"`
}

// Regime is what the window measured of the conditions a map strategy's
// speed depends on: goroutines per P, whether the Ps were saturated, and
// how much of the CPU the component's own map and lock work took.
type Regime struct {
	// GoroutinesPerP is all the process's goroutines over GOMAXPROCS (an
	// upper bound of those using the map); 0 when unknown.
	GoroutinesPerP float64 `json:"goroutines_per_p"`
	// Busy is the share of the CPU capacity the process used, from
	// BusySource (the contention cost's idle time); Runnable the
	// goroutines ready to run on average (Go ≥1.26).
	Busy          float64 `json:"busy"`
	BusyKnown     bool    `json:"busy_known"`
	BusySource    string  `json:"busy_source,omitempty"`
	Runnable      float64 `json:"runnable"`
	RunnableKnown bool    `json:"runnable_known"`
	// LockWaiters is the goroutines blocked on locks on average (they
	// contend, though neither running nor runnable).
	LockWaiters      float64 `json:"lock_waiters"`
	LockWaitersKnown bool    `json:"lock_waiters_known"`
	// Saturated: the Ps were busy or goroutines waited for one.
	Saturated bool `json:"saturated"`
	// Shares of the window's sampled CPU (CPUKnown: there was a CPU
	// profile): everything through the component, its CPU inside lock
	// primitives, and its own map operations. 1 − ComponentCPUShare ran
	// outside the component: work between its operations, or other code.
	CPUKnown          bool    `json:"cpu_known"`
	ComponentCPUShare float64 `json:"component_cpu_share"`
	LockCPUShare      float64 `json:"lock_cpu_share"`
	MapCPUShare       float64 `json:"map_cpu_share"`
	// RLockCPUShare is the part of the component's CPU inside RLock and
	// RUnlock themselves (the reader-count cache line, golang/go#17973).
	RLockCPUShare float64 `json:"rlock_cpu_share"`
	// LockCPUOfCapacity is the component's lock CPU over the capacity,
	// when the window knows the capacity.
	LockCPUOfCapacity float64 `json:"lock_cpu_of_capacity,omitempty"`
}
