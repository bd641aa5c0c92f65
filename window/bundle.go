package window

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
)

// A bundle is a zip archive holding one window:
//
//	window.json      the Window without its profiles (meta, metrics, notes)
//	<kind>.pb.gz     one gzipped pprof proto per profile (mutex.pb.gz, …)
//	trace.out        the window's execution trace, if it has one
//
// Zip keeps each profile a plain file that `unzip` and `go tool pprof` read
// directly; nothing in a bundle needs contendr to be inspected.

// BundleSchema is written into window.json and checked when reading.
const BundleSchema = "contendr.window/v1"

// BundleContentType is the media type the agent serves bundles with.
const BundleContentType = "application/zip"

// MaxBundleBytes caps the decompressed size of a whole bundle.
const MaxBundleBytes = 1 << 30

const (
	windowEntry = "window.json"
	traceEntry  = "trace.out"
)

type bundleHeader struct {
	Schema string `json:"schema"`
	*Window
}

// Encode writes w as a bundle.
func (w *Window) Encode(out io.Writer) error {
	zw := zip.NewWriter(out)
	hdr, err := json.MarshalIndent(bundleHeader{Schema: BundleSchema, Window: w}, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding window %s: %w", w.ID, err)
	}
	// Profiles are already gzipped: store them, don't deflate twice.
	if err := writeEntry(zw, windowEntry, zip.Deflate, w.End, hdr); err != nil {
		return err
	}
	for _, k := range Kinds {
		data, err := w.profileBytes(k)
		if err != nil {
			return fmt.Errorf("encoding %s profile of window %s: %w", k, w.ID, err)
		}
		if data == nil {
			continue
		}
		if err := writeEntry(zw, string(k)+".pb.gz", zip.Store, w.End, data); err != nil {
			return err
		}
	}
	if w.Trace != nil && len(w.Trace.Data) > 0 {
		// Traces compress about 3:1, unlike the gzipped profiles.
		if err := writeEntry(zw, traceEntry, zip.Deflate, w.Trace.CapturedAt, w.Trace.Data); err != nil {
			return err
		}
	}
	return zw.Close()
}

func writeEntry(zw *zip.Writer, name string, method uint16, mod time.Time, data []byte) error {
	f, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: method, Modified: mod})
	if err != nil {
		return fmt.Errorf("writing bundle entry %s: %w", name, err)
	}
	_, err = f.Write(data)
	return err
}

// IsBundle tells whether data starts like a zip archive.
func IsBundle(data []byte) bool { return bytes.HasPrefix(data, []byte("PK\x03\x04")) }

// DecodeBundle reads a bundle written by Encode. Every entry is size-capped:
// a bundle is untrusted input.
func DecodeBundle(data []byte) (*Window, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("not a contendr window bundle (zip): %w", err)
	}
	var w *Window
	var trace []byte
	profiles := map[ProfileKind][]byte{}
	var total int64
	for _, f := range zr.File {
		body, err := readEntry(f, MaxProfileBytes)
		if err != nil {
			return nil, err
		}
		if total += int64(len(body)); total > MaxBundleBytes {
			return nil, fmt.Errorf("bundle %w of %d bytes", ErrTooLarge, MaxBundleBytes)
		}
		switch {
		case f.Name == windowEntry:
			var hdr bundleHeader
			if err := json.Unmarshal(body, &hdr); err != nil {
				return nil, fmt.Errorf("bundle entry %s: %w", windowEntry, err)
			}
			if hdr.Schema != BundleSchema {
				return nil, fmt.Errorf("bundle schema %q, want %q", hdr.Schema, BundleSchema)
			}
			if hdr.Window == nil {
				return nil, fmt.Errorf("bundle entry %s holds no window", windowEntry)
			}
			w = hdr.Window
		case f.Name == traceEntry:
			trace = body
		case strings.HasSuffix(f.Name, ".pb.gz"):
			kind := ProfileKind(strings.TrimSuffix(f.Name, ".pb.gz"))
			if !knownKind(kind) {
				continue // a newer writer's profile: skip, don't fail
			}
			profiles[kind] = body
		}
	}
	if w == nil {
		return nil, fmt.Errorf("not a contendr window bundle: no %s entry", windowEntry)
	}
	switch {
	case trace != nil && w.Trace != nil:
		w.Trace.Data, w.Trace.Bytes = trace, len(trace)
	case trace != nil:
		w.Trace = &Trace{Reason: "unknown", Bytes: len(trace), Data: trace}
	case w.Trace != nil:
		w.Note(fmt.Sprintf("window.json names a trace of %d bytes, but the bundle holds no %s", w.Trace.Bytes, traceEntry))
		w.Trace = nil
	}
	w.Profiles = nil
	for _, k := range Kinds {
		body, ok := profiles[k]
		if !ok {
			continue
		}
		p, err := ParseProfile(body, MaxProfileBytes)
		if err != nil {
			return nil, fmt.Errorf("bundle entry %s.pb.gz: %w", k, err)
		}
		w.SetProfile(k, p)
	}
	return w, nil
}

func readEntry(f *zip.File, limit int64) ([]byte, error) {
	if f.UncompressedSize64 > uint64(limit) {
		return nil, fmt.Errorf("bundle entry %s %w of %d bytes", f.Name, ErrTooLarge, limit)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("bundle entry %s: %w", f.Name, err)
	}
	defer rc.Close()
	body, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, fmt.Errorf("bundle entry %s: truncated or corrupt: %w", f.Name, err)
	}
	if int64(len(body)) > limit {
		return nil, fmt.Errorf("bundle entry %s %w of %d bytes", f.Name, ErrTooLarge, limit)
	}
	return body, nil
}

func knownKind(k ProfileKind) bool {
	for _, x := range Kinds {
		if x == k {
			return true
		}
	}
	return false
}
