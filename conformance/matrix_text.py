"""The matrix as Markdown: the runs, a summary per framework, the error distribution, one table per op.

Markdown tables cannot be wide, so each op's table has a row per binding,
mode, device and machine (and case, when rows are cases) and a column per
dtype. Text from vectors and exceptions is escaped for Markdown and HTML.
"""

from __future__ import annotations

from collections import defaultdict

from conformance.matrix import ULP_EDGES, Matrix, cell_text, dtype_order, fmt_number, quantile

STATUS_MARK = {
    "pass": "✅", "definition-difference": "🔷", "fail": "❌", "error": "⚠️", "crashed": "💥", "timeout": "⏱️",
    "not-applicable": "", "skipped": "",
}


def md_escape(text: object) -> str:
    """Return text safe inside a Markdown table cell (no pipes, no raw HTML, no line breaks)."""
    return (str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("|", "\\|")
            .replace("\n", " ").replace("`", "'"))


def _table(head: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def bin_labels() -> list[str]:
    """Return the labels of the ulp decades: '<1', '1-10', ..., 'inf'."""
    labels = []
    for low, high in zip(ULP_EDGES, ULP_EDGES[1:]):
        labels.append("<1" if low == 0 else (f"≥{fmt_number(low)}" if high == float("inf") else
                                             f"{fmt_number(low)}–{fmt_number(high)}"))
    return labels + ["inf"]


def versions_text(framework: str, versions: dict) -> str:
    """Return 'jax 0.11.2 (jaxlib 0.11.2, optax 0.2.8)' from a header's distribution versions."""
    main = versions.get(framework)
    others = ", ".join(f"{dist} {ver}" for dist, ver in versions.items() if ver and dist != framework)
    text = f"{framework} {main}" if main else framework
    return f"{text} ({others})" if others else text


def _runs(matrix: Matrix) -> list[str]:
    lines = []
    for run in matrix.runs:
        versions = "; ".join(versions_text(name, info.get("versions") or {})
                             for name, info in sorted((run.header.get("frameworks") or {}).items())
                             if info.get("available", True))
        closed = "" if run.complete else " — **incomplete run** (cut short; every record in it is a finished check)"
        lines.append(f"- `{md_escape(run.label())}`: {md_escape(versions) or 'no framework'}{closed}")
    return lines


def _summary(matrix: Matrix) -> list[str]:
    head = ["framework", "version", "machine", "checks", "pass", "def-diff", "fail", "error/crash/timeout",
            "worst ulp (case)", "worst × bound (case)", "implementation-defined cases"]
    rows = []
    for s in matrix.frameworks():
        c = s.counts
        rate = f"{c.get('pass', 0)} ({100 * s.pass_rate:.1f}%)" if s.pass_rate is not None else "0"
        crashes = c.get("error", 0) + c.get("crashed", 0) + c.get("timeout", 0)
        behaviour = ", ".join(f"{n} {what}" for what, n in s.behaviours.most_common()) or "-"
        rows.append([md_escape(s.framework), md_escape(s.version), md_escape(s.machine), str(s.checks), rate,
                     str(c.get("definition-difference", 0)), str(c.get("fail", 0)), str(crashes),
                     f"{fmt_number(s.ulp.max)} ({md_escape(s.ulp.worst or '-')})",
                     f"{fmt_number(s.over_bound.max)} ({md_escape(s.over_bound.worst or '-')})", md_escape(behaviour)])
    return _table(head, rows)


def _distribution(matrix: Matrix) -> list[str]:
    head = ["framework", "dtype", "checks", "median ulp", "p99 ulp", *bin_labels()]
    rows = []
    for d in matrix.distributions():
        rows.append([md_escape(d.framework), d.dtype, str(len(d.values)), fmt_number(quantile(d.values, 0.5)),
                     fmt_number(quantile(d.values, 0.99)), *(str(n) if n else "·" for n in d.counts)])
    return _table(head, rows)


def _op_tables(matrix: Matrix) -> list[str]:
    lines: list[str] = []
    by_op: dict[str, list] = defaultdict(list)
    for row in matrix.rows:
        by_op[row.op].append(row)
    by_place = {((c.framework, c.binding, c.mode, c.device, c.machine, c.version), c.dtype): c for c in matrix.columns}
    for op, rows in by_op.items():
        places = sorted({(c.framework, c.binding, c.mode, c.device, c.machine, c.version)
                         for c in matrix.columns for r in rows if matrix.cell(r, c)})
        dtypes = sorted({c.dtype for c in matrix.columns for r in rows if matrix.cell(r, c)}, key=dtype_order)
        head = ([] if matrix.grouped else ["case"]) + ["binding", "mode", "device", *dtypes]
        body = []
        for row in rows:
            for place in places:
                framework, binding, mode, device, machine, version = place
                cells = []
                for dtype in dtypes:
                    column = by_place.get((place, dtype))
                    cell = matrix.cell(row, column) if column else None
                    cells.append(f"{STATUS_MARK[cell.status]} {md_escape(cell_text(cell))}".strip() if cell else "")
                if not any(cells):
                    continue
                where = [f"`{md_escape(binding)}` ({md_escape(framework)} {md_escape(version)})", mode,
                         f"{md_escape(device)} ({md_escape(machine)})"]
                case = [] if matrix.grouped else [md_escape(row.label())]
                if matrix.grouped and row.quantity == "grad":
                    where[0] += " — gradient"
                body.append(case + where + cells)
        lines += ["", f"### {md_escape(op)}", "", *_table(head, body)]
    return lines


def render_markdown(matrix: Matrix, title: str | None = None) -> str:
    """Return the whole matrix report as Markdown."""
    what = "ops (each cell aggregates the op's cases)" if matrix.grouped else "cases"
    lines = [f"# {md_escape(title or 'Loss-function compatibility matrix')}", "",
             f"Rows are {what}; a cell gives the status, the largest error in ulps and, for misses, how many "
             "times the bound it was. ✅ pass · 🔷 definition difference (a documented convention, not a bug) · "
             "❌ fail · ⚠️ error · 💥 crashed · ⏱️ timeout. `n/m pass` counts the cases in an aggregated cell.",
             "", "## Runs", "", *_runs(matrix), "", "## Frameworks", "", *_summary(matrix), "",
             "## Error distribution", "", "Checks per decade of the largest error (ulps of the dtype):", "",
             *_distribution(matrix), "", "## Matrix", *_op_tables(matrix), ""]
    return "\n".join(lines)
