package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/contendr/contendr/internal/cliflags"
)

// Exit codes (DESIGN.md, Conventions).
const (
	exitOK        = 0
	exitError     = 1
	exitUsage     = 2
	exitThreshold = 3
)

// exitError carries an exit code other than 1 out of a command.
type codeError struct {
	code int
	err  error
}

func (e *codeError) Error() string { return e.err.Error() }
func (e *codeError) Unwrap() error { return e.err }

// withCode wraps err so that run exits with code.
func withCode(code int, err error) error { return &codeError{code: code, err: err} }

// usageError marks bad flags or arguments (exit 2).
func usageError(format string, a ...any) error {
	return withCode(exitUsage, fmt.Errorf(format, a...))
}

// newRootCmd builds the command tree. Each subcommand lives in its own file
// with a newCmdX constructor.
func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "contendr",
		Short: "Measure lock contention and GC pressure in Go programs",
		Long: `contendr tells whether a Go service loses time to lock contention and GC
pressure, exactly where, and which concurrent-map strategy to switch to — with
the numbers that prove it.

Targets are a contendr agent's URL, any net/http/pprof server, profile files
(or a directory of them), or a saved window bundle.

Flags read the same in every command: a duration is seconds or a Go
duration (--seconds 10, --seconds 10s); a size is bytes or 64MiB; a limit
is a fraction or a percentage (--cost-warn 0.05, --cost-warn 5%); -H/--header
and --token reach HTTP targets; -o writes its file atomically.`,
		Example: `  contendr demo
  contendr analyze http://127.0.0.1:6061 --seconds 10
  contendr analyze ./profiles/ --format json`,
		Version:       cliflags.Version(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetVersionTemplate("contendr {{.Version}}\n")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return withCode(exitUsage, err)
	})
	root.AddCommand(
		// newCmdX constructors, one per file, are listed here.
		newCmdAnalyze(),
		newCmdFlame(),
		newCmdDemo(),
		newCmdWatch(),
		newCmdGate(),
		newCmdServe(),
		newCmdVerify(),
		newCmdVersion(),
	)
	return root
}

// newCmdVersion prints what --version prints.
func newCmdVersion() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the CLI's version: module version, VCS revision and time, Go version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintln(cmd.OutOrStdout(), "contendr", cliflags.Version())
			return err
		},
	}
}

// run executes the CLI and maps errors to exit codes: one line on stderr,
// never a stack trace.
func run(ctx context.Context, args []string) int {
	return runIO(ctx, args, os.Stdout, os.Stderr)
}

// runIO is run with its output streams given, for tests. An error of
// several lines (errors.Join of one error per target) prints one
// "contendr: " line each.
func runIO(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRootCmd()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	for _, line := range strings.Split(err.Error(), "\n") {
		fmt.Fprintln(stderr, "contendr:", line)
	}
	var ce *codeError
	if errors.As(err, &ce) {
		return ce.code
	}
	if errors.As(err, new(cliflags.UsageError)) {
		return exitUsage
	}
	if isUsage(err) {
		return exitUsage
	}
	return exitError
}

// isUsage recognises cobra's own argument errors (unknown command, wrong
// number of args), which it returns as plain errors.
func isUsage(err error) bool {
	msg := err.Error()
	for _, prefix := range []string{"unknown command", "unknown flag", "unknown shorthand", "accepts ", "requires at least", "requires at most", "invalid argument"} {
		if len(msg) >= len(prefix) && msg[:len(prefix)] == prefix {
			return true
		}
	}
	return false
}
