package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/pprof/profile"
	"github.com/spf13/cobra"

	"github.com/contendr/contendr/collectors/locktrace"
	"github.com/contendr/contendr/flame"
	"github.com/contendr/contendr/internal/cliflags"
	"github.com/contendr/contendr/source"
	"github.com/contendr/contendr/window"
)

// flameOptions are the flags of `contendr flame`.
type flameOptions struct {
	profile  string
	sample   string
	base     string
	output   string
	format   string
	title    string
	minWidth float64
	icicle   bool
	// load is what the target flags say (RunE fills it from target).
	load   source.Options
	target *cliflags.TargetFlags
}

// Output formats, chosen by --format or the -o file's extension.
var flameFormats = map[string]string{
	".svg":    "svg",
	".html":   "html",
	".htm":    "html",
	".folded": "folded",
	".txt":    "folded",
	".json":   "speedscope",
	".pb.gz":  "pprof",
	".pb":     "pprof",
	".pprof":  "pprof",
}

func newCmdFlame() *cobra.Command {
	o := flameOptions{}
	cmd := &cobra.Command{
		Use:   "flame TARGET",
		Short: "Write a flame graph (SVG, HTML, folded, speedscope, pprof) of one profile of a target",
		Long: `flame merges one profile of TARGET into a call tree and writes it as a
standalone SVG, an interactive HTML page (hover, zoom, search, callers view),
folded stacks, speedscope JSON or a pprof proto. The format comes from the
extension of -o (.svg .html .folded .json .pb.gz) or from --format; without
-o the graph goes to stdout as folded stacks.

TARGET is anything 'contendr analyze' accepts: an agent or net/http/pprof URL,
a window bundle, a directory of profiles, or one profile file (read as is,
whatever --profile says).

With --base, the graph is differential: widths show both profiles, colours the
change in each frame's share of its profile's total (blue shrank, orange
grew), and stacks that vanished stay visible (svg, html, folded only).`,
		Example: `  contendr flame http://127.0.0.1:6061 --profile mutex -o mutex.svg
  contendr flame ./profiles/ --profile block --sample contentions -o block.html
  contendr flame canary.zip --base baseline.zip --profile mutex -o diff.svg
  contendr flame trace.out --profile sync -o waits.svg   # an execution trace's lock waits, exact
  contendr flame cpu.pb.gz -o cpu.json   # open in https://www.speedscope.app`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			load, err := o.target.Options(true)
			if err != nil {
				return err
			}
			o.load = load
			return runFlame(cmd.Context(), cmd.OutOrStdout(), args[0], o)
		},
	}
	f := cmd.Flags()
	o.target = cliflags.Target(cmd)
	f.StringVar(&o.profile, "profile", "", "profile kind: mutex|block|cpu|allocs|heap|fgprof|goroutine, or sync for an execution trace's lock waits (default mutex; a profile file is used as is)")
	f.StringVar(&o.sample, "sample", "", "sample type, e.g. delay|contentions|alloc_space|inuse_space|cpu (default: the profile's default; delay for contention)")
	f.StringVar(&o.base, "base", "", "base TARGET for a differential graph")
	f.StringVarP(&o.output, "output", "o", "", "output `FILE`, written atomically; its extension picks the format (default stdout)")
	f.StringVar(&o.format, "format", "", "svg|html|folded|speedscope|pprof (overrides the -o extension)")
	f.StringVar(&o.title, "title", "", "title of the graph")
	f.Float64Var(&o.minWidth, "min-width", 0.1, "svg/html: sum frames narrower than this percent of the total into [pruned N]; 0 keeps all")
	f.BoolVar(&o.icicle, "icicle", false, "svg/html: root at the top")
	return cmd
}

func runFlame(ctx context.Context, stdout io.Writer, target string, o flameOptions) error {
	format, err := o.resolveFormat()
	if err != nil {
		return err
	}
	kind := window.ProfileKind(o.profile)
	if kind != "" && kind != flameSync && !flameKnownKind(kind) {
		return usageError("unknown --profile %q; one of %s", o.profile, flameKindList())
	}
	if o.minWidth < 0 || o.minWidth >= 100 {
		return usageError("--min-width %v: want a percentage in [0, 100)", o.minWidth)
	}
	opts := o.load
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = source.DefaultMaxBytes
	}

	renderOpts := flame.Options{Title: o.title, Icicle: o.icicle, MinFraction: o.minWidth / 100}
	if o.minWidth == 0 {
		renderOpts.MinFraction = -1
	}
	// SVG and HTML draw a pruned tree: build only that, never the millions
	// of frames a large profile merges into. A differential graph compares
	// whole trees, and the other formats keep every stack.
	prune := 0.0
	if (format == "svg" || format == "html") && o.base == "" {
		prune = renderOpts.MinFraction
	}
	g, err := flameGraph(ctx, target, kind, o.sample, prune, opts)
	if err != nil {
		return err
	}
	if o.base != "" {
		if format == "speedscope" || format == "pprof" {
			return usageError("--base: a differential graph can be written as svg, html or folded, not %s", format)
		}
		// The base uses the sample type the target resolved to, so that both
		// sides measure the same thing.
		base, err := flameGraph(ctx, o.base, kind, g.SampleType, 0, opts)
		if err != nil {
			return err
		}
		if g, err = flame.Diff(base, g); err != nil {
			return err
		}
	}

	out := cliflags.Output{Path: o.output}
	if err := out.Write(stdout, func(w io.Writer) error { return flameWrite(w, g, format, renderOpts) }); err != nil {
		return fmt.Errorf("writing %s flame graph: %w", format, err)
	}
	return nil
}

func (o flameOptions) resolveFormat() (string, error) {
	if o.format != "" {
		for _, f := range flameFormats {
			if f == o.format {
				return f, nil
			}
		}
		return "", usageError("unknown --format %q; one of svg, html, folded, speedscope, pprof", o.format)
	}
	if o.output == "" || o.output == "-" {
		return "folded", nil
	}
	name := strings.ToLower(filepath.Base(o.output))
	for ext, f := range flameFormats {
		if strings.HasSuffix(name, ext) {
			return f, nil
		}
	}
	return "", usageError("cannot tell the format of %q from its extension (.svg .html .folded .json .pb.gz); use --format", o.output)
}

func flameWrite(w io.Writer, g *flame.Graph, format string, opts flame.Options) error {
	switch format {
	case "svg":
		return flame.WriteSVG(w, g, opts)
	case "html":
		return flame.WriteHTML(w, g, opts)
	case "speedscope":
		return flame.WriteSpeedscope(w, g, opts.Title)
	case "pprof":
		return flame.WritePprof(w, g)
	}
	return flame.WriteFolded(w, g)
}

// flameGraph loads the profile of kind from target and builds its graph,
// pruned at minFraction when that is positive (see flame.BuildPruned).
func flameGraph(ctx context.Context, target string, kind window.ProfileKind, sample string, minFraction float64, opts source.Options) (*flame.Graph, error) {
	p, from, err := loadFlameProfile(ctx, target, kind, opts)
	if err != nil {
		return nil, err
	}
	g, err := flame.BuildPruned(p, sample, minFraction)
	switch {
	case errors.Is(err, flame.ErrEmpty):
		return nil, fmt.Errorf("%s: the %s profile is empty, nothing was recorded%s: %w", target, from, flameEmptyHint(from), err)
	case err != nil:
		return nil, fmt.Errorf("%s: %s profile: %w", target, from, err)
	}
	return g, nil
}

// loadFlameProfile returns the profile to draw and the kind it is. A
// profile file is read as is; anything else goes through source.Load.
func loadFlameProfile(ctx context.Context, target string, kind window.ProfileKind, opts source.Options) (*profile.Profile, window.ProfileKind, error) {
	if p, ok := flameReadProfileFile(target, opts.MaxBytes); ok {
		detected := window.DetectKind(p)
		if kind != "" && detected != "" && detected != kind {
			return nil, "", fmt.Errorf("%s: holds a %s profile, not %s; drop --profile or point at a %s profile", target, detected, kind, kind)
		}
		if detected == "" {
			detected = kind
		}
		return p, detected, nil
	}
	if kind == flameSync {
		return flameSyncProfile(ctx, target, opts)
	}
	if kind == "" {
		kind = window.Mutex
	}
	opts.Profiles = []window.ProfileKind{kind}
	// Only take a CPU profile from a live target when it is the one drawn.
	opts.DisableCPU = kind != window.CPU
	w, err := source.Load(ctx, target, opts)
	if err != nil {
		return nil, "", err
	}
	p := w.Profile(kind)
	if p == nil {
		return nil, "", fmt.Errorf("no %s profile in %s%s", kind, target, flameMissingHint(w, kind))
	}
	return p, kind, nil
}

// flameReadProfileFile reads target as one profile file; false when it is not a
// regular file holding a profile (a URL, a directory, a bundle).
func flameReadProfileFile(target string, maxBytes int64) (*profile.Profile, bool) {
	info, err := os.Stat(target)
	if err != nil || !info.Mode().IsRegular() || info.Size() > maxBytes {
		return nil, false
	}
	data, err := os.ReadFile(target)
	if err != nil || window.IsBundle(data) {
		return nil, false
	}
	p, err := window.ParseProfile(data, maxBytes)
	if err != nil {
		return nil, false
	}
	return p, true
}

// flameMissingHint says why a window may lack a profile kind.
func flameMissingHint(w *window.Window, kind window.ProfileKind) string {
	switch {
	case w.Trace != nil && len(w.Profiles) == 0:
		return "; it is an execution trace: --profile sync draws its lock waits"
	case kind == window.Block && w.Meta.BlockProfileRate == 0:
		return "; block profiling is off (runtime.SetBlockProfileRate)"
	case kind == window.Block:
		return "; block profiling may be off (runtime.SetBlockProfileRate)"
	case kind == window.Mutex && w.Meta.MutexProfileFraction == 0:
		return "; mutex profiling is off (runtime.SetMutexProfileFraction)"
	case kind == window.Mutex:
		return "; mutex profiling may be off (runtime.SetMutexProfileFraction)"
	case kind == window.Fgprof:
		return "; fgprof needs a contendr agent or an fgprof handler"
	}
	var have []string
	for _, k := range window.Kinds {
		if w.Profile(k) != nil {
			have = append(have, string(k))
		}
	}
	if len(have) == 0 {
		return ""
	}
	return "; it has: " + strings.Join(have, ", ")
}

func flameEmptyHint(kind window.ProfileKind) string {
	switch kind {
	case window.Mutex:
		return " (no lock contention, or mutex profiling is off: runtime.SetMutexProfileFraction)"
	case window.Block:
		return " (no blocking, or block profiling is off: runtime.SetBlockProfileRate)"
	}
	return ""
}

func flameKnownKind(k window.ProfileKind) bool {
	for _, x := range window.Kinds {
		if x == k {
			return true
		}
	}
	return false
}

func flameKindList() string {
	names := make([]string, len(window.Kinds))
	for i, k := range window.Kinds {
		names[i] = string(k)
	}
	return strings.Join(append(names, string(flameSync)), "|")
}

// flameSync draws an execution trace's lock waits (a trace file, or a
// bundle holding one), exact per stack (collectors/locktrace).
const flameSync window.ProfileKind = "sync"

func flameSyncProfile(ctx context.Context, target string, opts source.Options) (*profile.Profile, window.ProfileKind, error) {
	opts.DisableCPU = true
	w, err := source.Load(ctx, target, opts)
	if err != nil {
		return nil, "", err
	}
	d, err := locktrace.FromWindow(w, locktrace.Options{})
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", target, err)
	}
	return d.SyncProfile(), flameSync, nil
}
