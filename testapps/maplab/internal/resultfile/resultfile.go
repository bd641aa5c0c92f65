// Package resultfile writes a maplab measurement the way every maplab
// subcommand commits it: <stem>.json for machines, <stem>.md for people.
package resultfile

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Write creates dir and writes v as dir/<stem>.json and markdown's output
// as dir/<stem>.md.
func Write(dir, stem string, v any, markdown func(io.Writer) error) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating results directory: %w", err)
	}
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding %s results: %w", stem, err)
	}
	if err := os.WriteFile(filepath.Join(dir, stem+".json"), append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("writing %s.json: %w", stem, err)
	}
	var md bytes.Buffer
	if err := markdown(&md); err != nil {
		return fmt.Errorf("rendering %s.md: %w", stem, err)
	}
	if err := os.WriteFile(filepath.Join(dir, stem+".md"), md.Bytes(), 0o644); err != nil {
		return fmt.Errorf("writing %s.md: %w", stem, err)
	}
	return nil
}

// Read decodes a <stem>.json written by Write into v.
func Read(path, stem string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("reading %s results: %w", stem, err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("decoding %s results %s: %w", stem, path, err)
	}
	return nil
}
