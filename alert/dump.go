package alert

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/contendr/contendr/window"
)

// dumpSuffix ends every file a dump writes; pruning touches nothing else.
const dumpSuffix = ".pb.gz"

// dump writes the window's profiles into DumpDir and prunes the directory to
// its bounds. It returns the files that remain; a failure is logged and
// counted, never returned: a full or read-only disk must not stop alerting.
func (e *Evaluator) dump(w *window.Window, rule, site string) []string {
	dir := e.cfg.DumpDir
	if err := os.MkdirAll(dir, 0o755); err != nil {
		e.dumpFailed(fmt.Errorf("creating dump directory: %w", err))
		return nil
	}
	stem := safeName(rule)
	if site != "" {
		stem += "-" + safeName(site)
	}
	id := w.ID
	if id == "" {
		id = "window"
	}
	stem += "-" + safeName(id) + "-" + w.End.UTC().Format("20060102T150405Z")
	var written []string
	for _, kind := range window.Kinds {
		p := w.Profile(kind)
		if p == nil {
			continue
		}
		path := filepath.Join(dir, stem+"."+string(kind)+dumpSuffix)
		// The window's own encoding: p.Write would rewrite the indexes of
		// a profile that other goroutines may be reading.
		data := w.ProfileBytes(kind)
		if data == nil {
			e.dumpFailed(fmt.Errorf("dumping %s profile of window %s: it could not be encoded", kind, w.ID))
			continue
		}
		write := func(out io.Writer) error { _, err := out.Write(data); return err }
		if err := writeProfile(path, write); err != nil {
			e.dumpFailed(fmt.Errorf("dumping %s profile of window %s: %w", kind, w.ID, err))
			continue
		}
		written = append(written, path)
	}
	if err := prune(dir, e.cfg.DumpMaxFiles, e.cfg.DumpMaxBytes); err != nil {
		e.dumpFailed(err)
	}
	kept := written[:0]
	for _, path := range written {
		if _, err := os.Stat(path); err == nil {
			kept = append(kept, path)
		}
	}
	return kept
}

func (e *Evaluator) dumpFailed(err error) {
	e.dumpErrors.Add(1)
	e.log.Error("contendr alert: profile dump failed", "dir", e.cfg.DumpDir, "err", err)
}

// writeProfile writes through a temporary file so that a reader (or a
// crash) never sees half a profile under the final name.
func writeProfile(path string, write func(io.Writer) error) error {
	var buf bytes.Buffer
	if err := write(&buf); err != nil {
		return fmt.Errorf("encoding profile: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".dump-*")
	if err != nil {
		return err
	}
	_, err = tmp.Write(buf.Bytes())
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}

// prune deletes the oldest dump files in dir until at most maxFiles remain
// holding at most maxBytes.
func prune(dir string, maxFiles int, maxBytes int64) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("listing dump directory: %w", err)
	}
	type dumpFile struct {
		path  string
		size  int64
		mtime int64
	}
	var files []dumpFile
	var total int64
	for _, entry := range entries {
		if !entry.Type().IsRegular() || !strings.HasSuffix(entry.Name(), dumpSuffix) {
			continue
		}
		info, err := entry.Info()
		if err != nil {
			continue // deleted meanwhile
		}
		files = append(files, dumpFile{filepath.Join(dir, entry.Name()), info.Size(), info.ModTime().UnixNano()})
		total += info.Size()
	}
	sort.Slice(files, func(a, b int) bool {
		if files[a].mtime != files[b].mtime {
			return files[a].mtime < files[b].mtime
		}
		return files[a].path < files[b].path
	})
	for len(files) > 0 && (len(files) > maxFiles || total > maxBytes) {
		if err := os.Remove(files[0].path); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("pruning dump directory: %w", err)
		}
		total -= files[0].size
		files = files[1:]
	}
	return nil
}

// safeName keeps a name usable as part of a file name on any system.
func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '.':
			return r
		}
		return '_'
	}, s)
}
