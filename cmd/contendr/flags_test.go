package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/contendr/contendr/internal/cliflags"
)

// sharedFlags are the flags every command that has them spells and types
// the same way.
var sharedFlags = map[string]struct{ shorthand, typ string }{
	cliflags.FlagSeconds:   {"", "duration"},
	cliflags.FlagTimeout:   {"", "duration"},
	cliflags.FlagHeader:    {"H", "stringArray"},
	cliflags.FlagMaxBytes:  {"", "size"},
	cliflags.FlagGoVersion: {"", "string"},
	cliflags.FlagToken:     {"", "string"},
	"interval":             {"", "duration"},
	"output":               {"o", "string"},
	"format":               {"", "string"},
	"verbose":              {"v", "bool"},
}

// targetCommands read a target and take every target flag.
var targetCommands = []string{"analyze", "flame", "watch", "gate", "serve"}

// TestEveryCommandsHelpAndSharedFlags runs each command's --help and checks
// that a shared flag has one spelling, shorthand and type wherever it
// appears, that a shorthand means one flag everywhere, that every command
// reading a target takes all target flags, and that the shared notations
// (10 and 10s, 64MiB, 5% and 0.05) parse in each of them.
func TestEveryCommandsHelpAndSharedFlags(t *testing.T) {
	shorthands := map[string]string{} // shorthand → flag name
	for _, cmd := range newRootCmd().Commands() {
		name := cmd.Name()
		if name == "help" || name == "completion" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			var out bytes.Buffer
			if code := runIO(context.Background(), []string{name, "--help"}, &out, io.Discard); code != exitOK {
				t.Fatalf("contendr %s --help: exit %d", name, code)
			}
			if !strings.Contains(out.String(), "Usage:") {
				t.Errorf("contendr %s --help prints no usage:\n%s", name, out.String())
			}
			cmd.Flags().VisitAll(func(f *pflag.Flag) {
				if f.Value.Type() == "limit" || f.Value.Type() == "seconds" {
					t.Errorf("--%s has the old %s type: a fraction or a duration has one notation everywhere", f.Name, f.Value.Type())
				}
				if want, ok := sharedFlags[f.Name]; ok && (f.Shorthand != want.shorthand || f.Value.Type() != want.typ) {
					t.Errorf("--%s: shorthand %q type %s, want %q %s as in every command", f.Name, f.Shorthand, f.Value.Type(), want.shorthand, want.typ)
				}
				if f.Shorthand != "" {
					if other, ok := shorthands[f.Shorthand]; ok && other != f.Name {
						t.Errorf("-%s is --%s here and --%s elsewhere", f.Shorthand, f.Name, other)
					}
					shorthands[f.Shorthand] = f.Name
				}
				if f.Shorthand != "" && !strings.Contains(out.String(), "-"+f.Shorthand+", --"+f.Name) {
					t.Errorf("--help does not show -%s, --%s", f.Shorthand, f.Name)
				}
			})
		})
	}
	for _, name := range targetCommands {
		t.Run(name+" notations", func(t *testing.T) {
			cmd := subcommand(t, name)
			for _, flag := range []string{cliflags.FlagSeconds, cliflags.FlagTimeout, cliflags.FlagHeader, cliflags.FlagMaxBytes, cliflags.FlagGoVersion, cliflags.FlagToken} {
				if cmd.Flags().Lookup(flag) == nil {
					t.Errorf("%s has no --%s", name, flag)
				}
			}
			for _, args := range [][]string{
				{"--seconds", "10"}, {"--seconds", "10s"}, {"--timeout", "30"}, {"--max-bytes", "64MiB"},
				{"-H", "X-Test: 1"}, {"--token", "t"}, {"--go-version", "go1.26.1"},
			} {
				if err := subcommand(t, name).ParseFlags(args); err != nil {
					t.Errorf("%s %v: %v", name, args, err)
				}
			}
		})
	}
}

// TestSharedNotationsRefuse checks that values a user mistypes are refused
// with the notation that would work, in every command that takes them.
func TestSharedNotationsRefuse(t *testing.T) {
	for _, c := range []struct {
		cmd  string
		args []string
		want string
	}{
		{"analyze", []string{"--lock-crit", "50"}, "50%"},
		{"analyze", []string{"--cost-warn", "5"}, "write 5%"},
		{"analyze", []string{"--cost-warn", "120%"}, "outside 0%–100%"},
		{"gate", []string{"--max-cost", "2"}, "write 2%"},
		{"flame", []string{"--max-bytes", "lots"}, "64MiB"},
		{"watch", []string{"--interval", "soon"}, "10s"},
		{"serve", []string{"--interval", "-1"}, "positive"},
		{"demo", []string{"--seconds", "0"}, "positive"},
	} {
		err := subcommand(t, c.cmd).ParseFlags(c.args)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %v: %v, want an error saying %q", c.cmd, c.args, err, c.want)
		}
	}
}

func subcommand(t *testing.T, name string) *cobra.Command {
	t.Helper()
	for _, cmd := range newRootCmd().Commands() {
		if cmd.Name() == name {
			return cmd
		}
	}
	t.Fatalf("no command %q", name)
	return nil
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		var out bytes.Buffer
		if code := runIO(context.Background(), args, &out, io.Discard); code != exitOK || !strings.HasPrefix(out.String(), "contendr ") || !strings.Contains(out.String(), "go1.") {
			t.Errorf("contendr %v: exit %d, %q; want the version and the Go version", args, code, out.String())
		}
	}
}
