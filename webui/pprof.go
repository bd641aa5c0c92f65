package webui

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/pprof/driver"
	"github.com/google/pprof/profile"

	"github.com/contendr/contendr/window"
)

// maxPprofViews bounds the pprof web UIs kept at once: each holds a copy
// of its profile.
const maxPprofViews = 8

// servePprof serves pprof's own web UI on one profile of one window at
// pprof/{target}/{window}/{kind}/…, built on first use with
// github.com/google/pprof/driver and kept in a small cache.
func (h *handler) servePprof(w http.ResponseWriter, r *http.Request) {
	i, err := strconv.Atoi(r.PathValue("target"))
	if err != nil || i < 0 || i >= len(h.opts.Targets) {
		http.Error(w, fmt.Sprintf("no target %q", r.PathValue("target")), http.StatusNotFound)
		return
	}
	ref, kind := r.PathValue("window"), window.ProfileKind(r.PathValue("kind"))
	key := fmt.Sprintf("%d/%s/%s", i, ref, kind)
	handlers, ok := h.pprof.get(key)
	if !ok {
		win, err := h.window(i, ref)
		if err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		// pprof's driver rewrites the profile it is given; the window is
		// shared with other requests, so it gets a private copy.
		p, err := win.ProfileCopy(kind)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		if p == nil {
			http.Error(w, fmt.Sprintf("window %s holds no %s profile: %s", win.ID, kind, missingReason(win, kind)), http.StatusNotFound)
			return
		}
		if handlers, err = pprofUI(p, fmt.Sprintf("%s %s window %s", h.opts.Targets[i].Name, kind, win.ID)); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		h.pprof.put(key, handlers)
	}
	// pprof's pages link to each other relatively ("./top"): serve its
	// handlers below the prefix that names the profile.
	prefix := fmt.Sprintf("/pprof/%s/%s/%s", r.PathValue("target"), ref, kind)
	rest := strings.TrimPrefix(r.URL.Path, prefix)
	hh, ok := handlers[rest]
	if !ok {
		http.NotFound(w, r)
		return
	}
	r2 := r.Clone(r.Context())
	r2.URL.Path = rest
	r2.URL.RawPath = ""
	hh.ServeHTTP(w, r2)
}

// pprofRun serializes driver.PProf: it sets package-level state of pprof's
// driver while it runs.
var pprofRun sync.Mutex

// pprofUI runs pprof's driver in web mode on p and returns its handlers
// instead of letting it listen: the -http address is only a formality.
func pprofUI(p *profile.Profile, name string) (map[string]http.Handler, error) {
	pprofRun.Lock()
	defer pprofRun.Unlock()
	var handlers map[string]http.Handler
	ui := &quietUI{}
	err := driver.PProf(&driver.Options{
		Flagset: newPprofFlags("-http=localhost:1", "-no_browser", "-symbolize=none", name),
		Fetch:   fetcher{p: p},
		UI:      ui,
		HTTPServer: func(args *driver.HTTPServerArgs) error {
			handlers = args.Handlers
			return nil
		},
	})
	if err != nil {
		return nil, fmt.Errorf("starting pprof's web UI: %w%s", err, ui.errors())
	}
	if handlers == nil {
		return nil, fmt.Errorf("starting pprof's web UI: it served nothing%s", ui.errors())
	}
	// Saving and deleting named settings write pprof's config file under
	// the dashboard user's $HOME: a view has no business doing that, and
	// on a token-less loopback dashboard any web page could POST there.
	delete(handlers, "/saveconfig")
	delete(handlers, "/deleteconfig")
	return handlers, nil
}

// fetcher hands pprof the window's profile, whatever source name it asks
// for; an empty source URL keeps pprof from saving a copy under $HOME.
type fetcher struct{ p *profile.Profile }

func (f fetcher) Fetch(string, time.Duration, time.Duration) (*profile.Profile, string, error) {
	return f.p.Copy(), "", nil
}

// pprofFlags feeds pprof's driver a fixed command line.
type pprofFlags struct {
	*flag.FlagSet
	args []string
}

func newPprofFlags(args ...string) pprofFlags {
	fs := flag.NewFlagSet("pprof", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return pprofFlags{FlagSet: fs, args: args}
}

func (f pprofFlags) StringList(name, def, usage string) *[]*string {
	return &[]*string{f.String(name, def, usage)}
}
func (f pprofFlags) ExtraUsage() string   { return "" }
func (f pprofFlags) AddExtraUsage(string) {}
func (f pprofFlags) Parse(usage func()) []string {
	f.FlagSet.Usage = usage
	if err := f.FlagSet.Parse(f.args); err != nil {
		return nil
	}
	return f.FlagSet.Args()
}

// quietUI keeps pprof's messages ("Serving web UI on …") off the
// terminal, remembering errors for the error returned.
type quietUI struct {
	mu   sync.Mutex
	errs []string
}

func (u *quietUI) ReadLine(string) (string, error) { return "", io.EOF }
func (u *quietUI) Print(...any)                    {}
func (u *quietUI) PrintErr(args ...any) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.errs = append(u.errs, strings.TrimSpace(fmt.Sprint(args...)))
}
func (u *quietUI) IsTerminal() bool                    { return false }
func (u *quietUI) WantBrowser() bool                   { return false }
func (u *quietUI) SetAutoComplete(func(string) string) {}

func (u *quietUI) errors() string {
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.errs) == 0 {
		return ""
	}
	return " (pprof: " + strings.Join(u.errs, "; ") + ")"
}

// pprofCache keeps the last few pprof UIs, least recently used out.
type pprofCache struct {
	mu    sync.Mutex
	limit int
	keys  []string // least recently used first
	views map[string]map[string]http.Handler
}

func newPprofCache(limit int) *pprofCache {
	return &pprofCache{limit: limit, views: make(map[string]map[string]http.Handler)}
}

func (c *pprofCache) get(key string) (map[string]http.Handler, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.views[key]
	if ok {
		c.touch(key)
	}
	return v, ok
}

func (c *pprofCache) put(key string, v map[string]http.Handler) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.views[key]; !ok && len(c.keys) >= c.limit {
		delete(c.views, c.keys[0])
		c.keys = c.keys[1:]
	}
	c.views[key] = v
	c.touch(key)
}

func (c *pprofCache) touch(key string) {
	for j, k := range c.keys {
		if k == key {
			c.keys = append(c.keys[:j], c.keys[j+1:]...)
			break
		}
	}
	c.keys = append(c.keys, key)
}
