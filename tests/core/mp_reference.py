"""An independent high-precision implementation of the five ops, written from their definitions in mpmath.

It shares no code with ``conformance.reference``: no softplus, no log-sum-exp
shift, no log1p. It evaluates the textbook formulas directly,
sigmoid(x) = 1 / (1 + exp(-x)), 1 - sigmoid(x) = sigmoid(-x) = 1 / (1 + exp(x))
and softmax = exp(x_i) / sum_j exp(x_j), and stays accurate by raising the
working precision instead: with logits of magnitude (or spread) m, a loss
like log(1 + exp(-m)) is as small as exp(-m), so the working precision is
BASE_DPS digits plus m / ln(10) digits, which keeps BASE_DPS digits of every
small quantity. mpmath's exponent range is unbounded, so exp(1e4) neither
overflows nor underflows.

The extra digits stop at m = MAGNITUDE_CAP (800): a quantity below
exp(-800) ~ 1e-348 is far below float64's smallest subnormal (4.9e-324), so
whatever digits it keeps cannot change a float64 comparison, and logits of
7e4 would otherwise need 30000 digits (seconds per value in pure-Python
mpmath). Nothing here becomes log(0) at the capped precision: 1 - sigmoid(x)
is its own formula, not a difference, and exp never gives 0 in mpmath.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
from mpmath import mp, mpf

BASE_DPS = 40
MAGNITUDE_CAP = 800.0
mp.dps = BASE_DPS


def working_dps(magnitude: float) -> int:
    """Return the digits that keep BASE_DPS digits of quantities as small as exp(-magnitude) (capped, see above)."""
    if not math.isfinite(magnitude):
        return BASE_DPS
    return BASE_DPS + 10 + int(min(float(magnitude), MAGNITUDE_CAP) / math.log(10))


def squared_error(p: float, t: float) -> mpf:
    """Return (p - t)**2."""
    return (mpf(p) - mpf(t)) ** 2


def weighted_bce(x: float, z: float, q: float = 1.0) -> mpf:
    """Return -q z log(sigmoid(x)) - (1 - z) log(1 - sigmoid(x)), sigmoid(x) = 1 / (1 + exp(-x)), 1 - it = 1 / (1 + exp(x))."""
    with mp.workdps(working_dps(abs(x))):
        x = mpf(x)
        value = -mpf(q) * mpf(z) * mp.log(1 / (1 + mp.exp(-x))) - (1 - mpf(z)) * mp.log(1 / (1 + mp.exp(x)))
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
        with np.errstate(invalid="ignore"):  # as above, for NaN logits
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


# Gradients: d(sum of the op's output)/d(differentiable input), one element at a time, by mpmath's numerical
# derivative of the losses above. A central difference with step H keeps about (working digits - 20) digits of
# the derivative; the losses work at working_dps(m) digits, and the difference runs 20 digits above that, so that
# rounding the loss to the outer precision cannot swamp a derivative as small as exp(-m).
H = mpf("1e-20")


def derivative(f, x: float, magnitude: float) -> mpf:
    """Return f'(x) by a central difference with step H, at enough digits for quantities as small as exp(-magnitude)."""
    with mp.workdps(working_dps(magnitude) + 20):
        return +mp.diff(f, mpf(x), h=H)


def _moved(logits, labels, axis: int, index: tuple) -> tuple[list, object, int]:
    """Return (the logit row of the sample holding ``index``, its label row or label, the class position in it)."""
    axis %= np.ndim(logits)
    x = np.moveaxis(np.asarray(logits, dtype=np.float64), axis, -1)
    sample = index[:axis] + index[axis + 1 :]
    dense = np.ndim(labels) == np.ndim(logits)
    y = np.moveaxis(np.asarray(labels), axis, -1)[sample].tolist() if dense else int(np.asarray(labels)[sample])
    return x[sample].tolist(), y, index[axis]


def _count(op: str, shape: tuple, params: dict) -> int:
    """Return what mean divides by: elements, or samples for the softmax ops."""
    size = int(np.prod(shape))
    return size // shape[params["axis"]] if op.endswith("softmax_cross_entropy") else size


def gradient(op: str, inputs: dict, params: dict, index: tuple) -> mpf:
    """Return the derivative of sum(op output) w.r.t. element ``index`` of the logits (predictions for MSE)."""
    if op == "mean_squared_error":
        target = float(inputs["targets"][index])
        exact = derivative(lambda p: squared_error(p, target), float(inputs["predictions"][index]), 0.0)
    elif op in ("sigmoid_cross_entropy", "weighted_sigmoid_cross_entropy"):
        x = float(inputs["logits"][index])
        z = float(inputs["labels"][index])
        q = float(np.broadcast_to(np.asarray(params.get("pos_weight", 1.0), float), np.shape(inputs["logits"]))[index])
        exact = derivative(lambda t: weighted_bce(t, z, q), x, abs(x))
    else:
        row, y, j = _moved(inputs["logits"], inputs["labels"], params["axis"], index)
        loss = softmax_ce if isinstance(y, list) else sparse_softmax_ce

        def at(t):
            moved = list(row)
            moved[j] = t
            return loss(moved, y)

        exact = derivative(at, row[j], max(row) - min(row))
    if params["reduction"] == "mean":
        return exact / _count(op, np.shape(inputs[next(iter(inputs))]), params)
    return exact


def _pos_weight(inputs: dict, params: dict, index: tuple) -> float:
    """Return the pos_weight that applies at ``index`` (1 for the unweighted op)."""
    weight = np.broadcast_to(np.asarray(params.get("pos_weight", 1.0), float), np.shape(inputs["logits"]))
    return float(weight[index])


def sample_is_finite(op: str, inputs: dict, params: dict, index: tuple) -> bool:
    """Return whether every input the output at ``index`` depends on is finite (softmax ops: its whole sample)."""
    if op.endswith("softmax_cross_entropy"):
        row, y, _ = _moved(inputs["logits"], inputs["labels"], params["axis"], index)
        return bool(np.all(np.isfinite(row)) and np.all(np.isfinite(y)))
    return all(bool(np.isfinite(value[index])) for value in inputs.values())


def gradient_limit(op: str, inputs: dict, params: dict, index: tuple) -> tuple[mpf, mpf]:
    """Return (the textbook derivative at ``index`` in mpmath's extended arithmetic, its E) for a non-finite sample.

    A loss at an infinite logit is the limit of the loss, and its gradient the
    limit of the derivative: 2 (p - t), (1 - z) sigmoid(x) - q z sigmoid(-x)
    and sum(z) softmax(x) - z, evaluated with mpmath's infinities
    (exp(-inf) = 0, 1 / (1 + inf) = 0), give exactly that limit, and NaN where
    there is none (a NaN input, inf - inf, inf / inf). E is gradient_slack's,
    for the finite probabilities of a sample with a -inf logit (0 elsewhere).
    """
    zero = mpf(0)
    if op == "mean_squared_error":
        p, t = mpf(float(inputs["predictions"][index])), mpf(float(inputs["targets"][index]))
        exact, conditioned = 2 * (p - t), zero
    elif op in ("sigmoid_cross_entropy", "weighted_sigmoid_cross_entropy"):
        x, z = mpf(float(inputs["logits"][index])), mpf(float(inputs["labels"][index]))
        q = mpf(_pos_weight(inputs, params, index))
        exact, conditioned = (1 - z) / (1 + mp.exp(-x)) - q * z / (1 + mp.exp(x)), zero
    else:
        row, y, j = _moved(inputs["logits"], inputs["labels"], params["axis"], index)
        zs = [mpf(v) for v in (y if isinstance(y, list) else [1.0 if k == y else 0.0 for k in range(len(row))])]
        exps = [mp.exp(mpf(v)) for v in row]
        p = exps[j] / mp.fsum(exps)
        exact = mp.fsum(zs) * p - zs[j]
        finite = mpmath.isfinite(p) and p > 0 and math.isfinite(row[j])
        conditioned = (abs(mpf(row[j]) - max(row)) + abs(mp.log(p))) * abs(mp.fsum(zs)) * p if finite else zero
    if params["reduction"] == "mean":
        count = _count(op, np.shape(inputs[next(iter(inputs))]), params)
        return exact / count, conditioned / count
    return exact, conditioned


def gradient_slack(op: str, inputs: dict, params: dict, index: tuple) -> tuple[mpf, mpf]:
    """Return (C, E) at ``index``: what float64 evaluation of the derivative may lose, in units of u, apart from ulps.

    C is how much cancels: twice the smaller of the derivative's positive and
    negative parts. The loss is a sum of non-negative terms whose derivatives
    have fixed signs, (1 - z) sigmoid(x) >= 0 and -q z sigmoid(-x) <= 0 for the
    sigmoid ops, (sum(z) - z_j) p_j >= 0 and -z_j (1 - p_j) <= 0 for softmax;
    when both are large and the derivative small, their difference loses digits
    in proportion to the parts, not to the result.

    E (softmax ops) is (|x_j - max| + |log p_j|) sum(z) p_j: p_j is exp of
    x_j - max - log(sum), and each rounding of that exponent, relative to its
    own size, becomes a relative error of p_j. The sigmoid ops take exp of -|x|,
    which is exact, so E is 0 there (and for MSE).
    """
    zero = mpf(0)
    if op == "mean_squared_error":
        return zero, zero
    if op in ("sigmoid_cross_entropy", "weighted_sigmoid_cross_entropy"):
        x = mpf(float(inputs["logits"][index]))
        z = mpf(float(inputs["labels"][index]))
        q = mpf(float(np.broadcast_to(np.asarray(params.get("pos_weight", 1.0), float), np.shape(inputs["logits"]))[index]))
        with mp.workdps(working_dps(abs(float(x)))):
            parts = ((1 - z) / (1 + mp.exp(-x)), q * z / (1 + mp.exp(x)))
        conditioned = zero
    else:
        row, y, j = _moved(inputs["logits"], inputs["labels"], params["axis"], index)
        zs = y if isinstance(y, list) else [1.0 if k == y else 0.0 for k in range(len(row))]
        with mp.workdps(working_dps(max(row) - min(row))):
            exps = [mp.exp(mpf(v)) for v in row]
            p = exps[j] / mp.fsum(exps)
            total = mp.fsum(mpf(z) for z in zs)
            parts = ((total - mpf(zs[j])) * p, mpf(zs[j]) * (1 - p))
            conditioned = (abs(mpf(row[j]) - max(row)) + abs(mp.log(p))) * abs(total) * p
    cancelled = 2 * min(abs(parts[0]), abs(parts[1]))
    if params["reduction"] == "mean":
        count = _count(op, np.shape(inputs["logits"]), params)
        return cancelled / count, conditioned / count
    return +cancelled, +conditioned
