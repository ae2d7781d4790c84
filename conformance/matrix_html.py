"""The compatibility matrix as one self-contained HTML page: runs, per-framework summary, chart, matrix.

The page needs no network: CSS and script are inline, the chart is inline SVG
(``matrix_chart``). The matrix is one section per op (only that op's bindings
have columns), rows are cases (or whole ops when rows are grouped), columns are
binding × dtype × mode × device under a heading of binding, framework version
and machine. Filters (op, framework, dtype, status) and the details panel are
vanilla JavaScript over data embedded as JSON (``matrix_html_data``). Every
string from a results file is escaped: ``html.escape`` in markup, and the
embedded JSON has no raw ``<``, ``>`` or ``&``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from html import escape
from pathlib import Path

from conformance.matrix import SEVERITY, Cell, FrameworkSummary, Matrix, convention_of, dtype_order, fmt_number
from conformance.matrix_chart import render_svg
from conformance.matrix_html_assets import CSS, SCRIPT
from conformance.matrix_html_data import payload, script_json
from conformance.resultset import Column, Row, Run

DEFAULT_TITLE = "Loss conformance: compatibility matrix"
SHORT = {"pass": "pass", "definition-difference": "def-diff", "fail": "FAIL", "error": "error",
         "crashed": "crashed", "timeout": "timeout", "not-applicable": "n/a", "skipped": "skipped"}
FAILING = ("fail", "error", "crashed", "timeout")


def e(value: object) -> str:
    """Return text escaped for HTML content and attribute values."""
    return escape(str(value), quote=True)


def _column_key(column: Column) -> tuple:
    return (column.framework, column.binding, column.version, column.machine, dtype_order(column.dtype),
            column.mode, column.device)


def _group_key(column: Column) -> tuple:
    return (column.framework, column.binding, column.version, column.machine)


def sections(matrix: Matrix) -> list[tuple[str, list[Row], list[Column]]]:
    """Return (op, its rows, its columns) per op: a column belongs to an op when it has a cell in its rows."""
    rows: dict[str, list[Row]] = defaultdict(list)
    for row in matrix.rows:
        rows[row.op].append(row)
    columns: dict[str, set[Column]] = defaultdict(set)
    for row, column in matrix.cells:
        columns[row.op].add(column)
    return [(op, rows[op], sorted(columns[op], key=_column_key)) for op in sorted(rows)]


def cell_lines(cell: Cell) -> list[str]:
    """Return the lines a cell shows: status (or counts when it holds many checks), conventions, max ulp."""
    lines = []
    if len(cell.checks) > 1 and cell.ran:
        bad = sum(cell.counts.get(s, 0) for s in FAILING)
        passed = cell.counts.get("pass", 0)
        lines.append(f"{bad}/{cell.ran} {SHORT[cell.status]}" if bad else f"{passed}/{cell.ran} pass")
        if cell.counts.get("definition-difference"):
            lines.append(f"{cell.counts['definition-difference']} def-diff")
    else:
        lines.append(SHORT.get(cell.status, cell.status))
    lines.extend(cell.conventions)
    if cell.ulp.max is not None:
        lines.append(f"{fmt_number(cell.ulp.max)} ulp")
    return lines


# -- header, summary ---------------------------------------------------------------------------------------

def _frameworks_text(run: Run) -> str:
    parts = []
    for name, info in sorted((run.header.get("frameworks") or {}).items()):
        info = info if isinstance(info, dict) else {}
        versions = dict(info.get("versions") or {})
        main = versions.pop(name, None)
        text = f"{name} {main or ''}".strip()
        if versions:
            text += " (" + ", ".join(f"{d} {v}" for d, v in sorted(versions.items())) + ")"
        if info.get("available") is False:
            text += " — not available"
        parts.append(text)
    return "; ".join(parts) or "-"


def runs_table(runs: list[Run]) -> str:
    """Return the table of the merged results files: label, frameworks, start, checks, completeness."""
    body = []
    for run in runs:
        h = run.header
        state = "complete" if run.complete else ("incomplete" if run.summary else "no summary (killed?)")
        body.append(f"<tr><td>{run.index + 1}</td><td>{e(run.label())}</td><td>{e(_frameworks_text(run))}</td>"
                    f"<td>{e(h.get('started', '-'))}</td><td class=num>{len(run.checks)}</td>"
                    f"<td>{e(state)}</td></tr>")
    return ("<table class=runs><caption>Results files merged (a later file's check replaces an earlier one's)"
            "</caption><thead><tr><th>#</th><th>file (Python, CPU; GPU)</th><th>frameworks</th><th>started</th>"
            "<th>records</th><th>run</th></tr></thead><tbody>" + "".join(body) + "</tbody></table>")


def _worst_text(value: float | None, case: str | None, unit: str) -> str:
    if value is None:
        return "-"
    return f"{fmt_number(value)}{unit}" + (f" — {case}" if case else "")


def _conventions(matrix: Matrix) -> dict[tuple, Counter]:
    found: dict[tuple, Counter] = defaultdict(Counter)
    for check in matrix.checks():
        name = convention_of(check.record)
        if name:
            c = check.column
            found[(c.framework, c.version, c.machine)][name] += 1
    return found


def summary_table(matrix: Matrix) -> str:
    """Return the per-framework table: checks, pass rate, definition differences, failures, worst error."""
    conventions = _conventions(matrix)
    body = []
    for s in matrix.frameworks():
        body.append(_summary_row(s, conventions.get((s.framework, s.version, s.machine), Counter())))
    return ("<table class=summary><caption>Per framework (version, machine): checks that ran, how they ended, "
            "the worst error (with the case), and what the binding did on implementation-defined cases</caption>"
            "<thead><tr><th>framework</th><th>version</th><th>machine</th><th>checks</th><th>pass rate</th>"
            "<th>pass</th><th>definition difference</th><th>fail</th><th>error / crashed / timeout</th>"
            "<th>ulp median / p99</th><th>worst ulp</th><th>worst err/bound</th>"
            "<th>implementation-defined cases</th></tr></thead><tbody>" + "".join(body) + "</tbody></table>")


def _summary_row(s: FrameworkSummary, conventions: Counter) -> str:
    count = s.counts.get
    rate = f"{s.pass_rate:.1%}" if s.pass_rate is not None else "-"
    defdiff = str(count("definition-difference", 0))
    if conventions:
        defdiff += " (" + ", ".join(f"{name} ×{n}" for name, n in sorted(conventions.items())) + ")"
    errors = f"{count('error', 0)} / {count('crashed', 0)} / {count('timeout', 0)}"
    behaviours = ", ".join(f"{b or '?'} ×{n}" for b, n in s.behaviours.most_common()) or "-"
    cls = " class=bad" if any(count(x) for x in FAILING) else ""
    return (f"<tr{cls}><td>{e(s.framework)}</td><td>{e(s.version)}</td><td>{e(s.machine)}</td>"
            f"<td class=num>{s.checks}</td><td class=num>{e(rate)}</td><td class=num>{count('pass', 0)}</td>"
            f"<td>{e(defdiff)}</td><td class=num>{count('fail', 0)}</td><td class=num>{e(errors)}</td>"
            f"<td class=num>{e(fmt_number(s.ulp.median))} / {e(fmt_number(s.ulp.p99))}</td>"
            f"<td>{e(_worst_text(s.ulp.max, s.ulp.worst, ' ulp'))}</td>"
            f"<td>{e(_worst_text(s.over_bound.max, s.over_bound.worst, '×'))}</td><td>{e(behaviours)}</td></tr>")


# -- filters, matrix ---------------------------------------------------------------------------------------

def _select(name: str, label: str, values: list[str]) -> str:
    options = "".join(f'<option value="{e(v)}">{e(v)}</option>' for v in values)
    return (f'<label>{e(label)} <select id="f-{name}" data-filter="{name}">'
            f'<option value="">all</option>{options}</select></label>')


def filters(matrix: Matrix) -> str:
    """Return the filter bar: op, framework and dtype selects, a checkbox per status present, the count."""
    ops = sorted({r.op for r in matrix.rows})
    frameworks = sorted({c.framework for c in matrix.columns})
    dtypes = sorted({c.dtype for c in matrix.columns}, key=dtype_order)
    present = {cell.status for cell in matrix.cells.values()}
    boxes = "".join(f'<label class="st s-{e(s)}"><input type="checkbox" name="status" value="{e(s)}" checked> '
                    f"{e(s)}</label>" for s in SEVERITY if s in present)
    total = sum(len(cell.checks) for cell in matrix.cells.values())
    return ('<form id="filters" class="filters" role="search">'
            + _select("op", "op", ops) + _select("framework", "framework", frameworks)
            + _select("dtype", "dtype", dtypes)
            + f'<fieldset><legend>status</legend>{boxes}</fieldset>'
            + '<button type="reset" id="f-reset">show all</button>'
            + f'<output id="shown" data-checks="{total}" data-cells="{len(matrix.cells)}">'
            f"{total} checks in {len(matrix.cells)} cells</output></form>")


def _header_rows(columns: list[Column], index: dict[Column, int]) -> str:
    groups: list[list[Column]] = []
    for column in columns:
        if groups and _group_key(groups[-1][0]) == _group_key(column):
            groups[-1].append(column)
        else:
            groups.append([column])
    top, middle, bottom = [], [], []
    for group in groups:
        first = group[0]
        ids = " ".join(str(index[c]) for c in group)
        top.append(f'<th class="g" colspan="{len(group)}" data-cols="{ids}" title="{e(first.binding)}">'
                   f'<span class="b">{e(first.binding)}</span><span class="v">{e(first.framework)} '
                   f'{e(first.version)} · {e(first.machine)}</span></th>')
        for dtype in dict.fromkeys(c.dtype for c in group):
            same = [c for c in group if c.dtype == dtype]
            middle.append(f'<th class="d" colspan="{len(same)}" data-cols="{" ".join(str(index[c]) for c in same)}">'
                          f"{e(dtype)}</th>")
        bottom.extend(f'<th class="m" data-c="{index[c]}">{e(c.mode)}<br>{e(c.device)}</th>' for c in group)
    corner = '<th class="corner" rowspan="3">case</th>'
    return (f"<thead><tr>{corner}{''.join(top)}</tr><tr>{''.join(middle)}</tr>"
            f"<tr>{''.join(bottom)}</tr></thead>")


def _row_html(matrix: Matrix, row: Row, columns: list[Column], index: dict[Column, int],
              order: list[tuple[Row, Column]]) -> str:
    name = "all cases" if row.case == "*" else row.case
    tag = '<span class="q">gradient</span>' if row.quantity == "grad" else ""
    parts = [f'<tr data-q="{e(row.quantity)}"><th class="rh" scope="row" title="{e(row.label())}">{e(name)}{tag}</th>']
    for column in columns:
        cell = matrix.cell(row, column)
        if cell is None:
            parts.append(f'<td class="none" data-c="{index[column]}"></td>')
            continue
        order.append((row, column))
        lines = "".join(f"<span>{e(line)}</span>" for line in cell_lines(cell))
        parts.append(f'<td class="c s-{e(cell.status)}" data-i="{len(order) - 1}" data-c="{index[column]}" '
                     f'tabindex="0">{lines}</td>')
    return "".join(parts) + "</tr>"


def matrix_sections(matrix: Matrix, order: list[tuple[Row, Column]]) -> str:
    """Return one section per op; appends every rendered cell's key to ``order`` (its index is data-i)."""
    index = {column: i for i, column in enumerate(matrix.columns)}
    out = []
    for op, rows, columns in sections(matrix):
        body = "".join(_row_html(matrix, row, columns, index, order) for row in rows)
        first_grad = next((i for i, r in enumerate(rows) if r.quantity == "grad"), None)
        note = f"{len(rows)} rows" + (f" ({len(rows) - first_grad} gradient)" if first_grad is not None else "")
        out.append(f'<section class="op" data-op="{e(op)}" id="op-{e(op)}"><h3>{e(op)} '
                   f'<small>{e(note)}, {len(columns)} columns</small></h3><div class="scroll"><table class="grid">'
                   f"{_header_rows(columns, index)}<tbody>{body}</tbody></table></div></section>")
    return "".join(out)


def legend() -> str:
    items = "".join(f'<span class="lg s-{s}">{SHORT[s]}</span> {e(s)} ' for s in SEVERITY)
    return (f'<p class="legend">{items}— a cell shows its status (for many checks: how many of those that ran '
            "failed, or passed), the convention of a definition difference, and the max error in ulps. "
            "Click a cell for its details.</p>")


def render_html(matrix: Matrix, title: str | None = None) -> str:
    """Return the whole matrix as one self-contained HTML page (no network needed to view it)."""
    title = title or DEFAULT_TITLE
    order: list[tuple[Row, Column]] = []
    grid = matrix_sections(matrix, order)
    total = sum(len(cell.checks) for cell in matrix.cells.values())
    rows_kind = "one row per op and quantity (cells aggregate its cases)" if matrix.grouped else "one row per case"
    files = ", ".join(Path(run.path).name for run in matrix.runs)
    return "\n".join([
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(title)}</title><style>{CSS}</style></head><body>",
        f"<header><h1>{e(title)}</h1><p>{total} checks in {len(matrix.cells)} cells from {len(matrix.runs)} "
        f"results file(s) ({e(files)}); {e(rows_kind)}.</p>{runs_table(matrix.runs)}</header>",
        f'<section id="frameworks"><h2>Frameworks</h2>{summary_table(matrix)}</section>',
        f'<section id="distribution"><h2>Error distribution</h2><figure>{render_svg(matrix.distributions())}'
        "<figcaption>Max ulps of every compared check (pass, fail, definition difference), per framework and "
        "dtype.</figcaption></figure></section>",
        f'<section id="matrix"><h2>Matrix</h2>{filters(matrix)}{legend()}{grid}</section>',
        '<aside id="details" hidden aria-live="polite"><button type="button" id="details-close" '
        'aria-label="close">×</button><h2 id="details-title"></h2><div id="details-body"></div></aside>',
        f'<script type="application/json" id="matrix-data">{script_json(payload(matrix, order))}</script>',
        f"<script>{SCRIPT}</script>", "</body></html>", ""])


__all__ = ["cell_lines", "render_html", "sections"]
