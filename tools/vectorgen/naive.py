"""The tutorial's hand-written loss formulas, evaluated as written, to describe where they break.

The tutorial claims ``-reduce_sum(labels * log(softmax(x)), 1)`` equals the
fused softmax cross-entropy and that ``-y log(sigmoid(x)) - (1 - y) log(1 -
sigmoid(x))`` equals the fused sigmoid one. These functions evaluate those
formulas in a given dtype so that a case's comment can state what they give
(computed here, never typed in by hand).
"""

from __future__ import annotations

import numpy as np


def sigmoid(logits, labels, dtype, pos_weight=1.0) -> np.ndarray:
    """Return -q y log(sigmoid(x)) - (1 - y) log(1 - sigmoid(x)) evaluated in ``dtype`` (q = 1 unless weighted)."""
    x, y, q = np.asarray(logits, dtype), np.asarray(labels, dtype), np.asarray(pos_weight, dtype)
    one = dtype(1)
    with np.errstate(all="ignore"):
        p = one / (one + np.exp(-x))
        return -q * y * np.log(p) - (one - y) * np.log(one - p)


def softmax(logits, axis: int, dtype) -> np.ndarray:
    """Return softmax as tf.nn.softmax computes it: exp(x - max) / sum, in ``dtype``."""
    x = np.asarray(logits, dtype)
    with np.errstate(all="ignore"):
        e = np.exp(x - np.max(x, axis=axis, keepdims=True))
        return e / np.sum(e, axis=axis, keepdims=True)


def softmax_cross_entropy(logits, labels, axis: int, dtype) -> np.ndarray:
    """Return -sum(labels * log(softmax(x)), axis) evaluated in ``dtype``."""
    with np.errstate(all="ignore"):
        return -np.sum(np.asarray(labels, dtype) * np.log(softmax(logits, axis, dtype)), axis=axis)


def sparse_softmax_cross_entropy(logits, labels, axis: int, dtype) -> np.ndarray:
    """Return -log(softmax(x))[label] evaluated in ``dtype``."""
    p = np.moveaxis(softmax(logits, axis, dtype), axis, -1)
    picked = np.take_along_axis(p, np.asarray(labels)[..., None], axis=-1)[..., 0]
    with np.errstate(all="ignore"):
        return -np.log(picked)


def evaluate(op: str, inputs: dict, params: dict, dtype) -> np.ndarray:
    """Return the naive formula of ``op`` (unreduced) on ``inputs`` in ``dtype``."""
    if op == "sigmoid_cross_entropy":
        return sigmoid(inputs["logits"], inputs["labels"], dtype)
    if op == "weighted_sigmoid_cross_entropy":  # not the tutorial's, but its formula with the weight put in
        return sigmoid(inputs["logits"], inputs["labels"], dtype, params["pos_weight"])
    axis = params.get("axis", -1)
    if op == "softmax_cross_entropy":
        return softmax_cross_entropy(inputs["logits"], inputs["labels"], axis, dtype)
    if op == "sparse_softmax_cross_entropy":
        return sparse_softmax_cross_entropy(inputs["logits"], inputs["labels"], axis, dtype)
    raise ValueError(f"the tutorial gives no naive formula for {op}")
