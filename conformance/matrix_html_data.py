"""The data an HTML matrix page embeds for its details panel, and how it is embedded safely.

Every cell gets an entry (its place, status, short text, counts and error
statistics) and its checks, worst first, capped; every value is already a
display string, so the page's script only copies text into the DOM. The JSON
goes inside ``<script type="application/json">`` with ``<``, ``>`` and ``&``
escaped, so no string from a results file can close the block.
"""

from __future__ import annotations

import json
import math
from typing import Any

from conformance.matrix import Cell, Matrix, Stats, cell_text, fmt_number
from conformance.resultset import Check, Column, Row, number

CHECKS_PER_CELL = 100  # the details list of an aggregated cell stops here; its stats still cover every check
WORST_FIELDS = ("index", "expected", "actual", "abs_err", "rel_err", "ulp", "bound")
# long texts that repeat over many checks: the page stores each once, and a check holds its place in that list
SHARED_FIELDS = ("call", "expected_source", "classification", "bound", "behaviour", "result_dtype")


class Strings:
    """A list of distinct strings, each given a number the first time it is seen."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}

    def __call__(self, text: str) -> int:
        return self.index.setdefault(text, len(self.index))

    def list(self) -> list[str]:
        return list(self.index)


def exact(value: Any) -> str | None:
    """Return a value for display at full precision: floats as Python's shortest round-trip text."""
    if value is None:
        return None
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(value, default=str)
    return str(value)


def short(value: Any) -> str | None:
    """Return a number at 3 significant digits ('inf' and 'nan' kept), other values as text."""
    if value is None:
        return None
    x = number(value)
    if x is None:
        return str(value)
    return "nan" if math.isnan(x) else fmt_number(x)


def _stats(stats: Stats) -> dict:
    return {"n": stats.count, "median": short(stats.median), "p99": short(stats.p99), "max": short(stats.max),
            "worst": stats.worst}


def check_entry(check: Check, strings: Strings, row_label: str | None = None) -> dict:
    """Return what the details panel shows of one check, as display strings, without empty fields.

    The case is left out when it is ``row_label``; texts in SHARED_FIELDS become their number in ``strings``.
    """
    r = check.record
    worst = r.get("worst") if isinstance(r.get("worst"), dict) else {}
    entry = {
        "case": check.row.label(), "status": r["status"], "classification": r.get("classification"),
        "max_ulp": short(r.get("max_ulp")), "err_over_bound": short(r.get("err_over_bound")),
        "max_abs_err": short(r.get("max_abs_err")), "max_rel_err": short(r.get("max_rel_err")),
        "bound": exact(r.get("bound")), "expected_source": exact(r.get("expected_source")),
        "behaviour": exact(r.get("behaviour")), "result_dtype": exact(r.get("result_dtype")),
        "flushed_to_zero": exact(r.get("flushed_to_zero")), "call": exact(r.get("call")),
        "message": exact(r.get("message")), "run": check.run.index,
        "worst": {k: (exact(worst[k]) if k in ("index", "expected", "actual") else short(worst[k]))
                  for k in WORST_FIELDS if worst.get(k) is not None} or None,
    }
    if entry["case"] == row_label:
        del entry["case"]
    entry.update({k: strings(entry[k]) for k in SHARED_FIELDS if entry[k] not in (None, "")})
    return {k: v for k, v in entry.items() if v not in (None, "")}


def cell_entry(cell: Cell, row: Row, rows: dict[Row, int], column: int, strings: Strings) -> dict:
    """Return one cell's entry: place, status, short text, its first checks, and for many checks counts and stats."""
    checks = cell.ordered_checks()
    entry = {"r": rows[row], "c": column, "status": cell.status, "text": cell_text(cell), "n": len(cell.checks),
             "checks": [check_entry(c, strings, row.label()) for c in checks[:CHECKS_PER_CELL]]}
    if cell.conventions:
        entry["conventions"] = list(cell.conventions)
    if len(cell.checks) > 1:
        entry.update(counts=dict(cell.counts), ulp=_stats(cell.ulp), over_bound=_stats(cell.over_bound))
    return entry


def column_entry(column: Column) -> dict:
    return {"framework": column.framework, "version": column.version, "binding": column.binding,
            "dtype": column.dtype, "mode": column.mode, "device": column.device, "machine": column.machine}


def payload(matrix: Matrix, cell_order: list[tuple[Row, Column]]) -> dict:
    """Return the page's data: runs, rows, columns and the cells in ``cell_order`` (a cell's index is its place)."""
    rows = {row: i for i, row in enumerate(matrix.rows)}
    columns = {column: i for i, column in enumerate(matrix.columns)}
    strings = Strings()
    cells = [cell_entry(matrix.cells[(row, column)], row, rows, columns[column], strings)
             for row, column in cell_order]
    return {
        "grouped": matrix.grouped,
        "runs": [run.label() for run in matrix.runs],
        "rows": [{"op": r.op, "case": r.case, "quantity": r.quantity, "label": r.label()} for r in matrix.rows],
        "columns": [column_entry(c) for c in matrix.columns],
        "strings": strings.list(),
        "cells": cells,
    }


def _plain(value: Any) -> Any:
    """Return ``value`` with non-finite floats as text, so it is strict JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def script_json(value: Any) -> str:
    """Return JSON safe inside a <script> element: no '<', '>' or '&' (nor U+2028/2029) left as such."""
    text = json.dumps(_plain(value), ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    for raw, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                         ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(raw, escaped)
    return text


__all__ = ["cell_entry", "check_entry", "exact", "payload", "script_json", "short"]
