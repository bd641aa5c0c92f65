package loopback

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestIsHost(t *testing.T) {
	for host, want := range map[string]bool{
		"localhost": true, "LOCALHOST": true, "localhost.": true, "app.localhost": true,
		"127.0.0.1": true, "127.1.2.3": true, "::1": true, "[::1]": true,
		"": false, "0.0.0.0": false, "10.0.0.1": false, "::": false,
		"evil.example": false, "localhost.evil.example": false, "127.0.0.1.nip.io": false,
	} {
		if got := IsHost(host); got != want {
			t.Errorf("IsHost(%q) = %v, want %v", host, got, want)
		}
	}
}

func TestIsAddr(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:8080": true, "[::1]:6061": true, "localhost:0": true,
		":8080": false, "0.0.0.0:8080": false, "127.0.0.1": false,
	} {
		if got := IsAddr(addr); got != want {
			t.Errorf("IsAddr(%q) = %v, want %v", addr, got, want)
		}
	}
}

// TestGuardOnARealListener sends requests over TCP to a loopback server,
// as a browser would after a page re-pointed its own name at 127.0.0.1.
func TestGuardOnARealListener(t *testing.T) {
	srv := httptest.NewServer(Guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "profiles")
	})))
	defer srv.Close()
	port := srv.Listener.Addr().String()[strings.LastIndex(srv.Listener.Addr().String(), ":"):]

	for _, tc := range []struct {
		host       string
		wantStatus int
		wantBody   string
	}{
		{"", http.StatusOK, "profiles"}, // the URL's own 127.0.0.1:port
		{"localhost" + port, http.StatusOK, "profiles"},
		{"[::1]" + port, http.StatusOK, "profiles"},
		{"evil.example" + port, http.StatusForbidden, `not Host "evil.example` + port + `" (a guard against DNS rebinding)`},
		{"evil.example", http.StatusForbidden, "DNS rebinding"},
	} {
		req, err := http.NewRequest("GET", srv.URL+"/debug/pprof/", nil)
		if err != nil {
			t.Fatal(err)
		}
		if tc.host != "" {
			req.Host = tc.host
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.wantStatus || !strings.Contains(string(body), tc.wantBody) {
			t.Errorf("Host %q: %d %q, want %d containing %q", tc.host, resp.StatusCode, body, tc.wantStatus, tc.wantBody)
		}
	}
}
