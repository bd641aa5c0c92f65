package agent

// Reliability under bad input: what an unauthenticated or hostile client
// can make the agent do. The agent runs inside production canaries, so no
// request may reveal a profile without the token, read an unbounded body, or
// hold the process for longer than the caps allow.

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"runtime/pprof"
	"strings"
	"testing"
	"time"
)

// TestNoRouteRevealsAnythingWithoutTheToken walks every route the agent
// serves — the fixed ones, every runtime profile the pprof index links to,
// and paths that exist nowhere — and requires 401 on each without the
// token. Probing unknown paths too means a route added later (a web UI
// mounted on the same handler) is covered without editing this list.
func TestNoRouteRevealsAnythingWithoutTheToken(t *testing.T) {
	const token = "s3cret"
	a, srv := startAgent(t, Config{Token: token})
	collect(t, a)

	paths := []string{"/", "/debug/", "/debug/pprof", "/debug/contendr/", "/debug/contendr/windows/999",
		"/metrics/", "/no/such/route", "/debug/pprof/allocs?seconds=1", "/debug/pprof/heap?debug=2",
		"/debug/pprof/goroutine?debug=2", "/debug/pprof/symbol?0x1"}
	for _, e := range endpoints {
		paths = append(paths, e.path)
	}
	for _, p := range pprof.Profiles() {
		paths = append(paths, "/debug/pprof/"+p.Name(), "/debug/pprof/"+p.Name()+"?debug=1")
	}
	// The index page, read with the token, links to whatever it serves.
	index := readBody(t, get(t, srv.URL+"/debug/pprof/", token))
	for _, m := range regexp.MustCompile(`href="([^"]+)"`).FindAllStringSubmatch(index, -1) {
		paths = append(paths, "/debug/pprof/"+m[1])
	}

	client := &http.Client{Timeout: 10 * time.Second} // a hang guard, not a timing assertion
	for _, path := range paths {
		for _, method := range []string{"GET", "HEAD", "POST", "PUT", "DELETE"} {
			req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(`{"mutex_profile_fraction": 1}`))
			if err != nil {
				t.Fatal(err)
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatalf("%s %s: %v", method, path, err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("%s %s without a token: %s, want 401", method, path, resp.Status)
			}
			if len(body) > 200 {
				t.Errorf("%s %s without a token: %d bytes of body, want only the refusal", method, path, len(body))
			}
		}
	}
	if got := a.currentRates().MutexProfileFraction; got != DefaultMutexProfileFraction {
		t.Errorf("an unauthenticated PUT changed the mutex fraction to %d", got)
	}
}

// countingReader counts the bytes a handler pulls from a request body.
type countingReader struct {
	r    io.Reader
	read int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.read += int64(n)
	return n, err
}

// hugeJSON is a syntactically plausible body of n bytes: an object whose
// value never ends, so that a decoder without a cap would read it all.
func hugeJSON(n int) io.Reader {
	return io.MultiReader(strings.NewReader(`{"mutex_profile_fraction": 1, "block_profile_rate": `),
		io.LimitReader(zeros{}, int64(n)))
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = '0'
	}
	return len(p), nil
}

// TestRequestBodiesAreCapped sends 10 MB bodies to the two routes that read
// a body and checks that the handler refuses or answers after reading a
// bounded prefix, never the whole thing.
func TestRequestBodiesAreCapped(t *testing.T) {
	const token = "t"
	const size = 10 << 20
	a, _ := startAgent(t, Config{Token: token})
	for _, tc := range []struct {
		method, path string
		wantStatus   []int
		maxRead      int64
	}{
		{"PUT", "/debug/contendr/config", []int{http.StatusBadRequest, http.StatusRequestEntityTooLarge}, 64 << 10},
		{"POST", "/debug/pprof/symbol", []int{http.StatusOK}, 1 << 20},
	} {
		body := &countingReader{r: hugeJSON(size)}
		req := httptest.NewRequest(tc.method, tc.path, body)
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		a.Handler().ServeHTTP(rec, req)
		ok := false
		for _, s := range tc.wantStatus {
			ok = ok || rec.Code == s
		}
		if !ok {
			t.Errorf("%s %s with a 10 MB body: %d %q, want one of %v", tc.method, tc.path, rec.Code, rec.Body.String(), tc.wantStatus)
		}
		if body.read > tc.maxRead {
			t.Errorf("%s %s read %d bytes of a 10 MB body, want at most %d", tc.method, tc.path, body.read, tc.maxRead)
		}
	}
	if got := a.currentRates().MutexProfileFraction; got != DefaultMutexProfileFraction {
		t.Errorf("a refused PUT changed the mutex fraction to %d", got)
	}
}

// TestOddSecondsNeverHold asks every ?seconds= endpoint for values a
// parser might mishandle. Each must be refused (400) or served at once —
// never start a profile longer than the cap.
func TestOddSecondsNeverHold(t *testing.T) {
	_, srv := startAgent(t, Config{MaxProfileSeconds: 1})
	client := &http.Client{Timeout: 15 * time.Second} // a hang guard, not a timing assertion
	for _, path := range []string{"/debug/pprof/profile", "/debug/pprof/trace", "/debug/pprof/mutex", "/debug/fgprof"} {
		for _, seconds := range []string{"-1", "0", "1e9", "Inf", "-Inf", "NaN", "9223372036854775808", "0x10", "1;2", "%00", ""} {
			url := srv.URL + path + "?seconds=" + seconds
			resp, err := client.Get(url)
			if err != nil {
				t.Fatalf("GET %s: %v", url, err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusBadRequest {
				t.Errorf("GET %s: %s, want 200 or 400", url, resp.Status)
			}
		}
	}
}

// TestListenerLogsAddressAndTokenState reads the start-up record a host's
// operator sees: where the agent listens and whether it asks for a token.
func TestListenerLogsAddressAndTokenState(t *testing.T) {
	for _, tc := range []struct {
		name      string
		cfg       Config
		wantLevel string
		wantToken bool
	}{
		{"loopback without token", Config{ListenAddr: "127.0.0.1:0"}, "INFO", false},
		{"loopback with token", Config{ListenAddr: "127.0.0.1:0", Token: "t"}, "INFO", true},
		{"non-loopback opt-out", Config{ListenAddr: "0.0.0.0:0", InsecureAllowNonLoopback: true}, "WARN", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs lockedBuffer
			tc.cfg.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
			tc.cfg.Interval = time.Hour
			a, err := Start(tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer a.Stop()
			var found bool
			for line := range strings.SplitSeq(logs.String(), "\n") {
				var rec struct {
					Level    string `json:"level"`
					Msg      string `json:"msg"`
					Addr     string `json:"addr"`
					Token    *bool  `json:"token"`
					Loopback *bool  `json:"loopback"`
				}
				if json.Unmarshal([]byte(line), &rec) != nil || !strings.Contains(rec.Msg, "listening") {
					continue
				}
				found = true
				if rec.Addr != a.Addr() || rec.Token == nil || *rec.Token != tc.wantToken || rec.Loopback == nil || rec.Level != tc.wantLevel {
					t.Errorf("listening record %s, want addr=%s token=%v level=%s", line, a.Addr(), tc.wantToken, tc.wantLevel)
				}
			}
			if !found {
				t.Errorf("no listening record in the log:\n%s", logs.String())
			}
			if err := a.Stop(); err != nil {
				t.Fatal(err)
			}
			http.DefaultClient.CloseIdleConnections()
		})
	}
}
