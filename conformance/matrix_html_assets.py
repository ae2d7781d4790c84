"""The stylesheet and script of the HTML matrix page, inlined so the page needs no network.

The script only ever puts text from the data into the page through
``textContent`` (never ``innerHTML``), so a message or case id holding markup
shows as that text.
"""

CSS = """
*{box-sizing:border-box}
[hidden]{display:none!important}
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 1.2rem 3rem;color:#1d1d1f;
 background:#fff}
h1{font-size:1.45rem;margin:1rem 0 .3rem}
h2{font-size:1.15rem;margin:1.6rem 0 .5rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}
h3{font-size:1rem;margin:1.2rem 0 .3rem}
h3 small{font-weight:normal;color:#666}
table{border-collapse:collapse}
caption{text-align:left;color:#555;padding:.2rem 0;caption-side:top}
.runs td,.runs th,.summary td,.summary th{border:1px solid #ddd;padding:.25rem .5rem;text-align:left;
 vertical-align:top}
.runs th,.summary th{background:#f3f3f6}
.num{text-align:right;font-variant-numeric:tabular-nums}
.summary tr.bad td:first-child{box-shadow:inset 4px 0 0 #b3261e}
figure{margin:0}
figcaption{color:#555}
svg.chart{max-width:100%;height:auto}
svg.chart g.dim{opacity:.2}
.filters{position:sticky;top:0;z-index:20;background:#f7f7f9;border:1px solid #ccc;padding:.4rem .6rem;display:flex;
 flex-wrap:wrap;gap:.4rem 1rem;align-items:center}
.filters fieldset{border:0;margin:0;padding:0;display:flex;gap:.3rem;flex-wrap:wrap;align-items:center}
.filters legend{float:left;margin-right:.3rem}
.filters label.st{padding:0 .35rem;border-radius:3px}
#shown{font-weight:600;margin-left:auto}
.legend{font-size:12px;color:#444}
.lg{display:inline-block;padding:0 .35rem;border-radius:3px;font-weight:600;font-size:11px}
.scroll{overflow:auto;max-height:80vh;border:1px solid #ccc}
.grid{border-collapse:separate;border-spacing:0;font-size:11px}
.grid th,.grid td{border-right:1px solid #e0e0e0;border-bottom:1px solid #e0e0e0;padding:2px 4px}
.grid thead th{position:sticky;top:0;background:#f0f0f4;z-index:2;text-align:center;vertical-align:bottom}
.grid thead th.g{max-width:16em}
.grid .g .b{display:block;font-family:ui-monospace,Menlo,Consolas,monospace;word-break:break-all}
.grid .g .v{display:block;font-weight:normal;color:#555}
.grid thead th.m{font-weight:normal;color:#444}
.grid th.corner{left:0;z-index:4;text-align:left}
.grid th.rh{position:sticky;left:0;z-index:1;background:#fafafa;text-align:left;font-weight:normal;
 font-family:ui-monospace,Menlo,Consolas,monospace;min-width:12em;max-width:22em;word-break:break-word}
.grid tr[data-q=grad] th.rh{background:#f5f2fb}
.q{display:inline-block;margin-left:.4em;padding:0 .3em;border-radius:3px;background:#ddd5ef;color:#3f2a78;
 font:10px system-ui,sans-serif}
td.c{cursor:pointer;text-align:center;min-width:4.8em;white-space:nowrap;line-height:1.25}
td.c span{display:block}
td.c span:first-child{font-weight:600}
td.c.off{visibility:hidden}
td.c:focus,td.c.sel{outline:2px solid #1a56db;outline-offset:-2px}
.gone{display:none}
.s-pass{background:#d7f0d9;color:#14532d}
.s-definition-difference{background:#e1d8f5;color:#3f2a78}
.s-fail{background:#f8c9c9;color:#8a1111}
.s-error{background:#f5ad62;color:#402000}
.s-crashed{background:#7f1d1d;color:#fff}
.s-timeout{background:#b8541a;color:#fff}
.s-not-applicable{background:#ececec;color:#666}
.s-skipped{background:repeating-linear-gradient(45deg,#f3f3f3 0 4px,#e3e3e3 4px 8px);color:#666}
#details{position:fixed;top:0;right:0;bottom:0;width:min(38rem,50vw);overflow:auto;background:#fff;z-index:50;
 border-left:1px solid #bbb;box-shadow:-4px 0 18px rgba(0,0,0,.18);padding:.8rem 1.2rem 2rem;font-size:13px}
#details h2{margin-top:.2rem;font-family:ui-monospace,Menlo,Consolas,monospace;font-size:1rem;word-break:break-word;
 padding-right:2rem}
#details-close{position:absolute;top:.4rem;right:.6rem;font-size:1.4rem;border:0;background:none;cursor:pointer}
#details dl{display:grid;grid-template-columns:max-content 1fr;gap:.15rem .8rem;margin:.3rem 0 .6rem}
#details dt{color:#555}
#details dd{margin:0;word-break:break-word;font-family:ui-monospace,Menlo,Consolas,monospace}
#details pre{white-space:pre-wrap;word-break:break-word;background:#f6f6f6;padding:.5rem;border:1px solid #e2e2e2;
 margin:0}
#details table.checks{font-size:12px;width:100%}
#details table.checks td,#details table.checks th{padding:1px 4px;border-bottom:1px solid #eee;text-align:left}
#details table.checks tr[tabindex]{cursor:pointer}
.picked{border-top:2px solid #ccc;margin-top:.6rem}
"""

SCRIPT = r"""
(function () {
  "use strict";
  var DATA = JSON.parse(document.getElementById("matrix-data").textContent);
  function $(id) { return document.getElementById(id); }
  function each(list, fn) { Array.prototype.forEach.call(list, fn); }
  var form = $("filters"), panel = $("details"), body = $("details-body"), heading = $("details-title");
  var sections = document.querySelectorAll("section.op"), selected = null;

  function chosenStatuses() {
    var chosen = {};
    each(form.querySelectorAll("input[name=status]"), function (box) { if (box.checked) chosen[box.value] = true; });
    return chosen;
  }

  // a cell of one check stores neither its counts nor its case (the row's); shared texts are numbers into strings
  function countsOf(cell) { var c = {}; if (cell.counts) return cell.counts; c[cell.status] = 1; return c; }
  function caseOf(cell, ch) { return ch.case || DATA.rows[cell.r].label; }
  function text(value) { return typeof value === "number" ? DATA.strings[value] : value; }

  function checksIn(cell, chosen) {
    var n = 0, counts = countsOf(cell);
    Object.keys(counts).forEach(function (s) { if (chosen[s]) n += counts[s]; });
    return n;
  }

  // heading rows wrap differently as columns come and go: stack their sticky offsets on the real heights
  function stickHeaders(section) {
    var top = 0;
    each(section.querySelectorAll("thead tr"), function (tr) {
      each(tr.children, function (th) { if (!th.classList.contains("corner")) th.style.top = top + "px"; });
      top += tr.getBoundingClientRect().height;
    });
  }

  function filterSection(section, want, totals) {
    var on = !want.op || section.getAttribute("data-op") === want.op, columns = {}, rows = 0;
    each(section.querySelectorAll("tbody tr"), function (tr) {
      var any = false;
      each(tr.querySelectorAll("td.c"), function (td) {
        var cell = DATA.cells[+td.getAttribute("data-i")], col = DATA.columns[cell.c];
        var show = on && (!want.framework || col.framework === want.framework) &&
          (!want.dtype || col.dtype === want.dtype) && want.status[cell.status] === true;
        td.classList.toggle("off", !show);
        if (show) {
          any = true;
          columns[cell.c] = true;
          totals.cells += 1;
          totals.checks += checksIn(cell, want.status);
        }
      });
      tr.hidden = !any;
      if (any) rows += 1;
    });
    each(section.querySelectorAll("[data-c]"), function (node) {
      node.classList.toggle("gone", !columns[node.getAttribute("data-c")]);
    });
    each(section.querySelectorAll("th[data-cols]"), function (th) {
      var n = th.getAttribute("data-cols").split(" ").filter(function (c) { return columns[c]; }).length;
      th.hidden = n === 0;
      if (n) th.colSpan = n;
    });
    section.hidden = rows === 0;
    if (rows) stickHeaders(section);
  }

  function applyFilters() {
    var want = {op: $("f-op").value, framework: $("f-framework").value, dtype: $("f-dtype").value,
                status: chosenStatuses()};
    var totals = {cells: 0, checks: 0}, out = $("shown");
    each(sections, function (section) { filterSection(section, want, totals); });
    each(document.querySelectorAll("svg.chart g.dist"), function (g) {
      var match = (!want.framework || g.getAttribute("data-framework") === want.framework) &&
        (!want.dtype || g.getAttribute("data-dtype") === want.dtype);
      g.classList.toggle("dim", !match);
    });
    out.setAttribute("data-shown-checks", totals.checks);
    out.setAttribute("data-shown-cells", totals.cells);
    out.textContent = totals.checks + " of " + out.getAttribute("data-checks") + " checks shown, in " +
      totals.cells + " cells";
  }

  function node(tag, text, cls) {
    var n = document.createElement(tag);
    if (text !== undefined && text !== null) n.textContent = String(text);
    if (cls) n.className = cls;
    return n;
  }

  function pairs(parent, title, items) {
    var shown = items.filter(function (p) { return p[1] !== undefined && p[1] !== null && p[1] !== ""; });
    if (!shown.length) return;
    if (title) parent.appendChild(node("h3", title));
    var dl = node("dl");
    shown.forEach(function (p) { dl.appendChild(node("dt", p[0])); dl.appendChild(node("dd", p[1])); });
    parent.appendChild(dl);
  }

  function showCheck(parent, cell, ch) {
    pairs(parent, null, [["case", caseOf(cell, ch)], ["status", ch.status], ["classification", text(ch.classification)],
      ["max ulp", ch.max_ulp], ["err / bound", ch.err_over_bound], ["max abs err", ch.max_abs_err],
      ["max rel err", ch.max_rel_err], ["bound", text(ch.bound)], ["behaviour", text(ch.behaviour)],
      ["result dtype", text(ch.result_dtype)], ["flushed to zero", ch.flushed_to_zero],
      ["expected source", text(ch.expected_source)], ["call", text(ch.call)], ["results file", DATA.runs[ch.run]]]);
    var w = ch.worst;
    if (w) {
      pairs(parent, "Worst element" + (w.index !== undefined ? " at index " + w.index : ""),
        [["expected", w.expected], ["actual", w.actual], ["abs err", w.abs_err], ["rel err", w.rel_err],
         ["ulp", w.ulp], ["bound (abs err)", w.bound]]);
    }
    if (ch.message) { parent.appendChild(node("h3", "Message")); parent.appendChild(node("pre", ch.message, "msg")); }
  }

  function statsText(s) {
    if (!s.n) return undefined;
    return s.median + " / " + s.p99 + " / " + s.max + (s.worst ? "   (max at " + s.worst + ")" : "");
  }

  function countsText(counts) {
    return Object.keys(counts).map(function (s) { return s + " " + counts[s]; }).join(", ");
  }

  function checkList(parent, cell) {
    var capped = cell.n > cell.checks.length;
    parent.appendChild(node("h3", "Checks, worst first" +
      (capped ? " (the first " + cell.checks.length + " of " + cell.n + ")" : "")));
    var table = node("table", null, "checks"), head = node("tr"), picked = node("div", null, "picked");
    ["case", "status", "max ulp", "err/bound"].forEach(function (h) { head.appendChild(node("th", h)); });
    table.appendChild(head);
    cell.checks.forEach(function (ch) {
      var tr = node("tr", null, "s-" + ch.status);
      tr.tabIndex = 0;
      [caseOf(cell, ch), ch.status, ch.max_ulp || "-", ch.err_over_bound || "-"].forEach(function (v) {
        tr.appendChild(node("td", v));
      });
      function pick() {
        picked.textContent = "";
        picked.appendChild(node("h3", caseOf(cell, ch)));
        showCheck(picked, cell, ch);
      }
      tr.addEventListener("click", pick);
      tr.addEventListener("keydown", function (ev) { if (ev.key === "Enter") pick(); });
      table.appendChild(tr);
    });
    parent.appendChild(table);
    parent.appendChild(picked);
  }

  function showCell(td) {
    var cell = DATA.cells[+td.getAttribute("data-i")], col = DATA.columns[cell.c], row = DATA.rows[cell.r];
    if (selected) selected.classList.remove("sel");
    selected = td;
    td.classList.add("sel");
    body.textContent = "";
    heading.textContent = row.label;
    pairs(body, "Where", [["binding", col.binding], ["framework", col.framework + " " + col.version],
      ["dtype", col.dtype], ["mode", col.mode], ["device", col.device], ["machine", col.machine]]);
    pairs(body, "Result", [["status", cell.status], ["in short", cell.text],
      ["convention", (cell.conventions || []).join(", ")]]);
    if (cell.n === 1) {
      body.appendChild(node("h3", "Check"));
      showCheck(body, cell, cell.checks[0]);
    } else {
      pairs(body, "Over its " + cell.n + " checks", [["counts", countsText(countsOf(cell))],
        ["ulp median / p99 / max", statsText(cell.ulp)], ["err/bound median / p99 / max", statsText(cell.over_bound)]]);
      body.appendChild(node("h3", "Worst check: " + caseOf(cell, cell.checks[0])));
      showCheck(body, cell, cell.checks[0]);
      checkList(body, cell);
    }
    panel.hidden = false;
    panel.scrollTop = 0;
  }

  function closeDetails() {
    panel.hidden = true;
    if (selected) { selected.classList.remove("sel"); selected.focus(); selected = null; }
  }

  document.addEventListener("click", function (ev) {
    var td = ev.target.closest ? ev.target.closest("td.c") : null;
    if (td) showCell(td);
  });
  document.addEventListener("keydown", function (ev) {
    if (ev.key === "Escape") closeDetails();
    else if ((ev.key === "Enter" || ev.key === " ") && ev.target.matches && ev.target.matches("td.c")) {
      ev.preventDefault();
      showCell(ev.target);
    }
  });
  $("details-close").addEventListener("click", closeDetails);
  form.addEventListener("change", applyFilters);
  form.addEventListener("submit", function (ev) { ev.preventDefault(); });
  form.addEventListener("reset", function () { setTimeout(applyFilters, 0); });
  applyFilters();
})();
"""
