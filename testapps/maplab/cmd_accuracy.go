package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/contendr/contendr/testapps/maplab/accuracy"
	"github.com/contendr/contendr/testapps/maplab/matrix"
)

// runAccuracy runs every workload under every strategy that is not its
// measured best, analyzes each window and scores the advice against the
// matrix.
func runAccuracy(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("maplab accuracy", flag.ContinueOnError)
	matrixPath := fs.String("matrix", "testapps/maplab/results/results.json", "ground truth written by maplab matrix")
	seconds := fs.Float64("seconds", 3, "seconds each case runs with the agent (at least 1)")
	workloads := fs.String("workloads", "all", "comma-separated workloads")
	strategies := fs.String("strategies", "all", "comma-separated strategies")
	sample := fs.Float64("sample", 1, "fraction of the cases to run, chosen by a seeded hash of workload and strategy (1: all)")
	seed := fs.Uint64("seed", 1, "seed of -sample's choice")
	note := fs.String("note", "", "a note for the results header: how the machine was set up")
	out := fs.String("out", "testapps/maplab/results/accuracy", "directory for accuracy.json and accuracy.md (empty: write none)")
	rerender := fs.String("rerender", "", "instead of running, rewrite accuracy.md in -out from this accuracy.json (after the table's renderer changed)")
	windows := fs.String("windows", "", "directory to keep each case's window in, for -rescore (default: OUT/windows)")
	rescore := fs.String("rescore", "", "instead of running, judge the windows an earlier accuracy.json kept (in its windows/ directory, or -windows) with this checkout's rules and -matrix, measuring nothing")
	remeasure := fs.String("remeasure", "", "with -rescore: run anew the cases of the workloads whose name matches this regexp (their definition changed; the -matrix rows choose their strategies, with -sample and -seed), re-score the others")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *remeasure != "" && *rescore == "" {
		return fmt.Errorf("-remeasure needs -rescore: the earlier accuracy.json whose other cases are re-scored")
	}
	changed, err := regexp.Compile(*remeasure)
	if err != nil {
		return fmt.Errorf("-remeasure: %w", err)
	}
	if *windows == "" && *out != "" {
		*windows = filepath.Join(*out, "windows")
	}
	if *rerender != "" {
		res, err := accuracy.ReadFile(*rerender)
		if err != nil {
			return err
		}
		return res.WriteFiles(*out)
	}
	m, err := matrix.ReadFile(*matrixPath)
	if err != nil {
		return err
	}
	if *rescore != "" {
		earlier, err := accuracy.ReadFile(*rescore)
		if err != nil {
			return err
		}
		dir := filepath.Join(filepath.Dir(*rescore), "windows")
		if flagSet(fs, "windows") {
			dir = *windows
		}
		if *remeasure == "" {
			res, err := accuracy.Rescore(earlier, m, dir)
			if err != nil {
				return err
			}
			res.Meta.Command = shellCommandLine()
			res.Meta.Note = fmt.Sprintf("re-scored the windows of %s (measured %s), nothing measured anew", *rescore, earlier.Meta.Date.Format(time.RFC3339))
			if *note != "" {
				res.Meta.Note += "; " + *note
			}
			return writeAccuracy(res, *out)
		}
		return rescoreAndRemeasure(ctx, *rescore, earlier, m, changed, dir, *windows, *out, accuracy.Config{
			Strategies: splitList(*strategies, nil),
			Sample:     *sample,
			SampleSeed: *seed,
			Duration:   time.Duration(*seconds * float64(time.Second)),
			Note:       *note,
		})
	}
	res, err := accuracy.Run(ctx, accuracy.Config{
		Matrix:     m,
		Workloads:  splitList(*workloads, nil),
		Strategies: splitList(*strategies, nil),
		Sample:     *sample,
		SampleSeed: *seed,
		Duration:   time.Duration(*seconds * float64(time.Second)),
		Windows:    *windows,
		Progress:   os.Stdout,
		Command:    shellCommandLine(),
		Note:       *note,
	})
	if err != nil {
		return err
	}
	return writeAccuracy(res, *out)
}

// rescoreAndRemeasure re-scores earlier's cases on workloads that did not
// change and runs the changed workloads' cases anew with cfg, so that a
// change to some workloads' definition costs a run of those only. The kept
// windows end up beside the new ones, for the next -rescore.
func rescoreAndRemeasure(ctx context.Context, from string, earlier *accuracy.Results, m *matrix.Results, changed *regexp.Regexp,
	dir, windows, out string, cfg accuracy.Config) error {
	kept := *earlier
	kept.Cases = slices.DeleteFunc(slices.Clone(earlier.Cases), func(c accuracy.Case) bool { return changed.MatchString(c.Workload) })
	res, err := accuracy.Rescore(&kept, m, dir)
	if err != nil {
		return err
	}
	if windows != "" && filepath.Clean(windows) != filepath.Clean(dir) {
		if err := copyWindows(res.Cases, dir, windows); err != nil {
			return err
		}
	}
	cfg.Matrix, cfg.Windows, cfg.Progress, cfg.Command = m, windows, os.Stdout, shellCommandLine()
	for _, spec := range m.Workloads {
		if changed.MatchString(spec.Name) {
			cfg.Workloads = append(cfg.Workloads, spec.Name)
		}
	}
	if len(cfg.Workloads) == 0 {
		return fmt.Errorf("-remeasure %q matches none of the matrix's %d workloads", changed, len(m.Workloads))
	}
	fresh, err := accuracy.Run(ctx, cfg)
	if err != nil {
		return err
	}
	res.Add(fresh)
	res.Meta.Command = cfg.Command
	res.Meta.Note = fmt.Sprintf("re-scored the windows of %s (measured %s) but those of the %d workloads matching %q (%d cases), whose %d cases ran anew from %s; %s",
		from, earlier.Meta.Date.Format(time.RFC3339), len(cfg.Workloads), changed, len(earlier.Cases)-len(kept.Cases), len(fresh.Cases), fresh.Meta.Date.Format(time.RFC3339), cfg.Note)
	return writeAccuracy(res, out)
}

// copyWindows copies the kept window of every case from one directory to
// another.
func copyWindows(cases []accuracy.Case, from, to string) error {
	if err := os.MkdirAll(to, 0o755); err != nil {
		return err
	}
	for _, c := range cases {
		data, err := os.ReadFile(filepath.Join(from, c.Window))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(to, c.Window), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

func writeAccuracy(res *accuracy.Results, out string) error {
	fmt.Println(res.Totals())
	if out == "" {
		return nil
	}
	if err := res.WriteFiles(out); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "maplab: wrote %s/accuracy.json and accuracy.md\n", out)
	return nil
}

// flagSet tells whether the command line set the flag name.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// shellCommandLine is commandLine with arguments that hold spaces or
// quotes single-quoted, so that the header's command can be pasted back
// into a shell (a -note is a sentence).
func shellCommandLine() string {
	args := []string{"go", "run", "./testapps/maplab"}
	for _, a := range os.Args[1:] {
		if strings.ContainsAny(a, " '\"$`\\") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		args = append(args, a)
	}
	return strings.Join(args, " ")
}
