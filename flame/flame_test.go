package flame

import (
	"bufio"
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/pprof/profile"

	"github.com/contendr/contendr/window"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

const fixtures = "../testdata/profiles"

// cases are the committed real profiles the writers are checked against.
var cases = []struct {
	name       string
	file       string
	sampleType string
}{
	{"syncmap-mutex-delay", "go1.26-hashtriemap/syncmap/mutex.pb.gz", ""},
	{"legacy-block-contentions", "go1.25-legacy-syncmap/block.pb.gz", "contentions"},
	{"rwmutex-allocs-space", "go1.26-hashtriemap/rwmutex/allocs.pb.gz", "alloc_space"},
}

func loadFixture(t testing.TB, rel string) *profile.Profile {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(fixtures, rel))
	if err != nil {
		t.Fatal(err)
	}
	p, err := window.ParseProfile(data, 0)
	if err != nil {
		t.Fatalf("parsing %s: %v", rel, err)
	}
	return p
}

func buildFixture(t testing.TB, rel, sampleType string) *Graph {
	t.Helper()
	g, err := Build(loadFixture(t, rel), sampleType)
	if err != nil {
		t.Fatalf("building %s: %v", rel, err)
	}
	return g
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (%d vs %d bytes); rerun with -update if the change is intended", name, len(got), len(want))
	}
}

func render(t testing.TB, write func(io.Writer) error) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestGolden(t *testing.T) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := buildFixture(t, tc.file, tc.sampleType)
			golden(t, tc.name+".folded", render(t, func(w io.Writer) error { return WriteFolded(w, g) }))
			golden(t, tc.name+".svg", render(t, func(w io.Writer) error { return WriteSVG(w, g, Options{}) }))
			golden(t, tc.name+".speedscope.json", render(t, func(w io.Writer) error { return WriteSpeedscope(w, g, tc.name) }))
		})
	}
	t.Run("diff-legacy-vs-hashtriemap", func(t *testing.T) {
		base := buildFixture(t, "go1.25-legacy-syncmap/mutex.pb.gz", "")
		target := buildFixture(t, "go1.26-hashtriemap/syncmap/mutex.pb.gz", "")
		d, err := Diff(base, target)
		if err != nil {
			t.Fatal(err)
		}
		golden(t, "diff.folded", render(t, func(w io.Writer) error { return WriteFolded(w, d) }))
		golden(t, "diff.svg", render(t, func(w io.Writer) error { return WriteSVG(w, d, Options{}) }))
	})
}

// profileTotal sums one sample type over the whole profile.
func profileTotal(p *profile.Profile, sampleType string) int64 {
	idx, _ := SampleTypeIndex(p, sampleType)
	var total int64
	for _, s := range p.Sample {
		total += s.Value[idx]
	}
	return total
}

// foldedTotals parses folded output and sums its value columns.
func foldedTotals(t *testing.T, folded []byte) (sums []int64, lines int) {
	t.Helper()
	sc := bufio.NewScanner(bytes.NewReader(folded))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), " ")
		// Frame names may hold spaces; the values are the trailing fields.
		var vals []int64
		for i := len(fields) - 1; i >= 0; i-- {
			v, err := strconv.ParseInt(fields[i], 10, 64)
			if err != nil {
				break
			}
			vals = append([]int64{v}, vals...)
		}
		if len(sums) == 0 {
			sums = make([]int64, len(vals))
		}
		for i, v := range vals[len(vals)-len(sums):] {
			sums[i] += v
		}
		lines++
	}
	return sums, lines
}

func TestFoldedTotalEqualsProfileTotal(t *testing.T) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := loadFixture(t, tc.file)
			g, err := Build(p, tc.sampleType)
			if err != nil {
				t.Fatal(err)
			}
			folded := render(t, func(w io.Writer) error { return WriteFolded(w, g) })
			sums, lines := foldedTotals(t, folded)
			want := profileTotal(p, tc.sampleType)
			if lines == 0 || sums[0] != want || g.Total != want {
				t.Errorf("folded sums to %v over %d lines, graph total %d; profile total %d", sums, lines, g.Total, want)
			}
			if !sortedLines(folded) {
				t.Error("folded lines are not sorted")
			}
		})
	}
}

func sortedLines(b []byte) bool {
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	for i := 1; i < len(lines); i++ {
		if lines[i-1] > lines[i] {
			return false
		}
	}
	return true
}

func TestDiffFoldedColumnsMatchBothProfiles(t *testing.T) {
	baseP := loadFixture(t, "go1.25-legacy-syncmap/mutex.pb.gz")
	targetP := loadFixture(t, "go1.26-hashtriemap/syncmap/mutex.pb.gz")
	base, _ := Build(baseP, "")
	target, _ := Build(targetP, "")
	d, err := Diff(base, target)
	if err != nil {
		t.Fatal(err)
	}
	sums, _ := foldedTotals(t, render(t, func(w io.Writer) error { return WriteFolded(w, d) }))
	if len(sums) != 2 || sums[0] != profileTotal(baseP, "delay") || sums[1] != profileTotal(targetP, "delay") {
		t.Errorf("diff folded columns sum to %v; want base %d, target %d", sums, profileTotal(baseP, "delay"), profileTotal(targetP, "delay"))
	}
	// The legacy sync.Map waits in sync.(*Mutex); Go 1.26's does not.
	vanishedStacks := vanished(d.Root)
	found := false
	for _, v := range vanishedStacks {
		if strings.Contains(v.Stack, "sync.(*Mutex).Unlock") {
			found = true
		}
	}
	if !found {
		t.Errorf("no vanished sync.(*Mutex).Unlock stack among %d vanished stacks", len(vanishedStacks))
	}
	html := string(render(t, func(w io.Writer) error { return WriteHTML(w, d, Options{}) }))
	if !strings.Contains(html, `"vanished":[`) {
		t.Error("diff HTML carries no vanished-stack list")
	}
}

func TestSVGIsWellFormedXML(t *testing.T) {
	base := buildFixture(t, "go1.25-legacy-syncmap/mutex.pb.gz", "")
	target := buildFixture(t, "go1.26-hashtriemap/syncmap/mutex.pb.gz", "")
	d, err := Diff(base, target)
	if err != nil {
		t.Fatal(err)
	}
	graphs := map[string]*Graph{"target": target, "diff": d, "hostile": Must(Build(hostileProfile(), ""))}
	for name, g := range graphs {
		for _, icicle := range []bool{false, true} {
			svg := render(t, func(w io.Writer) error { return WriteSVG(w, g, Options{Icicle: icicle}) })
			frames := checkXML(t, svg)
			if frames == 0 {
				t.Errorf("%s: SVG has no frames", name)
			}
		}
	}
}

// checkXML decodes the whole document and counts frame groups.
func checkXML(t *testing.T, doc []byte) (frames int) {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(doc))
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return frames
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed XML: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "g" {
			for _, a := range se.Attr {
				if a.Name.Local == "class" && a.Value == "f" {
					frames++
				}
			}
		}
	}
}

// Must is a test helper for Build results.
func Must(g *Graph, err error) *Graph {
	if err != nil {
		panic(err)
	}
	return g
}

// hostileProfile has function names with every character that could break
// a format: folded separators, XML and HTML markup, a script end tag.
func hostileProfile() *profile.Profile {
	names := []string{"main.main", "main.a;b\nc", `main.<script>alert("x")</script>`, "main.x]]>y&z", "main.\x00ctl"}
	p := &profile.Profile{
		SampleType: []*profile.ValueType{{Type: "samples", Unit: "count"}, {Type: "cpu", Unit: "nanoseconds"}},
	}
	var locs []*profile.Location
	for i, n := range names {
		fn := &profile.Function{ID: uint64(i + 1), Name: n, Filename: "x.go"}
		p.Function = append(p.Function, fn)
		loc := &profile.Location{ID: uint64(i + 1), Line: []profile.Line{{Function: fn, Line: 1}}}
		p.Location = append(p.Location, loc)
		locs = append(locs, loc)
	}
	for i := 1; i < len(locs); i++ {
		p.Sample = append(p.Sample, &profile.Sample{Location: []*profile.Location{locs[i], locs[0]}, Value: []int64{1, int64(i) * 1e6}})
	}
	return p
}

func TestHostileNamesStaySafe(t *testing.T) {
	g, err := Build(hostileProfile(), "")
	if err != nil {
		t.Fatal(err)
	}
	folded := string(render(t, func(w io.Writer) error { return WriteFolded(w, g) }))
	if got := strings.Count(folded, "\n"); got != 4 {
		t.Errorf("folded has %d lines, want 4 (one per stack):\n%s", got, folded)
	}
	if strings.Contains(folded, "a;b") {
		t.Errorf("a ';' inside a name survived into folded output:\n%s", folded)
	}
	html := string(render(t, func(w io.Writer) error { return WriteHTML(w, g, Options{}) }))
	if strings.Contains(html, `<script>alert`) {
		t.Error("a frame name injected markup into the HTML page")
	}
	var sp struct {
		Shared struct{ Frames []struct{ Name string } }
	}
	if err := json.Unmarshal(render(t, func(w io.Writer) error { return WriteSpeedscope(w, g, "") }), &sp); err != nil {
		t.Fatalf("speedscope JSON: %v", err)
	}
	if len(sp.Shared.Frames) != 5 {
		t.Errorf("speedscope has %d frames, want 5", len(sp.Shared.Frames))
	}
}

func TestInlinedFramesAreSeparate(t *testing.T) {
	// In this profile sync.(*Map).Store is inlined into main.(*syncMapStore).op
	// and HashTrieMap.Store into sync.(*Map).Store: one location, three frames.
	g := buildFixture(t, "go1.26-hashtriemap/syncmap/mutex.pb.gz", "")
	folded := string(render(t, func(w io.Writer) error { return WriteFolded(w, g) }))
	want := "main.(*syncMapStore).op;sync.(*Map).Store;internal/sync.(*HashTrieMap[go.shape.interface {},go.shape.interface {}]).Store;"
	if !strings.Contains(folded, want) {
		t.Errorf("folded output lacks the inlined chain %q", want)
	}
}

func TestSpeedscopeWeightsAddUp(t *testing.T) {
	p := loadFixture(t, "go1.26-hashtriemap/mutex/mutex.pb.gz")
	g, err := Build(p, "")
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Schema string `json:"$schema"`
		Shared struct {
			Frames []struct{ Name string } `json:"frames"`
		} `json:"shared"`
		Profiles []struct {
			Type     string  `json:"type"`
			Unit     string  `json:"unit"`
			EndValue int64   `json:"endValue"`
			Samples  [][]int `json:"samples"`
			Weights  []int64 `json:"weights"`
		} `json:"profiles"`
	}
	if err := json.Unmarshal(render(t, func(w io.Writer) error { return WriteSpeedscope(w, g, "mutex") }), &file); err != nil {
		t.Fatal(err)
	}
	if file.Schema != speedscopeSchema || len(file.Profiles) != 1 {
		t.Fatalf("schema %q with %d profiles", file.Schema, len(file.Profiles))
	}
	sp := file.Profiles[0]
	var sum int64
	for i, w := range sp.Weights {
		sum += w
		for _, f := range sp.Samples[i] {
			if f < 0 || f >= len(file.Shared.Frames) {
				t.Fatalf("sample %d refers to frame %d of %d", i, f, len(file.Shared.Frames))
			}
		}
	}
	if sp.Type != "sampled" || sp.Unit != "nanoseconds" || len(sp.Samples) != len(sp.Weights) || sum != profileTotal(p, "delay") || sp.EndValue != sum {
		t.Errorf("type %s unit %s, %d samples / %d weights summing to %d (endValue %d); profile total %d",
			sp.Type, sp.Unit, len(sp.Samples), len(sp.Weights), sum, sp.EndValue, profileTotal(p, "delay"))
	}
}

func TestPprofOutputKeepsChosenSampleType(t *testing.T) {
	g := buildFixture(t, "go1.26-hashtriemap/syncmap/block.pb.gz", "contentions")
	p, err := window.ParseProfile(render(t, func(w io.Writer) error { return WritePprof(w, g) }), 0)
	if err != nil {
		t.Fatal(err)
	}
	if p.DefaultSampleType != "contentions" {
		t.Errorf("DefaultSampleType = %q, want contentions", p.DefaultSampleType)
	}
	again, err := Build(p, "")
	if err != nil || again.Total != g.Total {
		t.Errorf("rebuilt total %v (err %v), want %d", again, err, g.Total)
	}
}

func TestBuildErrors(t *testing.T) {
	p := loadFixture(t, "go1.26-hashtriemap/syncmap/mutex.pb.gz")
	_, err := Build(p, "alloc_space")
	if err == nil || !strings.Contains(err.Error(), "contentions, delay") {
		t.Errorf("unknown sample type: got %v, want the available types listed", err)
	}
	empty := p.Copy()
	empty.Sample = nil
	if _, err := Build(empty, ""); !errors.Is(err, ErrEmpty) {
		t.Errorf("empty profile: got %v, want ErrEmpty", err)
	}
	if _, err := Build(nil, ""); err == nil {
		t.Error("nil profile: no error")
	}
	g, err := Build(p, "")
	if err != nil || g.SampleType != "delay" {
		t.Errorf("default sample type of a contention profile: %v, %v; want delay", g, err)
	}
}

func TestPruningKeepsWidthsAndCountsFrames(t *testing.T) {
	g := Must(Build(syntheticProfile(5000), ""))
	root := g.pruned(DefaultMinFraction)
	var check func(n *Node)
	prunedFrames, kept := 0, 0
	check = func(n *Node) {
		kept++
		var sum int64
		for _, c := range n.Children {
			sum += c.Value
			check(c)
		}
		if sum > n.Value {
			t.Fatalf("%s: children sum %d above value %d", n.Name, sum, n.Value)
		}
		prunedFrames += n.pruned
		if n.pruned == 0 && n != root && g.share(n) < DefaultMinFraction {
			t.Fatalf("%s kept at share %g", n.Name, g.share(n))
		}
	}
	check(root)
	all := countFrames(g.Root)
	if prunedFrames == 0 || root.Value != g.Total {
		t.Errorf("pruned %d frames, root %d of %d", prunedFrames, root.Value, g.Total)
	}
	// Every frame is either drawn or counted in a [pruned N] frame (which is
	// itself drawn but stands for no frame of the original tree).
	if kept-countPruneNodes(root)+prunedFrames != all {
		t.Errorf("kept %d (%d of them [pruned N]) + pruned %d != %d frames", kept, countPruneNodes(root), prunedFrames, all)
	}
}

func countPruneNodes(n *Node) int {
	c := 0
	if n.pruned > 0 {
		c = 1
	}
	for _, k := range n.Children {
		c += countPruneNodes(k)
	}
	return c
}

func TestFormatValue(t *testing.T) {
	for _, tc := range []struct {
		v    int64
		unit string
		want string
	}{
		{999, "nanoseconds", "999 ns"},
		{1500, "nanoseconds", "1.50 µs"},
		{31914770032, "nanoseconds", "31.9 s"},
		{2_500_000, "nanoseconds", "2.50 ms"},
		{512, "bytes", "512 B"},
		{3 << 20, "bytes", "3.00 MiB"},
		{1536, "bytes", "1.50 KiB"},
		{1234567, "count", "1,234,567"},
		{-1234, "", "-1,234"},
	} {
		if got := FormatValue(tc.v, tc.unit); got != tc.want {
			t.Errorf("FormatValue(%d, %q) = %q, want %q", tc.v, tc.unit, got, tc.want)
		}
	}
}

func TestCategorize(t *testing.T) {
	for name, want := range map[string]Category{
		"sync.(*Mutex).Lock":                        CatLock,
		"sync.(*RWMutex).RUnlock":                   CatLock,
		"runtime.unlock":                            CatLock,
		"runtime.selectgo":                          CatLock,
		"sync.(*Map).Store":                         CatMap,
		"runtime.mapassign_fast64":                  CatMap,
		"internal/runtime/maps.(*Map).putSlotSmall": CatMap,
		"internal/sync.(*HashTrieMap[go.shape.interface {},go.shape.interface {}]).Swap": CatMap,
		"internal/sync.newEntryNode[go.shape.interface {},go.shape.interface {}]":        CatMap,
		"runtime.mallocgc":       CatGC,
		"runtime.gcBgMarkWorker": CatGC,
		"runtime.goexit":         CatRuntime,
		"fmt.Sprintf":            CatStd,
		"main.main":              CatApp,
		"github.com/a/b.(*C).D":  CatApp,
		"[pruned 12]":            CatPruned,
	} {
		if got := Categorize(name); got != want {
			t.Errorf("Categorize(%q) = %s, want %s", name, got, want)
		}
	}
	if Color("main.a") != Color("main.b") || Color("main.a") == Color("sync.(*Mutex).Lock") {
		t.Error("colours are not per package and category")
	}
}

func TestFragmentAndAssetsForAWebUI(t *testing.T) {
	g := buildFixture(t, "go1.26-hashtriemap/rwmutex/mutex.pb.gz", "")
	frag := string(render(t, func(w io.Writer) error { return WriteHTMLFragment(w, g, Options{Title: "rwmutex"}) }))
	if strings.Contains(frag, "<html") || !strings.HasPrefix(frag, `<div class="cf-flame">`) {
		t.Errorf("fragment is not a bare div:\n%.200s", frag)
	}
	_, data, _ := strings.Cut(frag, `class="cf-data">`)
	data, _, _ = strings.Cut(data, "</script>")
	var parsed struct {
		Title string          `json:"title"`
		Total int64           `json:"total"`
		Names []string        `json:"names"`
		Tree  json.RawMessage `json:"tree"`
	}
	if err := json.Unmarshal([]byte(data), &parsed); err != nil {
		t.Fatalf("embedded data is not JSON: %v", err)
	}
	if parsed.Title != "rwmutex" || parsed.Total != g.Total || len(parsed.Names) == 0 || len(parsed.Tree) == 0 {
		t.Errorf("embedded data: title %q, total %d (want %d), %d names", parsed.Title, parsed.Total, g.Total, len(parsed.Names))
	}
	for _, name := range []string{"assets/flame.js", "assets/flame.css", "assets/svg.js"} {
		if b, err := Assets.ReadFile(name); err != nil || len(b) == 0 {
			t.Errorf("Assets lacks %s: %v", name, err)
		}
	}
}
