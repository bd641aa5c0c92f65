// Package rules_test checks the shipped Prometheus rules: promtool's syntax
// check and unit tests, and a real Prometheus scraping two processes with
// the contendr agent embedded, one contended and one not.
package rules_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

const rulesFile = "contendr-rules.yml"

// tool finds a binary the test needs: missing, the test is skipped, except
// in CI where it must be there.
func tool(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s not found in PATH (install Prometheus: apt-get install prometheus)", name)
		}
		t.Skipf("%s not found in PATH; install Prometheus (apt-get install prometheus) to run this test", name)
	}
	return path
}

func runTool(t *testing.T, stdin io.Reader, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(tool(t, name), args...)
	cmd.Stdin = stdin
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func TestRulesPassPromtoolCheck(t *testing.T) {
	out := runTool(t, nil, "promtool", "check", "rules", rulesFile)
	t.Log(strings.TrimSpace(out))
}

func TestRulesPassPromtoolUnitTests(t *testing.T) {
	tests, err := filepath.Glob(filepath.Join("tests", "*.yml"))
	if err != nil || len(tests) == 0 {
		t.Fatalf("no promtool tests in tests/ (%v)", err)
	}
	out := runTool(t, nil, "promtool", append([]string{"test", "rules"}, tests...)...)
	t.Log(strings.TrimSpace(out))
}

// TestAlertsFireInRealPrometheus runs the shipped alert expressions, with
// their for: durations cut to seconds, in a real Prometheus scraping a
// contended canary and an uncontended baseline of the same service.
func TestAlertsFireInRealPrometheus(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Prometheus and two processes; skipped with -short")
	}
	prometheusBin := tool(t, "prometheus")
	tool(t, "promtool")
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)

	target := buildLoadTarget(t, dir)
	canary := startLoadTarget(ctx, t, target, "-contend", "-service", "demo", "-role", "canary")
	baseline := startLoadTarget(ctx, t, target, "-service", "demo", "-role", "baseline")

	// The agent's exposition must be clean for Prometheus' own linter.
	for _, url := range []string{canary, baseline} {
		body := metricsAfterFirstWindow(t, url)
		for _, series := range []string{"contendr_contention_cost_ratio", "contendr_contention_cost_estimated",
			"go_sync_mutex_wait_total_seconds_total", "go_cpu_classes_user_cpu_seconds_total",
			"go_cpu_classes_gc_total_cpu_seconds_total", "go_cpu_classes_total_cpu_seconds_total", "contendr_gc_cpu_fraction"} {
			if !strings.Contains(body, "\n"+series) {
				t.Errorf("%s/metrics lacks %s, which the rules read", url, series)
			}
		}
		runTool(t, strings.NewReader(body), "promtool", "check", "metrics")
	}
	if t.Failed() {
		t.FailNow()
	}

	rules := fastRules(t, dir)
	promURL := startPrometheus(ctx, t, prometheusBin, dir, rules, canary, baseline)

	// Wait (polling, bounded) until the canary's alerts fire.
	want := []string{"ContendrContentionCostHigh", "ContendrCanaryContentionRegression"}
	var alerts []promAlert
	deadline := time.Now().Add(90 * time.Second)
	for {
		alerts = activeAlerts(t, promURL)
		if allFiring(alerts, want) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("alerts %v did not fire within 90s; active: %+v", want, alerts)
		}
		time.Sleep(500 * time.Millisecond)
	}
	for _, a := range alerts {
		t.Logf("%s %v: %s (value %s)", a.State, a.Labels, a.Annotations["summary"], a.Value)
		// The claim under test is about lock contention; the baseline's
		// GC figures are whatever its start-up made them.
		if a.Labels["role"] == "baseline" && strings.Contains(a.Labels["alertname"], "Contention") {
			t.Errorf("alert %s fired for the uncontended baseline: %+v", a.Labels["alertname"], a)
		}
	}
	for _, expr := range []string{"service_role:contendr_contention_cost:ratio_avg5m",
		"service:contendr_contention_cost:canary_baseline_ratio",
		"topk(3, service_role_component:contendr_component_contention_cost:ratio_avg5m)",
		"service_role:contendr_contention_cost_estimated:max5m",
		"service_role:contendr_lock_fraction:ratio_rate5m",
		"service:contendr_lock_fraction:canary_baseline_ratio", "service_role:contendr_gc_cpu_fraction:ratio_rate5m"} {
		t.Logf("%s = %s", expr, query(t, promURL, expr))
	}

	checkDocQueries(t, promURL)

	// Every query of the Grafana dashboard runs, and the main panels have
	// data.
	for _, panel := range dashboardQueries(t) {
		expr := strings.NewReplacer(`$service`, ".*", "$__rate_interval", "1m").Replace(panel.expr)
		result := query(t, promURL, expr)
		if result == "" && panel.mustHaveData {
			t.Errorf("dashboard panel %q: %s returned nothing", panel.title, expr)
		}
	}
}

// checkDocQueries runs the PromQL of docs/canary.md with its template
// variables filled in for the test's service: every query must run, and the
// Argo Rollouts checks must fail this canary.
func checkDocQueries(t *testing.T, promURL string) {
	t.Helper()
	fill := strings.NewReplacer(`{{args.service}}`, "demo", `"checkout"`, `"demo"`,
		`{{ namespace }}`, "default", `{{ target }}`, "demo")
	for _, q := range docQueries(t) {
		expr := fill.Replace(q.expr)
		values := queryValues(t, promURL, expr)
		t.Logf("docs/canary.md %s: %v", q.name, values)
		if bound, ok := lockChecks[q.name]; ok && (len(values) != 1 || !(values[0] > bound)) {
			t.Errorf("docs/canary.md %s: got %v, want one value above %v for the contended canary\n%s", q.name, values, bound, expr)
		}
	}
}

// lockChecks are the documented lock checks, by metric or template name,
// and the bound above which each fails a canary (successCondition,
// thresholdRange): the contended canary must fail every one.
var lockChecks = map[string]float64{
	"contention-cost-vs-baseline": 1.5,
	"contention-cost":             0.10,
	"contendr-lock-ratio":         1.5,
}

type docQuery struct{ name, expr string }

// docQueries collects the queries of docs/canary.md: each expression of the
// ```promql blocks, and every "query" field of its YAML blocks.
func docQueries(t *testing.T) []docQuery {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "docs", "canary.md"))
	if err != nil {
		t.Fatal(err)
	}
	var out []docQuery
	blocks := strings.Split(string(data), "```")
	for i := 1; i < len(blocks); i += 2 {
		lang, body, _ := strings.Cut(blocks[i], "\n")
		switch lang {
		case "promql":
			for j, chunk := range strings.Split(body, "\n\n") {
				var lines []string
				for _, line := range strings.Split(chunk, "\n") {
					if !strings.HasPrefix(strings.TrimSpace(line), "#") {
						lines = append(lines, line)
					}
				}
				if expr := strings.TrimSpace(strings.Join(lines, "\n")); expr != "" {
					out = append(out, docQuery{name: fmt.Sprintf("promql block %d, expression %d", i/2, j+1), expr: expr})
				}
			}
		case "yaml":
			dec := yaml.NewDecoder(strings.NewReader(body))
			for {
				var doc any
				if err := dec.Decode(&doc); err == io.EOF {
					break
				} else if err != nil {
					t.Fatalf("docs/canary.md yaml block %d: %v", i/2, err)
				}
				out = append(out, yamlQueries(doc, "")...)
			}
		}
	}
	if len(out) < 5 {
		t.Fatalf("found only %d queries in docs/canary.md", len(out))
	}
	return out
}

// yamlQueries walks a YAML document for "query" fields, named after the
// enclosing metric or template.
func yamlQueries(node any, name string) []docQuery {
	var out []docQuery
	switch n := node.(type) {
	case map[string]any:
		if metricName, ok := n["name"].(string); ok {
			name = metricName
		}
		if meta, ok := n["metadata"].(map[string]any); ok {
			if templateName, ok := meta["name"].(string); ok {
				name = templateName
			}
		}
		for k, v := range n {
			if q, ok := v.(string); ok && k == "query" {
				out = append(out, docQuery{name: name, expr: q})
				continue
			}
			out = append(out, yamlQueries(v, name)...)
		}
	case []any:
		for _, v := range n {
			out = append(out, yamlQueries(v, name)...)
		}
	}
	return out
}

type dashboardQuery struct {
	title, expr  string
	mustHaveData bool
}

// dashboardQueries reads every PromQL expression of the Grafana dashboard.
func dashboardQueries(t *testing.T) []dashboardQuery {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "grafana", "contendr.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(data, &dash); err != nil {
		t.Fatalf("grafana/contendr.json: %v", err)
	}
	// Panels whose series exist once alerts fire on a contended canary;
	// the rest may be empty in a short test (no GC pauses, no errors).
	withData := map[string]bool{
		"Contention cost by service and role": true, "Canary ÷ baseline": true, "Contention cost by instance": true,
		"Costliest components (last 5m)": true, "Cost estimated": true, "Goroutines blocked on locks (latest window)": true,
		"Lock wait share by service and role": true, "Lock wait share by instance": true,
		"Top lock sites (last 5m)": true, "GC CPU fraction by service and role": true, "Firing alerts": true,
	}
	var out []dashboardQuery
	for _, p := range dash.Panels {
		for _, target := range p.Targets {
			out = append(out, dashboardQuery{p.Title, target.Expr, withData[p.Title]})
		}
	}
	if len(out) == 0 {
		t.Fatal("no queries in grafana/contendr.json")
	}
	return out
}

// TestDashboardLeadsWithTheCost: the dashboard's first panel is the
// contention cost, and the lock wait share comes after every cost panel.
func TestDashboardLeadsWithTheCost(t *testing.T) {
	var firstCost, firstShare, lastCost = -1, -1, -1
	for i, p := range dashboardQueries(t) {
		switch {
		case strings.Contains(p.expr, "contention_cost"):
			if firstCost < 0 {
				firstCost = i
			}
			lastCost = i
		case strings.Contains(p.expr, "lock_fraction") && firstShare < 0:
			firstShare = i
		}
	}
	if firstCost != 0 || firstShare < lastCost {
		t.Errorf("dashboard queries: the first on the cost is #%d, the last #%d, the first on the lock wait share #%d; want the cost first and the share after it",
			firstCost, lastCost, firstShare)
	}
}

type promAlert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	State       string            `json:"state"`
	Value       string            `json:"value"`
}

func allFiring(alerts []promAlert, names []string) bool {
	for _, name := range names {
		found := false
		for _, a := range alerts {
			if a.Labels["alertname"] == name && a.State == "firing" && a.Labels["service"] == "demo" &&
				a.Labels["role"] != "baseline" {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// buildLoadTarget compiles testdata/loadtarget, a process with the agent
// embedded.
func buildLoadTarget(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "loadtarget")
	cmd := exec.Command(tool(t, "go"), "build", "-o", bin, "./testdata/loadtarget")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the load target: %v\n%s", err, out)
	}
	return bin
}

// startLoadTarget starts the target and returns its agent's URL, which it
// prints first.
func startLoadTarget(ctx context.Context, t *testing.T, bin string, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(ctx, bin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting load target: %v", err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("load target %v printed no address: %v\n%s", args, err, stderr.String())
	}
	return strings.TrimSpace(line)
}

// fastRules writes the shipped rules with every for: duration cut to 3s.
func fastRules(t *testing.T, dir string) string {
	t.Helper()
	data, err := os.ReadFile(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	replaced := 0
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "for: ") {
			line = line[:strings.Index(line, "for: ")] + "for: 3s"
			replaced++
		}
		lines = append(lines, line)
	}
	if replaced == 0 {
		t.Fatal("no for: durations found in the rules")
	}
	path := filepath.Join(dir, "rules.yml")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func startPrometheus(ctx context.Context, t *testing.T, bin, dir, rules, canary, baseline string) string {
	t.Helper()
	hostOf := func(u string) string { return strings.TrimPrefix(u, "http://") }
	config := fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [%q]
scrape_configs:
  - job_name: contendr
    honor_labels: true
    static_configs:
      - targets: [%q]
        labels: {service: demo, role: canary, namespace: default, pod: demo-7d9f8c-x2k4p}
      - targets: [%q]
        labels: {service: demo, role: baseline, namespace: default, pod: demo-primary-5c6d7b-q8z1m}
`, rules, hostOf(canary), hostOf(baseline))
	configPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(configPath, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	cmd := exec.CommandContext(ctx, bin, "--config.file="+configPath, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--log.level=warn")
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting prometheus: %v", err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		if t.Failed() {
			t.Logf("prometheus log:\n%s", logs.String())
		}
	})
	url := "http://" + addr
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		resp, err := http.Get(url + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return url
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("prometheus not ready after 30s: %v\n%s", err, logs.String())
		}
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// metricsAfterFirstWindow waits for the agent's first window (its lock
// figures appear with it) and returns its /metrics.
func metricsAfterFirstWindow(t *testing.T, agentURL string) string {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		body := get(t, agentURL+"/metrics")
		if strings.Contains(body, "\ncontendr_lock_wait_fraction") {
			return body
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s/metrics has no contendr_lock_wait_fraction 30s after start:\n%s", agentURL, body)
		}
	}
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %v %s\n%s", url, err, resp.Status, body)
	}
	return string(body)
}

func activeAlerts(t *testing.T, promURL string) []promAlert {
	t.Helper()
	var resp struct {
		Status string `json:"status"`
		Data   struct {
			Alerts []promAlert `json:"alerts"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(get(t, promURL+"/api/v1/alerts")), &resp); err != nil || resp.Status != "success" {
		t.Fatalf("reading /api/v1/alerts: %v (status %q)", err, resp.Status)
	}
	return resp.Data.Alerts
}

// queryValues returns an instant query's values.
func queryValues(t *testing.T, promURL, expr string) []float64 {
	t.Helper()
	var resp struct {
		Status string `json:"status"`
		Data   struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	body := get(t, promURL+"/api/v1/query?query="+url.QueryEscape(expr))
	if err := json.Unmarshal([]byte(body), &resp); err != nil || resp.Status != "success" {
		t.Fatalf("query %s: %v\n%s", expr, err, body)
	}
	var values []float64
	for _, r := range resp.Data.Result {
		var v float64
		fmt.Sscan(fmt.Sprint(r.Value[1]), &v)
		values = append(values, v)
	}
	return values
}

// query returns an instant query's result as "labels=value" pairs.
func query(t *testing.T, promURL, expr string) string {
	t.Helper()
	var resp struct {
		Status string `json:"status"`
		Data   struct {
			Result []struct {
				Metric map[string]string `json:"metric"`
				Value  [2]any            `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	body := get(t, promURL+"/api/v1/query?query="+url.QueryEscape(expr))
	if err := json.Unmarshal([]byte(body), &resp); err != nil || resp.Status != "success" {
		t.Fatalf("query %s: %v\n%s", expr, err, body)
	}
	var parts []string
	for _, r := range resp.Data.Result {
		delete(r.Metric, "__name__")
		parts = append(parts, fmt.Sprintf("%v=%v", r.Metric, r.Value[1]))
	}
	return strings.Join(parts, " ")
}
