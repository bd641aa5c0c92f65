package cliflags

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/contendr/contendr/source"
)

// Names of the shared target flags.
const (
	FlagSeconds   = "seconds"
	FlagTimeout   = "timeout"
	FlagHeader    = "header"
	FlagMaxBytes  = "max-bytes"
	FlagGoVersion = "go-version"
	FlagToken     = "token"
)

// TargetFlags are the flags of a command that reads a target: an agent, a
// net/http/pprof server, profile files or a bundle.
type TargetFlags struct {
	Seconds   Duration
	Timeout   Duration
	Headers   []string
	MaxBytes  Size
	GoVersion string
	Token     string

	flags *pflag.FlagSet
}

// Target registers the target flags on cmd, with their defaults
// (source.DefaultSeconds, DefaultTimeout, DefaultMaxBytes). A command whose
// --seconds means something else says so with DescribeSeconds.
func Target(cmd *cobra.Command) *TargetFlags {
	f := cmd.Flags()
	t := &TargetFlags{Timeout: Duration(source.DefaultTimeout), MaxBytes: Size(source.DefaultMaxBytes), flags: f}
	Seconds(cmd, &t.Seconds, source.DefaultSeconds, "window length for live targets; for profile files, the run's length when they carry none")
	f.Var(&t.Timeout, FlagTimeout, "how long each HTTP request may take beyond its window")
	f.StringArrayVarP(&t.Headers, FlagHeader, "H", nil, `add an HTTP header to every request to the target, as "Name: value" (repeatable)`)
	f.Var(&t.MaxBytes, FlagMaxBytes, "size cap of one response or file (64MiB, 1GiB, or bytes)")
	f.StringVar(&t.GoVersion, FlagGoVersion, "", "the target's Go version (go1.23.4), which pprof servers and profile files do not carry")
	f.StringVar(&t.Token, FlagToken, "", `bearer token for HTTP targets (sent as "Authorization: Bearer TOKEN")`)
	return t
}

// DescribeSeconds gives --seconds the default and help of a command for
// which it means something other than one window's length.
func (t *TargetFlags) DescribeSeconds(def time.Duration, usage string) {
	t.Seconds = Duration(def)
	fl := t.flags.Lookup(FlagSeconds)
	fl.DefValue, fl.Usage = t.Seconds.String(), usage
}

// SecondsGiven tells an explicit --seconds from its default (profile files
// ignore the default; watch then follows --interval).
func (t *TargetFlags) SecondsGiven() bool { return t.flags.Changed(FlagSeconds) }

// Options checks the flags and turns them into source.Options. Seconds is
// set only when --seconds was given (source.Load has its own default) or
// always is true.
func (t *TargetFlags) Options(always bool) (source.Options, error) {
	opts := source.Options{
		Timeout:   time.Duration(t.Timeout),
		MaxBytes:  int64(t.MaxBytes),
		GoVersion: t.GoVersion,
	}
	if always || t.SecondsGiven() {
		opts.Seconds = time.Duration(t.Seconds)
	}
	headers, err := ParseHeaders(t.Headers)
	if err != nil {
		return opts, err
	}
	if t.Token != "" {
		if headers.Get("Authorization") != "" {
			return opts, UsageError{fmt.Errorf("--token and --header 'Authorization: …' both set the Authorization header: give one")}
		}
		headers.Set("Authorization", "Bearer "+t.Token)
	}
	opts.Headers = headers
	if v := t.GoVersion; v != "" && !strings.HasPrefix(v, "go") {
		return opts, UsageError{fmt.Errorf("--go-version %q: want a Go version as runtime.Version() spells it, e.g. go1.26.1", v)}
	}
	return opts, nil
}

// ParseHeaders reads --header values, "Name: value" each.
func ParseHeaders(raw []string) (http.Header, error) {
	h := http.Header{}
	for _, r := range raw {
		name, value, ok := strings.Cut(r, ":")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		if !ok || name == "" || strings.ContainsAny(name, " \t") {
			return nil, UsageError{fmt.Errorf("--header %q: want 'Name: value', e.g. 'Authorization: Bearer <token>'", r)}
		}
		h.Add(name, value)
	}
	return h, nil
}

// UsageError marks an error in the flags (the CLI exits 2).
type UsageError struct{ Err error }

func (e UsageError) Error() string { return e.Err.Error() }
func (e UsageError) Unwrap() error { return e.Err }

// Seconds registers --seconds alone (a command with no target: demo).
func Seconds(cmd *cobra.Command, p *Duration, def time.Duration, usage string) {
	DurationVar(cmd, p, FlagSeconds, def, usage)
}

// DurationVar registers a duration flag (--interval, --cooldown) in the
// shared notation: seconds (10) or a Go duration (10s).
func DurationVar(cmd *cobra.Command, p *Duration, name string, def time.Duration, usage string) {
	*p = Duration(def)
	cmd.Flags().Var(p, name, usage)
}

// FractionVar registers a fraction flag (0.05 or 5%) with its default.
func FractionVar(cmd *cobra.Command, p *Fraction, name string, def float64, usage string) {
	p.Value = def
	cmd.Flags().Var(p, name, usage)
}
