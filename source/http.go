package source

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/pprof/profile"

	"github.com/contendr/contendr/window"
)

// fetcher reads the /debug/… endpoints of one HTTP target.
type fetcher struct {
	target string   // as the user gave it, for messages
	root   *url.URL // the server root the /debug/… paths hang under
	opts   Options
}

// newFetcher finds the server root in a URL given as http://host:port,
// http://host:port/debug/pprof/ or any /debug/… endpoint under a prefix.
func newFetcher(target, rawURL string, opts Options) (*fetcher, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return nil, &Error{Target: target, Kind: ErrNotFound, Err: err,
			What: "not a valid URL", Hint: "write it as http://host:port or http://host:port/debug/pprof/"}
	}
	root := *u
	root.RawQuery, root.Fragment = "", ""
	if i := strings.Index(root.Path, "/debug/"); i >= 0 {
		root.Path = root.Path[:i]
	}
	root.Path = strings.TrimSuffix(root.Path, "/")
	root.RawPath = ""
	return &fetcher{target: target, root: &root, opts: opts}, nil
}

func (f *fetcher) url(endpoint string) string { return f.root.String() + endpoint }

// do sends GET endpoint and returns the response with a 2xx status. The
// request may take wait (a ?seconds= window) plus opts.Timeout. The caller
// closes the body and then calls release.
func (f *fetcher) do(ctx context.Context, endpoint string, wait time.Duration) (resp *http.Response, release func(), err error) {
	limit := wait + f.opts.Timeout
	reqCtx, cancel := context.WithTimeout(ctx, limit)
	req, err := http.NewRequestWithContext(reqCtx, http.MethodGet, f.url(endpoint), nil)
	if err != nil {
		cancel()
		return nil, nil, &Error{Target: f.target, Kind: ErrNotFound, Err: err,
			What: "not a valid URL: " + oneLine(err.Error()), Hint: "write it as http://host:port"}
	}
	for name, values := range f.opts.Headers {
		for _, v := range values {
			req.Header.Add(name, v)
		}
	}
	resp, err = f.opts.Client.Do(req)
	if err != nil {
		cancel()
		return nil, nil, requestError(ctx, f.target, endpoint, limit, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		head, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		cancel()
		return nil, nil, f.statusError(endpoint, resp, head)
	}
	return resp, cancel, nil
}

// response is a fully read 2xx answer.
type response struct {
	body        []byte
	contentType string
}

// get reads GET endpoint's whole body, at most opts.MaxBytes.
func (f *fetcher) get(ctx context.Context, endpoint string, wait time.Duration) (*response, error) {
	resp, release, err := f.do(ctx, endpoint, wait)
	if err != nil {
		return nil, err
	}
	defer release()
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, f.opts.MaxBytes+1))
	if err != nil {
		return nil, requestError(ctx, f.target, endpoint, wait+f.opts.Timeout, err)
	}
	if int64(len(body)) > f.opts.MaxBytes {
		return nil, &Error{Target: f.target, Kind: ErrNotProfile, Err: window.ErrTooLarge,
			What: fmt.Sprintf("GET %s: response exceeds the size cap of %s", endpoint, byteSize(f.opts.MaxBytes)),
			Hint: "raise --max-bytes if the target really serves profiles this large"}
	}
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	return &response{body: body, contentType: ct}, nil
}

// head reads at most n bytes of GET endpoint's body and drops the rest.
func (f *fetcher) head(ctx context.Context, endpoint string, n int64) ([]byte, error) {
	resp, release, err := f.do(ctx, endpoint, 0)
	if err != nil {
		return nil, err
	}
	defer release()
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, n))
	if err != nil {
		return nil, requestError(ctx, f.target, endpoint, f.opts.Timeout, err)
	}
	return body, nil
}

// statusError explains a non-2xx answer.
func (f *fetcher) statusError(endpoint string, resp *http.Response, head []byte) *Error {
	e := &Error{Target: f.target, Kind: ErrBadResponse, Status: resp.StatusCode,
		What: fmt.Sprintf("GET %s: %s", endpoint, resp.Status)}
	// net/http/pprof and the agent explain their errors in a plain-text
	// line; an HTML error page would only add noise.
	line := explanation(resp.Header.Get("Content-Type"), head)
	if line != "" && !strings.HasPrefix(line, strconv.Itoa(resp.StatusCode)+" ") { // "404 page not found" says nothing new
		e.What += ": " + line
	}
	switch resp.StatusCode {
	case http.StatusUnauthorized, http.StatusForbidden:
		e.Kind = ErrUnauthorized
		e.Hint = "pass --header 'Authorization: Bearer <token>'"
		if f.opts.Headers.Get("Authorization") != "" {
			e.Hint = "the Authorization header was rejected; check the token"
		}
	case http.StatusNotFound:
		e.Kind = ErrNotFound
		e.Hint = f.notFoundHint(endpoint)
	case http.StatusConflict:
		e.Hint = "another profile of this kind is being taken from the target; retry in a moment"
	case http.StatusBadRequest:
		e.Hint = "the target refused the request's parameters; check --seconds against its limits"
	case http.StatusInternalServerError:
		e.Hint = "check the target's logs"
		if strings.Contains(line, "CPU profiling") {
			e.Hint = "another CPU profile is running in the target (a continuous profiler, or a second contendr); retry later"
		}
	default:
		e.Hint = "check the target's logs"
	}
	return e
}

// explanation is the server's own one-line reason for an error status:
// net/http/pprof writes plain text, the agent {"error": "..."}.
func explanation(contentType string, body []byte) string {
	ct, _, _ := mime.ParseMediaType(contentType)
	switch ct {
	case "text/plain":
		return oneLine(string(body))
	case "application/json":
		var v struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(body, &v) == nil {
			return oneLine(v.Error)
		}
	}
	return ""
}

func (f *fetcher) notFoundHint(endpoint string) string {
	switch {
	case strings.HasPrefix(endpoint, "/debug/fgprof"):
		return "the target does not serve /debug/fgprof; mount fgprof.Handler() there or embed the contendr agent"
	case strings.HasPrefix(endpoint, "/debug/contendr/"):
		return "the contendr agent does not serve this endpoint; check that its version matches this CLI"
	default:
		return fmt.Sprintf("is net/http/pprof imported and its handlers served at %s/debug/pprof/? (import _ \"net/http/pprof\" serves them on http.DefaultServeMux)", f.root)
	}
}

// profile fetches and parses a profile of kind want.
func (f *fetcher) profile(ctx context.Context, endpoint string, wait time.Duration, want window.ProfileKind) (*profile.Profile, error) {
	resp, err := f.get(ctx, endpoint, wait)
	if err != nil {
		return nil, err
	}
	notProfile := func(what string, cause error) *Error {
		return &Error{Target: f.target, Kind: ErrNotProfile, Err: cause,
			What: fmt.Sprintf("GET %s: %s", endpoint, what),
			Hint: "check that the URL points at a Go pprof server (http://host:port or http://host:port/debug/pprof/)"}
	}
	switch {
	case len(resp.body) == 0:
		return nil, notProfile("empty response, no profile data", nil)
	case resp.contentType == "text/html" || looksLikeHTML(resp.body):
		return nil, notProfile("got an HTML page instead of a profile", nil)
	}
	p, err := window.ParseProfile(resp.body, 0)
	if err != nil {
		e := notProfile(oneLine(err.Error()), err)
		switch {
		case errors.Is(err, window.ErrTooLarge):
			e.Hint = "raise --max-bytes if the target really serves profiles this large"
		case strings.Contains(err.Error(), "gzip"):
			e.Hint = "the profile arrived damaged; retry, and check for a proxy that alters responses"
		}
		return nil, e
	}
	if got := window.DetectKind(p); got != "" && family(got) != family(want) {
		return nil, &Error{Target: f.target, Kind: ErrWrongKind,
			What: fmt.Sprintf("GET %s: got a %s profile, want a %s profile", endpoint, got, want),
			Hint: "check that the URL points at the pprof handlers and nothing else is mounted over them"}
	}
	return p, nil
}

// family groups kinds the content cannot always tell apart: mutex and block
// profiles share sample types (an empty one reads as either), heap and
// allocs are one profile with another default.
func family(k window.ProfileKind) string {
	switch k {
	case window.Mutex, window.Block:
		return "contention"
	case window.Heap, window.Allocs:
		return "memory"
	}
	return string(k)
}

func looksLikeHTML(b []byte) bool {
	head := bytes.ToLower(bytes.TrimSpace(b[:min(len(b), 512)]))
	for _, p := range []string{"<!doctype html", "<html", "<head", "<body"} {
		if bytes.HasPrefix(head, []byte(p)) {
			return true
		}
	}
	return false
}

func byteSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
