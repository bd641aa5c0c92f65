package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/contendr/contendr/internal/cliflags"
	"github.com/contendr/contendr/internal/loopback"
	"github.com/contendr/contendr/source"
	"github.com/contendr/contendr/webui"
)

// serveOptions are the flags of `contendr serve`.
type serveOptions struct {
	listen      string
	target      *cliflags.TargetFlags
	targetToken string
	insecure    bool
	interval    cliflags.Duration
	keep        int

	// Filled from target by RunE: the dashboard's token (--token) and what
	// a poll loads.
	token string
	load  source.Options
}

func newCmdServe() *cobra.Command {
	o := serveOptions{}
	cmd := &cobra.Command{
		Use:   "serve TARGET...",
		Short: "Serve a live web dashboard of one or more targets",
		Long: `serve polls each TARGET every --interval, keeps its last --keep windows and
serves a dashboard: per target the lock fraction and GC CPU fraction over the
kept windows, the findings, the lock sites with holders and waiters, map
growth, GC pressure, the map-strategy recommendations, flame graphs, diffs
between windows or between a canary and its baseline, and a link into pprof's
own web UI for every profile. The page updates itself as windows arrive.

TARGET is anything 'contendr analyze' accepts: an agent's URL (its windows are
taken as they close), a plain net/http/pprof server (measured live for
--seconds each --interval: half of it by default, so that the target's CPU
profiler stays free the rest of the time for its own /debug/pprof/profile),
a window bundle or profile files.

The dashboard binds loopback by default. Binding another address needs
--token (or --insecure, which is logged). Without a token it answers only
requests addressed to localhost or a loopback IP, so a web page cannot reach
it by re-pointing its own DNS name at 127.0.0.1. With --token, send
"Authorization: Bearer <token>", or open the page once as /?token=<token>:
the browser then keeps an HttpOnly cookie. The same token is sent to HTTP
targets as their bearer token unless --target-token says otherwise.`,
		Example: `  contendr serve http://127.0.0.1:6061
  contendr serve http://canary:6061 http://baseline:6061 --listen 0.0.0.0:8080 --token "$TOKEN"
  contendr serve http://127.0.0.1:6060 --interval 10s   # a plain net/http/pprof server`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.fromFlags(); err != nil {
				return err
			}
			return o.run(cmd.Context(), cmd, args)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.listen, "listen", "127.0.0.1:8080", "address to serve the dashboard on; a host-less :PORT binds loopback")
	o.target = cliflags.Target(cmd)
	o.target.DescribeSeconds(0, "how long a plain pprof target is measured each --interval (default: half of --interval; shorter than it)")
	f.Lookup(cliflags.FlagToken).Usage = "bearer token for HTTP targets, also required (or the cookie set by ?token=) on every dashboard request"
	f.StringVar(&o.targetToken, "target-token", "", "bearer token for HTTP targets when it is not --token")
	f.BoolVar(&o.insecure, "insecure", false, "allow a non-loopback --listen without --token (logged)")
	cliflags.DurationVar(cmd, &o.interval, "interval", 5*time.Second, "how often to poll each target")
	f.IntVar(&o.keep, "keep", webui.DefaultKeep, "windows kept per target (bounds memory)")
	return cmd
}

// fromFlags reads the target flags: --token guards the dashboard and is
// sent to targets unless --target-token is; a plain pprof target is
// measured for --seconds, shorter than --interval, so that its CPU profiler
// is not held all the time.
func (o *serveOptions) fromFlags() error {
	o.token = o.target.Token
	if o.targetToken != "" {
		o.target.Token = o.targetToken
	}
	load, err := o.target.Options(false)
	if err != nil {
		return err
	}
	interval := time.Duration(o.interval)
	switch {
	case !o.target.SecondsGiven():
		load.Seconds = max(interval/2, time.Second)
	case load.Seconds >= interval:
		return usageError("--seconds %s must be shorter than --interval %s: while a window is measured the target's CPU profiler is busy, and its own /debug/pprof/profile fails", load.Seconds, interval)
	}
	o.load = load
	return nil
}

// run serves the dashboard until ctx ends (Ctrl-C), then shuts down.
func (o *serveOptions) run(ctx context.Context, cmd *cobra.Command, args []string) error {
	addr, err := o.listenAddr()
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil))
	if o.insecure && o.token == "" && !loopback.IsAddr(addr) {
		logger.Warn("contendr serve: serving the dashboard on a non-loopback address without a token (--insecure)", "listen", addr)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	handler, wait, err := o.dashboard(ctx, args, logger)
	if err != nil {
		return err
	}
	defer wait()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", addr, err)
	}
	if o.token == "" && loopback.IsAddr(addr) {
		// Loopback alone does not keep out the user's browser: a rebound
		// DNS name would let any web page read the dashboard.
		handler = loopback.Guard(handler)
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	hint := ""
	if o.token != "" {
		hint = " (open it once as /?token=<token>, or send Authorization: Bearer <token>)"
	}
	fmt.Fprintf(cmd.OutOrStdout(), "contendr dashboard of %d target(s) on http://%s/%s\n", len(args), ln.Addr(), hint)

	select {
	case err := <-served:
		return fmt.Errorf("serving the dashboard: %w", err)
	case <-ctx.Done():
	}
	shutdown, done := context.WithTimeout(context.Background(), 5*time.Second)
	defer done()
	srv.Shutdown(shutdown)
	return nil
}

// dashboard builds the dashboard of targets and polls each one until ctx
// ends; wait blocks until the pollers have stopped. It is what `serve`
// runs, apart from listening, for tests to mount behind httptest.
func (o *serveOptions) dashboard(ctx context.Context, targets []string, logger *slog.Logger) (h http.Handler, wait func(), err error) {
	var wg sync.WaitGroup
	opts := webui.Options{Token: o.token, Logger: logger}
	for _, target := range targets {
		remote := webui.NewRemote(target, webui.RemoteOptions{
			Interval: time.Duration(o.interval), Keep: o.keep, Logger: logger, Load: o.load,
		})
		opts.Targets = append(opts.Targets, webui.Target{Name: target, Source: remote})
		wg.Go(func() { remote.Run(ctx) })
	}
	return webui.New(opts), wg.Wait, nil
}

// listenAddr checks --listen: a host-less ":PORT" binds loopback, and any
// other non-loopback address needs --token or --insecure.
func (o *serveOptions) listenAddr() (string, error) {
	host, port, err := net.SplitHostPort(o.listen)
	if err != nil {
		return "", usageError("--listen %q: want host:port (127.0.0.1:8080, :8080): %v", o.listen, err)
	}
	if host == "" {
		host = "127.0.0.1"
	}
	addr := net.JoinHostPort(host, port)
	if !loopback.IsAddr(addr) && o.token == "" && !o.insecure {
		return "", usageError("--listen %s is not a loopback address: set --token (or --insecure to serve without one)", o.listen)
	}
	return addr, nil
}
