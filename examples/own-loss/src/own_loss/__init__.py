"""own-loss: mean squared error and sigmoid cross-entropy in NumPy.

This library carries ONE deliberate bug, for the loss-conformance example:
``_softplus`` computes log(1 + e^-|t|) with ``np.log(1 + ...)`` instead of
``np.log1p(...)``, so a loss far below 1 loses its digits (and one below the
float epsilon comes out as exactly 0). The kit's vectors catch it.
"""

from __future__ import annotations

import numpy as np

__all__ = ["mean_squared_error", "sigmoid_cross_entropy"]


def _reduce(values: np.ndarray, reduction: str) -> np.ndarray:
    if reduction == "none":
        return values
    if reduction == "sum":
        return np.sum(values)
    if reduction == "mean":
        return np.mean(values) if values.size else np.asarray(np.nan, dtype=values.dtype)
    raise ValueError(f"reduction must be none, sum or mean, got {reduction!r}")


def mean_squared_error(predictions, targets, reduction: str = "mean") -> np.ndarray:
    """Return (predictions - targets)**2, reduced."""
    predictions, targets = np.asarray(predictions), np.asarray(targets)
    with np.errstate(invalid="ignore", over="ignore"):  # inf - inf is nan, as it should be
        return _reduce(np.square(predictions - targets), reduction)


def _softplus(t: np.ndarray) -> np.ndarray:
    """Return log(1 + e^t) without overflow."""
    return np.maximum(t, 0) + np.log(1 + np.exp(-np.abs(t)))  # the deliberate bug: should be np.log1p


def sigmoid_cross_entropy(logits, labels, reduction: str = "mean") -> np.ndarray:
    """Return -z log(sigmoid(x)) - (1 - z) log(1 - sigmoid(x)), as z softplus(-x) + (1 - z) softplus(x), reduced."""
    x, z = np.asarray(logits), np.asarray(labels)
    with np.errstate(invalid="ignore"):  # a term whose weight is 0 is absent, even where softplus is inf
        positive = np.where(z == 0, 0, z * _softplus(-x))
        negative = np.where(z == 1, 0, (1 - z) * _softplus(x))
    return _reduce((positive + negative).astype(x.dtype), reduction)
