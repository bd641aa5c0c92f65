package cliflags

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
)

// Output is the -o/--output flag: a file written atomically (through a
// temporary file in the same directory, renamed into place once complete),
// so that a reader never sees half a report or graph and a failed run
// leaves the previous file as it was. "" or "-" is stdout.
type Output struct {
	Path string
}

// OutputFlag registers -o/--output on cmd.
func OutputFlag(cmd *cobra.Command, usage string) *Output {
	o := &Output{}
	cmd.Flags().StringVarP(&o.Path, "output", "o", "", usage)
	return o
}

// ToStdout reports whether the output goes to stdout.
func (o *Output) ToStdout() bool { return o.Path == "" || o.Path == "-" }

// Write calls write with stdout, or with a temporary file that replaces
// the -o file only when write and the file's close succeed.
func (o *Output) Write(stdout io.Writer, write func(io.Writer) error) error {
	if o.ToStdout() {
		return write(stdout)
	}
	return WriteAtomic(o.Path, write)
}

// WriteAtomic writes path through a temporary file in its directory.
func WriteAtomic(path string, write func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("%s: cannot write it: %w", path, err)
	}
	werr := write(tmp)
	merr := tmp.Chmod(0o644) // CreateTemp makes 0600; a report is meant to be shared
	cerr := tmp.Close()
	if err := errors.Join(werr, merr, cerr); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("%s: not written: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("%s: cannot write it: %w", path, err)
	}
	return nil
}
