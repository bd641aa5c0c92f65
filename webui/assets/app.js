// contendr dashboard. Reads api/overview and api/target (analyze's report
// contract, contendr.report/v1, plus each target's window series) and
// polls them so that new windows appear without reloading. Every name that
// comes from a profile is untrusted: text goes in with textContent only.
(function () {
  "use strict";

  var app = document.getElementById("app");
  var live = document.getElementById("live");
  var crumb = document.getElementById("crumb");
  var params = new URLSearchParams(location.search);
  var FLAME_KINDS = ["mutex", "block", "cpu", "allocs", "heap", "fgprof", "goroutine"];

  // ---- helpers ----

  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    if (attrs) Object.keys(attrs).forEach(function (k) {
      if (k === "text") e.textContent = attrs[k];
      else if (k === "cls") e.className = attrs[k];
      else if (k.slice(0, 2) === "on") e.addEventListener(k.slice(2), attrs[k]);
      else e.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) {
      if (c === null || c === undefined) return;
      e.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    });
    return e;
  }

  function svgEl(tag, attrs, text) {
    var e = document.createElementNS("http://www.w3.org/2000/svg", tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function pct(f) {
    if (f === null || f === undefined) return "—";
    var p = 100 * f;
    return (Math.abs(p) < 10 ? p.toFixed(2) : p.toFixed(1)) + "%";
  }

  function secs(s) {
    var a = Math.abs(s);
    if (a === 0) return "0";
    if (a >= 1) return s.toFixed(2) + " s";
    if (a >= 1e-3) return (s * 1e3).toFixed(2) + " ms";
    return (s * 1e6).toFixed(1) + " µs";
  }

  function bytes(b) {
    var a = Math.abs(b);
    if (a >= 1073741824) return (b / 1073741824).toFixed(2) + " GiB";
    if (a >= 1048576) return (b / 1048576).toFixed(2) + " MiB";
    if (a >= 1024) return (b / 1024).toFixed(1) + " KiB";
    return Math.round(b) + " B";
  }

  function num(n) {
    if (n >= 100) return Math.round(n).toLocaleString("en-US");
    return n.toFixed(n >= 10 ? 1 : 2);
  }

  function time(t) { return t ? new Date(t).toLocaleTimeString() : ""; }

  function fetchJSON(url) {
    return fetch(url, { credentials: "same-origin", cache: "no-store" }).then(function (r) {
      return r.text().then(function (body) {
        var data;
        try { data = JSON.parse(body); } catch (e) { data = { error: body || r.statusText }; }
        if (!r.ok) throw new Error(data.error || r.statusText);
        return data;
      });
    });
  }

  function setLive(ok, text) {
    live.textContent = text;
    live.className = ok ? "live" : "live down";
  }

  function message(status, text) {
    return el("p", { cls: "msg " + status, "data-status": status, text: text });
  }

  function labelChips(labels) {
    var box = el("span", { cls: "labels" });
    ["service", "version", "role"].concat(Object.keys(labels || {}).sort()).forEach(function (k, i, all) {
      if (!labels || labels[k] === undefined || all.indexOf(k) !== i) return;
      box.appendChild(el("span", { cls: "chip" + (k === "role" ? " role-" + labels[k] : ""), text: k + "=" + labels[k] }));
    });
    return box;
  }

  function sevBadge(s) { return el("span", { cls: "sev " + s, text: s }); }

  function findingsList(findings) {
    var ul = el("ul", { cls: "findings" });
    var order = { crit: 0, warn: 1, ok: 2 };
    (findings || []).slice().sort(function (a, b) { return order[a.severity] - order[b.severity]; }).forEach(function (f) {
      ul.appendChild(el("li", { cls: f.severity }, [sevBadge(f.severity), f.message]));
    });
    if (!ul.firstChild) ul.appendChild(el("li", { cls: "muted", text: "No findings in this window." }));
    return ul;
  }

  // chart draws one series as an SVG line with the warn and crit limits;
  // windows without a value leave a gap. onPick, when given, is called with
  // a point's window id on click. second, when given ({key, label}), is a
  // dashed context line without limits or dots.
  function chart(title, series, key, level, selected, onPick, second) {
    var W = 520, H = 150, L = 44, R = 70, T = 22, B = 22;
    var svg = svgEl("svg", { "class": "chart", width: W, height: H, viewBox: "0 0 " + W + " " + H, role: "img", "aria-label": title });
    svg.appendChild(svgEl("text", { x: 8, y: 15, "class": "title" }, title));
    var values = series.map(function (p) { return p[key]; });
    var known = values.filter(function (v) { return v !== null && v !== undefined; });
    if (!known.length) {
      svg.appendChild(svgEl("text", { x: W / 2, y: H / 2, "text-anchor": "middle" },
        series.length ? "not measured in these windows" : "no windows yet"));
      return svg;
    }
    var others = second ? series.map(function (p) { return p[second.key]; }).filter(function (v) { return v !== null && v !== undefined; }) : [];
    var top = Math.max.apply(null, known.concat(others, [level ? level.warn * 1.25 : 0.01]));
    if (level && top < level.crit * 1.1 && Math.max.apply(null, known) > level.warn) top = level.crit * 1.1;
    var x = function (i) { return L + (series.length === 1 ? (W - L - R) / 2 : i * (W - L - R) / (series.length - 1)); };
    var y = function (v) { return T + (H - T - B) * (1 - v / top); };
    svg.appendChild(svgEl("line", { x1: L, x2: W - R, y1: y(0), y2: y(0), "class": "axis" }));
    svg.appendChild(svgEl("text", { x: L - 4, y: y(0) + 4, "text-anchor": "end" }, "0%"));
    svg.appendChild(svgEl("text", { x: L - 4, y: y(top) + 4, "text-anchor": "end" }, pct(top)));
    if (level) [["warn", level.warn], ["crit", level.crit]].forEach(function (l) {
      if (l[1] > top) return;
      svg.appendChild(svgEl("line", { x1: L, x2: W - R, y1: y(l[1]), y2: y(l[1]), "class": "limit-" + l[0] }));
      svg.appendChild(svgEl("text", { x: W - R + 4, y: y(l[1]) + 4 }, l[0] + " " + pct(l[1])));
    });
    var d = "", pen = false;
    values.forEach(function (v, i) {
      if (v === null || v === undefined) { pen = false; return; }
      d += (pen ? "L" : "M") + x(i).toFixed(1) + "," + y(v).toFixed(1);
      pen = true;
    });
    svg.appendChild(svgEl("path", { d: d, "class": "series" }));
    if (others.length) {
      var d2 = "", pen2 = false;
      series.forEach(function (p, i) {
        var v = p[second.key];
        if (v === null || v === undefined) { pen2 = false; return; }
        d2 += (pen2 ? "L" : "M") + x(i).toFixed(1) + "," + y(v).toFixed(1);
        pen2 = true;
      });
      svg.appendChild(svgEl("path", { d: d2, "class": "series secondary" }, second.label));
      svg.appendChild(svgEl("text", { x: W - R - 4, y: 15, "text-anchor": "end", "class": "legend secondary" }, "- - " + second.label));
    }
    values.forEach(function (v, i) {
      if (v === null || v === undefined) return;
      var sev = level ? (v >= level.crit ? " crit" : v >= level.warn ? " warn" : "") : "";
      var p = series[i];
      var dot = svgEl("circle", { cx: x(i), cy: y(v), r: 4, "class": "dot" + sev + (p.id === selected ? " sel" : "") });
      var qual = "";
      if (key === "contention_cost" && p.cost_lower_bound) qual = " (a lower bound: " + p.cost_reason + ")";
      else if (key === "contention_cost" && p.cost_estimated) qual = " (estimated: " + p.cost_reason + ")";
      if (second && p[second.key] !== null && p[second.key] !== undefined) qual += "; " + second.label + " " + pct(p[second.key]);
      dot.appendChild(svgEl("title", {}, "window " + p.id + " ending " + time(p.end) + ": " + pct(v) + qual));
      if (onPick) { dot.style.cursor = "pointer"; dot.addEventListener("click", function () { onPick(p.id); }); }
      svg.appendChild(dot);
    });
    var last = known[known.length - 1];
    svg.appendChild(svgEl("text", { x: W - R + 4, y: y(last) - 6, "class": "value" }, pct(last)));
    svg.appendChild(svgEl("text", { x: L, y: H - 6 }, time(series[0].end)));
    svg.appendChild(svgEl("text", { x: W - R, y: H - 6, "text-anchor": "end" }, time(series[series.length - 1].end)));
    return svg;
  }

  function charts(t, thresholds, selected, onPick) {
    return el("div", { cls: "charts" }, [
      chart("Contention cost (share of CPU capacity lost to locks)", t.series, "contention_cost", thresholds.contention_cost, selected, onPick,
        { key: "lock_fraction", label: "lock wait share" }),
      chart("GC CPU fraction", t.series, "gc_cpu_fraction", thresholds.gc_cpu_fraction, selected, onPick)
    ]);
  }

  function statusMessage(t) {
    if (t.status === "ok") return null;
    var prefix = { empty: "Waiting for data. ", unreachable: "Target unreachable. ", stale: "Stale. ",
      disabled: "Profiling disabled. " }[t.status] || "";
    return message(t.status, prefix + t.message);
  }

  // ---- overview ----

  function renderOverview(data) {
    crumb.textContent = "";
    var cards = el("div", { cls: "cards" });
    data.targets.forEach(function (t) {
      var head = el("h2", {}, [el("a", { href: "?target=" + t.index, text: t.name }), labelChips(t.labels)]);
      var card = el("section", { cls: "card target", "data-target": t.index }, [head, statusMessage(t)]);
      card.appendChild(charts(t, data.thresholds));
      if (t.latest) {
        card.appendChild(el("p", { cls: "verdict" }, [sevBadge(t.latest.worst), t.latest.verdict]));
        card.appendChild(findingsList(t.latest.findings));
      }
      card.appendChild(el("a", { href: "?target=" + t.index, text: "Lock sites, recommendations and flame graphs →" }));
      cards.appendChild(card);
    });
    if (!data.targets.length) cards.appendChild(message("empty", "No targets: start the dashboard with at least one."));
    app.replaceChildren(el("h1", { text: "Targets" }), cards);
  }

  // ---- one target ----

  var state = { index: params.get("target"), pinned: params.get("window") || "", shownWindow: null, kind: "mutex", detail: null };

  function targetURL() {
    return "api/target?target=" + encodeURIComponent(state.index) + (state.pinned ? "&window=" + encodeURIComponent(state.pinned) : "");
  }

  function pick(id) {
    state.pinned = id;
    refresh(true);
  }

  function renderTarget(d, full) {
    state.detail = d;
    crumb.replaceChildren(document.createTextNode("› " + d.name));
    document.title = d.name + " — contendr";
    if (!full && d.window === state.shownWindow) {
      // Same window: only the series and status moved on.
      var top = document.getElementById("target-top");
      if (top) top.replaceWith(targetTop(d));
      return;
    }
    state.shownWindow = d.window;
    var r = d.report;
    var parts = [targetTop(d)];
    if (!r) {
      var failed = d.series.filter(function (p) { return p.id === d.window && p.analysis_error; })[0];
      if (failed) parts.push(message("error", "This window could not be analyzed: " + failed.analysis_error));
      if (state.pinned && !d.window && d.series.length) parts.push(message("stale", "Window " + state.pinned + " is no longer kept: pick another, or follow the latest."));
      app.replaceChildren.apply(app, parts);
      return;
    }
    parts.push(el("h2", { text: "Verdict — window " + d.window + (r.window.seconds ? " (" + r.window.seconds.toFixed(1) + " s)" : "") }),
      el("p", { cls: "verdict" }, [sevBadge(r.worst), r.verdict]), findingsList(r.findings));
    parts.push.apply(parts, lockSection(r));
    parts.push.apply(parts, growthSection(r));
    parts.push.apply(parts, gcSection(r));
    parts.push.apply(parts, recommendations(r));
    parts.push.apply(parts, flameSection(d));
    parts.push.apply(parts, diffSection(d));
    if (r.notes && r.notes.length) {
      parts.push(el("h2", { text: "Notes" }), el("ul", { cls: "notes" }, r.notes.map(function (n) { return el("li", { text: n }); })));
    }
    app.replaceChildren.apply(app, parts);
    loadFlame();
  }

  function targetTop(d) {
    var select = el("select", { id: "window-select", onchange: function (e) { pick(e.target.value); } });
    select.appendChild(el("option", { value: "", text: "latest (follow new windows)" }));
    d.series.slice().reverse().forEach(function (p) {
      var o = el("option", { value: p.id, text: "window " + p.id + " ending " + time(p.end) });
      if (p.id === state.pinned) o.selected = true;
      select.appendChild(o);
    });
    return el("div", { id: "target-top" }, [
      el("h1", {}, [d.name, labelChips(d.labels)]),
      statusMessage(d),
      charts(d, d.thresholds, d.window, pick),
      el("div", { cls: "toolbar" }, [el("label", { "for": "window-select", text: "Window:" }), select,
        el("span", { cls: "muted", text: d.series.length + " window(s) kept; click a point to pin it" })])
    ]);
  }

  function table(headers, rows) {
    var t = el("table", {}, [el("tr", {}, headers.map(function (h) {
      return el("th", { cls: h.num ? "num" : "", text: h.name });
    }))]);
    rows.forEach(function (row) {
      t.appendChild(el("tr", {}, row.map(function (c, i) {
        return el("td", { cls: headers[i].num ? "num" : headers[i].fn ? "fn" : "", text: c === undefined ? "" : String(c) });
      })));
    });
    return t;
  }

  function lockSection(r) {
    var l = r.lock;
    var out = [el("h2", { text: "Lock contention" })];
    var stats = el("div", { cls: "stats" }, [
      stat("Contention cost", l.cost_known ? (l.cost_lower_bound ? "≥ " : "") + pct(l.cost) + (l.cost_estimated && !l.cost_lower_bound ? " (est.)" : "") : "unknown"),
      stat("CPU in lock primitives", l.cost_detail && l.cost_detail.sync_cpu_known ? secs(l.cost_detail.sync_cpu_seconds) : "unknown"),
      stat("Idle Ps lost to locks", l.cost_detail && l.cost_detail.idle_source ? secs(l.cost_detail.idle_lost_seconds) : "unknown"),
      stat("Lock waiters (avg)", l.waiters_known ? num(l.waiters) : "unknown"),
      stat("Lock wait share (context)", l.known ? pct(l.fraction) + (l.estimated ? " (est.)" : "") : "unknown"),
      stat("Lock wait", secs(l.wait_seconds)),
      stat("User CPU", secs(l.user_cpu_seconds)),
      stat("Mutex profile", l.mutex_profile_enabled ? "on" : "OFF"),
      stat("Block profile", l.block_profile_enabled ? "on" : "OFF")
    ]);
    out.push(stats);
    if (l.cost_reason && (l.cost_estimated || !l.cost_known)) {
      out.push(message("stale", (l.cost_lower_bound ? "The contention cost is a lower bound: " : l.cost_known ? "The contention cost is an estimate: " : "The contention cost is unknown: ") + l.cost_reason));
    }
    if (!l.mutex_profile_enabled && !l.block_profile_enabled) {
      out.push(message("disabled", "Mutex and block profiling are off in the target: no lock site can be named. Enable them (the agent does by default) to see who holds and who waits."));
    }
    if (l.components.length) {
      out.push(el("h3", { text: "Components (both sides joined)" }), table(
        [{ name: "component", fn: 1 }, { name: "kinds" }, { name: "cost", num: 1 }, { name: "CPU in locks", num: 1 }, { name: "idle lost", num: 1 },
          { name: "delay/s", num: 1 }, { name: "lock wait share", num: 1 }, { name: "share", num: 1 },
          { name: "holder (makes others wait)", fn: 1 }, { name: "waiter", fn: 1 }],
        l.components.map(function (c) {
          return [c.name, c.kinds.join(", "), l.cost_known ? pct(c.cost) : "unknown", secs(c.sync_cpu_seconds), secs(c.idle_lost_seconds),
            secs(c.delay_seconds_per_second), pct(c.fraction), pct(c.share), c.holder || "", c.waiter || ""];
        })));
    }
    if (l.sites.length) {
      out.push(el("h3", { text: "Top lock sites" }), table(
        [{ name: "side" }, { name: "site", fn: 1 }, { name: "kind" }, { name: "delay/s", num: 1 }, { name: "contentions/s", num: 1 }, { name: "share", num: 1 }],
        l.sites.map(function (s) {
          return [s.side, s.function, s.kind + (s.primitive ? " (" + s.primitive + ")" : ""), secs(s.delay_seconds_per_second), num(s.contentions_per_second), pct(s.share)];
        })));
    } else if (l.mutex_profile_enabled || l.block_profile_enabled) {
      out.push(message("empty", "No user-code lock site was sampled in this window."));
    }
    if (l.runtime && l.runtime.length) {
      out.push(el("h3", { text: "Runtime-internal locks (not blamed on user code)" }), table(
        [{ name: "site", fn: 1 }, { name: "delay/s", num: 1 }, { name: "share", num: 1 }],
        l.runtime.map(function (s) { return [s.function, secs(s.delay_seconds_per_second), pct(s.share)]; })));
    }
    return out;
  }

  function stat(k, v) { return el("div", { cls: "stat" }, [el("div", { cls: "k", text: k }), el("div", { cls: "v", text: v })]); }

  function growthSection(r) {
    var out = [el("h2", { text: "Dirty-map growth by component" })];
    if (!r.map_growth.length) {
      out.push(message("empty", "No map growth or copy allocation attributed in this window" + (r.window.profiles.indexOf("allocs") < 0 ? " (the window holds no allocs profile)." : ".")));
      return out;
    }
    out.push(table(
      [{ name: "component", fn: 1 }, { name: "function", fn: 1 }, { name: "kind" }, { name: "bytes/s", num: 1 }, { name: "objects/s", num: 1 }, { name: "share of alloc", num: 1 }, { name: "in-use growth", num: 1 }],
      r.map_growth.map(function (g) {
        return [g.component, g.function, g.kind + (g.inferred ? " (inferred)" : ""), bytes(g.bytes_per_second) + "/s", num(g.objects_per_second), pct(g.share_of_alloc),
          g.inuse_growth_bytes ? bytes(g.inuse_growth_bytes) : ""];
      })));
    return out;
  }

  // measured reads the report's typed account of a figure: a value to show
  // only when the window measured or estimated it, never an unmeasured 0.
  function measured(r, figure) {
    var st = (r.measured || {})[figure];
    return st || { state: "missing", reason: "not measured" };
  }

  // figureText formats a figure the window has, marks an estimate, and says
  // "—" with the reason as a tooltip for one it lacks.
  function figureText(r, figure, text) {
    var st = measured(r, figure);
    if (st.state === "missing") return { text: "—", title: st.reason };
    return { text: text + (st.state === "estimated" ? " (est.)" : ""), title: st.reason || "" };
  }

  function gcSection(r) {
    var g = r.gc;
    var out = [el("h2", { text: "GC pressure" })];
    if (!g.known) {
      out.push(message("empty", "No GC figures in this window" + (g.missing && g.missing.length ? ": missing " + g.missing.join(", ") : ".")));
      return out;
    }
    var f = function (label, figure, text) {
      var t = figureText(r, figure, text);
      var s = stat(label, t.text);
      if (t.title) s.title = t.title;
      return s;
    };
    out.push(el("div", { cls: "stats" }, [
      f("GC CPU fraction", "gc_cpu_fraction", pct(g.cpu_fraction)),
      f("Assist share", "gc_assist_share", pct(g.assist_share)),
      f("Pause p50 / p99", "gc_pause_p99", secs(g.pause_p50_seconds) + " / " + secs(g.pause_p99_seconds)),
      f("Pause max", "gc_pause_max", secs(g.pause_max_seconds)),
      f("Cycles/s", "gc_cycles", num(g.cycles_per_second)),
      f("Allocation", "alloc_rate", bytes(g.alloc_bytes_per_second) + "/s"),
      f("Objects/s", "alloc_rate", num(g.alloc_objects_per_second)),
      f("Heap live / goal", "heap_live", bytes(g.heap_live_bytes) + " / " + bytes(g.heap_goal_bytes)),
      f("GOGC", "gogc", String(g.gogc))
    ]), el("p", { cls: "muted", text: "Source: " + (g.source || "unknown") }));
    return out;
  }

  function recommendations(r) {
    var out = [el("h2", { text: "Recommendations" })];
    if (!r.recommendations.length) {
      out.push(message("empty", "No component is contended or growing enough to advise a map strategy."));
      return out;
    }
    r.recommendations.forEach(function (rec) {
      var change = rec.recommended === "keep" ? "keep " + rec.current : rec.current + " → " + rec.recommended;
      var box = el("div", { cls: "rec recommendation" }, [
        el("div", { cls: "head" }, [el("span", { cls: "fn", text: rec.component }), ": ", el("span", { cls: "strategy", text: change }),
          el("span", { cls: "muted", text: "  (confidence " + pct(rec.confidence) + ", rule " + rec.rule + ")" })]),
        rec.expected_gain ? el("div", { text: "Expected gain: " + rec.expected_gain }) : null,
        el("div", { text: "Why:" }), el("ul", {}, rec.reasons.map(function (x) { return el("li", { text: x }); })),
        rec.decide ? el("div", { cls: "muted", text: "To decide: " + rec.decide }) : null
      ]);
      if (rec.evidence && rec.evidence.length) {
        box.appendChild(el("details", {}, [el("summary", { text: "Evidence (" + rec.evidence.length + ")" }),
          el("ul", { cls: "evidence" }, rec.evidence.map(function (x) { return el("li", { text: x }); }))]));
      }
      out.push(box);
    });
    return out;
  }

  // ---- flame graphs ----

  function windowParam() { return "target=" + encodeURIComponent(state.index) + "&window=" + encodeURIComponent(state.detail.window); }

  function flameSection(d) {
    var kinds = FLAME_KINDS.filter(function (k) { return ["mutex", "block", "cpu", "allocs"].indexOf(k) >= 0 || d.pprof[k]; });
    if (!d.pprof[state.kind]) state.kind = kinds.filter(function (k) { return d.pprof[k]; })[0] || "mutex";
    var tabs = el("div", { cls: "tabs", role: "tablist" }, kinds.map(function (k) {
      return el("button", { cls: k === state.kind ? "on" : "", "data-kind": k, text: k + (d.pprof[k] ? "" : " (none)"),
        onclick: function () { state.kind = k; tabs.querySelectorAll("button").forEach(function (b) { b.className = b.dataset.kind === k ? "on" : ""; }); loadFlame(); } });
    }));
    return [el("h2", { text: "Flame graphs" }),
      el("p", { cls: "muted", text: "Mutex: the stacks that held a lock others waited for. Block: the stacks that waited. Hover for values, click to zoom." }),
      tabs, el("div", { cls: "toolbar", id: "flame-links" }), el("div", { cls: "panel", id: "flame-panel" })];
  }

  function loadFlame() {
    var d = state.detail, panel = document.getElementById("flame-panel"), links = document.getElementById("flame-links");
    if (!panel) return;
    links.replaceChildren();
    if (d.pprof[state.kind]) {
      links.appendChild(el("a", { href: d.pprof[state.kind], target: "_blank", cls: "pprof-link", text: "Open this " + state.kind + " profile in pprof's web UI (graph, top, source, peek) ↗" }));
    }
    fragment(panel, "flame?" + windowParam() + "&kind=" + state.kind);
  }

  // fragment fetches a flame graph fragment into box and starts flame's
  // script on it, or says why there is none.
  function fragment(box, url) {
    box.replaceChildren(el("p", { cls: "msg", text: "Loading flame graph…" }));
    fetch(url, { credentials: "same-origin", cache: "no-store" }).then(function (r) {
      return r.text().then(function (body) {
        if (!r.ok) {
          var msg = body;
          try { msg = JSON.parse(body).error; } catch (e) { /* plain text */ }
          box.replaceChildren(message("empty", msg));
          return;
        }
        box.innerHTML = body;
        var div = box.querySelector(".cf-flame");
        if (div && window.ContendrFlame) window.ContendrFlame.init(div);
      });
    }).catch(function (e) { box.replaceChildren(message("error", "Could not load the flame graph: " + e.message)); });
  }

  function diffSection(d) {
    var kind = el("select", { id: "diff-kind" }, FLAME_KINDS.filter(function (k) { return d.pprof[k]; }).map(function (k) { return el("option", { value: k, text: k }); }));
    var base = el("select", { id: "diff-base" });
    var role = (d.labels || {}).role;
    var preferred = null;
    d.peers.forEach(function (p) {
      var o = el("option", { value: "t" + p.index, text: "latest window of " + p.name + (p.labels.role ? " (" + p.labels.role + ")" : "") });
      if (!preferred && role === "canary" && p.labels.role === "baseline") { preferred = o; o.selected = true; }
      base.appendChild(o);
    });
    var idx = d.series.map(function (p) { return p.id; }).indexOf(d.window);
    if (idx > 0) base.insertBefore(el("option", { value: "w" + d.series[idx - 1].id, text: "previous window (" + d.series[idx - 1].id + ")" }), base.firstChild);
    d.series.forEach(function (p) {
      if (p.id !== d.window && (idx <= 0 || p.id !== d.series[idx - 1].id)) base.appendChild(el("option", { value: "w" + p.id, text: "window " + p.id + " ending " + time(p.end) }));
    });
    if (!preferred && base.firstChild) base.firstChild.selected = true;
    var panel = el("div", { cls: "panel", id: "diff-panel" }, [message("", "Pick a base and a profile, then Compare: widths show this window, colours the change in each frame's share (blue shrank, orange grew).")]);
    var go = el("button", { id: "diff-go", text: "Compare", onclick: function () {
      var b = base.value, q = "flame?" + windowParam() + "&kind=" + kind.value;
      q += b.charAt(0) === "t" ? "&base_target=" + b.slice(1) + "&base=" : "&base=" + encodeURIComponent(b.slice(1));
      fragment(panel, q);
    } });
    if (!base.firstChild || !kind.firstChild) {
      return [el("h2", { text: "Diff" }), message("empty", "Nothing to compare with yet: a diff needs a second window or a second target.")];
    }
    return [el("h2", { text: "Diff" }), el("div", { cls: "toolbar" }, ["Base:", base, "Profile:", kind, go]), panel];
  }

  // ---- polling ----

  var timer = null, period = 2000, failures = 0;

  function refresh(full) {
    clearTimeout(timer);
    var work = state.index === null
      ? fetchJSON("api/overview").then(function (d) { period = d.refresh_seconds * 1000; renderOverview(d); })
      : fetchJSON(targetURL()).then(function (d) { period = d.refresh_seconds * 1000; renderTarget(d, full); });
    work.then(function () {
      failures = 0;
      setLive(true, "live · updated " + new Date().toLocaleTimeString());
    }).catch(function (e) {
      failures++;
      setLive(false, "dashboard unreachable (" + e.message + "); retrying");
      if (!app.querySelector(".card, #target-top")) app.replaceChildren(message("error", "Could not load the dashboard data: " + e.message));
    }).then(function () {
      timer = setTimeout(function () { refresh(false); }, Math.min(period * Math.pow(2, Math.min(failures, 4)), 30000));
    });
  }

  refresh(true);
})();
