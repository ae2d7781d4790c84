"""An independent high-precision implementation of the five ops, written from their definitions in mpmath.

It shares no code with ``conformance.reference``: no softplus, no log-sum-exp
shift, no log1p. It evaluates the textbook formulas directly,
sigmoid = 1 / (1 + exp(-x)) and softmax = exp(x_i) / sum_j exp(x_j), and
stays accurate by raising the working precision instead: with logits of
magnitude (or spread) m, 1 - sigmoid(x) and log(softmax) are as small as
exp(-m), so the working precision is BASE_DPS digits plus m / ln(10) digits,
which keeps BASE_DPS digits of every small quantity. mpmath's exponent range
is unbounded, so exp(1e4) neither overflows nor underflows.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
from mpmath import mp, mpf

BASE_DPS = 40
mp.dps = BASE_DPS


def working_dps(magnitude: float) -> int:
    """Return the digits that keep BASE_DPS digits of quantities as small as exp(-magnitude)."""
    if not math.isfinite(magnitude):
        return BASE_DPS
    return BASE_DPS + 10 + int(magnitude / math.log(10))


def squared_error(p: float, t: float) -> mpf:
    """Return (p - t)**2."""
    return (mpf(p) - mpf(t)) ** 2


def weighted_bce(x: float, z: float, q: float = 1.0) -> mpf:
    """Return -q z log(sigmoid(x)) - (1 - z) log(1 - sigmoid(x)) with sigmoid = 1 / (1 + exp(-x))."""
    with mp.workdps(working_dps(abs(x))):
        s = 1 / (1 + mp.exp(-mpf(x)))
        value = -mpf(q) * mpf(z) * mp.log(s) - (1 - mpf(z)) * mp.log(1 - s)
    return +value


def softmax_ce(xs, zs) -> mpf:
    """Return -sum_i z_i log(exp(x_i) / sum_j exp(x_j)) for one sample."""
    xs = [mpf(x) for x in xs]
    with mp.workdps(working_dps(float(max(xs) - min(xs)))):
        exps = [mp.exp(x) for x in xs]
        total = mp.fsum(exps)
        value = -mp.fsum(mpf(z) * mp.log(e / total) for z, e in zip(zs, exps))
    return +value


def sparse_softmax_ce(xs, label: int) -> mpf:
    """Return -log(exp(x_label) / sum_j exp(x_j)) for one sample."""
    xs = [mpf(x) for x in xs]
    with mp.workdps(working_dps(float(max(xs) - min(xs)))):
        exps = [mp.exp(x) for x in xs]
        value = -mp.log(exps[label] / mp.fsum(exps))
    return +value


def _per_sample(logits: np.ndarray, labels: np.ndarray, axis: int, fn) -> np.ndarray:
    """Return fn(logit row, label row or label) for every sample, the class axis moved last."""
    x = np.moveaxis(np.asarray(logits, dtype=np.float64), axis, -1)
    dense = np.asarray(labels).ndim == np.asarray(logits).ndim
    y = np.moveaxis(np.asarray(labels), axis, -1) if dense else np.asarray(labels)
    out = np.empty(x.shape[:-1], dtype=object)
    for index in np.ndindex(out.shape):
        row = y[index].tolist() if dense else int(y[index])
        out[index] = fn(x[index].tolist(), row)
    return out


def unreduced(op: str, inputs: dict, params: dict) -> np.ndarray:
    """Return the op's values before reduction, as an object array of mpf (one per element or per sample)."""
    if op == "mean_squared_error":
        p, t = np.asarray(inputs["predictions"], float), np.asarray(inputs["targets"], float)
        with np.errstate(invalid="ignore"):  # NumPy flags the NaN objects of the non-finite cases
            return np.frompyfunc(squared_error, 2, 1)(p, t).astype(object).reshape(p.shape)
    if op in ("sigmoid_cross_entropy", "weighted_sigmoid_cross_entropy"):
        x, z = np.asarray(inputs["logits"], float), np.asarray(inputs["labels"], float)
        q = np.broadcast_to(np.asarray(params.get("pos_weight", 1.0), float), x.shape)
        return np.frompyfunc(weighted_bce, 3, 1)(x, z, q).astype(object).reshape(x.shape)
    axis = params.get("axis", -1)
    if op == "softmax_cross_entropy":
        return _per_sample(inputs["logits"], inputs["labels"], axis, softmax_ce)
    if op == "sparse_softmax_cross_entropy":
        return _per_sample(inputs["logits"], inputs["labels"], axis, sparse_softmax_ce)
    raise ValueError(f"no mpmath reference for op {op!r}")


def reduce(values: np.ndarray, reduction: str):
    """Return the values reduced exactly enough: none (unchanged), sum or mean over all elements."""
    if reduction == "none":
        return values
    total = mp.fsum(values.ravel().tolist())
    return total if reduction == "sum" else total / values.size


def to_float(value) -> float:
    """Return an mpf as the nearest float64 (NaN and infinities kept)."""
    if mpmath.isnan(value):
        return math.nan
    return float(value)
