package analyze

import (
	"errors"
	"fmt"

	"github.com/contendr/contendr/collectors/gc"
	"github.com/contendr/contendr/collectors/leaks"
	"github.com/contendr/contendr/collectors/mutex"
	"github.com/contendr/contendr/collectors/stacks"
)

// Analyze runs the collectors on in.Window and judges their results with
// Build. A collector that fails leaves its part of the report empty and
// says why in the notes; only a missing window, or both collectors
// failing, is an error.
func Analyze(in Input, th Thresholds) (*Report, error) {
	if in.Window == nil {
		return nil, errors.New("analyzing: no window")
	}
	if err := th.Validate(); err != nil {
		return nil, fmt.Errorf("analyzing: thresholds: %w", err)
	}
	diag, traceErr := traceOf(in.Window)
	if traceOnly(in.Window) {
		if traceErr != nil {
			return nil, traceErr
		}
		return traceReport(in, diag, th), nil
	}
	attr := stacks.Attribute(in.Window)
	var prev *stacks.Attribution
	if in.Previous != nil {
		prev = stacks.AttributeGrowth(in.Previous) // only its map growth is compared with
	}
	lock, lockErr := mutex.CollectFrom(in.Window, attr, mutex.Options{})
	gcr, gcErr := gc.CollectFrom(in.Window, attr, prev)
	if lockErr != nil && gcErr != nil {
		return nil, fmt.Errorf("analyzing window %q: %w", in.Window.ID, errors.Join(lockErr, gcErr))
	}
	r := Build(in, lock, gcr, th)
	r.Trace = diag
	r.Leaks = leaks.Collect(in.Window)
	if traceErr != nil {
		r.Notes = append(r.Notes, traceErr.Error())
	}
	for _, err := range []error{lockErr, gcErr} {
		if err != nil {
			r.Notes = append(r.Notes, "collector failed, its figures are missing: "+err.Error())
		}
	}
	return r, nil
}
