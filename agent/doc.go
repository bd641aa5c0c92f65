// Package agent is contendr's embeddable agent: imported into a canary build,
// it measures lock contention and GC pressure in windows and serves them,
// with the standard pprof endpoints, fgprof and Prometheus metrics.
//
// Embedding takes three calls:
//
//	a, err := agent.Start(agent.Config{Labels: map[string]string{"service": "api", "role": "canary"}})
//	if err != nil { … }
//	defer a.Stop()
//	mux.Handle("/debug/", a.Handler())
//	mux.Handle("/metrics", a.Handler())
//
// # Windows
//
// Every Config.Interval the agent closes a window.Window: the mutex, block
// and allocs profiles as deltas over the window (the allocs profile's
// inuse_* columns hold the in-use memory at the window's end), a CPU
// profile of Config.CPUProfileDuty at the window's start (by default
// DefaultCPUProfileDuty, 3s of each 10s; a negative duty turns it off),
// runtime/metrics samples at both ends (window.MetricNames), the goroutine
// count and Meta (Go version, GOMAXPROCS, rates, labels, Source
// "in-process"). Windows are numbered "1", "2", …; the last Config.Windows
// are kept. The agent never forces a garbage collection. Its own waiting
// (the loop idling between windows) is left out of the windows' mutex and
// block profiles; the standard /debug/pprof endpoints serve the runtime's
// profiles untouched.
//
// # The contract
//
//   - It never crashes or stalls the host. Each collection recovers panics
//     and is bounded by a timeout checked between its steps; the loop keeps
//     going after an error. The first panic and the first error are logged,
//     later ones only counted in contendr_agent_collect_errors_total. A
//     failed collection leaves the open window's baseline in place, so the
//     next window spans both intervals rather than leaving a gap.
//   - It sets the mutex profile fraction and block profile rate from Config
//     (DefaultMutexProfileFraction, DefaultBlockProfileRate), changes them
//     with SetRates or PUT /debug/contendr/config, and restores them on Stop:
//     the mutex fraction to the value read at Start, the block rate — which
//     the runtime cannot report — to Config.PreviousBlockRate (0 unless the
//     host says otherwise). Stop is idempotent. The rates are process-wide:
//     run one agent per process.
//   - It registers nothing on http.DefaultServeMux and nothing on the global
//     Prometheus registry unless Config.Registerer is
//     prometheus.DefaultRegisterer. Its own listener (Config.ListenAddr)
//     binds loopback by default; binding elsewhere requires Config.Token or
//     the logged opt-out Config.InsecureAllowNonLoopback. Token-less on
//     loopback, it answers only requests addressed to localhost or a
//     loopback IP (403 otherwise), so that a web page that re-points its
//     own DNS name at 127.0.0.1 cannot read profiles through the browser.
//     Handler() mounted on the host's own server is the host's to guard.
//   - With a Token, every endpoint requires "Authorization: Bearer <token>";
//     without one, changing rates over HTTP is refused (403).
//   - ?seconds= above Config.MaxProfileSeconds is rejected with 400. One
//     CPU-profile-type activity runs at a time — /debug/pprof/profile,
//     /debug/pprof/trace, /debug/fgprof and the agent's CPU duty cycle.
//     The duty cycle gives way to the user: a request for any of the three
//     stops the agent's profile and goes ahead, and the window keeps what
//     the profile had recorded with a Note saying how many seconds it
//     covered (contendr_agent_cpu_profile_yields_total counts them). A
//     request that finds another user's request running gets 409 at once.
//     A window that opens while the application holds the CPU profiler
//     itself (pprof.StartCPUProfile outside the agent) goes without a CPU
//     profile and says so in a Note.
//   - The CPU duty cycle's cost is below what a shared 2-core machine can
//     resolve (see DefaultCPUProfileDuty for the figures).
//   - Memory is bounded: Config.Windows windows, each capped at
//     Config.WindowMaxBytes encoded (the largest profiles are dropped, with
//     a Note, until it fits).
//   - It measures its own cost: contendr_agent_collect_cpu_seconds_total
//     (the collecting thread's CPU time; Linux only),
//     contendr_agent_collect_seconds_total (wall time),
//     contendr_agent_collect_alloc_bytes_total (approximate: process-wide
//     allocation during the collection), contendr_agent_collections_total.
//
// # Endpoints (all under Handler)
//
//	/debug/pprof/…                       the net/http/pprof set, served by the agent
//	/debug/fgprof                        wall-clock profile (felixge/fgprof)
//	/metrics                             Prometheus (the agent's registry)
//	/debug/contendr/windows              JSON summary of the windows kept
//	/debug/contendr/windows/latest       the latest window as a bundle (zip)
//	/debug/contendr/windows/{id}         one window as a bundle
//	/debug/contendr/config               GET the rates and settings; PUT rates
//	/debug/contendr/ui/                  the dashboard, when Config.Dashboard is set
//
// # Alerts
//
// When a window closes the agent runs collectors/mutex and collectors/gc on
// it once; /metrics serves those results and the alert rules (Config.Alerts,
// package alert) are evaluated on them: firing after N windows over a
// threshold, resolving after M under, delivered to a callback, the log, a
// webhook and optional profile dumps, and exposed as
// contendr_alert_firing{rule}.
package agent
