// Zoom and search for contendr's standalone flame graph SVG. The SVG reads
// fine without this script (as an <img>, in a README); when opened directly
// in a browser, click a frame to zoom, "Reset zoom" to go back, and
// "Search" for a regular expression.
(function () {
  "use strict";
  var svg = document.documentElement;
  var pad = 10, charW = 7;
  var width = parseFloat(svg.getAttribute("width")) - 2 * pad;
  var frames = Array.prototype.slice.call(document.querySelectorAll("g.f"));
  var reset = document.getElementById("reset");
  var search = document.getElementById("search");
  var matched = document.getElementById("matched");
  var details = document.getElementById("details");
  var eps = 1e-9;

  function num(g, k) { return parseFloat(g.getAttribute("data-" + k)); }

  // fit mirrors fitLabel in flame/svg.go.
  function fit(name, px) {
    var n = Math.floor((px - 6) / charW);
    if (name.length <= n) return name;
    name = name.replace(/\[[^\[\]]*\]/g, "[\u2026]");
    name = name.slice(name.lastIndexOf("/") + 1);
    if (name.length <= n) return name;
    if (n < 3) return "";
    return name.slice(0, n - 1) + "\u2026";
  }

  function place(g, x, w) {
    var rect = g.querySelector("rect");
    var text = g.querySelector("text");
    var px = pad + x * width, pw = w * width;
    rect.setAttribute("x", px.toFixed(2));
    rect.setAttribute("width", pw.toFixed(2));
    if (!text) {
      text = document.createElementNS("http://www.w3.org/2000/svg", "text");
      text.setAttribute("y", parseFloat(rect.getAttribute("y")) + 12);
      g.appendChild(text);
    }
    text.setAttribute("x", (px + 3).toFixed(2));
    text.textContent = fit(g.getAttribute("data-n"), pw);
  }

  function zoom(target) {
    var x0 = num(target, "x"), w0 = num(target, "w"), d0 = num(target, "d");
    frames.forEach(function (g) {
      var x = num(g, "x"), w = num(g, "w"), d = num(g, "d");
      g.classList.remove("hidden", "dim");
      if (d < d0 && x <= x0 + eps && x + w >= x0 + w0 - eps) {
        g.classList.add("dim");
        place(g, 0, 1);
      } else if (d >= d0 && x >= x0 - eps && x + w <= x0 + w0 + eps) {
        place(g, (x - x0) / w0, w / w0);
      } else {
        g.classList.add("hidden");
      }
    });
    reset.classList.toggle("hidden", target === frames[0]);
  }

  function find() {
    if (search.getAttribute("data-active")) {
      frames.forEach(function (g) { g.classList.remove("match"); });
      search.removeAttribute("data-active");
      search.textContent = "Search";
      matched.textContent = "";
      return;
    }
    var term = window.prompt("Search frames (regular expression)", "");
    if (!term) return;
    var re;
    try { re = new RegExp(term); } catch (e) { window.alert("Bad regular expression: " + e.message); return; }
    var spans = [];
    frames.forEach(function (g) {
      var hit = re.test(g.getAttribute("data-n"));
      g.classList.toggle("match", hit);
      if (hit) spans.push([num(g, "x"), num(g, "x") + num(g, "w")]);
    });
    // Nested matches overlap: merge the spans so each value counts once.
    spans.sort(function (a, b) { return a[0] - b[0]; });
    var total = 0, end = -1;
    spans.forEach(function (s) {
      if (s[0] >= end) { total += s[1] - s[0]; end = s[1]; }
      else if (s[1] > end) { total += s[1] - end; end = s[1]; }
    });
    matched.textContent = "Matched: " + (100 * total).toFixed(1) + "%";
    search.setAttribute("data-active", "1");
    search.textContent = "Clear search";
  }

  frames.forEach(function (g) {
    g.addEventListener("click", function () { zoom(g); });
    g.addEventListener("mouseover", function () {
      details.textContent = g.querySelector("title").textContent.replace(/\n/g, " \u2014 ");
    });
    g.addEventListener("mouseout", function () { details.textContent = " "; });
  });
  reset.addEventListener("click", function () { zoom(frames[0]); });
  search.addEventListener("click", find);
})();
