"""The convention flags and comments of the probability-input files: right where they say a convention differs.

``LogClampDiffers`` and ``KerasClipDiffers`` mark the cases on which log-clamp-100 or keras-epsilon-clip
(docs/conventions.md) gives a value outside ``16 u (|loss| + 1) + smallest normal`` of the canonical loss on some
element or sample, in float64 or float32, on the inputs rounded to that dtype. Here both conventions and the canonical
loss are recomputed in plain Python ``math`` from their definitions (not through conformance.conventions or
conformance.reference), the flags must match that rule exactly, and conformance.conventions, whose values the comments
quote, must agree with the plain definitions.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import plain_limits as plain
import pytest
from vector_corpus import CORPUS

from conformance import conventions
from conformance.ops import OPS

OPS_WITH_CONVENTIONS = ("binary_cross_entropy", "categorical_cross_entropy")
FLAGS = {"log-clamp-100": "LogClampDiffers", "keras-epsilon-clip": "KerasClipDiffers"}
APPLIES = {"binary_cross_entropy": ("log-clamp-100", "keras-epsilon-clip"),
           "categorical_cross_entropy": ("keras-epsilon-clip",)}
DTYPES = {"float64": np.float64, "float32": np.float32}
CASES = [case for case in CORPUS.cases if case.op in OPS_WITH_CONVENTIONS and case.source["inputs"] != "generated"]
SMALL = [case for case in CASES if case.inputs["probabilities"].size <= 64]


def clamped(value: float) -> float:
    """Return max(value, -100), NaN kept."""
    return value if math.isnan(value) else max(value, -100.0)


def clipped(p: float, dtype: str) -> float:
    """Return p clipped into [1e-7, 1 - 1e-7], the limits rounded to ``dtype`` as Keras's constants are; NaN kept."""
    low, high = (float(DTYPES[dtype](v)) for v in (1.0e-7, 1.0 - 1.0e-7))
    return p if math.isnan(p) else min(max(p, low), high)


def log_clamp_binary(p: float, z: float) -> float:
    """Return PyTorch's BCELoss term: -(z max(log p, -100) + (1 - z) max(log(1 - p), -100))."""
    terms = [plain.weighted(z, clamped(plain.log(p))), plain.weighted(1 - z, clamped(plain.log_one_minus(p)))]
    return -math.fsum(terms)


def keras_binary(p: float, z: float, dtype: str) -> float:
    """Return Keras's term: p clipped, then -(z log p + (1 - z) log(1 - p)) with 1 - p rounded first, as Keras does."""
    p = clipped(p, dtype)
    return -math.fsum([plain.weighted(z, plain.log(p)), plain.weighted(1 - z, plain.log(1 - p))])


def keras_categorical(ps: list[float], zs: list[float], dtype: str) -> float:
    """Return Keras's loss: p divided by its row sum, clipped, then -sum z log p."""
    total = math.fsum(ps) if not any(math.isnan(p) for p in ps) else math.nan
    return -math.fsum(plain.weighted(z, plain.log(clipped(p / total, dtype))) for p, z in zip(ps, zs))


def rounded(case, dtype: str):
    """Return the case with its probabilities rounded to ``dtype`` (held as float64), as the runner checks it there."""
    inputs = {**case.inputs, "probabilities": case.inputs["probabilities"].astype(DTYPES[dtype]).astype(np.float64)}
    return dataclasses.replace(case, inputs=inputs)


def plain_convention(name: str, case, dtype: str) -> np.ndarray:
    """Return the unreduced values of convention ``name`` on the case, computed here in plain math."""
    p, z = case.inputs["probabilities"], case.inputs["labels"]
    if case.op == "binary_cross_entropy":
        one = log_clamp_binary if name == "log-clamp-100" else (lambda a, b: keras_binary(a, b, dtype))
        return np.vectorize(one, otypes=[float])(p, z)
    ps, zs = plain.samples(case)
    rows = zip(ps.reshape(-1, ps.shape[-1]).tolist(), zs.reshape(-1, zs.shape[-1]).tolist())
    return np.array([keras_categorical(a, b, dtype) for a, b in rows], dtype=float).reshape(ps.shape[:-1])


def differs(canonical: np.ndarray, other: np.ndarray, dtype: str) -> bool:
    """Return whether ``other`` leaves 16 u (|canonical| + 1) + the smallest normal anywhere (NaN matches NaN)."""
    info = np.finfo(DTYPES[dtype])
    special = ~np.isfinite(canonical) | ~np.isfinite(other)
    if not np.array_equal(canonical[special], other[special], equal_nan=True):
        return True
    allowed = 16 * float(info.eps) / 2 * (np.abs(canonical) + 1) + float(info.smallest_normal)
    return bool(np.any(np.abs(canonical - other)[~special] > allowed[~special]))


def _close(got: np.ndarray, want: np.ndarray) -> bool:
    got, want = np.asarray(got, float), np.asarray(want, float)
    special = ~np.isfinite(want) | ~np.isfinite(got)
    return bool(np.array_equal(got[special], want[special], equal_nan=True)
                and np.allclose(got[~special], want[~special], rtol=1e-13, atol=1e-300))


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.key)
def test_convention_flags_mark_exactly_the_cases_where_a_convention_differs(case):
    want = set()
    for name in APPLIES[case.op]:
        for dtype in DTYPES:
            there = rounded(case, dtype)
            with np.errstate(all="ignore"):
                if differs(plain.unreduced(there), plain_convention(name, there, dtype), dtype):
                    want.add(FLAGS[name])
    assert set(case.flags) & set(FLAGS.values()) == want, f"{case.key}: flags {case.flags}, conventions differ: {want}"


@pytest.mark.parametrize("case", SMALL, ids=lambda c: c.key)
def test_conformance_conventions_agree_with_their_plain_definitions(case):
    for name in APPLIES[case.op]:
        for dtype in DTYPES:
            there = rounded(case, dtype)
            with np.errstate(all="ignore"):
                got = conventions.compute(name, case.op, there.inputs, {**case.params, "reduction": "none"}, dtype)
                want = plain_convention(name, there, dtype)
            assert _close(got, want), f"{case.key} {name} {dtype}: conformance.conventions {got}, plain {want}"


@pytest.mark.parametrize("case", [c for c in CASES if set(c.flags) & set(FLAGS.values())], ids=lambda c: c.key)
def test_flagged_comments_quote_each_convention_in_both_dtypes(case):
    for name in APPLIES[case.op]:
        assert case.comment.count(f"{name} gives") == 2, f"{case.key}: the comment quotes {name} once per dtype"
    assert "In float64 the canonical formula gives" in case.comment, case.key
    assert "rounded to float32 the canonical formula gives" in case.comment, case.key


def test_the_conventions_differ_where_the_documentation_says():
    binary = [c for c in CASES if c.op == "binary_cross_entropy"]
    flagged = {flag: {c.id for c in binary if flag in c.flags} for flag in FLAGS.values()}
    # -log p below e^-100 (p = 1e-45, 1e-300, 0) is where the clamp bites; the clip bites below 1e-7 and above 1 - 1e-7
    assert {"near-zero-probabilities", "probabilities-0-and-1"} <= flagged["LogClampDiffers"], flagged
    assert "keras-clip-limits" not in flagged["KerasClipDiffers"] | flagged["LogClampDiffers"], flagged
    assert log_clamp_binary(1.0e-45, 1.0) == 100 and log_clamp_binary(0.0, 1.0) == 100
    assert math.isclose(keras_binary(0.0, 1.0, "float64"), -math.log(1.0e-7))
    assert math.isclose(keras_categorical([0.25, 0.125, 0.125], [1.0, 0.0, 0.0], "float64"), math.log(2))
    assert set(APPLIES) == {op for op in OPS if any(op in c.ops for c in conventions.CONVENTIONS.values())}
