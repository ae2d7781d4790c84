"""The reference implementation of every canonical op, in NumPy.

Run on float64 arrays it produces the expected values stored in the vectors
(and the tests prove it against mpmath); run on other dtypes it is the NumPy
adapter's self-check. Every formula is the numerically stable one: softplus
instead of log(sigmoid), log-sum-exp with the max taken out and log1p of the
rest, and only sums of non-negative terms, so no step cancels.
"""

from __future__ import annotations

import numpy as np

from conformance.ops import get_op


def softplus(x: np.ndarray) -> np.ndarray:
    """Return log(1 + exp(x)) without overflow or loss of small values."""
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Return 1 / (1 + exp(-x)) to a few ulp for every x, without overflow."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def _log_softmax_parts(logits: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (log_softmax with classes last, the first argmax, rest = sum of exp(x - max) over the others)."""
    x = np.moveaxis(np.asarray(logits), axis, -1)
    top = np.max(x, axis=-1, keepdims=True)
    with np.errstate(invalid="ignore"):
        # a +inf logit takes all the mass: its log-probability is 0, every other one -inf (inf - inf is no answer)
        shifted = np.where(np.isposinf(top), np.where(x == top, 0, -np.inf), x - top).astype(x.dtype)
    terms = np.exp(shifted)
    first_max = np.argmax(x, axis=-1)[..., None]
    np.put_along_axis(terms, first_max, 0, axis=-1)
    rest = np.sum(terms, axis=-1, keepdims=True)
    return shifted - np.log1p(rest), first_max, rest


def log_softmax(logits: np.ndarray, axis: int = -1) -> np.ndarray:
    """Return log(softmax(logits)) along ``axis``, accurate for dominant classes.

    log(sum(exp(x - max))) is log1p of the sum over all but one maximal
    element, so a confident prediction keeps its tiny loss to full precision.
    """
    return np.moveaxis(_log_softmax_parts(logits, axis)[0], -1, axis)


def softmax_and_complement(logits: np.ndarray, axis: int = -1) -> tuple[np.ndarray, np.ndarray]:
    """Return (softmax, 1 - softmax) along ``axis``; 1 - p of the top class is rest / (1 + rest), not a cancellation."""
    logp, first_max, rest = _log_softmax_parts(logits, axis)
    p = np.exp(logp)
    complement = 1 - p
    np.put_along_axis(complement, first_max, rest / (1 + rest), axis=-1)
    return np.moveaxis(p, -1, axis), np.moveaxis(complement, -1, axis)


def reduce(values: np.ndarray, reduction: str) -> np.ndarray:
    """Return ``values`` reduced by none, sum or mean over all elements."""
    if reduction == "none":
        return values
    if reduction == "sum":
        return np.sum(values, dtype=values.dtype)
    if reduction == "mean":
        if values.size == 0:
            return np.asarray(np.nan, dtype=values.dtype)
        return np.sum(values, dtype=values.dtype) / values.dtype.type(values.size)
    raise ValueError(f"unknown reduction {reduction!r}")


def mean_squared_error(predictions, targets, *, reduction="none"):
    """Return (predictions - targets)**2, reduced."""
    diff = np.asarray(predictions) - np.asarray(targets)
    return reduce(diff * diff, reduction)


def sigmoid_cross_entropy(logits, labels, *, reduction="none"):
    """Return -z log(sigmoid(x)) - (1 - z) log(1 - sigmoid(x)), elementwise, reduced."""
    return weighted_sigmoid_cross_entropy(logits, labels, pos_weight=1, reduction=reduction)


def weighted_sigmoid_cross_entropy(logits, labels, *, pos_weight, reduction="none"):
    """Return q z softplus(-x) + (1 - z) softplus(x), the definition of
    ``tf.nn.weighted_cross_entropy_with_logits``, elementwise, reduced.

    Both terms are non-negative for labels in [0, 1]; this avoids the
    cancellation in TensorFlow's documented form (1 - z) x + (1 + (q - 1) z) log(1 + e^-x).
    """
    x = np.asarray(logits)
    z = np.asarray(labels, dtype=x.dtype)
    q = np.asarray(pos_weight, dtype=x.dtype)
    one = x.dtype.type(1)
    values = _xlogy_form(q * z, softplus(-x)) + _xlogy_form(one - z, softplus(x))
    return reduce(values, reduction)


def _xlogy_form(weight: np.ndarray, term: np.ndarray) -> np.ndarray:
    """Return weight * term with a zero weight giving 0 even where term is inf (the limit, as 0 log 0 = 0)."""
    with np.errstate(invalid="ignore"):
        return np.where(weight == 0, np.zeros_like(term), weight * term)


def softmax_cross_entropy(logits, labels, *, axis=-1, reduction="none"):
    """Return -sum(labels * log_softmax(logits), axis): one value per sample, reduced."""
    x = np.asarray(logits)
    z = np.asarray(labels, dtype=x.dtype)
    values = -np.sum(_xlogy_form(z, log_softmax(x, axis)), axis=axis, dtype=x.dtype)
    return reduce(values, reduction)


def sparse_softmax_cross_entropy(logits, labels, *, axis=-1, reduction="none"):
    """Return -log_softmax(logits)[label] along the class axis, reduced.

    A label outside [0, classes) has no defined loss: it raises ValueError.
    """
    x = np.asarray(logits)
    y = np.asarray(labels)
    classes = x.shape[axis]
    if y.size and (np.min(y) < 0 or np.max(y) >= classes):
        raise ValueError(f"labels must lie in [0, {classes}); got {y.min()}..{y.max()}")
    logp = np.moveaxis(log_softmax(x, axis), axis, -1)
    picked = np.take_along_axis(logp, y[..., None].astype(np.intp), axis=-1)[..., 0]
    return reduce(-picked, reduction)


def _xlogy(z: np.ndarray, logp: np.ndarray) -> np.ndarray:
    """Return z * log(p) with 0 * log(0) taken as 0, its limit."""
    with np.errstate(invalid="ignore"):
        return np.where(z == 0, z.dtype.type(0), z * logp)


def binary_cross_entropy(probabilities, labels, *, reduction="none"):
    """Return -(z log p + (1 - z) log(1 - p)) elementwise, reduced; inf where a label meets probability 0."""
    p = np.asarray(probabilities)
    z = np.asarray(labels, dtype=p.dtype)
    with np.errstate(divide="ignore"):
        values = -(_xlogy(z, np.log(p)) + _xlogy(1 - z, np.log1p(-p)))
    return reduce(values, reduction)


def categorical_cross_entropy(probabilities, labels, *, axis=-1, reduction="none"):
    """Return -sum(z log p, axis): one value per sample, reduced."""
    p = np.asarray(probabilities)
    z = np.asarray(labels, dtype=p.dtype)
    with np.errstate(divide="ignore"):
        values = -np.sum(_xlogy(z, np.log(p)), axis=axis, dtype=p.dtype)
    return reduce(values, reduction)


def nll_loss(log_probabilities, labels, *, axis=-1, reduction="none"):
    """Return -log_probabilities[label] along the class axis, reduced (a label out of range raises ValueError)."""
    logp = np.moveaxis(np.asarray(log_probabilities), axis, -1)
    y = np.asarray(labels)
    classes = logp.shape[-1]
    if y.size and (np.min(y) < 0 or np.max(y) >= classes):
        raise ValueError(f"labels must lie in [0, {classes}); got {y.min()}..{y.max()}")
    picked = np.take_along_axis(logp, y[..., None].astype(np.intp), axis=-1)[..., 0]
    return reduce(-picked, reduction)


FUNCTIONS = {
    "mean_squared_error": mean_squared_error,
    "sigmoid_cross_entropy": sigmoid_cross_entropy,
    "weighted_sigmoid_cross_entropy": weighted_sigmoid_cross_entropy,
    "softmax_cross_entropy": softmax_cross_entropy,
    "sparse_softmax_cross_entropy": sparse_softmax_cross_entropy,
    "binary_cross_entropy": binary_cross_entropy,
    "categorical_cross_entropy": categorical_cross_entropy,
    "nll_loss": nll_loss,
}


def compute(op: str, inputs: dict, params: dict) -> np.ndarray:
    """Return the reference value of ``op`` on ``inputs`` in their own dtype."""
    spec = get_op(op)
    args = [inputs[name] for name in spec.input_names]
    return np.asarray(FUNCTIONS[op](*args, **spec.resolve_params(params)))
