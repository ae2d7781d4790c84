"""Analytic gradients of every op, in NumPy: the expected values of gradient checks.

Each function returns d(sum of the op's output)/d(its differentiable input),
the vector-Jacobian product with ones that ``loss.sum().backward()`` gives.
The formulas are the textbook ones (``sigmoid(x) - z``, ``softmax(x) - z``,
``2 (p - t)``), written so that no step cancels: ``sigmoid(x) - 1`` is
``-sigmoid(-x)`` and ``1 - softmax`` of the top class is ``rest / (1 + rest)``.
"""

from __future__ import annotations

import numpy as np

from conformance.ops import get_op
from conformance.reference import sigmoid, softmax_and_complement


def _samples(shape: tuple[int, ...], axis: int | None) -> int:
    """Return how many values a mean divides by: elements, or samples when a class axis is reduced."""
    if axis is None:
        return int(np.prod(shape))
    return int(np.prod(shape)) // shape[axis] if shape[axis] else 0


def _scale_for(reduction: str, count: int, dtype) -> object:
    if reduction == "mean":
        return dtype.type(1) / dtype.type(count) if count else dtype.type(np.nan)
    return dtype.type(1)


def mean_squared_error(predictions, targets, *, reduction="none"):
    """Return 2 (p - t), divided by the element count for mean."""
    p = np.asarray(predictions)
    diff = p - np.asarray(targets, dtype=p.dtype)
    return 2 * diff * _scale_for(reduction, p.size, p.dtype)


def weighted_sigmoid_cross_entropy(logits, labels, *, pos_weight, reduction="none"):
    """Return (1 - z) sigmoid(x) - q z sigmoid(-x), divided by the element count for mean."""
    x = np.asarray(logits)
    z = np.asarray(labels, dtype=x.dtype)
    q = np.asarray(pos_weight, dtype=x.dtype)
    grad = (1 - z) * sigmoid(x) - q * z * sigmoid(-x)
    return grad * _scale_for(reduction, x.size, x.dtype)


def sigmoid_cross_entropy(logits, labels, *, reduction="none"):
    """Return sigmoid(x) - z (as (1 - z) sigmoid(x) - z sigmoid(-x)), divided by the count for mean."""
    return weighted_sigmoid_cross_entropy(logits, labels, pos_weight=1, reduction=reduction)


def softmax_cross_entropy(logits, labels, *, axis=-1, reduction="none"):
    """Return sum(z) softmax(x) - z along the class axis, divided by the sample count for mean."""
    x = np.asarray(logits)
    z = np.asarray(labels, dtype=x.dtype)
    p, complement = softmax_and_complement(x, axis)
    total = np.sum(z, axis=axis, keepdims=True)
    grad = (total - z) * p - z * complement
    return grad * _scale_for(reduction, _samples(x.shape, axis % x.ndim), x.dtype)


def sparse_softmax_cross_entropy(logits, labels, *, axis=-1, reduction="none"):
    """Return softmax(x) - onehot(label), divided by the sample count for mean."""
    x = np.asarray(logits)
    classes = x.shape[axis]
    y = np.asarray(labels)
    onehot = np.moveaxis(np.eye(classes, dtype=x.dtype)[y], -1, axis)
    return softmax_cross_entropy(x, onehot, axis=axis, reduction=reduction)


def _ratio(z: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Return z / d with 0 / 0 taken as 0 (a zero label contributes nothing)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(z == 0, z.dtype.type(0), z / d)


def binary_cross_entropy(probabilities, labels, *, reduction="none"):
    """Return -z / p + (1 - z) / (1 - p), divided by the element count for mean."""
    p = np.asarray(probabilities)
    z = np.asarray(labels, dtype=p.dtype)
    grad = -_ratio(z, p) + _ratio(1 - z, 1 - p)
    return grad * _scale_for(reduction, p.size, p.dtype)


def categorical_cross_entropy(probabilities, labels, *, axis=-1, reduction="none"):
    """Return -z / p, divided by the sample count for mean."""
    p = np.asarray(probabilities)
    z = np.asarray(labels, dtype=p.dtype)
    return -_ratio(z, p) * _scale_for(reduction, _samples(p.shape, axis % p.ndim), p.dtype)


def nll_loss(log_probabilities, labels, *, axis=-1, reduction="none"):
    """Return -onehot(label), divided by the sample count for mean."""
    logp = np.asarray(log_probabilities)
    onehot = np.moveaxis(np.eye(logp.shape[axis], dtype=logp.dtype)[np.asarray(labels)], -1, axis)
    return -onehot * _scale_for(reduction, _samples(logp.shape, axis % logp.ndim), logp.dtype)


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


def term_scale(op: str, inputs: dict, params: dict) -> np.ndarray:
    """Return the magnitude of the terms of the textbook gradient, per element (float64).

    Frameworks compute ``sigmoid(x) - z`` and ``softmax(x) - z`` as written, so
    where the true gradient is tiny (a confident prediction) they may lose it
    to rounding of terms near 1; the bound allows that, as the value bound
    allows the rounding of the documented loss formula. The error in ulps and
    any gradient flushed to zero are still recorded.
    """
    spec = get_op(op)
    params = spec.resolve_params(params)
    if op in ("mean_squared_error", "nll_loss"):
        return np.zeros(next(iter(inputs.values())).shape)
    if op in ("binary_cross_entropy", "categorical_cross_entropy"):
        p = np.asarray(inputs["probabilities"], dtype=np.float64)
        z = np.asarray(inputs["labels"], dtype=np.float64)
        # textbook: -z / p (+ (1 - z) / (1 - p) for binary)
        magnitude = np.abs(_ratio(z, p)) + (np.abs(_ratio(1 - z, 1 - p)) if op == "binary_cross_entropy" else 0)
        count = p.size if op == "binary_cross_entropy" else _samples(p.shape, params["axis"] % p.ndim)
        return magnitude * _scale_for(params["reduction"], count, np.dtype(np.float64))
    x = np.asarray(inputs["logits"], dtype=np.float64)
    axis = params.get("axis")
    if op in ("sigmoid_cross_entropy", "weighted_sigmoid_cross_entropy"):
        z = np.asarray(inputs["labels"], dtype=np.float64)
        q = np.asarray(params.get("pos_weight", 1.0), dtype=np.float64)
        # textbook: (1 - z + q z) sigmoid(x) - q z
        magnitude = np.abs((1 - z + q * z) * sigmoid(x)) + np.abs(q * z)
        count = x.size
    else:
        if op == "sparse_softmax_cross_entropy":
            z = np.moveaxis(np.eye(x.shape[axis])[np.asarray(inputs["labels"])], -1, axis)
        else:
            z = np.asarray(inputs["labels"], dtype=np.float64)
        p, _ = softmax_and_complement(x, axis)
        # textbook: sum(z) softmax(x) - z
        magnitude = np.abs(np.sum(z, axis=axis, keepdims=True) * p) + np.abs(z)
        count = _samples(x.shape, axis % x.ndim)
    return magnitude * _scale_for(params["reduction"], count, np.dtype(np.float64))


def differentiable_input(op: str) -> str:
    """Return the name of the input an op's gradient is taken with respect to."""
    return next(spec.name for spec in get_op(op).inputs if spec.differentiable)


def compute(op: str, inputs: dict, params: dict) -> np.ndarray:
    """Return the analytic gradient of sum(op output) w.r.t. the differentiable input."""
    spec = get_op(op)
    args = [inputs[name] for name in spec.input_names]
    return np.asarray(FUNCTIONS[op](*args, **spec.resolve_params(params)))
