"""Results files written by hand, for the tests of what reads them (matrix, diff)."""

from __future__ import annotations

from pathlib import Path

from conformance.results import ResultsWriter, check_record, header_record, summary_record
from collections import Counter


def header(frameworks: dict[str, str] | None = None, python: str = "3.11.7", cpu: str = "Test CPU",
           gpu: list[str] | None = None, **extra) -> dict:
    """Return a header record; ``frameworks`` maps a framework to its version."""
    frameworks = frameworks or {"torch": "2.13.0"}
    record = header_record("0.1.0", "sha256:test", {name: {"versions": {name: version}, "available": True}
                                                   for name, version in frameworks.items()}, gpu or [], ["run"])
    record.update(python=python, cpu=cpu, **extra)
    return record


def check(case: str = "c1", status: str = "pass", ulp: float | None = 0.5, over: float | None = 0.01,
          framework: str = "torch", version: str = "2.13.0", binding: str = "torch.fn", op: str = "mean_squared_error",
          dtype: str = "float32", mode: str = "eager", device: str = "cpu", quantity: str = "value", **fields) -> dict:
    """Return a check record with the fields a report reads."""
    return check_record(case=case, op=op, framework=framework, framework_version=version, binding=binding,
                        dtype=dtype, mode=mode, device=device, quantity=quantity, status=status, max_ulp=ulp,
                        err_over_bound=over, **fields)


def write(path: Path, checks: list[dict], head: dict | None = None, complete: bool = True) -> Path:
    """Write a results file: the header, the checks, and (if complete) the summary."""
    with open(path, "w", encoding="utf-8") as stream:
        writer = ResultsWriter(stream)
        writer.write(head or header())
        for record in checks:
            writer.write(record)
        if complete:
            writer.write(summary_record(Counter(r["status"] for r in checks), True, 1.0, 0))
    return path
