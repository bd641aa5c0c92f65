package locktrace

import (
	"strings"
	"time"

	"github.com/google/pprof/profile"
	"golang.org/x/exp/trace"
)

// syncProfile sums the lock waits per waiting stack, for SyncProfile.
type syncProfile struct {
	byKey map[string]*syncSample
	order []string
}

type syncSample struct {
	frames []trace.StackFrame
	count  int64
	nanos  int64
}

func newSyncProfile() *syncProfile { return &syncProfile{byKey: map[string]*syncSample{}} }

func (sp *syncProfile) add(info *stackInfo, length time.Duration) {
	key := strings.Join(info.names, "\n")
	s := sp.byKey[key]
	if s == nil {
		s = &syncSample{frames: info.frames}
		sp.byKey[key] = s
		sp.order = append(sp.order, key)
	}
	s.count++
	s.nanos += length.Nanoseconds()
}

// SyncProfile returns the trace's lock waits as a pprof profile shaped like
// a block profile (contentions/count, delay/nanoseconds), one sample per
// waiting stack with its exact blocked time — what `go tool trace
// -pprof=sync` gives, restricted to lock waits — so that flame graphs and
// pprof draw it. It is a new profile on each call.
func (d *Diagnosis) SyncProfile() *profile.Profile {
	p := &profile.Profile{
		SampleType: []*profile.ValueType{{Type: "contentions", Unit: "count"}, {Type: "delay", Unit: "nanoseconds"}},
		PeriodType: &profile.ValueType{Type: "contentions", Unit: "count"},
		Period:     1,
	}
	if d == nil || d.profile == nil {
		return p
	}
	if d.Seconds > 0 {
		p.DurationNanos = int64(d.Seconds * 1e9)
	}
	funcs := map[string]*profile.Function{}
	locs := map[trace.StackFrame]*profile.Location{}
	for _, key := range d.profile.order {
		s := d.profile.byKey[key]
		sample := &profile.Sample{Value: []int64{s.count, s.nanos}}
		for _, f := range s.frames {
			loc := locs[f]
			if loc == nil {
				fn := funcs[f.Func]
				if fn == nil {
					fn = &profile.Function{ID: uint64(len(p.Function) + 1), Name: f.Func, SystemName: f.Func, Filename: f.File}
					funcs[f.Func] = fn
					p.Function = append(p.Function, fn)
				}
				loc = &profile.Location{ID: uint64(len(p.Location) + 1), Address: f.PC,
					Line: []profile.Line{{Function: fn, Line: int64(f.Line)}}}
				locs[f] = loc
				p.Location = append(p.Location, loc)
			}
			sample.Location = append(sample.Location, loc)
		}
		p.Sample = append(p.Sample, sample)
	}
	return p
}
