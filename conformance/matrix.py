"""The compatibility matrix: rows are an op's cases, columns are binding × dtype × mode × device.

Every cell holds the checks that fell in it (one, or many when rows are
grouped by op) and what a reader needs from them: the worst status, the
counts, and the error as ulps and as a multiple of the bound (median, p99 and
max, with the worst case named). Definition differences stay apart from
failures. Formats (Markdown, CSV, JSON, HTML) all render this one model.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Iterable

from conformance.resultset import Check, Column, Row, Run, merged_checks, number

# worst first: the status a cell shows when its checks differ
SEVERITY = ("crashed", "timeout", "error", "fail", "definition-difference", "pass", "skipped", "not-applicable")
RAN = ("pass", "definition-difference", "fail", "error", "crashed", "timeout")
IMPLEMENTATION_DEFINED = "implementation-defined:"


def quantile(values: list[float], q: float) -> float | None:
    """Return the q-quantile of values (linear interpolation), or None for no values; inf sorts last."""
    if not values:
        return None
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    if low == high or ordered[high] == ordered[low]:
        return ordered[low]
    if math.isinf(ordered[high]):
        return ordered[high] if position - low > 0.5 else ordered[low]
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass(frozen=True)
class Stats:
    """Median, p99 and max of one error measure over a cell's checks, with the check that gave the max."""

    count: int
    median: float | None
    p99: float | None
    max: float | None
    worst: str | None  # the case (op[id]) with the max

    @classmethod
    def of(cls, pairs: list[tuple[float, str]]) -> "Stats":
        values = [v for v, _ in pairs]
        worst = max(pairs, key=lambda p: p[0])[1] if pairs else None
        return cls(len(values), quantile(values, 0.5), quantile(values, 0.99), max(values) if values else None, worst)


def _measured(check: Check, field_: str) -> float | None:
    """Return a compared check's error field (inf included), or None where nothing was compared."""
    if check.record["status"] not in ("pass", "fail", "definition-difference"):
        return None
    value = number(check.record.get(field_))
    return None if value is None or math.isnan(value) else value


def is_implementation_defined(record: dict) -> bool:
    return str(record.get("message") or "").startswith(IMPLEMENTATION_DEFINED)


def convention_of(record: dict) -> str | None:
    """Return the convention a definition-difference record follows, from its classification."""
    classification = record.get("classification") or ""
    if record["status"] == "definition-difference" and classification.startswith("definition-difference:"):
        return classification.split(":", 1)[1].strip()
    return None


@dataclass
class Cell:
    """The checks at one row × column, and what they add up to."""

    checks: list[Check]
    counts: Counter = field(init=False)
    status: str = field(init=False)
    ulp: Stats = field(init=False)
    over_bound: Stats = field(init=False)
    conventions: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        self.counts = Counter(c.record["status"] for c in self.checks)
        self.status = next(s for s in SEVERITY if self.counts.get(s)) if self.checks else "not-applicable"
        self.ulp = Stats.of([(v, c.row.label()) for c in self.checks if (v := _measured(c, "max_ulp")) is not None])
        self.over_bound = Stats.of([(v, c.row.label()) for c in self.checks
                                    if (v := _measured(c, "err_over_bound")) is not None])
        self.conventions = tuple(sorted({n for c in self.checks if (n := convention_of(c.record))}))

    @property
    def ran(self) -> int:
        return sum(self.counts.get(s, 0) for s in RAN)

    def ordered_checks(self) -> list[Check]:
        """Return the cell's checks worst first: by status severity, then by error over the bound."""
        rank = {s: i for i, s in enumerate(SEVERITY)}

        def key(check: Check):
            over = number(check.record.get("err_over_bound"))
            return rank[check.record["status"]], -(over if over is not None and not math.isnan(over) else -1.0)

        return sorted(self.checks, key=key)

    def worst_check(self) -> Check:
        """Return the check that decides the cell: the worst status, then the largest error over the bound."""
        return self.ordered_checks()[0]


@dataclass
class FrameworkSummary:
    """One framework (at one version, on one machine) over the whole matrix."""

    framework: str
    version: str
    machine: str
    counts: Counter
    ulp: Stats
    over_bound: Stats
    behaviours: Counter  # on implementation-defined cases: 'raised ...' / 'returned number' ...

    @property
    def checks(self) -> int:
        return sum(self.counts.get(s, 0) for s in RAN)

    @property
    def pass_rate(self) -> float | None:
        return self.counts.get("pass", 0) / self.checks if self.checks else None


@dataclass
class Distribution:
    """How many compared checks of one framework and dtype fell in each decade of ulps."""

    framework: str
    dtype: str
    edges: tuple[float, ...]  # decade edges in ulps: [0, 1), [1, 10), ... and a last bin for inf
    counts: list[int]
    values: list[float]


ULP_EDGES = (0.0, 1.0, 10.0, 1e2, 1e3, 1e4, 1e5, 1e6, math.inf)


def _bin(value: float) -> int:
    for i in range(len(ULP_EDGES) - 1):
        if value < ULP_EDGES[i + 1]:
            return i
    return len(ULP_EDGES) - 1  # inf


@dataclass
class Matrix:
    """Rows × columns of cells, the runs they came from, and the per-framework summaries."""

    runs: list[Run]
    rows: list[Row]
    columns: list[Column]
    cells: dict[tuple[Row, Column], Cell]
    grouped: bool = False  # rows are whole ops (case '*')

    def cell(self, row: Row, column: Column) -> Cell | None:
        return self.cells.get((row, column))

    def checks(self) -> Iterable[Check]:
        for cell in self.cells.values():
            yield from cell.checks

    def frameworks(self) -> list[FrameworkSummary]:
        """Return one summary per framework, version and machine."""
        by: dict[tuple[str, str, str], list[Check]] = defaultdict(list)
        for check in self.checks():
            c = check.column
            by[(c.framework, c.version, c.machine)].append(check)
        summaries = []
        for (framework, version, machine), checks in sorted(by.items()):
            cell = Cell(checks)
            behaviours = Counter(str(c.record["message"])[len(IMPLEMENTATION_DEFINED):].strip().split(":")[0]
                                 for c in checks if is_implementation_defined(c.record))
            summaries.append(FrameworkSummary(framework, version, machine, cell.counts, cell.ulp, cell.over_bound,
                                              behaviours))
        return summaries

    def distributions(self) -> list[Distribution]:
        """Return the ulp distribution of the compared checks per framework and dtype.

        A framework seen at several versions or on several devices (merged files) gets one
        distribution for each, labelled 'torch 2.11.0 cuda'."""
        places: dict[str, set] = defaultdict(set)
        for check in self.checks():
            c = check.column
            places[c.framework].add((c.version, c.device))

        def label(c: Column) -> str:  # the framework, with version and device where there are several
            return c.framework if len(places[c.framework]) == 1 else f"{c.framework} {c.version} {c.device}"

        values: dict[tuple[str, str], list[float]] = defaultdict(list)
        for check in self.checks():
            ulp = _measured(check, "max_ulp")
            if ulp is not None:
                values[(label(check.column), check.column.dtype)].append(ulp)
        result = []
        for (framework, dtype), vals in sorted(values.items(), key=lambda kv: (kv[0][0], dtype_order(kv[0][1]))):
            counts = [0] * len(ULP_EDGES)
            for v in vals:
                counts[_bin(v)] += 1
            result.append(Distribution(framework, dtype, ULP_EDGES, counts, sorted(vals)))
        return result


def dtype_order(dtype: str) -> tuple:
    order = ("float16", "bfloat16", "float32", "float64")
    return (order.index(dtype) if dtype in order else len(order), dtype)


def _column_order(column: Column) -> tuple:
    return (column.framework, column.binding, dtype_order(column.dtype), column.mode, column.device,
            column.machine, column.version)


def build(runs: list[Run], rows: str = "case", include_not_applicable: bool = False) -> Matrix:
    """Return the matrix of these runs; ``rows='op'`` makes one row per op and quantity, aggregating cases.

    Columns and rows where nothing ran (only not-applicable or skipped checks) are left out unless asked for.
    """
    if rows not in ("case", "op"):
        raise ValueError(f"rows must be 'case' or 'op', not {rows!r}")
    grouped: dict[tuple[Row, Column], list[Check]] = defaultdict(list)
    for check in merged_checks(runs):
        row = Row(check.row.op, "*", check.row.quantity) if rows == "op" else check.row
        grouped[(row, check.column)].append(check)
    cells = {key: Cell(checks) for key, checks in grouped.items()}
    if not include_not_applicable:
        live_rows = {r for (r, _), cell in cells.items() if cell.ran}
        live_columns = {c for (_, c), cell in cells.items() if cell.ran}
        cells = {(r, c): cell for (r, c), cell in cells.items() if r in live_rows and c in live_columns}
    row_list = sorted({r for r, _ in cells}, key=lambda r: (r.op, r.quantity != "value", r.case))
    column_list = sorted({c for _, c in cells}, key=_column_order)
    return Matrix(runs, row_list, column_list, cells, grouped=rows == "op")


def fmt_number(value: float | None, digits: int = 3) -> str:
    """Return a compact number for a report: '-', 'inf', '0', 1.4, 3.1e+04."""
    if value is None:
        return "-"
    if math.isinf(value):
        return "inf"
    if value == 0:
        return "0"
    return f"{value:.{digits}g}"


def cell_text(cell: Cell) -> str:
    """Return the short text of a cell: status, then the error (ulps and × bound) or the counts."""
    if cell.status in ("not-applicable", "skipped"):
        return "n/a" if cell.status == "not-applicable" else "skipped"
    parts = []
    if len(cell.checks) > 1:
        ran = cell.ran
        bad = sum(cell.counts.get(s, 0) for s in ("fail", "error", "crashed", "timeout"))
        parts.append(f"{cell.counts.get('pass', 0)}/{ran} pass" if not bad else f"{bad}/{ran} {cell.status}")
        if cell.counts.get("definition-difference") and cell.status != "definition-difference":
            parts.append(f"{cell.counts['definition-difference']} def-diff")
    else:
        parts.append(cell.status)
    if cell.conventions:
        parts.append(f"({', '.join(cell.conventions)})")
    if cell.ulp.max is not None:
        parts.append(f"{fmt_number(cell.ulp.max)} ulp")
    if cell.over_bound.max is not None and cell.status in ("fail", "definition-difference"):
        parts.append(f"{fmt_number(cell.over_bound.max)}× bound")
    return " ".join(parts)
