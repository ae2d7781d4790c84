"""Reading results files back, one or many, into runs that reports and diffs can use.

A results file is one run: a header (kit, vectors, Python, platform, CPU, GPUs,
framework versions), check records, and a summary (absent if the run was
killed). Several files (one per machine or CI job) merge into one list of
checks, each tagged with the run it came from, so a report can tell the same
binding on two machines or two framework versions apart.
"""

from __future__ import annotations

import gzip
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance.results import STATUSES


class ResultsError(Exception):
    """A results file cannot be read: names the file, the line and what is wrong."""


@dataclass
class Run:
    """One results file: where it came from and what it holds."""

    path: str
    header: dict
    checks: list[dict]
    summary: dict | None  # None when the run never closed the file (killed)
    index: int = 0  # the file's position among those given

    @property
    def complete(self) -> bool:
        return bool(self.summary and self.summary.get("complete"))

    def versions(self, framework: str) -> dict[str, str | None]:
        """Return the distribution versions the header gives for ``framework``."""
        return dict((self.header.get("frameworks", {}).get(framework) or {}).get("versions") or {})

    def machine(self, device: str) -> str:
        """Return a short label of the hardware a check on ``device`` ran on, from the header."""
        if device.startswith("cuda") and self.header.get("gpu"):
            return self.header["gpu"][0].split(",")[0].strip()
        return self.header.get("cpu") or self.header.get("platform") or "unknown CPU"

    def label(self) -> str:
        """Return 'file (Python x, machine)' for listing the runs in a report."""
        gpus = ", ".join(g.split(",")[0] for g in self.header.get("gpu") or [])
        where = self.header.get("cpu") or "?"
        return f"{Path(self.path).name} (Python {self.header.get('python', '?')}, {where}{'; ' + gpus if gpus else ''})"


def number(value: Any) -> float | None:
    """Return a record's numeric field as a float ('inf' and 'nan' strings included), or None."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def finite(value: Any) -> float | None:
    """Return the numeric field if it is a finite number, else None."""
    x = number(value)
    return x if x is not None and math.isfinite(x) else None


def _lines(stream, path):
    """Yield (number, line) of a results file; a damaged gzip file is named like a damaged line."""
    number_ = 0
    try:
        for number_, line in enumerate(stream, start=1):
            yield number_, line
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise ResultsError(f"{path}:{number_ + 1}: cannot be read ({exc})") from None


def read_run(path: str | Path, index: int = 0) -> Run:
    """Return the run in one results file (``.jsonl`` or ``.jsonl.gz``); raise ResultsError naming the file
    and line of any problem."""
    header, summary, checks = None, None, []
    try:
        stream = gzip.open(path, "rt", encoding="utf-8") if str(path).endswith(".gz") else open(path, encoding="utf-8")
    except OSError as exc:
        raise ResultsError(f"{path}: cannot read: {exc.strerror or exc}") from None
    with stream:
        for number_, line in _lines(stream, path):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ResultsError(f"{path}:{number_}: not a JSON record ({exc.msg})") from None
            kind = record.get("record") if isinstance(record, dict) else None
            if kind == "header":
                header = record
            elif kind == "summary":
                summary = record
            elif kind == "check":
                missing = [k for k in ("case", "op", "framework", "binding", "dtype", "mode", "device", "status")
                           if k not in record]
                if missing or record.get("status") not in STATUSES:
                    what = f"lacks {', '.join(missing)}" if missing else f"has unknown status {record.get('status')!r}"
                    raise ResultsError(f"{path}:{number_}: check record {what}")
                checks.append(record)
            else:
                raise ResultsError(f"{path}:{number_}: not a results record (no 'record': header/check/summary)")
    if header is None:
        raise ResultsError(f"{path}: no header record: not a loss-conformance results file")
    return Run(str(path), header, checks, summary, index)


def read_runs(paths: list[str | Path]) -> list[Run]:
    """Return the runs of several results files, in the order given."""
    return [read_run(path, i) for i, path in enumerate(paths)]


@dataclass(frozen=True)
class Column:
    """Where a check ran: binding × dtype × mode × device, with the framework version and machine."""

    framework: str
    version: str
    binding: str
    dtype: str
    mode: str
    device: str
    machine: str

    def label(self) -> str:
        return f"{self.binding} {self.dtype} {self.mode} {self.device}"

    def environment(self) -> str:
        return f"{self.framework} {self.version} on {self.machine}"


@dataclass(frozen=True)
class Row:
    """What was checked: an op's case, its value or its gradient. ``case`` is '*' for a row over all cases."""

    op: str
    case: str
    quantity: str = "value"

    def label(self) -> str:
        name = f"{self.op}[{self.case}]" if self.case != "*" else self.op
        return name + (" (gradient)" if self.quantity == "grad" else "")


@dataclass
class Check:
    """A check record with the run it came from and its place in a matrix."""

    record: dict
    run: Run
    column: Column = field(init=False)
    row: Row = field(init=False)

    def __post_init__(self) -> None:
        r = self.record
        version = r.get("framework_version") or self.run.versions(r["framework"]).get(r["framework"]) or "?"
        self.column = Column(r["framework"], str(version), r.get("binding") or "-", r["dtype"], r["mode"],
                             r["device"], self.run.machine(r["device"]))
        self.row = Row(r["op"], r["case"], r.get("quantity") or "value")


def merged_checks(runs: list[Run]) -> list[Check]:
    """Return every check of every run; a later file's record replaces an earlier one for the same check."""
    latest: dict[tuple, Check] = {}
    for run in runs:
        for record in run.checks:
            check = Check(record, run)
            latest[(check.row, check.column)] = check
    return list(latest.values())
