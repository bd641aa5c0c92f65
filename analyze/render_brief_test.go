package analyze

import (
	"bytes"
	"strings"
	"testing"
)

func TestShortenerTrimsTheSharedModulePrefix(t *testing.T) {
	for _, tt := range []struct {
		names []string
		want  string
	}{
		{[]string{"github.com/acme/api/cache.(*Cache)", "github.com/acme/api/log.(*Logger).Write"}, "github.com/acme/api/"},
		{[]string{"github.com/acme/api/internal/cache.(*Cache)"}, "github.com/acme/api/internal/"},
		{[]string{"github.com/acme/api/cache.(*Cache)", "main.(*Server)", "net/http.(*conn).serve"}, "github.com/acme/api/"},
		{[]string{"github.com/acme/api/cache.(*Cache)", "github.com/other/lib.(*Pool)"}, ""}, // only the host in common
		{[]string{"main.(*Cache)"}, ""},
		{[]string{"example.com/m/x.(*Map[go.shape.string]).Store"}, "example.com/m/"},
	} {
		r := &Report{}
		for _, n := range tt.names {
			r.Lock.Components = append(r.Lock.Components, LockComponent{Name: n})
		}
		if got := r.shortener().prefix; got != tt.want {
			t.Errorf("%q: prefix %q, want %q", tt.names, got, tt.want)
		}
	}
}

// TestBriefTextIsShort: the ten-second report of a contended window is a
// screenful — a verdict of two lines, names trimmed once, no evidence.
func TestBriefTextIsShort(t *testing.T) {
	in, lock, gcr := handRWMutexWriteHeavy(t)
	r := Build(in, lock, gcr, DefaultThresholds())
	var brief, verbose bytes.Buffer
	if err := r.WriteText(&brief); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteTextVerbose(&verbose); err != nil {
		t.Fatal(err)
	}
	text := brief.String()
	if n, v := strings.Count(text, "\n"), strings.Count(verbose.String(), "\n"); n > 20 || n*2 > v {
		t.Errorf("brief text %d lines (verbose %d): want at most 20, and under half the verbose", n, v)
	}
	if strings.Count(text, "github.com/acme/api/") != 1 || strings.Contains(text, "evidence:") {
		t.Errorf("brief text repeats the module prefix or shows evidence:\n%s", text)
	}
	// One line per component with its advice, whatever the rules advise
	// (the fixture's window is judged by the committed matrix).
	if len(r.Recommendations) == 0 {
		t.Fatal("the fixture's window has no recommendation")
	}
	rec := r.Recommendations[0]
	want := "cache.(*Cache) rwmutex → " + string(rec.Recommended)
	if rec.Recommended == StrategyKeep {
		want = "advice: keep rwmutex"
	}
	if !strings.Contains(text, want) {
		t.Errorf("brief text lacks the advice %q:\n%s", want, text)
	}
}

// TestRunnableWithOffCPUPsIsNotSaturation: goroutines runnable while a
// tenth of the capacity went to Ps asleep off the CPU read as locks holding
// the work back, not as a saturated CPU, in both text renderings.
func TestRunnableWithOffCPUPsIsNotSaturation(t *testing.T) {
	in, lock, gcr := handRWMutexWriteHeavy(t)
	r := Build(in, lock, gcr, DefaultThresholds())
	r.Lock.WaitersKnown, r.Lock.Waiters = true, 50
	r.Lock.RunnableKnown, r.Lock.Runnable = true, 3
	for _, offCPU := range []float64{0, 4} {
		r.Lock.CostDetail.CapacitySeconds, r.Lock.CostDetail.OffCPUSeconds = 10, offCPU
		var brief, verbose bytes.Buffer
		if err := r.WriteText(&brief); err != nil {
			t.Fatal(err)
		}
		if err := r.WriteTextVerbose(&verbose); err != nil {
			t.Fatal(err)
		}
		for name, text := range map[string]string{"brief": brief.String(), "verbose": verbose.String()} {
			saturated := strings.Contains(text, "the CPU was saturated")
			held := strings.Contains(text, "off-CPU") || strings.Contains(text, "off the CPU")
			if offCPU > 0 && (saturated || !held) || offCPU == 0 && !saturated {
				t.Errorf("%s text with %gs of 10s off-CPU: saturated %v, off-CPU said %v:\n%s", name, offCPU, saturated, held, text)
			}
		}
	}
}
