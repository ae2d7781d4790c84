"""Loss formulas that equal the ops algebraically but lose precision, evaluated as written.

The precision-probe cases quote what these give (computed when the files are
generated, never typed in), so a comment can say how far a plausible
implementation lands from the loss. Every function takes the case's inputs,
its resolved params and a NumPy float dtype, and returns the unreduced values.
"""

from __future__ import annotations

import numpy as np


def _log_sigmoid(x: np.ndarray) -> np.ndarray:
    """Return log(sigmoid(x)) = -softplus(-x), itself evaluated stably."""
    return -(np.maximum(-x, 0) + np.log1p(np.exp(-np.abs(x))))


def _sigmoid_args(inputs: dict, params: dict, dtype) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x = np.asarray(inputs["logits"], dtype)
    z = np.asarray(inputs["labels"], dtype)
    q = np.asarray(params.get("pos_weight", 1.0), dtype)
    return x, z, q


def log_sigmoid_form(inputs: dict, params: dict, dtype) -> np.ndarray:
    """Return (1 - z) x - (1 + (q - 1) z) log_sigmoid(x): for label 0 and x < 0, x minus a number close to x."""
    x, z, q = _sigmoid_args(inputs, params, dtype)
    one = dtype(1)
    with np.errstate(all="ignore"):
        return (one - z) * x - (one + (q - one) * z) * _log_sigmoid(x)


def tf_weighted_form(inputs: dict, params: dict, dtype) -> np.ndarray:
    """Return (1 - z) x + (1 + (q - 1) z) (log1p(exp(-|x|)) + max(-x, 0)), the form TensorFlow documents."""
    x, z, q = _sigmoid_args(inputs, params, dtype)
    one = dtype(1)
    with np.errstate(all="ignore"):
        return (one - z) * x + (one + (q - one) * z) * (np.log1p(np.exp(-np.abs(x))) + np.maximum(-x, 0))


def plain_logsumexp_form(inputs: dict, params: dict, dtype) -> np.ndarray:
    """Return log-sum-exp minus the label's logit with lse = max + log(sum(exp(x - max))): no log1p of the rest."""
    axis = params.get("axis", -1)
    x = np.moveaxis(np.asarray(inputs["logits"], dtype), axis, -1)
    top = np.max(x, axis=-1, keepdims=True)
    with np.errstate(all="ignore"):
        lse = top + np.log(np.sum(np.exp(x - top), axis=-1, keepdims=True))
        labels = np.asarray(inputs["labels"])
        if labels.ndim == np.ndim(inputs["logits"]):
            z = np.moveaxis(labels.astype(dtype), axis, -1)
            return np.sum(z * (lse - x), axis=-1)
        return (lse - np.take_along_axis(x, labels[..., None], axis=-1))[..., 0]


# name -> (the formula as prose, the function)
FORMS = {
    "log-sigmoid": ("(1 - z) x - (1 + (q - 1) z) log_sigmoid(x)", log_sigmoid_form),
    "tf-weighted": ("TensorFlow's documented (1 - z) x + (1 + (q - 1) z) (log1p(exp(-|x|)) + max(-x, 0))",
                    tf_weighted_form),
    "plain-logsumexp": ("max + log(sum(exp(x - max))) - x[label], without log1p", plain_logsumexp_form),
}
