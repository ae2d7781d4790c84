"""Named definition conventions: where a framework's loss is, by design, not the mathematical one.

Each convention is computed here in float64 like the reference, so a result
that misses the canonical value but matches a convention its binding declares
is reported as a documented definition difference, not as an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from conformance.dtypes import round_to
from conformance.reference import _xlogy, reduce

KERAS_EPSILON = 1e-7  # keras.backend.epsilon()


@dataclass(frozen=True)
class Convention:
    """A documented deviation from the canonical definition, and the ops it applies to."""

    name: str
    description: str
    source: str
    ops: tuple[str, ...]
    compute: Callable[[str, dict, dict, str], np.ndarray]


def _in_dtype(value: float, dtype: str) -> float:
    """Return a Python constant as the framework sees it once converted to the run's dtype."""
    return float(round_to(np.asarray(value), dtype))


def _log_clamp(op: str, inputs: dict, params: dict, dtype: str) -> np.ndarray:
    p, z = inputs["probabilities"], inputs["labels"]
    with np.errstate(divide="ignore"):
        values = -(_xlogy(z, np.maximum(np.log(p), -100.0)) + _xlogy(1 - z, np.maximum(np.log1p(-p), -100.0)))
    return np.asarray(reduce(values, params["reduction"]))


def _keras_clip(op: str, inputs: dict, params: dict, dtype: str) -> np.ndarray:
    p, z = inputs["probabilities"], inputs["labels"]
    low, high = _in_dtype(KERAS_EPSILON, dtype), _in_dtype(1.0 - KERAS_EPSILON, dtype)
    # plain products, as Keras writes them: where the clip limit rounds to 1 (float16), 0 * log(0) is NaN there too
    with np.errstate(divide="ignore", invalid="ignore"):
        if op == "categorical_cross_entropy":
            axis = params["axis"]
            p = np.clip(p / np.sum(p, axis=axis, keepdims=True), low, high)
            values = -np.sum(z * np.log(p), axis=axis)
        else:
            p = np.clip(p, low, high)
            values = -(z * np.log(p) + (1 - z) * np.log(1 - p))
    return np.asarray(reduce(values, params["reduction"]))


CONVENTIONS: dict[str, Convention] = {
    c.name: c
    for c in (
        Convention(
            "log-clamp-100",
            "each log term is clamped to be >= -100, so p = 0 or 1 gives at most 100 instead of inf",
            "torch.nn.BCELoss documentation",
            ("binary_cross_entropy",),
            _log_clamp,
        ),
        Convention(
            "keras-epsilon-clip",
            "probabilities are clipped to [1e-7, 1 - 1e-7] (in the run's dtype) before the log; categorical "
            "probabilities are first rescaled to sum to 1",
            "keras.src.backend.*.nn.binary_crossentropy / categorical_crossentropy, from_logits=False",
            ("binary_cross_entropy", "categorical_cross_entropy"),
            _keras_clip,
        ),
    )
}


def compute(name: str, op: str, inputs: dict, params: dict, dtype: str) -> np.ndarray:
    """Return the value of ``op`` under convention ``name``, in float64, on float64 inputs."""
    convention = CONVENTIONS[name]
    if op not in convention.ops:
        raise ValueError(f"convention {name} does not apply to {op}")
    return convention.compute(op, inputs, params, dtype)
