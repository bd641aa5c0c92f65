// contendr interactive flame graph. Written for contendr; no third-party
// flame graph code. Every <div class="cf-flame"> holding a
// <script type="application/json" class="cf-data"> becomes a graph:
// width is proportional to value, hover shows real units, click zooms,
// a regex search highlights frames and reports the matched share, a toggle
// flips flame/icicle, and "Callers" inverts the tree under a chosen function
// to show who reaches it.
(function () {
  "use strict";

  var FRAME_H = 18;
  // Frames narrower than this many pixels are not drawn: they could not be
  // seen or hovered, and skipping them keeps the DOM small.
  var MIN_PX = 0.5;

  // Differential colours mirror flame/color.go: blue shrank, orange grew.
  var NEUTRAL = [0xdd, 0xdd, 0xdd], SHRUNK = [0x21, 0x66, 0xac], GREW = [0xe6, 0x61, 0x01];

  function trim(f) {
    var a = Math.abs(f);
    return a >= 100 ? f.toFixed(0) : a >= 10 ? f.toFixed(1) : f.toFixed(2);
  }

  // fmt mirrors FormatValue in flame/units.go.
  function fmt(v, unit) {
    var a = Math.abs(v);
    if (unit === "nanoseconds") {
      if (a >= 1e9) return trim(v / 1e9) + " s";
      if (a >= 1e6) return trim(v / 1e6) + " ms";
      if (a >= 1e3) return trim(v / 1e3) + " \u00b5s";
      return v + " ns";
    }
    if (unit === "bytes") {
      if (a >= 1073741824) return trim(v / 1073741824) + " GiB";
      if (a >= 1048576) return trim(v / 1048576) + " MiB";
      if (a >= 1024) return trim(v / 1024) + " KiB";
      return v + " B";
    }
    var s = String(v).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    return unit && unit !== "count" ? s + " " + unit : s;
  }

  function pct(f) {
    var p = 100 * f;
    return (Math.abs(p) < 10 ? p.toFixed(2) : p.toFixed(1)) + "%";
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  // decode turns [nameIndex, value, base, [children]] arrays into nodes
  // with parent links and absolute positions (x, w as fractions of the root).
  function decode(data) {
    function share(v, b) {
      if (!data.diff) return data.total > 0 ? v / data.total : 0;
      var t = data.total > 0 ? v / data.total : 0;
      var s = data.baseTotal > 0 ? b / data.baseTotal : 0;
      return (t + s) / 2;
    }
    function build(a, parent, depth, x) {
      var n = { id: a[0], name: data.names[a[0]], v: a[1], b: a[2], parent: parent, depth: depth, x: x, kids: [] };
      n.w = share(n.v, n.b);
      n.synthetic = depth === 0; // the "root" frame holding the total
      var cx = x;
      (a[3] || []).forEach(function (c) {
        var k = build(c, n, depth + 1, cx);
        cx += k.w;
        n.kids.push(k);
      });
      return n;
    }
    return { build: build, share: share };
  }

  function Flame(container, data) {
    this.c = container;
    this.data = data;
    this.codec = decode(data);
    this.tree = this.codec.build(data.tree, null, 0, 0);
    this.root = this.tree; // the tree on show: the whole graph or a callers view
    this.focus = this.tree; // the zoomed-in frame
    this.selected = null;
    this.icicle = !!data.icicle;
    this.re = null;
    this.maxChange = 0;
    if (data.diff) this.maxChange = this.largestChange(this.tree);
    this.layoutUI();
    this.render();
  }

  Flame.prototype.change = function (n) {
    var d = this.data;
    return (d.total > 0 ? n.v / d.total : 0) - (d.baseTotal > 0 ? n.b / d.baseTotal : 0);
  };

  Flame.prototype.largestChange = function (n) {
    var m = Math.abs(this.change(n)), self = this;
    n.kids.forEach(function (k) { m = Math.max(m, self.largestChange(k)); });
    return m;
  };

  Flame.prototype.color = function (n) {
    var d = this.data;
    if (!d.diff || d.cats[n.id] === "pruned") return d.colors[n.id];
    var ch = this.change(n);
    if (this.maxChange <= 0 || ch === 0) return "rgb(" + NEUTRAL.join(",") + ")";
    var t = Math.min(1, Math.sqrt(Math.abs(ch) / this.maxChange));
    var to = ch < 0 ? SHRUNK : GREW;
    var rgb = NEUTRAL.map(function (c, i) { return Math.round(c + (to[i] - c) * t); });
    return "rgb(" + rgb.join(",") + ")";
  };

  Flame.prototype.layoutUI = function () {
    var self = this, d = this.data;
    var c = this.c;
    c.textContent = "";
    c.appendChild(el("h2", "cf-title", d.title));
    var sub = d.diff
      ? d.sampleType + ": base " + fmt(d.baseTotal, d.unit) + ", target " + fmt(d.total, d.unit) +
        ". Width: mean share of both profiles. Colour: change in share (blue shrank, orange grew)."
      : d.sampleType + ": total " + fmt(d.total, d.unit) + ".";
    if (d.minFraction > 0) sub += " Frames under " + pct(d.minFraction) + " of the total are summed into [pruned N].";
    c.appendChild(el("p", "cf-sub", sub));

    var bar = el("div", "cf-toolbar");
    this.search = el("input", "cf-search");
    this.search.type = "search";
    this.search.placeholder = "Search frames (regex)";
    this.search.setAttribute("aria-label", "Search frames by regular expression");
    this.search.addEventListener("input", function () { self.setSearch(self.search.value); });
    this.matched = el("span", "cf-matched", "");
    this.resetBtn = el("button", "cf-reset", "Reset zoom");
    this.resetBtn.type = "button";
    this.resetBtn.addEventListener("click", function () { self.reset(); });
    this.callersBtn = el("button", "cf-callers", "Callers of selected");
    this.callersBtn.type = "button";
    this.callersBtn.title = "Invert the tree: who calls the selected function (click a frame first)";
    this.callersBtn.disabled = true;
    this.callersBtn.addEventListener("click", function () { self.showCallers(); });
    this.icicleBtn = el("button", "cf-icicle", "");
    this.icicleBtn.type = "button";
    this.icicleBtn.addEventListener("click", function () { self.icicle = !self.icicle; self.render(); });
    [this.search, this.matched, this.resetBtn, this.callersBtn, this.icicleBtn].forEach(function (e) { bar.appendChild(e); });
    c.appendChild(bar);

    this.view = el("div", "cf-view", "");
    c.appendChild(this.view);
    this.details = el("div", "cf-details", "Hover over a frame for details; click to zoom.");
    c.appendChild(this.details);
    this.chart = el("div", "cf-chart");
    c.appendChild(this.chart);
    this.tip = el("div", "cf-tip");
    this.tip.hidden = true;
    c.appendChild(this.tip);

    this.chart.addEventListener("mouseover", function (e) {
      var f = e.target.closest(".cf-frame");
      if (!f) return;
      var text = self.describe(f.cfNode);
      self.details.textContent = text;
      self.tip.textContent = text;
      self.tip.hidden = false;
    });
    this.chart.addEventListener("mousemove", function (e) {
      var r = self.c.getBoundingClientRect();
      var x = e.clientX - r.left + 14, y = e.clientY - r.top + 14;
      if (x + self.tip.offsetWidth > r.width) x = Math.max(0, x - self.tip.offsetWidth - 28);
      self.tip.style.left = x + "px";
      self.tip.style.top = y + "px";
    });
    this.chart.addEventListener("mouseleave", function () { self.tip.hidden = true; });
    this.chart.addEventListener("click", function (e) {
      var f = e.target.closest(".cf-frame");
      if (f) self.zoom(f.cfNode);
    });

    this.legend(c);
    if (d.diff && d.vanished && d.vanished.length) {
      var box = el("details", "cf-vanished");
      box.appendChild(el("summary", "", d.vanished.length + " stacks vanished in the target (present only in the base)"));
      var list = el("ol");
      d.vanished.forEach(function (v) {
        var li = el("li");
        li.appendChild(el("span", "cf-vbase", fmt(v.base, d.unit) + " (" + pct(d.baseTotal ? v.base / d.baseTotal : 0) + " of base) "));
        li.appendChild(el("code", "", v.stack.split(";").join(" \u2192 ")));
        list.appendChild(li);
      });
      box.appendChild(list);
      c.appendChild(box);
    }
  };

  Flame.prototype.legend = function (c) {
    var d = this.data, box = el("div", "cf-legend");
    var items = d.diff
      ? [["rgb(" + SHRUNK.join(",") + ")", "share shrank"], ["rgb(" + NEUTRAL.join(",") + ")", "unchanged"], ["rgb(" + GREW.join(",") + ")", "share grew"]]
      : [["app", "program"], ["std", "standard library"], ["lock", "sync / locks / channels"], ["map", "map internals"], ["gc", "GC / allocation"], ["runtime", "runtime"]]
          .map(function (p) { return [d.legend[p[0]], p[1]]; });
    items.forEach(function (it) {
      var s = el("span", "cf-key");
      var sw = el("i", "cf-swatch");
      sw.style.background = it[0];
      s.appendChild(sw);
      s.appendChild(document.createTextNode(it[1]));
      box.appendChild(s);
    });
    c.appendChild(box);
  };

  // describe says what a frame costs in real units and as a share.
  Flame.prototype.describe = function (n) {
    var d = this.data;
    var self = n.v - n.kids.reduce(function (s, k) { return s + k.v; }, 0);
    if (!d.diff) {
      var s = n.name + " \u2014 " + fmt(n.v, d.unit) + " (" + pct(d.total ? n.v / d.total : 0) + " of total";
      if (this.focus !== this.root) s += ", " + pct(this.focus.v ? n.v / this.focus.v : 0) + " of zoom";
      return s + "), self " + fmt(self, d.unit);
    }
    var t = n.name + " \u2014 base " + fmt(n.b, d.unit) + " (" + pct(d.baseTotal ? n.b / d.baseTotal : 0) + ") \u2192 target " +
      fmt(n.v, d.unit) + " (" + pct(d.total ? n.v / d.total : 0) + "), change " +
      (this.change(n) >= 0 ? "+" : "") + (100 * this.change(n)).toFixed(2) + " pp";
    if (n.v === 0 && n.b > 0) t += " \u2014 vanished in target";
    else if (n.b === 0 && n.v > 0) t += " \u2014 new in target";
    return t;
  };

  Flame.prototype.zoom = function (n) {
    this.focus = n;
    this.selected = n;
    this.callersBtn.disabled = false;
    this.callersBtn.textContent = "Callers of " + shortName(n.name);
    this.render();
  };

  Flame.prototype.reset = function () {
    this.root = this.tree;
    this.focus = this.tree;
    this.render();
  };

  // shortLabel mirrors flame/svg.go: drop the import path and generic type
  // arguments of a name too long for its frame; hover shows the full name.
  function shortLabel(name) {
    name = name.replace(/\[[^\[\]]*\]/g, "[\u2026]");
    return name.slice(name.lastIndexOf("/") + 1);
  }

  // isDark tells whether an "rgb(r, g, b)" fill needs light text.
  function isDark(rgb) {
    var m = /rgb\((\d+),\s*(\d+),\s*(\d+)/.exec(rgb);
    return !!m && 0.299 * m[1] + 0.587 * m[2] + 0.114 * m[3] < 128;
  }

  function shortName(name) {
    var i = name.lastIndexOf("/");
    return name.slice(i + 1);
  }

  // showCallers inverts the tree at the selected function: its root is the
  // function (every outermost call of it, summed), its children the
  // functions that called it, and so on up to the roots of the stacks.
  Flame.prototype.showCallers = function () {
    if (!this.selected) return;
    var name = this.selected.name, codec = this.codec;
    var inv = { id: this.selected.id, name: name, v: 0, b: 0, parent: null, depth: 0, x: 0, kids: [], byName: {} };
    (function walk(n, inside) {
      var hit = n.name === name && n.parent !== null;
      if (hit && !inside) {
        inv.v += n.v;
        inv.b += n.b;
        var at = inv;
        for (var p = n.parent; p && p.parent; p = p.parent) {
          var k = at.byName[p.name];
          if (!k) {
            k = { id: p.id, name: p.name, v: 0, b: 0, parent: at, depth: at.depth + 1, kids: [], byName: {} };
            at.byName[p.name] = k;
            at.kids.push(k);
          }
          k.v += n.v;
          k.b += n.b;
          at = k;
        }
      }
      n.kids.forEach(function (k) { walk(k, inside || hit); });
    })(this.tree, false);
    (function place(n, x) {
      n.x = x;
      n.w = codec.share(n.v, n.b);
      n.kids.sort(function (a, b) { return b.v + b.b - (a.v + a.b); });
      var cx = x;
      n.kids.forEach(function (k) { place(k, cx); cx += k.w; });
    })(inv, 0);
    this.root = inv;
    this.focus = inv;
    this.render();
  };

  Flame.prototype.setSearch = function (term) {
    this.search.classList.remove("cf-bad");
    this.re = null;
    if (term) {
      try { this.re = new RegExp(term); } catch (e) { this.search.classList.add("cf-bad"); }
    }
    this.render();
  };

  // matchedShare sums the width of matching frames, counting a match inside
  // another match once.
  Flame.prototype.matchedShare = function (n) {
    if (!n.synthetic && this.re.test(n.name)) return n.w;
    var self = this;
    return n.kids.reduce(function (s, k) { return s + self.matchedShare(k); }, 0);
  };

  Flame.prototype.render = function () {
    var self = this, f = this.focus, d = this.data;
    this.details.textContent = "Hover over a frame for details; click to zoom.";
    var width = this.chart.clientWidth || 1000;
    var frames = [];
    // Ancestors of the focus span the full width, dimmed, for context.
    for (var a = f.parent; a; a = a.parent) frames.push({ n: a, left: 0, w: 1, dim: true });
    (function collect(n) {
      var w = f.w > 0 ? n.w / f.w : 0;
      if (w * width < MIN_PX) return;
      frames.push({ n: n, left: f.w > 0 ? (n.x - f.x) / f.w : 0, w: w, dim: false });
      n.kids.forEach(collect);
    })(f);
    var maxDepth = 0;
    frames.forEach(function (fr) { maxDepth = Math.max(maxDepth, fr.n.depth); });

    var chart = this.chart, frag = document.createDocumentFragment();
    frames.forEach(function (fr) {
      var n = fr.n;
      var div = el("div", "cf-frame" + (fr.dim ? " cf-dim" : ""));
      div.cfNode = n;
      div.style.left = (100 * fr.left) + "%";
      div.style.width = (100 * fr.w) + "%";
      var row = self.icicle ? n.depth : maxDepth - n.depth;
      div.style.top = (row * FRAME_H) + "px";
      div.style.background = self.color(n);
      if (self.re && !n.synthetic && self.re.test(n.name)) div.classList.add("cf-match");
      if (n === self.selected) div.classList.add("cf-selected");
      var px = fr.w * width;
      if (px >= 24) div.appendChild(el("span", "", px / 7.3 < n.name.length ? shortLabel(n.name) : n.name));
      if (isDark(div.style.background)) div.classList.add("cf-dark");
      frag.appendChild(div);
    });
    chart.textContent = "";
    chart.style.height = ((maxDepth + 1) * FRAME_H) + "px";
    chart.appendChild(frag);

    this.icicleBtn.textContent = this.icicle ? "Flame (root at bottom)" : "Icicle (root on top)";
    this.resetBtn.disabled = this.root === this.tree && this.focus === this.tree;
    this.view.textContent = this.root !== this.tree
      ? "Callers of " + this.root.name + ": " + fmt(this.root.v, d.unit) + " (" + pct(d.total ? this.root.v / d.total : 0) + " of total). Reset to return."
      : "";
    if (this.re) {
      var m = this.matchedShare(this.root);
      var text = "matched " + pct(m) + " of total";
      if (this.focus !== this.tree) text += " (" + pct(f.w ? this.matchedShare(f) / f.w : 0) + " of zoom)";
      this.matched.textContent = text;
    } else {
      this.matched.textContent = "";
    }
  };

  function init(container) {
    if (container.cfFlame) return container.cfFlame;
    var script = container.querySelector("script.cf-data");
    if (!script) return null;
    var data = JSON.parse(script.textContent);
    container.cfFlame = new Flame(container, data);
    return container.cfFlame;
  }

  function initAll() {
    Array.prototype.forEach.call(document.querySelectorAll(".cf-flame"), init);
  }

  window.ContendrFlame = { init: init, initAll: initAll, format: fmt };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", initAll);
  else initAll();
})();
