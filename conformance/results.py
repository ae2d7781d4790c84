"""Results files: JSON Lines, a header record, one record per check, a closing summary.

Records are written and flushed as checks finish, so an interrupted run keeps
everything it finished. Every check record has the same keys (None where a
field does not apply), so tools can read them without guessing.
"""

from __future__ import annotations

import json
import math
import os
import platform
import sys
import time
from collections import Counter
from pathlib import Path
from typing import IO, Any, Iterable, Iterator

STATUSES = ("pass", "definition-difference", "fail", "error", "not-applicable", "skipped", "crashed", "timeout")
FAILING = ("fail", "error", "crashed", "timeout")
WRONG_CALL = "wrong-call"  # the classification of an error that says the API does not take the call at all
CHECK_FIELDS = (
    "case", "op", "framework", "framework_version", "binding", "call", "kind", "quantity", "dtype", "mode",
    "device", "status", "max_abs_err", "max_rel_err", "max_ulp", "err_over_bound", "bound", "expected_source",
    "worst", "classification", "flushed_to_zero", "published", "behaviour", "result_dtype", "message", "seconds", "peak_rss_mb",
    "file",
)


def check_record(**fields: Any) -> dict:
    """Return a check record with every standard key present."""
    unknown = set(fields) - set(CHECK_FIELDS)
    if unknown:
        raise ValueError(f"unknown record fields {sorted(unknown)}")
    if fields.get("status") not in STATUSES:
        raise ValueError(f"unknown status {fields.get('status')!r}")
    return {"record": "check", **{key: fields.get(key) for key in CHECK_FIELDS}}


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def header_record(kit_version: str, vectors_digest: str, frameworks: dict, gpus: list[str], argv: list[str]) -> dict:
    """Return the header record that opens a results file."""
    return {
        "record": "header",
        "format": "loss-conformance-results/1",
        "kit_version": kit_version,
        "vectors_digest": vectors_digest,
        "python": platform.python_version(),
        "executable": sys.executable,
        "platform": platform.platform(),
        "cpu": _cpu(),
        "cpu_count": os.cpu_count(),
        "gpu": gpus,
        "frameworks": frameworks,
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "argv": argv,
    }


def summary_record(counts: Counter, complete: bool, seconds: float, problems: int) -> dict:
    """Return the record that closes a results file."""
    return {
        "record": "summary",
        "complete": complete,
        "counts": {status: counts.get(status, 0) for status in STATUSES},
        "vector_problems": problems,
        "seconds": round(seconds, 3),
    }


def json_safe(value: Any) -> Any:
    """Return ``value`` with non-finite floats as strings, so the file stays strict JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


class ResultsWriter:
    """Writes records to a JSON Lines stream, flushing each one."""

    def __init__(self, stream: IO[str]):
        self.stream = stream

    def write(self, record: dict) -> None:
        self.stream.write(json.dumps(json_safe(record), allow_nan=False) + "\n")
        self.stream.flush()


def read_results(path: str | Path) -> Iterator[dict]:
    """Yield the records of a results file, naming the line of any that is not JSON."""
    with open(path, encoding="utf-8") as stream:
        for number, line in enumerate(stream, start=1):
            if not line.strip():
                continue
            try:
                yield json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{number}: not a JSON record: {exc}") from None


def checks(records: Iterable[dict]) -> list[dict]:
    """Return only the check records."""
    return [r for r in records if r.get("record") == "check"]


def exit_code(counts: Counter) -> int:
    """Return 1 when any check failed, errored, crashed or timed out, else 0."""
    return 1 if any(counts.get(status) for status in FAILING) else 0
