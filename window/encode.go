package window

import (
	"bytes"

	"github.com/google/pprof/profile"
)

// encodeShared writes p as a gzipped proto without writing to p.
//
// pprof's Write (and Copy, which encodes and decodes) first fills unexported
// index fields of the profile it is given — Sample.locationIDX and labelX,
// Line.functionIDX inside every Location's Line slice, Location.mappingIDX,
// the string indexes of Function, Mapping and ValueType (profile/encode.go,
// preEncode) — under a lock of its own that only other encoders take. A
// collector ranging over loc.Line copies those Line values, so encoding a
// shared profile races with reading it. encodeShared hands Write a shallow
// copy instead: fresh Sample, Location (with its Line slice), Function,
// Mapping and ValueType structs that preEncode may fill, sharing everything
// it only reads — names, values, label maps, each sample's Location slice
// (preEncode reads only the IDs through it).
func encodeShared(p *profile.Profile) ([]byte, error) {
	var buf bytes.Buffer
	if err := encodingCopy(p).Write(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// encodingCopy is the shallow copy encodeShared writes; see there.
func encodingCopy(p *profile.Profile) *profile.Profile {
	q := &profile.Profile{
		DefaultSampleType: p.DefaultSampleType,
		Comments:          p.Comments,
		DocURL:            p.DocURL,
		DropFrames:        p.DropFrames,
		KeepFrames:        p.KeepFrames,
		TimeNanos:         p.TimeNanos,
		DurationNanos:     p.DurationNanos,
		Period:            p.Period,
	}
	for _, st := range p.SampleType {
		q.SampleType = append(q.SampleType, &profile.ValueType{Type: st.Type, Unit: st.Unit})
	}
	if p.PeriodType != nil {
		q.PeriodType = &profile.ValueType{Type: p.PeriodType.Type, Unit: p.PeriodType.Unit}
	}
	// One backing array per kind of struct: a profile of 100,000 stacks
	// should not cost 100,000 small allocations to encode.
	samples := make([]profile.Sample, len(p.Sample))
	q.Sample = make([]*profile.Sample, len(p.Sample))
	for i, s := range p.Sample {
		samples[i] = profile.Sample{Location: s.Location, Value: s.Value, Label: s.Label, NumLabel: s.NumLabel, NumUnit: s.NumUnit}
		q.Sample[i] = &samples[i]
	}
	mappings := make([]profile.Mapping, len(p.Mapping))
	q.Mapping = make([]*profile.Mapping, len(p.Mapping))
	for i, m := range p.Mapping {
		mappings[i] = profile.Mapping{ID: m.ID, Start: m.Start, Limit: m.Limit, Offset: m.Offset, File: m.File, BuildID: m.BuildID,
			HasFunctions: m.HasFunctions, HasFilenames: m.HasFilenames, HasLineNumbers: m.HasLineNumbers,
			HasInlineFrames: m.HasInlineFrames, KernelRelocationSymbol: m.KernelRelocationSymbol}
		q.Mapping[i] = &mappings[i]
	}
	nlines := 0
	for _, l := range p.Location {
		nlines += len(l.Line)
	}
	lines := make([]profile.Line, 0, nlines)
	locations := make([]profile.Location, len(p.Location))
	q.Location = make([]*profile.Location, len(p.Location))
	for i, l := range p.Location {
		start := len(lines)
		for _, ln := range l.Line {
			lines = append(lines, profile.Line{Function: ln.Function, Line: ln.Line, Column: ln.Column})
		}
		// Mapping and Function are read for their IDs only.
		locations[i] = profile.Location{ID: l.ID, Mapping: l.Mapping, Address: l.Address, IsFolded: l.IsFolded,
			Line: lines[start:len(lines):len(lines)]}
		q.Location[i] = &locations[i]
	}
	functions := make([]profile.Function, len(p.Function))
	q.Function = make([]*profile.Function, len(p.Function))
	for i, f := range p.Function {
		functions[i] = profile.Function{ID: f.ID, Name: f.Name, SystemName: f.SystemName, Filename: f.Filename, StartLine: f.StartLine}
		q.Function[i] = &functions[i]
	}
	return q
}
