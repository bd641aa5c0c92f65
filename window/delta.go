package window

import (
	"encoding/binary"
	"hash/maphash"
	"slices"
	"strconv"
	"strings"

	"github.com/google/pprof/profile"
)

// subtract computes end − start sample by sample, keyed by stack and
// labels, in one pass over each profile. It is what profile.Merge of end
// and start scaled by −1, then Compact, computes, without copying both
// profiles through proto and merging twice: at 100,000 stacks that cost
// the agent over a second per profile per window. A nil start subtracts
// nothing: the result is end's samples, in structs of their own.
//
// Columns not marked cumulative are subtracted too, unless opts.InUseAtEnd
// keeps end's own. Samples with a function opts.Drop matches are left out
// after the restart check, as a filter of the whole delta would leave them.
//
// The result has samples of its own. When every stack it keeps is in end
// (always, for cumulative profiles without a restart), it shares end's
// locations, functions and mappings, listing the ones it uses under end's
// IDs; otherwise it has copies of its own, numbered from 1 in order of
// first use, sharing only strings and label maps. end and start are not
// modified. restarted reports a cumulative value that went down.
func subtract(start, end *profile.Profile, cumulative []bool, opts DeltaOptions) (delta *profile.Profile, restarted bool) {
	keys := stackKeys{ids: make(map[string]uint32, len(end.Location))}
	nvalues := len(end.SampleType)
	nstart := 0
	if start != nil {
		nstart = len(start.Sample)
	}
	// Values are summed per key, as Merge sums samples with equal keys. A
	// key is the sample's location numbers (four bytes each) and labels,
	// kept in one slab; the index maps its hash to the newest entry with
	// that hash, older ones chained through next.
	keyBytes := 0
	for _, s := range end.Sample {
		keyBytes += 4 * len(s.Location)
	}
	t := sampleTable{
		seed:    maphash.MakeSeed(),
		keys:    make([]byte, 0, keyBytes+keyBytes/8),
		index:   make(map[uint64]int32, len(end.Sample)+nstart/8),
		entries: make([]deltaEntry, 0, len(end.Sample)+nstart/8),
		values:  make([]int64, 0, nvalues*(len(end.Sample)+nstart/8)),
		nvalues: nvalues,
	}
	keys.forProfile(end)
	for _, s := range end.Sample {
		t.add(&keys, s, 1, nil)
	}
	if start != nil {
		var skip []bool // columns start does not subtract from
		if opts.InUseAtEnd {
			skip = make([]bool, nvalues)
			for i := range skip {
				skip[i] = !cumulative[i]
			}
		}
		keys.forProfile(start)
		for _, s := range start.Sample {
			t.add(&keys, s, -1, skip)
		}
	}
	keys.dense = nil

	delta = &profile.Profile{
		DefaultSampleType: end.DefaultSampleType,
		Comments:          end.Comments,
		DocURL:            end.DocURL,
		DropFrames:        end.DropFrames,
		KeepFrames:        end.KeepFrames,
		Period:            end.Period,
	}
	if start != nil {
		delta.Period = max(end.Period, start.Period)
	}
	for _, st := range end.SampleType {
		delta.SampleType = append(delta.SampleType, &profile.ValueType{Type: st.Type, Unit: st.Unit})
	}
	if end.PeriodType != nil {
		delta.PeriodType = &profile.ValueType{Type: end.PeriodType.Type, Unit: end.PeriodType.Unit}
	}

	// Which entries the delta keeps, and how many locations they hold:
	// the samples' location lists are cut from one slab.
	kept := t.entries[:0] // filtered in place
	nlocs := 0
	drop := dropper{match: opts.Drop}
	for _, e := range t.entries {
		values := t.values[e.values : e.values+int32(nvalues)]
		zero := true
		for i, v := range values {
			if v < 0 && cumulative[i] {
				return nil, true
			}
			if v != 0 {
				zero = false
			}
		}
		if zero || drop.any(t.locationIDs(e), e.sample) {
			continue
		}
		kept = append(kept, e)
		nlocs += len(e.sample.Location)
		if e.fromStart {
			t.startOnly++
		}
	}
	if t.startOnly == 0 {
		// end's samples' location lists are one array (pprof's decoder
		// cuts them from one slab): a delta keeping few of them copies its
		// own rather than keep the whole array alive with its window.
		var locs []*profile.Location
		if 2*len(kept) < len(end.Sample) {
			locs = make([]*profile.Location, nlocs)
		}
		shareEnd(delta, end, kept, t.values, nvalues, locs)
		return delta, false
	}
	c := copier{dst: delta, locations: make([]*profile.Location, len(keys.ids)+1),
		functions: map[profile.Function]*profile.Function{}, mappings: map[profile.Mapping]*profile.Mapping{}}
	delta.Location = make([]*profile.Location, 0, len(keys.ids))
	samples := make([]profile.Sample, len(kept))
	delta.Sample = make([]*profile.Sample, len(kept))
	locs := make([]*profile.Location, nlocs)
	for j, e := range kept {
		s := e.sample
		out := &samples[j]
		*out = profile.Sample{Value: t.values[e.values : e.values+int32(nvalues) : e.values+int32(nvalues)],
			Label: s.Label, NumLabel: s.NumLabel, NumUnit: s.NumUnit, Location: locs[:len(s.Location):len(s.Location)]}
		locs = locs[len(s.Location):]
		ids := t.locationIDs(e)
		for i, l := range s.Location {
			out.Location[i] = c.location(ids[4*i:], l)
		}
		delta.Sample[j] = out
	}
	return delta, false
}

// shareEnd fills delta with samples of its own (the kept entries' values)
// that share end's locations, functions and mappings: every kept entry's
// sample is one of end's, so its stack is already there, and copying it
// was half of a delta's time and most of its allocation. delta lists the
// locations and functions its samples use, in order of first use, under
// end's IDs.
//
// With locs (room for every kept sample's locations), the samples' location
// lists are copied into it; without, they are end's own.
func shareEnd(delta, end *profile.Profile, kept []deltaEntry, values []int64, nvalues int, locs []*profile.Location) {
	samples := make([]profile.Sample, len(kept))
	delta.Sample = make([]*profile.Sample, len(kept))
	usedLoc := newIDSet(len(end.Location), func(i int) uint64 { return end.Location[i].ID })
	for j, e := range kept {
		s := e.sample
		stack := s.Location
		if locs != nil {
			stack = locs[:len(s.Location):len(s.Location)]
			copy(stack, s.Location)
			locs = locs[len(s.Location):]
		}
		samples[j] = profile.Sample{Value: values[e.values : e.values+int32(nvalues) : e.values+int32(nvalues)],
			Label: s.Label, NumLabel: s.NumLabel, NumUnit: s.NumUnit, Location: stack}
		delta.Sample[j] = &samples[j]
		for _, l := range s.Location {
			if l != nil && usedLoc.add(l.ID) {
				delta.Location = append(delta.Location, l)
			}
		}
	}
	usedFn := newIDSet(len(end.Function), func(i int) uint64 { return end.Function[i].ID })
	usedMap := newIDSet(len(end.Mapping), func(i int) uint64 { return end.Mapping[i].ID })
	for _, l := range delta.Location {
		if m := l.Mapping; m != nil && usedMap.add(m.ID) {
			delta.Mapping = append(delta.Mapping, m)
		}
		for _, ln := range l.Line {
			if f := ln.Function; f != nil && usedFn.add(f.ID) {
				delta.Function = append(delta.Function, f)
			}
		}
	}
}

// idSet is a set of profile IDs: a slice when they are dense (the runtime
// and pprof number them from 1), else a map.
type idSet struct {
	dense  []bool
	sparse map[uint64]bool
}

func newIDSet(n int, id func(i int) uint64) idSet {
	var maxID uint64
	for i := range n {
		maxID = max(maxID, id(i))
	}
	if maxID <= uint64(2*n+16) {
		return idSet{dense: make([]bool, maxID+1)}
	}
	return idSet{sparse: make(map[uint64]bool, n)}
}

// add adds id and reports whether it was new.
func (s *idSet) add(id uint64) bool {
	if s.sparse == nil && id < uint64(len(s.dense)) {
		if s.dense[id] {
			return false
		}
		s.dense[id] = true
		return true
	}
	if s.sparse == nil {
		s.sparse = map[uint64]bool{}
	}
	if s.sparse[id] {
		return false
	}
	s.sparse[id] = true
	return true
}

// deltaEntry is one key of a delta: the first sample with it (for its
// stack and labels), its values (an offset into sampleTable.values) and
// its key (a span of sampleTable.keys).
type deltaEntry struct {
	sample         *profile.Sample
	values         int32
	keyOff, keyLen int32
	next           int32 // the previous entry with the same hash, or -1
	fromStart      bool  // the first sample is start's
}

// sampleTable sums samples by key without a string per key.
type sampleTable struct {
	seed    maphash.Seed
	index   map[uint64]int32
	entries []deltaEntry
	keys    []byte
	values  []int64
	nvalues int
	buf     []byte
	// startOnly counts kept entries whose only sample is start's (set in
	// subtract): their stacks are not in end.
	startOnly int
}

// add adds sign × s's values to its key's entry, except the columns skip
// marks.
func (t *sampleTable) add(keys *stackKeys, s *profile.Sample, sign int64, skip []bool) {
	t.buf = keys.sample(t.buf[:0], s)
	h := maphash.Bytes(t.seed, t.buf)
	i, ok := t.index[h]
	if !ok {
		i = -1
	}
	for ; i >= 0; i = t.entries[i].next {
		e := &t.entries[i]
		if string(t.keys[e.keyOff:e.keyOff+e.keyLen]) == string(t.buf) {
			break
		}
	}
	if i < 0 {
		prev, ok := t.index[h]
		if !ok {
			prev = -1
		}
		i = int32(len(t.entries))
		t.entries = append(t.entries, deltaEntry{sample: s, values: int32(len(t.values)),
			keyOff: int32(len(t.keys)), keyLen: int32(len(t.buf)), next: prev, fromStart: sign < 0})
		t.index[h] = i
		t.keys = append(t.keys, t.buf...)
		t.values = slices.Grow(t.values, t.nvalues)[:len(t.values)+t.nvalues]
	}
	values := t.values[t.entries[i].values:][:t.nvalues]
	for j, v := range s.Value[:min(len(s.Value), t.nvalues)] {
		if skip == nil || !skip[j] {
			values[j] += sign * v
		}
	}
}

// locationIDs is the location-number part of e's key, four bytes a
// location.
func (t *sampleTable) locationIDs(e deltaEntry) []byte {
	return t.keys[e.keyOff : e.keyOff+4*int32(len(e.sample.Location))]
}

// dropper remembers, per location number, whether a location has a
// function its match matches.
type dropper struct {
	match func(function string) bool
	seen  []uint8 // 0 unknown, 1 kept, 2 matched
}

func (d *dropper) any(ids []byte, s *profile.Sample) bool {
	if d.match == nil {
		return false
	}
	for i, l := range s.Location {
		id := binary.LittleEndian.Uint32(ids[4*i:])
		for int(id) >= len(d.seen) {
			d.seen = append(d.seen, 0)
		}
		if d.seen[id] == 0 {
			d.seen[id] = 1
			for _, ln := range l.Line {
				if ln.Function != nil && d.match(ln.Function.Name) {
					d.seen[id] = 2
					break
				}
			}
		}
		if d.seen[id] == 2 {
			return true
		}
	}
	return false
}

// stackKeys spells a sample's identity as Merge sees it: its locations
// (address, mapping and inlined lines) and its labels.
type stackKeys struct {
	// ids numbers locations by content, so that the same call site in two
	// separately read profiles gets one number.
	ids  map[string]uint32
	byID map[*profile.Location]uint32
	// dense holds the current profile's location numbers by Location.ID,
	// which the runtime numbers densely from 1: a slice index per frame
	// instead of a map lookup (forProfile).
	dense []uint32
	buf   []byte
}

// forProfile numbers every location of p up front, when its IDs are dense.
func (k *stackKeys) forProfile(p *profile.Profile) {
	k.dense = nil
	var maxID uint64
	for _, l := range p.Location {
		maxID = max(maxID, l.ID)
	}
	if maxID > uint64(2*len(p.Location)+16) {
		return
	}
	k.dense = make([]uint32, maxID+1)
	for _, l := range p.Location {
		k.dense[l.ID] = k.location(l)
	}
}

func (k *stackKeys) location(l *profile.Location) uint32 {
	if k.byID == nil {
		k.byID = make(map[*profile.Location]uint32)
	}
	if id, ok := k.byID[l]; ok {
		return id
	}
	b := k.buf[:0]
	b = strconv.AppendUint(b, l.Address, 16)
	if m := l.Mapping; m != nil {
		b = append(b, '|')
		b = append(b, m.File...)
		b = append(b, '|')
		b = append(b, m.BuildID...)
	}
	for _, ln := range l.Line {
		b = append(b, '|')
		if ln.Function != nil {
			b = append(b, ln.Function.Name...)
			b = append(b, ':')
			b = append(b, ln.Function.Filename...)
		}
		b = append(b, ':')
		b = strconv.AppendInt(b, ln.Line, 10)
	}
	k.buf = b
	id, ok := k.ids[string(b)]
	if !ok {
		id = uint32(len(k.ids) + 1)
		k.ids[string(b)] = id
	}
	k.byID[l] = id
	return id
}

func (k *stackKeys) sample(b []byte, s *profile.Sample) []byte {
	for _, l := range s.Location {
		var id uint32
		switch {
		case l == nil:
		case l.ID < uint64(len(k.dense)) && k.dense[l.ID] != 0:
			id = k.dense[l.ID]
		default:
			id = k.location(l)
		}
		b = binary.LittleEndian.AppendUint32(b, id)
	}
	if len(s.Label) == 0 && len(s.NumLabel) == 0 {
		return b
	}
	b = append(b, 0xff, 0xff, 0xff, 0xff) // no location has this ID
	for _, name := range sortedKeys(s.Label) {
		b = append(b, name...)
		b = append(b, '=')
		b = append(b, strings.Join(s.Label[name], ",")...)
		b = append(b, ';')
	}
	for _, name := range sortedKeys(s.NumLabel) {
		b = append(b, name...)
		b = append(b, '#')
		for i, v := range s.NumLabel[name] {
			b = strconv.AppendInt(b, v, 10)
			if units := s.NumUnit[name]; i < len(units) {
				b = append(b, units[i]...)
			}
			b = append(b, ',')
		}
		b = append(b, ';')
	}
	return b
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// copier copies the locations a delta's samples use, with their functions
// and mappings, into dst, numbering each kind from 1 in order of first use.
// Equal ones from end and start (separate structs) become one, as in Merge:
// locations by their number in stackKeys, which is by content.
type copier struct {
	dst       *profile.Profile
	locations []*profile.Location // by stackKeys number
	functions map[profile.Function]*profile.Function
	mappings  map[profile.Mapping]*profile.Mapping
}

// location copies l, whose stackKeys number is the first four bytes of id.
func (c *copier) location(id []byte, l *profile.Location) *profile.Location {
	if l == nil {
		return nil
	}
	n := binary.LittleEndian.Uint32(id)
	if out := c.locations[n]; out != nil {
		return out
	}
	out := &profile.Location{Mapping: c.mapping(l.Mapping), Address: l.Address,
		IsFolded: l.IsFolded, Line: make([]profile.Line, len(l.Line))}
	for i, ln := range l.Line {
		out.Line[i] = profile.Line{Function: c.function(ln.Function), Line: ln.Line, Column: ln.Column}
	}
	out.ID = uint64(len(c.dst.Location) + 1)
	c.locations[n] = out
	c.dst.Location = append(c.dst.Location, out)
	return out
}

func (c *copier) function(f *profile.Function) *profile.Function {
	if f == nil {
		return nil
	}
	key := profile.Function{Name: f.Name, SystemName: f.SystemName, Filename: f.Filename, StartLine: f.StartLine}
	if out, ok := c.functions[key]; ok {
		return out
	}
	out := &profile.Function{ID: uint64(len(c.dst.Function) + 1), Name: f.Name, SystemName: f.SystemName,
		Filename: f.Filename, StartLine: f.StartLine}
	c.functions[key] = out
	c.dst.Function = append(c.dst.Function, out)
	return out
}

func (c *copier) mapping(m *profile.Mapping) *profile.Mapping {
	if m == nil {
		return nil
	}
	key := profile.Mapping{Start: m.Start, Limit: m.Limit, Offset: m.Offset, File: m.File, BuildID: m.BuildID,
		HasFunctions: m.HasFunctions, HasFilenames: m.HasFilenames, HasLineNumbers: m.HasLineNumbers,
		HasInlineFrames: m.HasInlineFrames, KernelRelocationSymbol: m.KernelRelocationSymbol}
	if out, ok := c.mappings[key]; ok {
		return out
	}
	out := key
	out.ID = uint64(len(c.dst.Mapping) + 1)
	c.mappings[key] = &out
	c.dst.Mapping = append(c.dst.Mapping, &out)
	return &out
}
