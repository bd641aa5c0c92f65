package analyze

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDefaultThresholdsAreValid(t *testing.T) {
	if err := DefaultThresholds().Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestParseThresholds(t *testing.T) {
	def := DefaultThresholds()
	tests := []struct {
		name    string
		file    string
		want    func(Thresholds) Thresholds
		wantErr string
	}{
		{
			name: "empty file keeps defaults",
			file: "",
			want: func(th Thresholds) Thresholds { return th },
		},
		{
			name: "yaml overrides one level, keeps the rest",
			file: "lock_fraction: {warn: 0.1, crit: 0.3}\n",
			want: func(th Thresholds) Thresholds { th.LockFraction = Level{0.1, 0.3}; return th },
		},
		{
			name: "a limit left out keeps its default",
			file: "gc_cpu_fraction:\n  crit: 0.4\n",
			want: func(th Thresholds) Thresholds { th.GCCPUFraction.Crit = 0.4; return th },
		},
		{
			name: "percentages and durations",
			file: "site_fraction: {warn: 5%, crit: 15%}\ngc_pause_p99: {warn: 500us, crit: 5ms}\n",
			want: func(th Thresholds) Thresholds {
				th.SiteFraction = Level{0.05, 0.15}
				th.GCPauseP99 = Level{0.0005, 0.005}
				return th
			},
		},
		{
			name: "json is accepted",
			file: `{"map_growth_share": {"warn": 0.2, "crit": 0.5}}`,
			want: func(th Thresholds) Thresholds { th.MapGrowthShare = Level{0.2, 0.5}; return th },
		},
		{name: "unknown finding", file: "lock_fractoin: {warn: 0.1}\n", wantErr: "lock_fractoin"},
		{name: "unknown limit", file: "lock_fraction: {warning: 0.1}\n", wantErr: "warning"},
		{name: "warn above crit", file: "lock_fraction: {warn: 0.5}\n", wantErr: "warn 0.5 is above crit 0.2"},
		{name: "negative", file: "gc_pause_p99: {warn: -1}\n", wantErr: "negative"},
		{name: "garbage value", file: "lock_fraction: {warn: lots}\n", wantErr: `bad limit "lots"`},
		{name: "not a mapping", file: "lock_fraction: 0.1\n", wantErr: "want a mapping"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseThresholds([]byte(tt.file))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if want := tt.want(def); got != want {
				t.Errorf("got %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestLoadThresholds(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "thresholds.yaml")
	if err := os.WriteFile(path, []byte("lock_fraction: {warn: 0.07, crit: 0.25}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	th, err := LoadThresholds(path)
	if err != nil {
		t.Fatal(err)
	}
	if th.LockFraction != (Level{0.07, 0.25}) {
		t.Errorf("lock_fraction = %+v", th.LockFraction)
	}
	_, err = LoadThresholds(filepath.Join(dir, "missing.yaml"))
	if !os.IsNotExist(err) && (err == nil || !strings.Contains(err.Error(), "reading thresholds")) {
		t.Errorf("missing file: err = %v", err)
	}
}

func TestLevelSeverity(t *testing.T) {
	l := Level{Warn: 0.05, Crit: 0.2}
	for v, want := range map[float64]Severity{0: SeverityOK, 0.049: SeverityOK, 0.05: SeverityWarn, 0.19: SeverityWarn, 0.2: SeverityCrit, 0.9: SeverityCrit} {
		if got := l.Severity(v); got != want {
			t.Errorf("Severity(%g) = %s, want %s", v, got, want)
		}
	}
}

func TestParseSeverity(t *testing.T) {
	for in, want := range map[string]Severity{"ok": SeverityOK, "WARN": SeverityWarn, "warning": SeverityWarn, " crit ": SeverityCrit, "critical": SeverityCrit} {
		got, err := ParseSeverity(in)
		if err != nil || got != want {
			t.Errorf("ParseSeverity(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ParseSeverity("fatal"); err == nil {
		t.Error("ParseSeverity(fatal) succeeded")
	}
	if !SeverityCrit.AtLeast(SeverityWarn) || SeverityOK.AtLeast(SeverityWarn) || !SeverityWarn.AtLeast(SeverityWarn) {
		t.Error("AtLeast ordering is wrong")
	}
}
