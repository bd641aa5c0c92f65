package window

import (
	"bufio"
	"bytes"
	"strconv"
	"strings"

	"github.com/google/pprof/profile"
)

// nameLegacyFrames gives function names to a profile parsed from the runtime's
// ?debug=1 text format. pprof's legacy parser keeps only the addresses of the
// "@ 0x…" lines and skips the "#\t0x…\tfunc+0x…\tfile:line" comment lines that
// name them, so without this every frame would be anonymous. Inlined frames
// share one address and are listed innermost first, as profile.Line wants.
func nameLegacyFrames(p *profile.Profile, text []byte) {
	type frame struct {
		function, file string
		line           int64
	}
	framesAt := map[uint64][]frame{}
	// Every record prints all its frames, so one address shows up in many
	// records: name it from the first record only. Within a record,
	// consecutive lines with one address are a call and what was inlined
	// into it.
	var current uint64
	naming := false
	sc := bufio.NewScanner(bytes.NewReader(text))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "#") {
			current, naming = 0, false // a new record, or the end of one
			continue
		}
		fields := strings.Split(line, "\t")
		// "#", "0x51757e", "sync.(*Mutex).Unlock+0x5e", ["", ]"/usr/…/mutex.go:65"
		if len(fields) < 3 || fields[0] != "#" {
			continue
		}
		addr, err := strconv.ParseUint(strings.TrimPrefix(fields[1], "0x"), 16, 64)
		if err != nil {
			continue
		}
		if addr != current {
			current = addr
			_, named := framesAt[addr]
			naming = !named
		}
		if !naming {
			continue
		}
		fn := fields[2]
		if i := strings.LastIndex(fn, "+0x"); i > 0 {
			fn = fn[:i]
		}
		f := frame{function: fn}
		if where := fields[len(fields)-1]; where != fields[2] {
			if i := strings.LastIndex(where, ":"); i > 0 {
				f.file = where[:i]
				f.line, _ = strconv.ParseInt(where[i+1:], 10, 64)
			}
		}
		framesAt[addr] = append(framesAt[addr], f)
	}

	functions := map[string]*profile.Function{}
	for _, loc := range p.Location {
		if len(loc.Line) > 0 {
			continue
		}
		for _, f := range framesAt[loc.Address] {
			key := f.function + "\x00" + f.file
			fn, ok := functions[key]
			if !ok {
				fn = &profile.Function{ID: uint64(len(p.Function) + 1), Name: f.function, SystemName: f.function, Filename: f.file}
				p.Function = append(p.Function, fn)
				functions[key] = fn
			}
			loc.Line = append(loc.Line, profile.Line{Function: fn, Line: f.line})
		}
	}
}
