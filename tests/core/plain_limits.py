"""Every op's loss and its limits in plain Python ``math``, written from the definitions, for the edge-case tests.

Independent of ``conformance.reference`` and of NumPy's ufuncs: each value is
one formula per element or sample, evaluated with the limits mathematics gives
at the ends of the domain. A term whose weight (a label, 1 - label, q z) is 0
is 0 whatever it multiplies: it is 0 for every input inside the domain, so in
the limit too (0 log 0 = 0). log 0 = -inf; the log of a negative number or of
NaN is NaN. A softmax row with one +inf logit puts probability 1 there and 0
elsewhere, a -inf logit has probability 0; two +inf logits have no limit.
"""

from __future__ import annotations

import math

import numpy as np

INF = math.inf


def log(p: float) -> float:
    """Return log p on [0, inf): -inf at 0; NaN below 0 and for NaN."""
    if math.isnan(p) or p < 0:
        return math.nan
    return -INF if p == 0 else math.log(p)


def log_one_minus(p: float) -> float:
    """Return log(1 - p) for p <= 1 (log1p, so a tiny p keeps its digits): -inf at 1; NaN above 1 and for NaN."""
    if math.isnan(p) or p > 1:
        return math.nan
    return -INF if p == 1 else math.log1p(-p)


def weighted(weight: float, term: float) -> float:
    """Return weight * term, 0 for a zero weight even where the term is infinite or NaN."""
    return 0.0 if weight == 0 else weight * term


def softplus(x: float) -> float:
    """Return log(1 + e^x), its limits at the infinities included."""
    if math.isnan(x):
        return math.nan
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


def sigmoid_loss(x: float, z: float, q: float) -> float:
    """Return q z softplus(-x) + (1 - z) softplus(x)."""
    return math.fsum([weighted(q * z, softplus(-x)), weighted(1 - z, softplus(x))])


def softmax_log_probabilities(xs: list[float]) -> list[float]:
    """Return log softmax(xs), or its limit for a row holding infinities; raise ValueError where there is none."""
    if any(math.isnan(x) for x in xs):
        return [math.nan] * len(xs)
    tops = [j for j, x in enumerate(xs) if x == INF]
    if len(tops) > 1:
        raise ValueError("two +inf logits: the softmax has no limit")
    if tops:
        return [0.0 if j == tops[0] else -INF for j in range(len(xs))]
    live = [x for x in xs if x != -INF]
    first = live.index(max(live))
    top = live[first]
    rest = math.log1p(math.fsum(math.exp(x - top) for j, x in enumerate(live) if j != first))  # lse - max
    return [-INF if x == -INF else x - top - rest for x in xs]


def softmax_loss(xs: list[float], zs: list[float]) -> float:
    """Return -sum z_j log softmax(x)_j over the classes (zero labels contribute nothing)."""
    return -math.fsum(weighted(z, lp) for z, lp in zip(zs, softmax_log_probabilities(xs)))


def binary_loss(p: float, z: float) -> float:
    """Return -(z log p + (1 - z) log(1 - p))."""
    return -math.fsum([weighted(z, log(p)), weighted(1 - z, log_one_minus(p))])


def categorical_loss(ps: list[float], zs: list[float]) -> float:
    """Return -sum z_j log p_j (zero labels contribute nothing)."""
    return -math.fsum(weighted(z, log(p)) for p, z in zip(ps, zs))


def nll(log_ps: list[float], zs: list[float]) -> float:
    """Return minus the log-probability of the class one-hot row ``zs`` picks (the others are not read)."""
    return -log_ps[zs.index(1.0)]


def ratio(weight: float, denominator: float) -> float:
    """Return weight / denominator: 0 for a zero weight, an infinity of the weight's sign for a zero denominator."""
    if weight == 0:
        return 0.0
    return weight / denominator if denominator != 0 else math.copysign(INF, weight)


def binary_gradient(p: float, z: float) -> float:
    """Return d/dp of the binary loss, -z / p + (1 - z) / (1 - p): one-sided at p = 0 and p = 1."""
    return -ratio(z, p) + ratio(1 - z, 1 - p)


PER_SAMPLE = {"softmax_cross_entropy": softmax_loss, "sparse_softmax_cross_entropy": softmax_loss,
              "categorical_cross_entropy": categorical_loss, "nll_loss": nll}


def samples(case) -> tuple[np.ndarray, np.ndarray]:
    """Return (first input with the class axis last, labels as one-hot or dense rows) of a per-sample case."""
    axis = case.params["axis"]
    first, labels = case.inputs.values()
    x = np.moveaxis(first, axis, -1)
    if labels.dtype.kind in "iu":
        return x, np.eye(x.shape[-1])[labels]
    return x, np.moveaxis(labels, axis, -1)


def unreduced(case) -> np.ndarray:
    """Return what mathematics gives each element (elementwise ops) or sample (ops with a class axis)."""
    first, second = case.inputs.values()
    if case.op == "mean_squared_error":
        return (first - second) ** 2
    if case.op == "binary_cross_entropy":
        return np.vectorize(binary_loss, otypes=[float])(first, second)
    if case.op in ("sigmoid_cross_entropy", "weighted_sigmoid_cross_entropy"):
        q = np.broadcast_to(np.asarray(case.params.get("pos_weight", 1.0), float), first.shape)
        return np.vectorize(sigmoid_loss, otypes=[float])(first, second, q)
    x, z = samples(case)
    rows = zip(x.reshape(-1, x.shape[-1]), z.reshape(-1, z.shape[-1]))
    loss = PER_SAMPLE[case.op]
    return np.array([loss(xs.tolist(), zs.tolist()) for xs, zs in rows], dtype=float).reshape(x.shape[:-1])


def reduce(values: np.ndarray, reduction: str):
    """Return the values summed or averaged (NaN for the mean of nothing), or unchanged."""
    if reduction == "none":
        return values
    flat = values.ravel().tolist()
    if any(math.isnan(v) for v in flat):
        return math.nan
    total = math.fsum(flat) if flat else 0.0
    return total if reduction == "sum" else (total / len(flat) if flat else math.nan)
