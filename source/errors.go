package source

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// Sentinel errors. Every error Load returns is an *Error whose Kind is one
// of these, so a caller can branch with errors.Is; the cause (a
// *net.OpError, window.ErrTooLarge, fs.ErrNotExist, context.Canceled …)
// stays reachable the same way.
var (
	// ErrUnreachable: no connection (refused, DNS, TLS, reset mid-response).
	ErrUnreachable = errors.New("target unreachable")
	// ErrTimeout: the target accepted the request but did not answer in time.
	ErrTimeout = errors.New("target did not answer in time")
	// ErrUnauthorized: 401 or 403.
	ErrUnauthorized = errors.New("target refused the request")
	// ErrNotFound: an HTTP 404 or a path that does not exist.
	ErrNotFound = errors.New("not found")
	// ErrBadResponse: any other HTTP error status.
	ErrBadResponse = errors.New("target answered with an error")
	// ErrNotProfile: the bytes are not a profile (an HTML page, corrupt or
	// truncated gzip, an empty body, a response over the size cap).
	ErrNotProfile = errors.New("not a profile")
	// ErrWrongKind: a profile of another kind than the one asked for.
	ErrWrongKind = errors.New("profile of the wrong kind")
	// ErrNoProfiles: a directory or file list holds no usable profile.
	ErrNoProfiles = errors.New("no profiles")
	// ErrNoWindow: an agent that has not closed a window yet.
	ErrNoWindow = errors.New("agent has no window yet")
	// ErrCanceled: the caller's context ended (Ctrl-C).
	ErrCanceled = errors.New("canceled")
)

// Error is what went wrong with one target, in words a user can act on:
// Error() reads "<target>: <what happened>; <what to do>".
type Error struct {
	Target string
	What   string // what happened
	Hint   string // what to do; may be empty
	Kind   error  // one of the sentinels above
	Err    error  // the cause; may be nil
	// Status is the HTTP status of a refused request, 0 otherwise.
	Status int
}

func (e *Error) Error() string {
	s := e.Target + ": " + e.What
	if e.Hint != "" {
		s += "; " + e.Hint
	}
	return s
}

// Unwrap exposes both the sentinel and the cause to errors.Is and errors.As.
func (e *Error) Unwrap() []error {
	var errs []error
	if e.Kind != nil {
		errs = append(errs, e.Kind)
	}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

// requestError turns a failed HTTP round trip into an *Error. parent is the
// caller's context: its end means the user stopped us, while the end of the
// request's own deadline means the target was too slow.
func requestError(parent context.Context, target, endpoint string, limit time.Duration, err error) *Error {
	e := &Error{Target: target, Err: err}
	if parent.Err() != nil {
		e.Kind, e.Err = ErrCanceled, parent.Err()
		e.What = "interrupted while fetching " + endpoint
		e.Hint = "nothing was analyzed"
		return e
	}
	cause := err
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		cause = urlErr.Err
	}
	var (
		dnsErr      *net.DNSError
		unknownCA   x509.UnknownAuthorityError
		hostnameErr x509.HostnameError
		certErr     x509.CertificateInvalidError
		recordErr   tls.RecordHeaderError
		certVerify  *tls.CertificateVerificationError
	)
	switch {
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		e.Kind = ErrTimeout
		e.What = fmt.Sprintf("GET %s: no answer within %s", endpoint, limit)
		e.Hint = "check that the server is a Go pprof endpoint and not stalled, or raise --timeout"
	case errors.As(err, &dnsErr):
		e.Kind = ErrUnreachable
		e.What = fmt.Sprintf("cannot resolve host %q", dnsErr.Name)
		e.Hint = "check the host name in the URL"
	case errors.Is(err, syscall.ECONNREFUSED):
		e.Kind = ErrUnreachable
		e.What = "connection refused"
		e.Hint = "check that the process is running and listening on that address and port"
	case errors.As(err, &unknownCA), errors.As(err, &hostnameErr), errors.As(err, &certErr), errors.As(err, &certVerify):
		e.Kind = ErrUnreachable
		e.What = "TLS certificate not accepted: " + oneLine(cause.Error())
		e.Hint = "check the certificate and host name, or use http:// if the server does not serve TLS"
	case errors.As(err, &recordErr) || strings.Contains(err.Error(), "HTTP response to HTTPS client"):
		e.Kind = ErrUnreachable
		e.What = "TLS handshake failed: the server does not speak TLS on this port"
		e.Hint = "use http:// instead of https://"
	case strings.Contains(err.Error(), "tls:"):
		e.Kind = ErrUnreachable
		e.What = "TLS handshake failed: " + oneLine(cause.Error())
		e.Hint = "check the server's TLS setup, or use http:// if it does not serve TLS"
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF), errors.Is(err, syscall.ECONNRESET):
		e.Kind = ErrUnreachable
		e.What = fmt.Sprintf("GET %s: connection closed before the response was complete", endpoint)
		e.Hint = "retry, and check that the target did not crash or restart"
	default:
		e.Kind = ErrUnreachable
		e.What = fmt.Sprintf("GET %s: %s", endpoint, oneLine(cause.Error()))
		e.Hint = "check the URL and that the target is reachable from here"
	}
	return e
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// oneLine keeps the first line of s, clipped: messages end up on one
// terminal line.
func oneLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
