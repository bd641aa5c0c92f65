package mutex

import (
	"bufio"
	"bytes"
	"github.com/contendr/contendr/collectors/stacks"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/contendr/contendr/window"
)

// fixtureRoot holds real profiles written by go1.25 and go1.26 binaries
// (see its README.md).
const fixtureRoot = "../../testdata/profiles"

// keepAllStacks makes every site keep every stack, so tests can see each
// sample's classification and rebuild per-leaf totals.
var keepAllStacks = Options{TopStacks: 1 << 30}

var fixtures = []struct {
	dir string
	// Kinds of the lock sites (user code, runtime excluded) on each side.
	holderKinds, waiterKinds []Kind
	component                string
}{
	{"go1.25-legacy-syncmap", []Kind{KindSyncMapLegacy}, []Kind{KindSyncMapLegacy}, "main.(*syncMapStore)"},
	{"go1.26-hashtriemap/syncmap", []Kind{KindSyncMap}, []Kind{KindSyncMap}, "main.(*syncMapStore)"},
	{"go1.26-hashtriemap/rwmutex", []Kind{KindRWMutexRead, KindRWMutexWrite}, []Kind{KindRWMutexRead, KindRWMutexWrite}, "main.(*rwStore)"},
	{"go1.26-hashtriemap/mutex", []Kind{KindMutex}, []Kind{KindMutex}, "main.(*muStore)"},
}

// loadFixture builds a window from a fixture folder's mutex and block
// profiles, recorded with both rates at 1.
func loadFixture(t testing.TB, dir string) *window.Window {
	t.Helper()
	w := &window.Window{ID: dir, Meta: window.Meta{MutexProfileFraction: 1, BlockProfileRate: 1}}
	for _, k := range []window.ProfileKind{window.Mutex, window.Block} {
		data, err := os.ReadFile(filepath.Join(fixtureRoot, dir, string(k)+".pb.gz"))
		if err != nil {
			t.Fatalf("reading fixture: %v", err)
		}
		p, err := window.ParseProfile(data, 0)
		if err != nil {
			t.Fatalf("parsing fixture %s/%s: %v", dir, k, err)
		}
		w.SetProfile(k, p)
	}
	return w
}

func TestFixturesClassifyEveryStack(t *testing.T) {
	for _, fx := range fixtures {
		t.Run(fx.dir, func(t *testing.T) {
			w := loadFixture(t, fx.dir)
			res, err := Collect(w, keepAllStacks)
			if err != nil {
				t.Fatal(err)
			}
			lockKinds := map[Side][]Kind{}
			for _, s := range res.Sites {
				if s.Kind == KindOther {
					t.Errorf("%s site %s (primitive %s) is unclassified: %q", s.Side, s.Function, s.Primitive, s.Stacks[0].Frames)
				}
				if s.Kind == KindRuntime {
					t.Errorf("runtime site %s among the user sites", s.Function)
				}
				for _, st := range s.Stacks {
					if strings.HasPrefix(st.Frames[0], "runtime.unlock") {
						t.Errorf("stack with leaf %s blamed on %s", st.Frames[0], s.Function)
					}
				}
				if classOf(s.Kind) == classLock && !slices.Contains(lockKinds[s.Side], s.Kind) {
					lockKinds[s.Side] = append(lockKinds[s.Side], s.Kind)
				}
				// Only the driver's WaitGroup.Wait in main.main and the GC's
				// channel wait are not lock waits in these programs.
				if classOf(s.Kind) == classBlocking && s.Kind != KindWaitGroup && s.Kind != KindChan {
					t.Errorf("unexpected blocking kind %s at %s", s.Kind, s.Function)
				}
			}
			slices.Sort(lockKinds[Holder])
			slices.Sort(lockKinds[Waiter])
			if !slices.Equal(lockKinds[Holder], fx.holderKinds) {
				t.Errorf("holder kinds %v, want %v", lockKinds[Holder], fx.holderKinds)
			}
			if !slices.Equal(lockKinds[Waiter], fx.waiterKinds) {
				t.Errorf("waiter kinds %v, want %v", lockKinds[Waiter], fx.waiterKinds)
			}

			if len(res.Runtime) == 0 {
				t.Error("no runtime-internal lock sites; every fixture's mutex profile has runtime.unlock stacks")
			}
			for _, s := range res.Runtime {
				for _, st := range s.Stacks {
					if leaf := st.Frames[0]; !strings.HasPrefix(leaf, "runtime.unlock") && leaf != "runtime._LostContendedRuntimeLock" {
						t.Errorf("runtime site %s holds a stack with leaf %s", s.Function, leaf)
					}
				}
			}

			if len(res.Components) == 0 || res.Components[0].Name != fx.component {
				t.Fatalf("top component %v, want %s", componentNames(res.Components), fx.component)
			}
			top := res.Components[0]
			if len(top.Holders) == 0 || len(top.Waiters) == 0 {
				t.Errorf("component %s has %d holder and %d waiter sites, want both sides", top.Name, len(top.Holders), len(top.Waiters))
			}
			if math.Abs(top.Share-1) > 1e-9 {
				t.Errorf("component %s share %v, want all lock delay (the only locking component)", top.Name, top.Share)
			}
			if fx.dir == "go1.26-hashtriemap/rwmutex" && (top.ReadDelaySeconds <= 0 || top.WriteDelaySeconds <= top.ReadDelaySeconds) {
				t.Errorf("rwmutex read/write delay %v/%v, want both, write-heavy", top.ReadDelaySeconds, top.WriteDelaySeconds)
			}
		})
	}
}

// TestFixturesKeepEveryNanosecond checks that each side's sites add up to
// the profile's total delay and contentions, computed straight from the
// samples: no stack is lost or counted twice.
func TestFixturesKeepEveryNanosecond(t *testing.T) {
	for _, fx := range fixtures {
		t.Run(fx.dir, func(t *testing.T) {
			w := loadFixture(t, fx.dir)
			res, err := Collect(w, Options{})
			if err != nil {
				t.Fatal(err)
			}
			for side, kind := range map[Side]window.ProfileKind{Holder: window.Mutex, Waiter: window.Block} {
				p := w.Profile(kind)
				delayIdx, contIdx := stacks.ValueIndex(p, "delay"), stacks.ValueIndex(p, "contentions")
				var wantDelay, wantCont int64
				for _, s := range p.Sample {
					wantDelay += s.Value[delayIdx]
					wantCont += s.Value[contIdx]
				}
				var gotDelay float64
				var gotCont int64
				for _, s := range append(slices.Clone(res.Sites), res.Runtime...) {
					if s.Side == side {
						gotDelay += s.DelaySeconds
						gotCont += s.Contentions
					}
				}
				if math.Round(gotDelay*1e9) != float64(wantDelay) || gotCont != wantCont {
					t.Errorf("%s side: %.0f ns in %d contentions, profile has %d ns in %d", side, gotDelay*1e9, gotCont, wantDelay, wantCont)
				}
			}
		})
	}
}

// TestFlatMatchesPprof compares per-leaf-function delay rebuilt from the
// sites' stacks with the flat column of `go tool pprof -top` on the same
// file: the frame walk (inlined frames included) and the sample-type
// lookup must see what pprof sees.
func TestFlatMatchesPprof(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go not on PATH: cannot run go tool pprof")
	}
	// `go tool -n` prints the pprof binary's path: running it directly
	// spares a go command start-up per file.
	pathOut, err := exec.Command(goBin, "tool", "-n", "pprof").Output()
	if err != nil {
		t.Fatalf("go tool -n pprof: %v", err)
	}
	pprofBin := strings.TrimSpace(string(pathOut))
	for _, fx := range fixtures {
		w := loadFixture(t, fx.dir)
		res, err := Collect(w, keepAllStacks)
		if err != nil {
			t.Fatal(err)
		}
		for side, kind := range map[Side]window.ProfileKind{Holder: window.Mutex, Waiter: window.Block} {
			t.Run(fx.dir+"/"+string(kind), func(t *testing.T) {
				file := filepath.Join(fixtureRoot, fx.dir, string(kind)+".pb.gz")
				out, err := exec.Command(pprofBin, "-top", "-nodecount=1000000",
					"-nodefraction=0", "-edgefraction=0", "-sample_index=delay", "-unit=ns", file).CombinedOutput()
				if err != nil {
					t.Fatalf("%s: %v\n%s", pprofBin, err, out)
				}
				want, wantTotal := parsePprofTop(t, out)

				got := map[string]float64{}
				var gotTotal float64
				for _, s := range append(slices.Clone(res.Sites), res.Runtime...) {
					if s.Side != side {
						continue
					}
					for _, st := range s.Stacks {
						got[st.Frames[0]] += st.DelaySeconds * 1e9
						gotTotal += st.DelaySeconds * 1e9
					}
				}
				if math.Abs(gotTotal-float64(wantTotal)) > 1 {
					t.Errorf("total %.0f ns, pprof says %d ns", gotTotal, wantTotal)
				}
				for name, flat := range want {
					if math.Abs(got[name]-float64(flat)) > 1 {
						t.Errorf("flat %s: %.0f ns, pprof says %d ns", name, got[name], flat)
					}
				}
				for name, flat := range got {
					if _, ok := want[name]; !ok && math.Round(flat) != 0 {
						t.Errorf("flat %s: %.0f ns, pprof has no flat for it", name, flat)
					}
				}
				if len(want) < 2 {
					t.Errorf("pprof printed %d leaf functions; the parse of its output is broken", len(want))
				}
			})
		}
	}
}

var (
	topTotal = regexp.MustCompile(`of (\d+)(?:ns)? total`)
	topRow   = regexp.MustCompile(`^\s*(\d+)(?:ns)?\s+\S+%\s+\S+%\s+\d+(?:ns)?\s+\S+%\s+(.+)$`)
)

// parsePprofTop reads the flat column of `go tool pprof -top -unit=ns`,
// summed per function (pprof lists a function's inlined and out-of-line
// leaves as separate rows, marked " (inline)" or " (partial-inline)").
func parsePprofTop(t *testing.T, out []byte) (flat map[string]int64, total int64) {
	t.Helper()
	flat = map[string]int64{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if m := topTotal.FindStringSubmatch(line); m != nil {
			total, _ = strconv.ParseInt(m[1], 10, 64)
			continue
		}
		m := topRow.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		v, err := strconv.ParseInt(m[1], 10, 64)
		if err != nil {
			t.Fatalf("pprof row %q: %v", line, err)
		}
		if v != 0 {
			name := strings.TrimSuffix(strings.TrimSuffix(m[2], " (inline)"), " (partial-inline)")
			flat[name] += v
		}
	}
	if total == 0 {
		t.Fatalf("no total in pprof output:\n%s", out)
	}
	return flat, total
}

func componentNames(cs []*Component) []string {
	var names []string
	for _, c := range cs {
		names = append(names, c.Name)
	}
	return names
}
