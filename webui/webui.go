package webui

import (
	"crypto/subtle"
	"embed"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/contendr/contendr/analyze"
	"github.com/contendr/contendr/flame"
	"github.com/contendr/contendr/window"
)

//go:embed assets
var assets embed.FS

// Source gives a target's windows.
type Source interface {
	// Windows returns the windows kept, oldest first, and why the latest
	// attempt to get a new one failed (nil when it did not). Windows may be
	// returned together with an error: the page then shows what it has and
	// says that it is stale.
	Windows() ([]*window.Window, error)
}

// WindowsFunc adapts a function returning kept windows, oldest first — an
// in-process agent's (*agent.Agent).Windows — to a Source.
type WindowsFunc func() []*window.Window

// Windows calls f; an in-process source never fails.
func (f WindowsFunc) Windows() ([]*window.Window, error) { return f(), nil }

// Target is one process the dashboard shows.
type Target struct {
	// Name is shown on the page: a URL, a service name, "self".
	Name   string
	Source Source
}

// Options configure the dashboard.
type Options struct {
	Targets []Target
	// Token, when set, is required on every request: as
	// "Authorization: Bearer <Token>", or as the cookie a browser gets by
	// opening any page once with ?token=<Token>.
	Token string
	// Thresholds judge the findings; nil means analyze.DefaultThresholds().
	Thresholds *analyze.Thresholds
	// Refresh is how often the page polls for new windows (default 2s).
	Refresh time.Duration
	// Logger receives what the handler cannot show in a page; nil means
	// slog.Default().
	Logger *slog.Logger
}

// DefaultRefresh is how often the page polls when Options.Refresh is zero.
const DefaultRefresh = 2 * time.Second

// tokenCookie carries the token for browsers, which cannot send a bearer
// header when following a link.
const tokenCookie = "contendr_token"

// ForAgent is the dashboard of the process it runs in, for
// agent.Config.Dashboard: one target, the agent's kept windows.
//
//	a, err := agent.Start(agent.Config{Dashboard: webui.ForAgent})
//
// The agent serves it at /debug/contendr/ui/ behind its own token, which
// a browser must then send as a header; `contendr serve URL --token T`
// serves the same page with a cookie login instead.
func ForAgent(windows func() []*window.Window) http.Handler {
	return New(Options{Targets: []Target{{Name: "this process", Source: WindowsFunc(windows)}}})
}

// handler serves the dashboard.
type handler struct {
	opts       Options
	thresholds analyze.Thresholds
	log        *slog.Logger
	mux        *http.ServeMux

	reportsMu sync.Mutex
	// reports caches one analysis per window, keyed by windowKey; entries
	// of windows no longer kept are dropped on each pass.
	reports map[string]*analyze.Report

	pprof *pprofCache
}

// New returns the dashboard handler. It serves paths relative to its root
// ("/", "/api/overview", …): mount it under a prefix with http.StripPrefix.
func New(opts Options) http.Handler {
	if opts.Refresh <= 0 {
		opts.Refresh = DefaultRefresh
	}
	h := &handler{
		opts:       opts,
		thresholds: analyze.DefaultThresholds(),
		log:        opts.Logger,
		mux:        http.NewServeMux(),
		reports:    make(map[string]*analyze.Report),
		pprof:      newPprofCache(maxPprofViews),
	}
	if opts.Thresholds != nil {
		h.thresholds = *opts.Thresholds
	}
	if h.log == nil {
		h.log = slog.Default()
	}

	static, _ := fs.Sub(assets, "assets")
	flameAssets, _ := fs.Sub(flame.Assets, "assets")
	h.mux.Handle("GET /assets/flame/", http.StripPrefix("/assets/flame/", http.FileServerFS(flameAssets)))
	h.mux.Handle("GET /assets/", http.StripPrefix("/assets/", http.FileServerFS(static)))
	h.mux.HandleFunc("GET /{$}", h.serveIndex)
	h.mux.HandleFunc("GET /api/overview", h.serveOverview)
	h.mux.HandleFunc("GET /api/target", h.serveTarget)
	h.mux.HandleFunc("GET /api/report", h.serveReport)
	h.mux.HandleFunc("GET /flame", h.serveFlame)
	h.mux.HandleFunc("GET /pprof/{target}/{window}/{kind}/", h.servePprof)
	return h.authenticate(h.mux)
}

func (h *handler) serveIndex(w http.ResponseWriter, r *http.Request) {
	page, err := assets.ReadFile("assets/index.html")
	if err != nil {
		http.Error(w, "reading the embedded page: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(page)
}

// authenticate requires the token, when one is set, as a bearer header or
// a cookie. A request carrying ?token= that matches gets the cookie and is
// redirected to the same URL without the token, so that it stays out of
// the address bar, the history and Referer headers.
func (h *handler) authenticate(next http.Handler) http.Handler {
	if h.opts.Token == "" {
		return next
	}
	want := []byte(h.opts.Token)
	matches := func(got string) bool { return subtle.ConstantTimeCompare([]byte(got), want) == 1 }
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if q := r.URL.Query(); q.Has("token") {
			if !matches(q.Get("token")) {
				http.Error(w, "unauthorized: wrong token", http.StatusUnauthorized)
				return
			}
			http.SetCookie(w, &http.Cookie{
				Name: tokenCookie, Value: h.opts.Token, Path: "/",
				HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil,
			})
			q.Del("token")
			u := url.URL{Path: r.URL.Path, RawQuery: q.Encode()}
			// The handler may sit under a stripped prefix: redirect
			// relative to the request's own last path element.
			http.Redirect(w, r, relativeSelf(r.URL.Path)+u.RequestURI()[len(u.Path):], http.StatusSeeOther)
			return
		}
		scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		if strings.EqualFold(scheme, "Bearer") && matches(token) {
			next.ServeHTTP(w, r)
			return
		}
		if c, err := r.Cookie(tokenCookie); err == nil && matches(c.Value) {
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="contendr"`)
		http.Error(w, "unauthorized: send \"Authorization: Bearer <token>\", or open this page once with ?token=<token> "+
			"to get a cookie", http.StatusUnauthorized)
	})
}

// relativeSelf is a relative reference to the path's last element ("./"
// for a directory), which resolves to the same resource whatever prefix
// a proxy or mux stripped in front of the handler.
func relativeSelf(path string) string {
	if path == "" || strings.HasSuffix(path, "/") {
		return "./"
	}
	return "./" + path[strings.LastIndex(path, "/")+1:]
}
