"""Hand-written results files for the HTML matrix tests, some of whose strings try to break out of the page."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import pytest

from conformance.results import check_record, header_record

# text in a case id, message, binding, version, header value or file name that must stay text
PAYLOAD = "<script>alert(1)</script>\"'&</script><img src=x onerror=\"window.alerted=1\">"
ODD_FRAMEWORK = "odd<&>\"'"


def _record(case: str, framework: str, binding: str, dtype: str, status: str = "pass", ulp=None, over=None,
           op: str = "sigmoid_cross_entropy", quantity: str = "value", version: str = "1.0", **fields) -> dict:
    """Return a check record as a run writes it (non-finite numbers as strings)."""
    text = lambda x: str(x) if isinstance(x, float) and not math.isfinite(x) else x  # noqa: E731
    return check_record(case=case, op=op, framework=framework, framework_version=version, binding=binding,
                        quantity=quantity, dtype=dtype, mode="eager", device="cpu", status=status,
                        max_ulp=text(ulp), err_over_bound=text(over), **fields)


def _write_results(path: Path, records: list[dict], versions: dict[str, str], **header_fields) -> Path:
    """Write a results file: a header naming the framework versions, the records, a summary."""
    frameworks = {name: {"versions": {name: v}, "available": True} for name, v in versions.items()}
    header = header_record("0.1.0", "sha256:0", frameworks, [], ["run"])
    header.update(header_fields)
    lines = [header, *records, {"record": "summary", "complete": True, "counts": {}, "vector_problems": 0,
                                "seconds": 1.0}]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return path


@pytest.fixture
def make_record():
    """Return the function that makes a check record: (case, framework, binding, dtype, status, ulp, over, ...)."""
    return _record


@pytest.fixture
def write_results():
    """Return the function that writes a results file: (path, records, {framework: version}, **header fields)."""
    return _write_results


@dataclass
class Hostile:
    path: Path
    records: list[dict]
    payload: str
    worst: dict  # the 'worst' of the one failing numpy check


@pytest.fixture
def hostile(tmp_path) -> Hostile:
    """Return a results file over three frameworks, two ops, every status kind, with PAYLOAD everywhere it can go."""
    evil_case, evil_binding, evil_version = "evil-" + PAYLOAD, "torch.evil" + PAYLOAD, "2.1" + PAYLOAD
    worst = {"index": [0, 1], "expected": 0.019852714520021738, "actual": 0.019852638244628906,
             "abs_err": 7.63e-08, "rel_err": 3.84e-06, "ulp": 200.0, "bound": 1.89e-08}
    np_ = dict(framework="numpy", binding="numpy.sigmoid_ce", version="2.0.0")
    torch = dict(framework="torch", binding=evil_binding, version=evil_version)
    torch_sm = dict(framework="torch", binding="torch.nn.functional.cross_entropy", version=evil_version,
                    op="softmax_cross_entropy")
    records = [
        _record("tutorial", dtype="float32", ulp=0.5, over=0.01, **np_),
        _record("tutorial", dtype="float64", ulp=0.0, over=0.0, **np_),
        _record(evil_case, dtype="float32", status="fail", ulp=200.0, over=4.0, worst=worst, message=PAYLOAD,
               classification="numerical-error", expected_source=PAYLOAD, bound="derived", **np_),
        _record("big", dtype="float32", ulp=3.0, over=0.1, **np_),
        _record("tutorial", dtype="float32", ulp=3.0, over=0.1, **torch),
        _record("tutorial", dtype="float64", status="fail", ulp=float("inf"), over=float("inf"),
               classification="bug: finite result where the true value is not", message="1 of 4 elements off", **torch),
        _record(evil_case, dtype="float32", status="definition-difference", ulp=5e4, over=0.5,
               classification="definition-difference: log-clamp-100", message=PAYLOAD, **torch),
        _record("big", dtype="float32", status="error", message="RuntimeError: " + PAYLOAD, **torch),
        _record("tutorial", dtype="float32", quantity="grad", ulp=12.0, over=0.2, **torch),
        _record("tutorial", dtype="float32", ulp=0.25, over=0.01, **torch_sm),
        _record("tutorial", dtype="float64", status="fail", ulp=1e7, over=30.0, classification="numerical-error",
               **torch_sm),
        _record("big", dtype="float64", status="not-applicable", message="needs float32", **torch_sm),
        _record("tutorial", dtype="float16", ulp=0.75, over=0.3, framework=ODD_FRAMEWORK, binding="odd.mse",
               op="mean_squared_error"),
    ]
    path = _write_results(tmp_path / "run<b>&\"'.jsonl", records,
                         {"numpy": "2.0.0", "torch": evil_version, ODD_FRAMEWORK: "1.0"},
                         cpu=PAYLOAD, gpu=[PAYLOAD + ", 1.0"], started=PAYLOAD)
    return Hostile(path, records, PAYLOAD, worst)
