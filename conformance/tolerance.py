"""Error bounds: how far a framework's result may be from the float64 reference.

The bound of an output element is derived, not looked up (``docs/tolerances.md``):

    bound = K * u * (|expected| + scale) + tiny  [+ (n - 1) * u * sum|terms|  for sum/mean]

with ``u`` the unit roundoff of the dtype, ``K`` a small constant for the few
roundings inside one op, ``scale`` the magnitude of the terms the op's
documented formula adds up (a result near zero may be their difference; see
:func:`term_scale`) and the last term Higham's bound for summing n
non-negative terms; ``tiny`` is the dtype's smallest normal number, since a
result below the normal range may be flushed to zero. A case may override the bound
for a dtype with a flat ``rtol * |expected| + atol``, always with a reason.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from conformance.cases import Case
from conformance.gradients import term_scale as grad_terms

# Significand bits (with the implicit one) and smallest normal exponent of each dtype.
PRECISION = {"float64": (53, -1022), "float32": (24, -126), "float16": (11, -14), "bfloat16": (8, -126)}
K = 16  # roundings inside one op evaluation, with room for a libm that is off by a few ulp


def unit_roundoff(dtype: str) -> float:
    """Return u = 2**-p for the dtype (half the distance from 1 to the next number)."""
    return math.ldexp(1.0, -PRECISION[dtype][0])


def ulp(values: np.ndarray, dtype: str) -> np.ndarray:
    """Return the spacing of ``dtype`` numbers at each |value| (normal spacing below the normal range)."""
    digits, min_exp = PRECISION[dtype]
    mag = np.abs(np.asarray(values, dtype=np.float64))
    mag = np.where(np.isfinite(mag), mag, 0.0)
    exponent = np.floor(np.log2(np.maximum(mag, math.ldexp(1.0, min_exp))))
    return np.ldexp(1.0, (exponent - (digits - 1)).astype(np.int64))


@dataclass(frozen=True)
class Bound:
    """The allowed absolute error of each output element, and how it was set."""

    allowed: np.ndarray
    model: str  # "derived" or "override: <reason>"

    def describe(self) -> str:
        """Return the bound as a short human sentence."""
        finite = np.asarray(self.allowed)[np.isfinite(self.allowed)]  # a non-finite expected value allows no error
        worst = float(np.max(finite)) if finite.size else 0.0
        return f"{self.model} (largest allowed abs error {worst:.3g})"


def term_scale(case: Case, inputs: dict[str, np.ndarray]) -> np.ndarray:
    """Return the magnitude of the terms the op's documented formula adds up, per unreduced element.

    A result that is the difference of such terms can carry an absolute error
    of about u times them, whoever computes it; anything beyond is the
    implementation's own loss of precision.
    """
    if case.op == "mean_squared_error":  # a rounded subtraction and square
        return np.zeros(inputs["predictions"].shape)
    if case.op == "nll_loss":  # a negation of the picked log-probability: exact
        logp = inputs["log_probabilities"]
        return np.zeros(np.delete(np.asarray(logp.shape), case.params["axis"] % max(logp.ndim, 1)))
    if case.op == "binary_cross_entropy":  # log(p) and log(1 - p): 1 - p rounds to about u
        z = np.asarray(inputs["labels"], dtype=np.float64)
        return np.abs(z) + np.abs(1 - z)
    if case.op == "categorical_cross_entropy":  # Keras rescales p to sum 1 first: each log off by about u
        return np.sum(np.abs(np.asarray(inputs["labels"], dtype=np.float64)), axis=case.params["axis"])
    x = inputs["logits"]
    if case.op == "sigmoid_cross_entropy":
        # tf.nn.sigmoid_cross_entropy_with_logits: max(x, 0) - x * z + log(1 + exp(-abs(x)))
        return np.maximum(x, 0) + np.abs(x * inputs["labels"])
    if case.op == "weighted_sigmoid_cross_entropy":
        # tf.nn.weighted_cross_entropy_with_logits: (1 - z) x + (1 + (q - 1) z) (log1p(exp(-|x|)) + max(-x, 0))
        z, q = inputs["labels"], np.asarray(case.params["pos_weight"], dtype=np.float64)
        return np.abs((1 - z) * x) + np.abs(1 + (q - 1) * z) * np.maximum(-x, 0)
    # log-sum-exp as max + log(sum(exp(x - max))): the log of a sum >= 1 is off by about u per unit of label mass
    axis = case.params["axis"]
    if case.op == "softmax_cross_entropy":
        return np.sum(np.abs(inputs["labels"]), axis=axis)
    return np.ones(np.delete(np.asarray(x.shape), axis % max(x.ndim, 1)))


def smallest_normal(dtype: str) -> float:
    """Return the smallest positive normal number of the dtype."""
    return math.ldexp(1.0, PRECISION[dtype][1])


def derive_bound(case: Case, inputs: dict[str, np.ndarray], terms: np.ndarray, dtype: str) -> Bound:
    """Return the bound for ``case`` in ``dtype``; ``terms`` are the unreduced reference values."""
    override = case.tolerance.get(dtype)
    expected_shape = () if case.params.get("reduction", "none") != "none" else terms.shape
    if override:
        expected = _reduce(np.abs(terms), case.params.get("reduction", "none"))
        allowed = override["rtol"] * np.abs(expected) + override["atol"]
        return Bound(np.broadcast_to(allowed, expected_shape).astype(np.float64), f"override: {override['reason']}")
    u = unit_roundoff(dtype)
    # below the normal range a result may flush to zero (as TOSA allows), so errors there do not count
    per_term = K * u * (np.abs(terms) + term_scale(case, inputs)) + smallest_normal(dtype)
    reduction = case.params.get("reduction", "none")
    if reduction == "none":
        return Bound(per_term, "derived")
    n = terms.size
    total = np.sum(per_term) + max(n - 1, 0) * u * np.sum(np.abs(terms))
    if reduction == "mean" and n:
        total = total / n
    return Bound(np.asarray(total, dtype=np.float64), "derived")


def _reduce(values: np.ndarray, reduction: str) -> np.ndarray:
    if reduction == "sum":
        return np.sum(values)
    if reduction == "mean":
        return np.mean(values) if values.size else np.asarray(0.0)
    return values


def derive_grad_bound(case: Case, inputs: dict[str, np.ndarray], expected: np.ndarray, dtype: str) -> Bound:
    """Return the bound of a gradient check: K u (|g| + |its two terms|) + tiny, per element."""
    u = unit_roundoff(dtype)
    scale = grad_terms(case.op, inputs, case.params)
    return Bound(K * u * (np.abs(expected) + scale) + smallest_normal(dtype), "derived")
