package verify

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/contendr/contendr/analyze"
)

// maxReportBytes caps a report file: a report is tens of kilobytes.
const maxReportBytes = 64 << 20

// howToWrite says how to make a report file, for errors.
const howToWrite = "write one with: contendr analyze TARGET --format json -o report.json"

// IsJSONFile reports whether path is a regular file whose first
// non-blank byte opens a JSON object or array: a report (or a verify
// result) rather than a profile, a bundle or a directory.
func IsJSONFile(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	if info, err := f.Stat(); err != nil || !info.Mode().IsRegular() {
		return false
	}
	r := bufio.NewReader(io.LimitReader(f, 4096))
	for {
		b, err := r.ReadByte()
		if err != nil {
			return false
		}
		switch b {
		case ' ', '\t', '\r', '\n':
			continue
		case '{', '[':
			return true
		}
		return false
	}
}

// ReadReport reads a report written by `contendr analyze --format json`,
// or the report inside a verify result (`contendr verify --format json`),
// with errors that say what the file is when it is neither.
func ReadReport(path string) (*analyze.Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading report %s: %w", path, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxReportBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading report %s: %w", path, err)
	}
	if len(data) > maxReportBytes {
		return nil, fmt.Errorf("%s: larger than %d MiB, too large for a contendr report; %s", path, maxReportBytes>>20, howToWrite)
	}
	return parseReport(path, data)
}

func parseReport(path string, data []byte) (*analyze.Report, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return nil, fmt.Errorf("%s: empty file, not a contendr report; %s", path, howToWrite)
	}
	if trimmed[0] == '[' {
		var many []json.RawMessage
		if err := json.Unmarshal(trimmed, &many); err != nil {
			return nil, jsonError(path, trimmed, err)
		}
		return nil, fmt.Errorf("%s: holds %d reports (analyze of several targets); verify takes one: analyze one target, or pick one with jq '.[0]'", path, len(many))
	}
	var head struct {
		Schema string          `json:"schema"`
		Report json.RawMessage `json:"report"`
	}
	if err := json.Unmarshal(trimmed, &head); err != nil {
		return nil, jsonError(path, trimmed, err)
	}
	switch {
	case head.Schema == Schema:
		if len(head.Report) == 0 || string(head.Report) == "null" {
			return nil, fmt.Errorf("%s: a verify result without its report (nothing was verified); verify the report or target it came from", path)
		}
		return parseReport(path, head.Report)
	case head.Schema == analyze.Schema:
	case head.Schema == "":
		return nil, fmt.Errorf("%s: JSON, but not a contendr report (it has no \"schema\" field); %s", path, howToWrite)
	case strings.HasPrefix(head.Schema, "contendr.report/"):
		return nil, fmt.Errorf("%s: report schema %q, which this contendr does not read (it reads %s); re-run analyze with this contendr", path, head.Schema, analyze.Schema)
	default:
		return nil, fmt.Errorf("%s: JSON of schema %q, not a contendr report (%s); %s", path, head.Schema, analyze.Schema, howToWrite)
	}
	var rep analyze.Report
	if err := json.Unmarshal(trimmed, &rep); err != nil {
		return nil, fmt.Errorf("%s: a %s report whose fields do not decode: %w", path, analyze.Schema, err)
	}
	return &rep, nil
}

// jsonError says where a JSON file broke off or went wrong.
func jsonError(path string, data []byte, err error) error {
	var syn *json.SyntaxError
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF) || (errors.As(err, &syn) && syn.Offset >= int64(len(data))):
		return fmt.Errorf("%s: the JSON ends early after %d bytes (a truncated report?); %s", path, len(data), howToWrite)
	case errors.As(err, &syn):
		return fmt.Errorf("%s: not valid JSON at byte %d (%v); %s", path, syn.Offset, err, howToWrite)
	}
	return fmt.Errorf("%s: not a contendr report: %w; %s", path, err, howToWrite)
}
