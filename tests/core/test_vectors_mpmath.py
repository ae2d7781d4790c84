"""The shipped expected values are right: an independent mpmath evaluation agrees, and the tutorial's claims are tested.

Bounds, with u = 2**-53 (float64 unit roundoff) and ulp(v) = np.spacing of the float64 nearest to v:

* each unreduced value (one per element; one per sample for the softmax ops):
  ``|stored - mp| <= 2 ulp(mp)``;
* ``sum`` of n unreduced values t_i:
  ``|stored - mp| <= sum_i 2 ulp(t_i) + (n - 1) u sum_i |t_i|``: every term may carry its
  own 2 ulp, and summing n terms in float64 adds at most (n - 1) u sum |t_i| (Higham's first-order
  bound for recursive summation; NumPy's pairwise summation stays well inside it);
* ``mean``: the sum's bound divided by n, plus 1 ulp(mp) for the rounding of the division.

A non-finite expected value must be the same NaN or the same infinity as the mpmath value.
"""

from __future__ import annotations

import math
from pathlib import Path

import mp_reference as mpr
import numpy as np
import pytest
from mpmath import mp, mpf

from conformance.loader import load_paths

VECTORS = Path(__file__).resolve().parents[2] / "vectors"
U = 2.0**-53
CORPUS = load_paths([VECTORS])
VALUE_CASES = [case for case in CORPUS.cases if case.outcome == "value"]
CLAIM_FLAGS = ("ClaimHolds", "ClaimBreaks", "ClaimBreaksFloat32")
CLAIM_CASES = [case for case in VALUE_CASES if set(case.flags) & set(CLAIM_FLAGS)]
_MP_CACHE: dict[str, tuple[np.ndarray, object]] = {}


def mp_values(case) -> tuple[np.ndarray, object]:
    """Return (unreduced mpf values, reduced mpf value or array) for a case, computed once per case."""
    if case.key not in _MP_CACHE:
        terms = mpr.unreduced(case.op, case.inputs, case.params)
        _MP_CACHE[case.key] = (terms, mpr.reduce(terms, case.params["reduction"]))
    return _MP_CACHE[case.key]


def ulp(value) -> float:
    """Return the float64 spacing at the float64 nearest to an mpf value."""
    return float(np.spacing(abs(mpr.to_float(value))))


def _special_mismatch(stored: float, exact) -> str | None:
    want = mpr.to_float(exact)
    if math.isnan(want) or math.isinf(want) or math.isnan(stored) or math.isinf(stored):
        same = (math.isnan(want) and math.isnan(stored)) or want == stored
        return None if same else f"stored {stored!r} but mpmath gives {want!r}"
    return None


def _check_one(stored: float, exact, allowed: float, where: str) -> str | None:
    special = _special_mismatch(stored, exact)
    if special or not math.isfinite(stored):
        return f"{where}: {special}" if special else None
    err = abs(mpf(stored) - exact)
    if err <= allowed:
        return None
    return f"{where}: stored {stored!r}, mpmath {mp.nstr(exact, 20)}, difference {mp.nstr(err, 3)} > allowed {allowed:.3g}"


def allowed_error(case) -> np.ndarray:
    """Return the bound on |stored - mp| for each output value of the case (see the module docstring)."""
    terms, exact = mp_values(case)
    reduction = case.params["reduction"]
    if reduction == "none":
        return np.vectorize(lambda t: 2 * ulp(t), otypes=[float])(terms).reshape(terms.shape)
    flat = terms.ravel().tolist()
    allowed = sum(2 * ulp(t) for t in flat) + max(len(flat) - 1, 0) * U * float(mp.fsum(abs(t) for t in flat))
    if reduction == "mean":
        allowed = allowed / len(flat) + ulp(exact)
    return np.asarray(allowed)


def mp_mismatch(case, expected: np.ndarray) -> str | None:
    """Return how ``expected`` breaks the bounds against the mpmath values of ``case``, or None."""
    terms, exact = mp_values(case)
    exact = np.asarray(exact, dtype=object).reshape(np.shape(expected))
    allowed = allowed_error(case)
    for index in np.ndindex(np.shape(expected)):
        where = f"index {list(index)}" if index else f"{case.params['reduction']} of {terms.size} values"
        problem = _check_one(float(expected[index]), exact[index], float(allowed[index]), where)
        if problem:
            return problem
    return None


@pytest.mark.parametrize("case", VALUE_CASES, ids=lambda c: c.key)
def test_expected_agrees_with_mpmath(case):
    problem = mp_mismatch(case, case.expected)
    assert problem is None, f"{case.file}:{case.line} {case.key} params={case.params}: {problem}"


@pytest.mark.parametrize("key", ["mean_squared_error[random-4x5]", "softmax_cross_entropy[random-soft-16x10]",
                                 "sigmoid_cross_entropy[tutorial-5x3-sum]", "sparse_softmax_cross_entropy[random-16x10-mean]"])
def test_the_mpmath_check_rejects_values_just_outside_the_bound(key):
    case = next(c for c in VALUE_CASES if c.key == key)
    assert mp_mismatch(case, case.expected) is None
    assert mp_mismatch(case, case.expected + 2.5 * allowed_error(case)) is not None
    assert mp_mismatch(case, case.expected - 2.5 * allowed_error(case)) is not None


def test_mp_reference_textbook_values():
    ln2 = mp.log(2)
    assert mpr.weighted_bce(0.0, 1.0) == ln2 and mpr.weighted_bce(0.0, 0.0) == ln2
    assert abs(mpr.weighted_bce(0.0, 1.0, 3.0) - 3 * ln2) < mpf(10) ** -38
    assert abs(mpr.softmax_ce([1.5] * 4, [0.25] * 4) - mp.log(4)) < mpf(10) ** -38
    assert mpr.squared_error(3.0, 1.0) == 4
    # tiny losses keep their digits: these would be 0 at 40 digits without the raised precision
    assert abs(mpr.weighted_bce(100.0, 1.0) / mp.exp(mpf(-100)) - 1) < mpf(10) ** -35  # log(1 + e) = e (1 - e/2 ...)
    assert abs(mpr.sparse_softmax_ce([1.0e4, 0.0], 0) / mp.exp(mpf(-1.0e4)) - 1) < mpf(10) ** -35
    assert abs(mpr.sparse_softmax_ce([1.0e4, -1.0e4], 1) - 2.0e4) < mpf(10) ** -30


def naive(case, dtype) -> np.ndarray:
    """Return the tutorial's hand-written formula for the case, evaluated in ``dtype`` and reduced."""
    x = case.inputs["logits"].astype(dtype)
    axis = case.params.get("axis", -1)
    with np.errstate(all="ignore"):
        if case.op == "sigmoid_cross_entropy":
            y = case.inputs["labels"].astype(dtype)
            p = dtype(1) / (dtype(1) + np.exp(-x))
            values = -y * np.log(p) - (dtype(1) - y) * np.log(dtype(1) - p)
        else:
            e = np.exp(x - np.max(x, axis=axis, keepdims=True))
            log_p = np.log(e / np.sum(e, axis=axis, keepdims=True))
            if case.op == "softmax_cross_entropy":
                values = -np.sum(case.inputs["labels"].astype(dtype) * log_p, axis=axis)
            else:
                picked = np.take_along_axis(np.moveaxis(log_p, axis, -1), case.inputs["labels"][..., None], axis=-1)
                values = -picked[..., 0]
        if case.params["reduction"] == "none":
            return values.astype(np.float64)
        total = np.sum(values.astype(np.float64))
        return total / values.size if case.params["reduction"] == "mean" else total


def deviation(naive_value: np.ndarray, expected: np.ndarray) -> float:
    """Return max |naive - expected| / max(1, |expected|), inf where either is not finite."""
    naive_value, expected = np.asarray(naive_value), np.asarray(expected)
    if not (np.all(np.isfinite(naive_value)) and np.all(np.isfinite(expected))):
        return math.inf
    return float(np.max(np.abs(naive_value - expected) / np.maximum(1.0, np.abs(expected))))


@pytest.mark.parametrize("case", CLAIM_CASES, ids=lambda c: c.key)
def test_tutorial_claim(case):
    dev64, dev32 = deviation(naive(case, np.float64), case.expected), deviation(naive(case, np.float32), case.expected)
    where = f"{case.key} ({', '.join(case.flags)}): naive formula deviates {dev64:.3g} in float64, {dev32:.3g} in float32"
    if "ClaimHolds" in case.flags:
        assert dev64 <= 1e-12, f"{where}; the claim should hold to 1e-12 in float64"
    if "ClaimBreaks" in case.flags:
        assert dev64 > 1e-3, f"{where}; the claim should break in float64"
    if "ClaimBreaksFloat32" in case.flags:
        assert dev64 <= 1e-12 and dev32 > 1e-3, f"{where}; the claim should hold in float64 but break in float32"


@pytest.mark.parametrize("op", ["sigmoid_cross_entropy", "softmax_cross_entropy", "sparse_softmax_cross_entropy"])
def test_every_claim_flag_is_exercised(op):
    flags = {flag for case in CLAIM_CASES if case.op == op for flag in case.flags}
    assert set(CLAIM_FLAGS) <= flags, f"{op}: claim flags present {sorted(flags & set(CLAIM_FLAGS))}"
