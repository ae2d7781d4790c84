"""An independent high-precision implementation of the eight ops, written from their definitions in mpmath.

It shares no code with ``conformance.reference``: no softplus, no log-sum-exp
shift, no log1p. It evaluates the textbook formulas directly,
sigmoid(x) = 1 / (1 + exp(-x)), 1 - sigmoid(x) = sigmoid(-x) = 1 / (1 + exp(x)),
softmax = exp(x_i) / sum_j exp(x_j), -z log p - (1 - z) log(1 - p) and
-sum_j z_j log p_j, and stays accurate by raising the working precision
instead: with logits of magnitude (or spread) m, a loss like log(1 + exp(-m))
is as small as exp(-m), so the working precision is BASE_DPS digits plus
m / ln(10) digits, which keeps BASE_DPS digits of every small quantity; a
probability p (or 1 - p) as small as exp(-m) gets the same digits, so 1 - p is
formed exactly. mpmath's exponent range is unbounded, so exp(1e4) neither
overflows nor underflows.

A term whose weight (a label, 1 - label, or pos_weight times label) is 0 is
0, whatever its log: it is 0 for every input inside the domain, so its limit
at an infinite logit, or at a probability of 0 or 1, is 0 too (0 log 0 = 0).
Rows of logits holding an infinity use softmax_j = 1 / (1 + sum_{i != j}
exp(x_i - x_j)), the same quotient with exp(x_j) divided out, whose value in
mpmath's extended arithmetic is the limit (1 for a lone +inf class, 0 beside
it or at -inf) and NaN where there is none (two +inf classes, a NaN).

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


def _weighted_log(weight, p) -> mpf:
    """Return weight * log(p), 0 for a zero weight whatever p (the limit; see the module docstring)."""
    return mpf(0) if weight == 0 else weight * mp.log(p)


def weighted_bce(x: float, z: float, q: float = 1.0) -> mpf:
    """Return -q z log(sigmoid(x)) - (1 - z) log(1 - sigmoid(x)), sigmoid(x) = 1 / (1 + exp(-x)), 1 - it = 1 / (1 + exp(x))."""
    with mp.workdps(working_dps(abs(x))):
        x, z = mpf(x), mpf(z)
        value = -_weighted_log(mpf(q) * z, 1 / (1 + mp.exp(-x))) - _weighted_log(1 - z, 1 / (1 + mp.exp(x)))
    return +value


def softmax_row(xs: list) -> list:
    """Return softmax(xs): exp(x_j) / sum_i exp(x_i), or, for a row holding an infinity, its limit (see above)."""
    if all(mpmath.isfinite(x) for x in xs):
        exps = [mp.exp(x) for x in xs]
        total = mp.fsum(exps)
        return [e / total for e in exps]
    return [1 / (1 + mp.fsum(mp.exp(xi - xj) for i, xi in enumerate(xs) if i != j)) for j, xj in enumerate(xs)]


def softmax_ce(xs, zs) -> mpf:
    """Return -sum_i z_i log(exp(x_i) / sum_j exp(x_j)) for one sample."""
    xs = [mpf(x) for x in xs]
    with mp.workdps(working_dps(float(max(xs) - min(xs)))):
        value = -mp.fsum(_weighted_log(mpf(z), p) for z, p in zip(zs, softmax_row(xs)))
    return +value


def sparse_softmax_ce(xs, label: int) -> mpf:
    """Return -log(exp(x_label) / sum_j exp(x_j)) for one sample."""
    xs = [mpf(x) for x in xs]
    with mp.workdps(working_dps(float(max(xs) - min(xs)))):
        value = -mp.log(softmax_row(xs)[label])
    return +value


def _closeness(p: float) -> float:
    """Return -ln of the distance of p from 0 or 1 (the magnitude working_dps needs to form 1 - p exactly)."""
    gap = min(abs(p), abs(1 - p))
    return -math.log(gap) if 0 < gap < 1 else 0.0


def bce(p: float, z: float) -> mpf:
    """Return -z log(p) - (1 - z) log(1 - p)."""
    with mp.workdps(working_dps(_closeness(p))):
        p, z = mpf(p), mpf(z)
        value = -_weighted_log(z, p) - _weighted_log(1 - z, 1 - p)
    return +value


def cce(ps, zs) -> mpf:
    """Return -sum_j z_j log(p_j) for one sample (log p near 1 is as small as 1 - p: digits for that too)."""
    with mp.workdps(working_dps(max(_closeness(float(p)) for p in ps))):
        value = -mp.fsum(_weighted_log(mpf(z), mpf(p)) for p, z in zip(ps, zs))
    return +value


def nll(log_ps, label: int) -> mpf:
    """Return -log_p[label] for one sample."""
    return -mpf(log_ps[label])


PER_ELEMENT = {"sigmoid_cross_entropy", "weighted_sigmoid_cross_entropy", "mean_squared_error", "binary_cross_entropy"}
SIGMOID = ("sigmoid_cross_entropy", "weighted_sigmoid_cross_entropy")
PER_SAMPLE = {"softmax_cross_entropy": softmax_ce, "sparse_softmax_cross_entropy": sparse_softmax_ce,
              "categorical_cross_entropy": cce, "nll_loss": nll}


def _per_sample(scores: np.ndarray, labels: np.ndarray, axis: int, fn) -> np.ndarray:
    """Return fn(score row, label row or label) for every sample, the class axis moved last."""
    x = np.moveaxis(np.asarray(scores, dtype=np.float64), axis, -1)
    dense = np.asarray(labels).ndim == np.asarray(scores).ndim
    y = np.moveaxis(np.asarray(labels), axis, -1) if dense else np.asarray(labels)
    out = np.empty(x.shape[:-1], dtype=object)
    for index in np.ndindex(out.shape):
        row = y[index].tolist() if dense else int(y[index])
        out[index] = fn(x[index].tolist(), row)
    return out


def _elementwise(fn, *arrays) -> np.ndarray:
    """Return fn applied element by element, as an object array of the first array's shape."""
    with np.errstate(invalid="ignore"):  # NumPy flags the NaN objects of the non-finite cases
        return np.frompyfunc(fn, len(arrays), 1)(*arrays).astype(object).reshape(np.shape(arrays[0]))


def unreduced(op: str, inputs: dict, params: dict) -> np.ndarray:
    """Return the op's values before reduction, as an object array of mpf (one per element or per sample)."""
    first, second = (np.asarray(value) for value in inputs.values())
    if op == "mean_squared_error":
        return _elementwise(squared_error, first.astype(float), second.astype(float))
    if op in SIGMOID:
        q = np.broadcast_to(np.asarray(params.get("pos_weight", 1.0), float), first.shape)
        return _elementwise(weighted_bce, first.astype(float), second.astype(float), q)
    if op == "binary_cross_entropy":
        return _elementwise(bce, first.astype(float), second.astype(float))
    if op in PER_SAMPLE:
        return _per_sample(first, second, params.get("axis", -1), PER_SAMPLE[op])
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
# rounding the loss to the outer precision cannot swamp a derivative as small as exp(-m). A probability's step is
# H times its distance from 0 or 1, so that p - h and p + h stay inside (0, 1) (and 1 - p keeps its digits).
H = mpf("1e-20")


def derivative(f, x: float, magnitude: float, step: mpf = H) -> mpf:
    """Return f'(x) by a central difference of ``step``, at enough digits for quantities as small as exp(-magnitude)."""
    with mp.workdps(working_dps(magnitude) + 20):
        return +mp.diff(f, mpf(x), h=step)


def _moved(scores, labels, axis: int, index: tuple) -> tuple[list, object, int]:
    """Return (the score row of the sample holding ``index``, its label row or label, the class position in it)."""
    axis %= np.ndim(scores)
    x = np.moveaxis(np.asarray(scores, dtype=np.float64), axis, -1)
    sample = index[:axis] + index[axis + 1 :]
    dense = np.ndim(labels) == np.ndim(scores)
    y = np.moveaxis(np.asarray(labels), axis, -1)[sample].tolist() if dense else int(np.asarray(labels)[sample])
    return x[sample].tolist(), y, index[axis]


def _count(op: str, shape: tuple, params: dict) -> int:
    """Return what mean divides by: elements, or samples for the ops with a class axis."""
    size = int(np.prod(shape))
    return size if op in PER_ELEMENT else size // shape[params["axis"]]


def _label_row(y, classes: int) -> list:
    """Return a dense label row: ``y`` itself, or the one-hot row of an integer label."""
    return y if isinstance(y, list) else [1.0 if k == y else 0.0 for k in range(classes)]


def _scaled(op: str, inputs: dict, params: dict, value):
    """Return ``value`` divided by what mean divides by (unchanged for none and sum)."""
    if params["reduction"] == "mean":
        return value / _count(op, np.shape(next(iter(inputs.values()))), params)
    return value


def gradient(op: str, inputs: dict, params: dict, index: tuple) -> mpf:
    """Return the derivative of sum(op output) w.r.t. element ``index`` of the differentiable (first) input."""
    first, second = (np.asarray(value) for value in inputs.values())
    if op in PER_ELEMENT:
        x, z = float(first[index]), float(second[index])
        if op == "mean_squared_error":
            exact = derivative(lambda p: squared_error(p, z), x, 0.0)
        elif op == "binary_cross_entropy":
            exact = derivative(lambda p: bce(p, z), x, _closeness(x), H * min(x, 1 - x))
        else:
            q = _pos_weight(inputs, params, index)
            exact = derivative(lambda t: weighted_bce(t, z, q), x, abs(x))
        return _scaled(op, inputs, params, exact)
    row, y, j = _moved(first, second, params["axis"], index)
    if op == "categorical_cross_entropy":  # only the j-th term -z_j log p_j depends on p_j
        z = _label_row(y, len(row))[j]
        exact = derivative(lambda t: cce([t], [z]), row[j], _closeness(row[j]), H * min(row[j], 1 - row[j]))
        return _scaled(op, inputs, params, exact)

    def at(t):
        moved = list(row)
        moved[j] = t
        return PER_SAMPLE[op](moved, y)

    exact = derivative(at, row[j], 0.0 if op == "nll_loss" else max(row) - min(row))
    return _scaled(op, inputs, params, exact)


def _pos_weight(inputs: dict, params: dict, index: tuple) -> float:
    """Return the pos_weight that applies at ``index`` (1 for the unweighted op)."""
    weight = np.broadcast_to(np.asarray(params.get("pos_weight", 1.0), float), np.shape(inputs["logits"]))
    return float(weight[index])


def has_derivative(op: str, inputs: dict, params: dict, index: tuple) -> bool:
    """Return whether the output at ``index`` has an ordinary derivative there, checked by a central difference.

    Not where an input it depends on is NaN or infinite (for the softmax and NLL ops, any in its sample), nor at
    a probability outside the open interval (0, 1), where the loss is defined on one side only: those are
    checked against the limit of the derivative.
    """
    first, second = (np.asarray(value) for value in inputs.values())
    if op in ("softmax_cross_entropy", "sparse_softmax_cross_entropy", "nll_loss"):
        row, y, _ = _moved(first, second, params["axis"], index)
        return bool(np.all(np.isfinite(row)) and np.all(np.isfinite(y)))
    if op in ("binary_cross_entropy", "categorical_cross_entropy"):
        return 0 < float(first[index]) < 1
    return all(bool(np.isfinite(value[index])) for value in (first, second))


def _over(weight, denominator) -> mpf:
    """Return weight / denominator: 0 for a zero weight, an infinity of the weight's sign for a zero denominator."""
    if weight == 0:
        return mpf(0)
    return weight / denominator if denominator != 0 else mp.inf * mp.sign(weight)


def gradient_limit(op: str, inputs: dict, params: dict, index: tuple) -> tuple[mpf, mpf]:
    """Return (the textbook derivative at ``index`` in mpmath's extended arithmetic, its E), where has_derivative fails.

    A loss at an infinite logit is the limit of the loss, and its gradient the
    limit of the derivative: 2 (p - t), (1 - z) sigmoid(x) - q z sigmoid(-x)
    and sum(z) softmax(x) - z, evaluated with mpmath's infinities
    (exp(-inf) = 0, 1 / (1 + inf) = 0), give exactly that limit, and NaN where
    there is none (a NaN input, inf - inf, inf / inf). At a probability of 0 or
    1, -z / p + (1 - z) / (1 - p) (categorical: -z / p) is the one-sided
    derivative, infinite where a nonzero weight meets a zero denominator; the
    NLL loss -x[label] has derivative -1 at the label and 0 elsewhere whatever x.
    E is gradient_slack's, for the finite probabilities of a sample with a -inf
    logit (0 elsewhere).
    """
    first, second = (np.asarray(value) for value in inputs.values())
    conditioned = mpf(0)
    if op in PER_ELEMENT:
        x, z = mpf(float(first[index])), mpf(float(second[index]))
        if op == "mean_squared_error":
            exact = 2 * (x - z)
        elif op == "binary_cross_entropy":
            exact = -_over(z, x) + _over(1 - z, 1 - x)
        else:
            q = mpf(_pos_weight(inputs, params, index))
            exact = (1 - z) / (1 + mp.exp(-x)) - q * z / (1 + mp.exp(x))
        return _scaled(op, inputs, params, exact), _scaled(op, inputs, params, conditioned)
    row, y, j = _moved(first, second, params["axis"], index)
    zs = [mpf(v) for v in _label_row(y, len(row))]
    if op == "categorical_cross_entropy":
        exact = -_over(zs[j], mpf(row[j]))
    elif op == "nll_loss":
        exact = -zs[j]
    else:
        p = softmax_row([mpf(v) for v in row])[j]
        exact = mp.fsum(zs) * p - zs[j]
        if mpmath.isfinite(p) and p > 0 and math.isfinite(row[j]):
            conditioned = (abs(mpf(row[j]) - max(row)) + abs(mp.log(p))) * abs(mp.fsum(zs)) * p
    return _scaled(op, inputs, params, exact), _scaled(op, inputs, params, conditioned)


def gradient_slack(op: str, inputs: dict, params: dict, index: tuple) -> tuple[mpf, mpf]:
    """Return (C, E) at ``index``: what float64 evaluation of the derivative may lose, in units of u, apart from ulps.

    C is how much cancels: twice the smaller of the derivative's positive and
    negative parts. The loss is a sum of non-negative terms whose derivatives
    have fixed signs, (1 - z) sigmoid(x) >= 0 and -q z sigmoid(-x) <= 0 for the
    sigmoid ops, (sum(z) - z_j) p_j >= 0 and -z_j (1 - p_j) <= 0 for softmax,
    -z / p <= 0 and (1 - z) / (1 - p) >= 0 for binary cross-entropy; when both
    are large and the derivative small, their difference loses digits in
    proportion to the parts, not to the result. The categorical and NLL losses
    have one part.

    E (softmax ops) is (|x_j - max| + |log p_j|) sum(z) p_j: p_j is exp of
    x_j - max - log(sum), and each rounding of that exponent, relative to its
    own size, becomes a relative error of p_j. The sigmoid ops take exp of -|x|,
    which is exact, so E is 0 there (and for the other ops).
    """
    first, second = (np.asarray(value) for value in inputs.values())
    conditioned = mpf(0)
    if op in ("mean_squared_error", "categorical_cross_entropy", "nll_loss"):
        return conditioned, conditioned
    if op in PER_ELEMENT:
        x, z = mpf(float(first[index])), mpf(float(second[index]))
        if op == "binary_cross_entropy":
            with mp.workdps(working_dps(_closeness(float(x)))):
                parts = (z / x, (1 - z) / (1 - x))
        else:
            q = mpf(_pos_weight(inputs, params, index))
            with mp.workdps(working_dps(abs(float(x)))):
                parts = ((1 - z) / (1 + mp.exp(-x)), q * z / (1 + mp.exp(x)))
    else:
        row, y, j = _moved(first, second, params["axis"], index)
        zs = _label_row(y, len(row))
        with mp.workdps(working_dps(max(row) - min(row))):
            p = softmax_row([mpf(v) for v in row])[j]
            total = mp.fsum(mpf(z) for z in zs)
            parts = ((total - mpf(zs[j])) * p, mpf(zs[j]) * (1 - p))
            conditioned = (abs(mpf(row[j]) - max(row)) + abs(mp.log(p))) * abs(total) * p
    cancelled = 2 * min(abs(parts[0]), abs(parts[1]))
    return _scaled(op, inputs, params, +cancelled), _scaled(op, inputs, params, +conditioned)
