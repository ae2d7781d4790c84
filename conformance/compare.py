"""Comparing an actual result with the expected one under a bound."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from conformance.dtypes import round_to
from conformance.tolerance import Bound, ulp


@dataclass
class Comparison:
    """How an actual result differs from the expected one; ``ok`` when every element is within its bound."""

    ok: bool
    max_abs_err: float
    max_rel_err: float
    max_ulp: float
    err_over_bound: float
    elements: int
    off: int
    worst: dict = field(default_factory=dict)
    message: str = ""


def _json_float(value: float) -> float | str:
    """Return a float JSON can hold; non-finite values become strings."""
    value = float(value)
    return value if math.isfinite(value) else str(value)


def _errors(expected: np.ndarray, actual: np.ndarray) -> np.ndarray:
    """Return |actual - expected| with NaN/inf agreement counted as zero error and disagreement as inf."""
    with np.errstate(invalid="ignore", over="ignore"):
        err = np.abs(actual - expected)
    if np.isfinite(err).all():
        return err
    same_special = (np.isnan(expected) & np.isnan(actual)) | (np.isinf(expected) & (actual == expected))
    err = np.where(same_special, 0.0, err)
    return np.where(np.isnan(err), np.inf, err)


@dataclass(frozen=True)
class Target:
    """An expected value with its bound and the per-element divisors of every error measure, computed once."""

    expected: np.ndarray
    bound: Bound
    allowed: np.ndarray
    magnitude: np.ndarray  # |expected|
    spacing: np.ndarray  # ulp of the dtype at each expected value

    @classmethod
    def of(cls, expected: np.ndarray, bound: Bound, dtype: str) -> "Target":
        expected = np.asarray(expected, dtype=np.float64)
        with np.errstate(over="ignore"):
            in_dtype = round_to(expected, dtype).astype(np.float64)
        # a true value beyond the dtype's range is correctly rounded to infinity
        expected = np.where(np.isinf(in_dtype) & np.isfinite(expected), in_dtype, expected)
        allowed = np.broadcast_to(bound.allowed, expected.shape)
        # where the true value is not finite only the same value passes (the derived bound would be inf or nan)
        allowed = np.where(np.isfinite(allowed) & np.isfinite(expected), allowed, 0.0)
        return cls(expected, bound, allowed, np.abs(expected), ulp(expected, dtype))


def _ratio(err: np.ndarray, divisor: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = err / divisor
    return ratio if not (err == 0).any() else np.where(err == 0, 0.0, ratio)


def compare(expected: np.ndarray, actual: np.ndarray, bound: Bound, dtype: str) -> Comparison:
    """Return the comparison of ``actual`` (any float dtype) with float64 ``expected``."""
    return compare_to(Target.of(expected, bound, dtype), actual)


def compare_to(target: Target, actual: np.ndarray) -> Comparison:
    """Return the comparison of ``actual`` with a precomputed target."""
    expected = target.expected
    actual = np.asarray(actual)
    if actual.shape != expected.shape:
        return Comparison(False, math.inf, math.inf, math.inf, math.inf, expected.size, expected.size,
                          message=f"shape {list(actual.shape)} where {list(expected.shape)} was expected")
    if not expected.size:
        return Comparison(True, 0.0, 0.0, 0.0, 0.0, 0, 0)
    actual = actual.astype(np.float64)
    err = _errors(expected, actual)
    ratio = _ratio(err, target.allowed)
    rel, ulps = _ratio(err, target.magnitude), _ratio(err, target.spacing)
    worst = int(np.argmax(ratio.reshape(-1)))
    index = np.unravel_index(worst, expected.shape) if expected.shape else ()
    off = int(np.count_nonzero(ratio > 1.0))
    return Comparison(
        ok=off == 0,
        max_abs_err=float(err.max()),
        max_rel_err=float(rel.max()),
        max_ulp=float(ulps.max()),
        err_over_bound=float(ratio.max()),
        elements=expected.size,
        off=off,
        worst={
            "index": [int(i) for i in index],
            "expected": _json_float(expected[index]),
            "actual": _json_float(actual[index]),
            "abs_err": _json_float(err[index]),
            "rel_err": _json_float(rel[index]),
            "ulp": _json_float(ulps[index]),
            "bound": _json_float(target.allowed[index]),
        },
    )


def _fmt(value: float | str) -> str:
    return value if isinstance(value, str) else f"{value:.3g}"


def describe_failure(comparison: Comparison, bound: Bound) -> str:
    """Return the one-paragraph explanation of a failed comparison."""
    if comparison.message:
        return comparison.message
    w = comparison.worst
    return (
        f"{comparison.off} of {comparison.elements} elements off; worst at index {w['index']}: "
        f"expected {w['expected']}, got {w['actual']} (abs err {_fmt(w['abs_err'])}, "
        f"rel err {_fmt(w['rel_err'])}, {_fmt(w['ulp'])} ulp, {_fmt(comparison.err_over_bound)}x the bound "
        f"{_fmt(w['bound'])}); bound: {bound.describe()}"
    )
