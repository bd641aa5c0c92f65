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
	c, err := Collect(in)
	if err != nil {
		return nil, err
	}
	r := c.Report(in, th)
	r.Trace = diag
	r.Leaks = leaks.Collect(in.Window)
	if traceErr != nil {
		r.Notes = append(r.Notes, traceErr.Error())
	}
	return r, nil
}

// Collected is what the collectors found in one window, for callers that
// need the results themselves as well as the report (watch feeds them to
// alert.ValuesFrom, as the agent does).
type Collected struct {
	// Lock and GC are nil when their collector failed; Failures says why.
	Lock     *mutex.Result
	GC       *gc.Result
	Failures []error
}

// Collect runs both collectors on in.Window, attributing its stacks once.
// Only a missing window, or both collectors failing, is an error.
func Collect(in Input) (Collected, error) {
	if in.Window == nil {
		return Collected{}, errors.New("analyzing: no window")
	}
	attr := stacks.Attribute(in.Window)
	var prev *stacks.Attribution
	if in.Previous != nil {
		prev = stacks.AttributeGrowth(in.Previous) // only its map growth is compared with
	}
	lock, lockErr := mutex.CollectFrom(in.Window, attr, mutex.Options{})
	gcr, gcErr := gc.CollectFrom(in.Window, attr, prev)
	if lockErr != nil && gcErr != nil {
		return Collected{}, fmt.Errorf("analyzing window %q: %w", in.Window.ID, errors.Join(lockErr, gcErr))
	}
	c := Collected{Lock: lock, GC: gcr}
	for _, err := range []error{lockErr, gcErr} {
		if err != nil {
			c.Failures = append(c.Failures, err)
		}
	}
	return c, nil
}

// Report judges the results with Build and notes the collectors that
// failed.
func (c Collected) Report(in Input, th Thresholds) *Report {
	r := Build(in, c.Lock, c.GC, th)
	for _, err := range c.Failures {
		r.Notes = append(r.Notes, "collector failed, its figures are missing: "+err.Error())
	}
	return r
}
