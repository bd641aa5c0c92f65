package analyze

import (
	"fmt"
	"io"
)

// Formats lists the report formats Renderer knows.
var Formats = []string{"text", "json", "markdown", "html"}

// Renderer returns the writer of a report format: text (verbose for the
// whole report, WriteTextVerbose), json, markdown (or md) or html.
func Renderer(format string, verbose bool) (func(*Report, io.Writer) error, error) {
	switch format {
	case "text":
		if verbose {
			return (*Report).WriteTextVerbose, nil
		}
		return (*Report).WriteText, nil
	case "json":
		return (*Report).WriteJSON, nil
	case "markdown", "md":
		return (*Report).WriteMarkdown, nil
	case "html":
		return (*Report).WriteHTML, nil
	}
	return nil, fmt.Errorf("--format %q: want text, json, markdown or html", format)
}
