"""The matrix as data: CSV (one line per cell) and JSON (runs, summaries, distributions, cells)."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict

from conformance.matrix import Cell, Matrix, Stats
from conformance.results import STATUSES, json_safe

CSV_FIELDS = (
    "op", "case", "quantity", "framework", "version", "binding", "dtype", "mode", "device", "machine", "status",
    "checks", *STATUSES, "conventions", "ulp_median", "ulp_p99", "ulp_max", "over_bound_median", "over_bound_p99",
    "over_bound_max", "worst_case", "worst_message",
)


def _stats(prefix: str, stats: Stats) -> dict:
    return {f"{prefix}_median": stats.median, f"{prefix}_p99": stats.p99, f"{prefix}_max": stats.max}


def cell_fields(matrix: Matrix, key, cell: Cell) -> dict:
    """Return the flat fields of one cell: where, the status counts, the error stats and the worst check."""
    row, column = key
    worst = cell.worst_check().record
    return {
        "op": row.op, "case": row.case, "quantity": row.quantity, "framework": column.framework,
        "version": column.version, "binding": column.binding, "dtype": column.dtype, "mode": column.mode,
        "device": column.device, "machine": column.machine, "status": cell.status, "checks": len(cell.checks),
        **{status: cell.counts.get(status, 0) for status in STATUSES},
        "conventions": ",".join(cell.conventions), **_stats("ulp", cell.ulp), **_stats("over_bound", cell.over_bound),
        "worst_case": f"{worst['op']}[{worst['case']}]", "worst_message": worst.get("message"),
    }


def _ordered_cells(matrix: Matrix):
    for row in matrix.rows:
        for column in matrix.columns:
            cell = matrix.cell(row, column)
            if cell:
                yield (row, column), cell


def render_csv(matrix: Matrix) -> str:
    """Return one CSV line per cell; numbers as Python writes them ('inf' for infinity)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    for key, cell in _ordered_cells(matrix):
        writer.writerow({k: ("" if v is None else v) for k, v in cell_fields(matrix, key, cell).items()})
    return out.getvalue()


def matrix_document(matrix: Matrix) -> dict:
    """Return the matrix as one JSON-ready document (non-finite numbers as strings)."""
    cells = []
    for key, cell in _ordered_cells(matrix):
        fields = cell_fields(matrix, key, cell)
        fields["worst_record"] = cell.worst_check().record
        fields["ulp_worst_case"], fields["over_bound_worst_case"] = cell.ulp.worst, cell.over_bound.worst
        cells.append(fields)
    frameworks = [{
        "framework": s.framework, "version": s.version, "machine": s.machine, "checks": s.checks,
        "pass_rate": s.pass_rate, "counts": dict(s.counts), "ulp": asdict(s.ulp), "over_bound": asdict(s.over_bound),
        "implementation_defined": dict(s.behaviours),
    } for s in matrix.frameworks()]
    distributions = [{"framework": d.framework, "dtype": d.dtype, "ulp_edges": list(d.edges), "counts": d.counts,
                      "checks": len(d.values)} for d in matrix.distributions()]
    runs = [{"path": run.path, "complete": run.complete, "header": run.header, "summary": run.summary}
            for run in matrix.runs]
    return json_safe({"format": "loss-conformance-matrix/1", "rows": "op" if matrix.grouped else "case", "runs": runs,
                   "frameworks": frameworks, "distributions": distributions, "cells": cells})


def render_json(matrix: Matrix) -> str:
    return json.dumps(matrix_document(matrix), indent=1, allow_nan=False) + "\n"
