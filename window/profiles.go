package window

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/google/pprof/profile"
)

// MaxProfileBytes caps a profile's decompressed size. Profiles come from
// untrusted bytes (files, HTTP targets); a gzip bomb must fail, not exhaust
// memory. 256 MiB holds any real profile with room to spare.
const MaxProfileBytes = 256 << 20

// ErrTooLarge is returned (wrapped) when input exceeds a size cap.
var ErrTooLarge = errors.New("exceeds the size cap")

// ParseProfile reads one profile — gzipped or plain proto, or the legacy text
// formats the runtime writes with ?debug=1 — decompressing at most limit
// bytes (MaxProfileBytes when limit ≤ 0).
func ParseProfile(data []byte, limit int64) (*profile.Profile, error) {
	if limit <= 0 {
		limit = MaxProfileBytes
	}
	if len(data) == 0 {
		return nil, errors.New("empty input: no profile data")
	}
	raw := data
	if len(data) >= 2 && data[0] == 0x1f && data[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("corrupt gzip header: %w", err)
		}
		raw, err = io.ReadAll(io.LimitReader(zr, limit+1))
		if err != nil {
			return nil, fmt.Errorf("truncated or corrupt gzip data: %w", err)
		}
		if int64(len(raw)) > limit {
			return nil, fmt.Errorf("decompressed profile %w of %d bytes", ErrTooLarge, limit)
		}
	} else if int64(len(raw)) > limit {
		return nil, fmt.Errorf("profile %w of %d bytes", ErrTooLarge, limit)
	}
	if looksLikeHTML(raw) {
		return nil, errors.New("got an HTML page, not a profile (is the URL a pprof endpoint?)")
	}
	p, err := profile.ParseData(raw)
	if err != nil {
		return nil, fmt.Errorf("not a pprof profile: %w", err)
	}
	if isText(raw) {
		nameLegacyFrames(p, raw)
	}
	if err := p.CheckValid(); err != nil {
		return nil, fmt.Errorf("invalid profile: %w", err)
	}
	return p, nil
}

// isText tells the runtime's ?debug=1 text formats from proto, whose first
// byte is a field tag.
func isText(b []byte) bool { return len(b) > 0 && (b[0] == '-' || b[0] == '#' || b[0] == 'h') }

func looksLikeHTML(b []byte) bool {
	head := strings.ToLower(strings.TrimSpace(string(b[:min(len(b), 512)])))
	return strings.HasPrefix(head, "<!doctype html") || strings.HasPrefix(head, "<html") ||
		strings.HasPrefix(head, "<head") || strings.HasPrefix(head, "<body")
}

// Delta returns end − start for cumulative profiles (mutex, block, allocs),
// the same computation the runtime's ?seconds= endpoints perform. It is
// DeltaWith without options.
func Delta(start, end *profile.Profile) (delta *profile.Profile, restarted bool, err error) {
	return DeltaWith(start, end, DeltaOptions{})
}

// DeltaOptions change what DeltaWith computes.
type DeltaOptions struct {
	// InUseAtEnd keeps end's in-use values (the inuse_* columns of heap
	// and allocs profiles) instead of subtracting start's: the delta then
	// holds allocation during the window and in-use memory at its end.
	InUseAtEnd bool
	// Drop, when set, leaves out every sample with a function whose name
	// it matches (as profile.FilterSamplesByName's ignore does, followed
	// by Compact). An agent uses it to keep its own waiting out of the
	// host's contention profiles.
	Drop func(function string) bool
}

// DeltaWith returns end − start, as Delta, changed by opts.
//
// restarted reports that some sample went down: the process restarted
// between the readings. DeltaWith then returns end itself, a fresh
// baseline, so that no negative or garbage value is ever reported — or,
// with opts.Drop, a copy of end without the dropped samples. A nil start
// gives the same: the delta is everything since the process started.
//
// The delta's samples are its own, but it may share end's locations,
// functions and mappings (a delta of a busy service's profile would
// otherwise copy thousands of stacks every window): like a window's
// profiles, both are read-only from then on. Encode either through a
// Window (Encode, ProfileBytes, ProfileCopy), which never writes to them.
func DeltaWith(start, end *profile.Profile, opts DeltaOptions) (delta *profile.Profile, restarted bool, err error) {
	if end == nil {
		return nil, false, errors.New("delta: no end profile")
	}
	// Heap and allocs profiles carry inuse_* values next to the cumulative
	// alloc_* ones: in-use memory goes down when the GC frees, so only the
	// cumulative values tell a restart.
	cumulative := cumulativeValues(end)
	whole := func(restarted bool) (*profile.Profile, bool, error) {
		if opts.Drop == nil {
			return end, restarted, nil
		}
		p, negative := subtract(nil, end, cumulative, opts)
		if negative { // a broken reading: nothing to filter safely
			return end, restarted, nil
		}
		p.TimeNanos, p.DurationNanos = end.TimeNanos, end.DurationNanos
		return p, restarted, nil
	}
	if start == nil {
		return whole(false)
	}
	if !sameSampleTypes(start, end) || totals(end, cumulative) < totals(start, cumulative) {
		return whole(true)
	}
	delta, restarted = subtract(start, end, cumulative, opts)
	if restarted {
		// A stack's counter went down, which only a restart explains.
		return whole(true)
	}
	delta.TimeNanos = end.TimeNanos
	delta.DurationNanos = end.TimeNanos - start.TimeNanos
	return delta, false, nil
}

// SampleSum is the sum of p's sample values at index i (samples without one
// count 0): for the goroutine profile and i = 0, the number of goroutines.
func SampleSum(p *profile.Profile, i int) int64 {
	var n int64
	for _, s := range p.Sample {
		if i < len(s.Value) {
			n += s.Value[i]
		}
	}
	return n
}

// totals sums the cumulative sample values of p.
func totals(p *profile.Profile, cumulative []bool) int64 {
	var t int64
	for _, s := range p.Sample {
		for i, v := range s.Value {
			if cumulative[i] {
				t += v
			}
		}
	}
	return t
}

// cumulativeValues marks the sample types that only grow while a process
// lives: all but the in-use snapshot values of heap profiles.
func cumulativeValues(p *profile.Profile) []bool {
	out := make([]bool, len(p.SampleType))
	for i, st := range p.SampleType {
		out[i] = !strings.HasPrefix(st.Type, "inuse_")
	}
	return out
}

func sameSampleTypes(a, b *profile.Profile) bool {
	if len(a.SampleType) != len(b.SampleType) {
		return false
	}
	for i := range a.SampleType {
		if a.SampleType[i].Type != b.SampleType[i].Type || a.SampleType[i].Unit != b.SampleType[i].Unit {
			return false
		}
	}
	return true
}

// DetectKind tells what a profile holds from its content, never a file name:
// sample types separate CPU, heap/allocs, goroutine and fgprof profiles;
// mutex and block profiles share their sample types and are told apart by
// their leaf frames (the mutex profile records unlockers, the block profile
// waiters). It returns "" when the content does not decide (for instance an
// empty contention profile).
func DetectKind(p *profile.Profile) ProfileKind {
	types := make([]string, len(p.SampleType))
	for i, st := range p.SampleType {
		types[i] = st.Type + "/" + st.Unit
	}
	has := func(t string) bool {
		for _, x := range types {
			if x == t {
				return true
			}
		}
		return false
	}
	switch {
	case has("cpu/nanoseconds"):
		return CPU
	case has("alloc_space/bytes") || has("inuse_space/bytes"):
		if p.DefaultSampleType == "alloc_space" {
			return Allocs
		}
		return Heap
	case has("goroutine/count"), has("goroutines/count"):
		return Goroutine
	case has("time/nanoseconds") && has("samples/count"):
		return Fgprof
	case has("delay/nanoseconds") && has("contentions/count"):
		return contentionKind(p)
	}
	return ""
}

// contentionKind weighs the leaf frames of a contention profile: unlock
// frames only appear on the mutex side, lock/wait/channel frames only on the
// block side. Frames inside a lock-free structure such as the Go 1.24+
// sync.Map HashTrieMap appear on both sides and do not vote.
func contentionKind(p *profile.Profile) ProfileKind {
	var unlockSide, waitSide int
	for _, s := range p.Sample {
		if len(s.Location) == 0 || len(s.Location[0].Line) == 0 || s.Location[0].Line[0].Function == nil {
			continue
		}
		switch name := s.Location[0].Line[0].Function.Name; {
		case strings.HasSuffix(name, "Unlock"), strings.HasPrefix(name, "runtime.unlock"),
			name == "runtime._LostContendedRuntimeLock":
			unlockSide++
		case strings.HasSuffix(name, "Lock"), strings.HasSuffix(name, ".Wait"),
			strings.HasPrefix(name, "runtime.chan"), strings.HasPrefix(name, "runtime.selectgo"),
			strings.Contains(name, "emacquire"), name == "runtime.block":
			waitSide++
		}
	}
	switch {
	case unlockSide > waitSide:
		return Mutex
	case waitSide > unlockSide:
		return Block
	}
	return ""
}
