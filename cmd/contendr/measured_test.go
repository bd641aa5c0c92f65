package main

import (
	"bytes"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/contendr/contendr/alert"
	"github.com/contendr/contendr/analyze"
	"github.com/contendr/contendr/collectors/figure"
	"github.com/contendr/contendr/collectors/gc"
	"github.com/contendr/contendr/gate"
	"github.com/contendr/contendr/webui"
	"github.com/contendr/contendr/window"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// memStatsOnlyWindow is what a plain net/http/pprof target gives without a
// CPU profile: two heap?debug=1 MemStats readings, nothing else.
func memStatsOnlyWindow(t *testing.T) *window.Window {
	t.Helper()
	read := func(name string) window.MemStats {
		data, err := os.ReadFile("../../collectors/gc/testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		ms, err := window.ParseMemStats(data)
		if err != nil {
			t.Fatal(err)
		}
		return ms
	}
	start := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	return &window.Window{
		ID: "memstats-only", Start: start, End: start.Add(10 * time.Second),
		Meta:     window.Meta{Source: "http://plain-pprof", GOMAXPROCS: 2},
		MemStats: &window.MemStatsPair{Start: read("heap-debug1-a.txt"), End: read("heap-debug1-b.txt")},
	}
}

// TestEveryReaderAgreesOnWhatAWindowMeasured feeds one MemStats-only window
// to analyze, the alert evaluator's values, gate's figures, the web UI's
// API and the GC Prometheus collector, and checks they agree on which
// figures are known: the GC CPU share (MemStats.GCCPUFraction is a lifetime
// average, never used) is unknown everywhere, never 0%; the pause p99 is
// known everywhere.
func TestEveryReaderAgreesOnWhatAWindowMeasured(t *testing.T) {
	w := memStatsOnlyWindow(t)

	// analyze: the typed account, the findings and the text.
	in := analyze.Input{Window: w}
	collected, err := analyze.Collect(in)
	if err != nil {
		t.Fatal(err)
	}
	r := collected.Report(in, analyze.DefaultThresholds())
	if r.Measured.Has(figure.GCCPUFraction) || !r.Measured.Has(figure.GCPauseP99) {
		t.Fatalf("report measured %+v: want GC CPU missing and pause p99 known", r.Measured)
	}
	if reason := r.Measured.Get(figure.GCCPUFraction).Reason; !strings.Contains(reason, "lifetime average") {
		t.Errorf("GC CPU missing for %q, want the reason (no CPU profile; GCCPUFraction is a lifetime average)", reason)
	}
	var judged []string
	for _, f := range r.Findings {
		judged = append(judged, f.ID)
	}
	if strings.Contains(strings.Join(judged, " "), analyze.FindingGCCPUFraction) || !strings.Contains(strings.Join(judged, " "), analyze.FindingGCPauseP99) {
		t.Errorf("findings %v: want a pause finding and no GC CPU finding", judged)
	}
	var brief, verbose bytes.Buffer
	if err := r.WriteText(&brief); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteTextVerbose(&verbose); err != nil {
		t.Fatal(err)
	}
	shown := regexp.MustCompile(`GC CPU[^\n]*[0-9]%|mark assists`)
	if !regexp.MustCompile(`GC CPU +unknown`).MatchString(brief.String()) || shown.MatchString(brief.String()) || shown.MatchString(verbose.String()) {
		t.Errorf("the text shows an unmeasured GC CPU or assist share:\n%s\n%s", brief.String(), verbose.String())
	}

	// alert: the one function from collector results to alert values.
	v := alert.ValuesFrom(collected.Lock, collected.GC)
	if !math.IsNaN(v.GCCPUFraction) || math.IsNaN(v.GCPauseP99Seconds) {
		t.Errorf("alert values GC CPU %v pause %v: want unknown (NaN) and known", v.GCCPUFraction, v.GCPauseP99Seconds)
	}

	// gate.
	gw, err := gate.FiguresOf("http://plain-pprof", w)
	if err != nil {
		t.Fatal(err)
	}
	if gw.GCCPUFraction != nil || gw.GCPauseP99 == nil {
		t.Errorf("gate figures GC CPU %v pause %v: want none and one", gw.GCCPUFraction, gw.GCPauseP99)
	}

	// web UI: the series point and the report it serves.
	srv := httptest.NewServer(webui.New(webui.Options{Targets: []webui.Target{{Name: "plain",
		Source: webui.WindowsFunc(func() []*window.Window { return []*window.Window{w} })}}}))
	defer srv.Close()
	var ov struct {
		Targets []struct {
			Series []struct {
				GCCPUFraction *float64   `json:"gc_cpu_fraction"`
				Measured      figure.Set `json:"measured"`
			} `json:"series"`
			Latest struct {
				Measured figure.Set `json:"measured"`
			} `json:"latest"`
		} `json:"targets"`
	}
	resp, err := http.Get(srv.URL + "/api/overview")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&ov); err != nil {
		t.Fatal(err)
	}
	if len(ov.Targets) != 1 || len(ov.Targets[0].Series) != 1 {
		t.Fatalf("overview %+v: want one target with one window", ov)
	}
	point, latest := ov.Targets[0].Series[0], ov.Targets[0].Latest
	if point.GCCPUFraction != nil {
		t.Errorf("web UI series GC CPU %v, want null", *point.GCCPUFraction)
	}
	for _, got := range []figure.Set{point.Measured, latest.Measured} {
		for _, f := range figure.All {
			if got.Get(f) != r.Measured.Get(f) {
				t.Errorf("web UI says %s is %+v, analyze %+v", f, got.Get(f), r.Measured.Get(f))
			}
		}
	}

	// Prometheus: no series for a figure the window lacks.
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(gc.NewCollectorOf(func() *gc.Result { return collected.GC }, nil))
	if n, err := testutil.GatherAndCount(reg, "contendr_gc_cpu_fraction"); err != nil || n != 0 {
		t.Errorf("Prometheus exposes %d GC CPU series (err %v), want none", n, err)
	}
	if n, err := testutil.GatherAndCount(reg, "contendr_gc_pause_p99_seconds"); err != nil || n != 1 {
		t.Errorf("Prometheus exposes %d pause p99 series (err %v), want one", n, err)
	}
}
