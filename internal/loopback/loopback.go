// Package loopback holds the rules for listeners that rely on binding the
// loopback interface instead of a token: which hosts count as loopback, and
// a guard that refuses requests addressed to any other name.
//
// Binding 127.0.0.1 keeps other machines out, but not web pages open in the
// user's browser: a page on evil.example can re-point its own name at
// 127.0.0.1 (DNS rebinding) and then read the listener's answers as
// same-origin. Those requests still carry Host: evil.example, which is
// what Guard checks.
package loopback

import (
	"fmt"
	"net"
	"net/http"
	"strings"
)

// IsHost reports whether host (a name or IP, without port; IPv6 may be
// bracketed) always means this machine: "localhost", a name under
// ".localhost" (RFC 6761), or a loopback IP.
func IsHost(host string) bool {
	host = strings.TrimSuffix(strings.ToLower(strings.Trim(host, "[]")), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// IsAddr reports whether addr ("host:port") has a loopback host.
func IsAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	return err == nil && IsHost(host)
}

// Guard answers 403 to a request whose Host header names anything but
// loopback, and passes the rest to next. Put it in front of a token-less
// handler served on a loopback listener.
func Guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := r.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		if !IsHost(host) {
			http.Error(w, fmt.Sprintf("forbidden: this token-less listener answers only requests addressed to localhost or a loopback IP, not Host %q "+
				"(a guard against DNS rebinding); open it as http://127.0.0.1:<port>/, or protect it with a token to serve other names", r.Host),
				http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}
