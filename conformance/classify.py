"""Classifying a failed check: a documented definition difference, a numerical error, or a bug."""

from __future__ import annotations

import math

import numpy as np

from conformance import conventions
from conformance.adapter import Binding
from conformance.cases import Case
from conformance.dtypes import widen
from conformance.compare import Target, _errors, compare_to
from conformance.tolerance import K, derive_bound, unit_roundoff


def matching_convention(case: Case, binding: Binding, inputs: dict, actual: np.ndarray, dtype: str) -> str | None:
    """Return the first convention the binding declares whose value ``actual`` matches, or None."""
    widened = widen(inputs)
    for name in binding.conventions:
        value = conventions.compute(name, case.op, widened, case.params, dtype)
        terms = conventions.compute(name, case.op, widened, {**case.params, "reduction": "none"}, dtype)
        target = Target.of(value, derive_bound(case, widened, terms, dtype), dtype)
        if compare_to(target, actual).ok:
            return name
    return None


def numerical_or_bug(case: Case, target: Target, actual: np.ndarray, dtype: str) -> str:
    """Return "numerical-error" when every element keeps about half the dtype's digits, else "bug".

    Half the digits means an error within sqrt(u) of the magnitude the op works
    with: the expected value, the terms of its formula (read back from the
    bound) and the inputs. Beyond that no rounding explains it: a wrong
    formula, reduction or convention does.
    """
    if actual.shape != target.expected.shape:
        return "bug: wrong shape"
    actual = actual.astype(np.float64)
    expected = target.expected
    if np.any(~np.isfinite(actual) & np.isfinite(expected)):
        return "numerical-error: non-finite result where the true value is finite (overflow or inf - inf)"
    if np.any(~np.isfinite(expected) & (actual != expected)):
        return "bug: finite result where the true value is not"
    u = unit_roundoff(dtype)
    magnitude = max((float(np.max(np.abs(v[np.isfinite(v)]), initial=0.0)) for v in case.inputs.values()
                     if v.dtype.kind == "f"), default=0.0)
    allowed_scale = target.allowed / (K * u)
    ok = _errors(expected, actual) <= math.sqrt(u) * (allowed_scale + magnitude)
    return "numerical-error" if ok.all() else "bug"

