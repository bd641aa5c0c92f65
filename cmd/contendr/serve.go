package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/contendr/contendr/internal/loopback"
	"github.com/contendr/contendr/source"
	"github.com/contendr/contendr/webui"
)

// serveOptions are the flags of `contendr serve`.
type serveOptions struct {
	listen      string
	token       string
	targetToken string
	insecure    bool
	interval    time.Duration
	keep        int
	timeout     time.Duration
	headers     []string
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
--interval each poll), a window bundle or profile files.

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
			return o.run(cmd.Context(), cmd, args)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.listen, "listen", "127.0.0.1:8080", "address to serve the dashboard on; a host-less :PORT binds loopback")
	f.StringVar(&o.token, "token", "", "require this bearer token (or the cookie set by ?token=) on every request")
	f.StringVar(&o.targetToken, "target-token", "", "bearer token for HTTP targets (default: --token)")
	f.BoolVar(&o.insecure, "insecure", false, "allow a non-loopback --listen without --token (logged)")
	f.DurationVar(&o.interval, "interval", 5*time.Second, "how often to poll each target (a plain pprof target is measured for this long)")
	f.IntVar(&o.keep, "keep", webui.DefaultKeep, "windows kept per target (bounds memory)")
	f.DurationVar(&o.timeout, "timeout", source.DefaultTimeout, "how long each HTTP request may take beyond the window")
	f.StringArrayVar(&o.headers, "header", nil, "add an HTTP header to every request to targets, as 'Name: value' (repeatable)")
	return cmd
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
	headers, err := serveHeaders(o.headers)
	if err != nil {
		return nil, nil, err
	}
	token := o.targetToken
	if token == "" {
		token = o.token
	}
	if token != "" && headers.Get("Authorization") == "" {
		headers.Set("Authorization", "Bearer "+token)
	}
	if o.interval <= 0 {
		return nil, nil, usageError("--interval must be positive, got %s", o.interval)
	}
	var wg sync.WaitGroup
	opts := webui.Options{Token: o.token, Logger: logger}
	for _, target := range targets {
		remote := webui.NewRemote(target, webui.RemoteOptions{
			Interval: o.interval, Keep: o.keep, Logger: logger,
			Load: source.Options{Headers: headers, Timeout: o.timeout},
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

// serveHeaders reads --header values, "Name: value".
func serveHeaders(raw []string) (http.Header, error) {
	h := http.Header{}
	for _, kv := range raw {
		name, value, ok := strings.Cut(kv, ":")
		if !ok || strings.TrimSpace(name) == "" {
			return nil, usageError("--header %q: want 'Name: value'", kv)
		}
		h.Add(strings.TrimSpace(name), strings.TrimSpace(value))
	}
	return h, nil
}
