package analyze

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"strings"

	"github.com/contendr/contendr/collectors/figure"
)

// The page is one self-contained file: inline CSS, no script, no CDN, so
// that it can be attached to a ticket and opened offline.
//
//go:embed templates/report.html.tmpl
var reportHTML string

var htmlTemplate = template.Must(template.New("report").Parse(reportHTML))

// htmlView is the report preformatted for the template, which then only
// places strings (html/template escapes every one of them).
type htmlView struct {
	Schema          string
	Target          Target
	Context         string
	WorstSeverity   Severity
	Verdict         string
	Findings        []htmlFinding
	LockHeadline    string
	LockEstimate    string
	LockContext     []string
	Components      []htmlComponent
	GC              []string
	Growth          []htmlGrowth
	Recommendations []htmlRecommendation
	Notes           []string
}

type htmlFinding struct {
	Severity                     Severity
	ShortName, Value, Warn, Crit string
	Message                      string
}

type htmlComponent struct {
	Name, Cost, SyncCPU, IdleLost string
	Fraction, Share, Delay, Kinds string
	HoldsWaits                    string
	Sites                         []htmlSite
}

type htmlSite struct{ Side, Function, Delay, Rate, Via string }

type htmlGrowth struct{ Component, Kind, Rate, Share, Function string }

type htmlRecommendation struct {
	Component, Headline, ExpectedGain, Decide string
	Reasons, Evidence                         []string
}

// WriteHTML writes the report as a single self-contained HTML page.
func (r *Report) WriteHTML(w io.Writer) error {
	if err := htmlTemplate.Execute(w, r.htmlView()); err != nil {
		return fmt.Errorf("writing report as HTML: %w", err)
	}
	return nil
}

func (r *Report) htmlView() htmlView {
	v := htmlView{
		Schema:        r.Schema,
		Target:        r.Target,
		Context:       r.describeTarget(),
		WorstSeverity: r.WorstSeverity,
		Verdict:       r.Verdict,
		Notes:         r.Notes,
	}
	for _, f := range r.Findings {
		v.Findings = append(v.Findings, htmlFinding{
			Severity: f.Severity, ShortName: f.shortName(), Value: f.formatValue(),
			Warn: f.formatLimit(f.Warn), Crit: f.formatLimit(f.Crit), Message: f.Message,
		})
	}
	v.LockHeadline = r.costHeadline()
	v.LockEstimate = r.costEstimate()
	if w := r.waitersLine(); w != "" {
		v.LockContext = append(v.LockContext, w)
	}
	v.LockContext = append(v.LockContext, r.waitShareLine())
	for _, c := range r.Lock.Components {
		hc := htmlComponent{
			Name: c.Name, Cost: r.componentCost(c), SyncCPU: dur(c.SyncCPUSeconds), IdleLost: dur(c.IdleLostSeconds),
			Fraction: r.componentFraction(c), Share: pct(c.Share),
			Delay: delayText(c.DelaySecondsPerSecond, c.DelaySeconds), Kinds: strings.Join(c.Kinds, ", "),
			HoldsWaits: holdsWaits(c.Holder, c.Waiter),
		}
		for _, side := range []string{"holder", "waiter"} {
			for _, s := range firstN(r.sitesOf(c.Name, side), 3) {
				hc.Sites = append(hc.Sites, htmlSite{
					Side: side, Function: s.Function, Delay: delayText(s.DelaySecondsPerSecond, s.DelaySeconds),
					Rate: contentionsText(s.ContentionsPerSecond, s.Contentions), Via: orDefault(s.Primitive, s.Kind),
				})
			}
		}
		v.Components = append(v.Components, hc)
	}
	if g := r.GC; g.Known {
		if r.Measured.Has(figure.GCCPUFraction) {
			v.GC = append(v.GC, fmt.Sprintf("GC CPU %s of all CPU%s", pct(g.CPUFraction), r.assistText(" (mark assists %s of it)")))
		}
		if r.Measured.Has(figure.GCPauseP99) {
			v.GC = append(v.GC, fmt.Sprintf("pauses p50 %s, p99 %s, max %s over %d cycles", dur(g.PauseP50Seconds), dur(g.PauseP99Seconds), dur(g.PauseMaxSeconds), g.Cycles))
		}
		if r.Measured.Has(figure.AllocRate) {
			v.GC = append(v.GC, fmt.Sprintf("allocating %s/s; heap live %s of goal %s; %s", bytesHuman(g.AllocBytesPerSecond), bytesHuman(g.HeapLiveBytes), bytesHuman(g.HeapGoalBytes), gcSettings(g)))
		}
		v.GC = append(v.GC, "source: "+g.Source)
	}
	for _, g := range r.MapGrowth {
		v.Growth = append(v.Growth, htmlGrowth{Component: g.Component, Kind: g.Kind,
			Rate: bytesText(g.BytesPerSecond, g.Bytes), Share: pct(g.ShareOfAlloc), Function: g.Function})
	}
	for _, rec := range r.Recommendations {
		v.Recommendations = append(v.Recommendations, htmlRecommendation{
			Component: rec.Component, Headline: rec.headline(), ExpectedGain: rec.gainText(),
			Decide: rec.Decide, Reasons: rec.Reasons, Evidence: rec.Evidence,
		})
	}
	return v
}
