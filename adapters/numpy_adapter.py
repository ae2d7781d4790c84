"""The NumPy adapter: the kit's own reference, run as a framework (a self-check).

In float64 it must reproduce the stored vectors; in float32 it shows what the
same stable formulas give when every step rounds to float32. The tutorial's
hand-written NumPy formula (its ``E1``) is here too, as a composition that runs
only when asked: it breaks where the logits are large.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from conformance import reference
from conformance.adapter import Binding
from conformance.dtypes import round_to
from conformance.ops import get_op
from conformance.repro_source import ReproSource, inline_functions, literal, signature

REDUCE = {"none": lambda v: v, "sum": np.sum, "mean": np.mean}


def _reference(op: str):
    def call(fw: Any, inputs: dict, params: dict):
        return reference.compute(op, inputs, params)

    return call


def _tutorial_sigmoid(fw: Any, inputs: dict, params: dict):
    x, y = inputs["logits"], inputs["labels"]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        y_pred = 1 / (1 + np.exp(-x))
        values = -y * np.log(y_pred) - (1 - y) * np.log(1 - y_pred)
    return REDUCE[params["reduction"]](values)


def _tutorial_softmax(fw: Any, inputs: dict, params: dict):
    x, y, axis = inputs["logits"], inputs["labels"], params["axis"]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        e = np.exp(x)
        values = -np.sum(y * np.log(e / np.sum(e, axis=axis, keepdims=True)), axis=axis)
    return REDUCE[params["reduction"]](values)


BINDINGS = tuple(
    Binding(f"conformance.reference.{op}", op, _reference(op), f"conformance.reference.{op}(..., reduction=...)")
    for op in reference.FUNCTIONS
) + (
    Binding(
        "composition:np.log(sigmoid)", "sigmoid_cross_entropy", _tutorial_sigmoid,
        "y_pred = 1/(1+np.exp(-logits)); -labels*np.log(y_pred) - (1-labels)*np.log(1-y_pred), then np.sum/np.mean",
        kind="composition", default=False,
    ),
    Binding(
        "composition:np.log(softmax)", "softmax_cross_entropy", _tutorial_softmax,
        "-np.sum(labels * np.log(np.exp(x) / np.sum(np.exp(x), axis)), axis), then np.sum/np.mean",
        kind="composition", default=False,
    ),
)


def _repro_loss(binding: Binding, params: dict) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Return (function definitions the script carries, the body of its loss) for a binding."""
    reduction = params["reduction"]
    if binding.name == f"conformance.reference.{binding.op}":
        fn = reference.FUNCTIONS[binding.op]
        args = ", ".join(signature(binding.op))
        kwargs = ", ".join(f"{k}={literal(v)}" for k, v in get_op(binding.op).resolve_params(params).items())
        return inline_functions(fn), (f"return np.asarray({fn.__name__}({args}, {kwargs}))",)
    reduce = {"none": "values", "sum": "np.sum(values)", "mean": "np.mean(values)"}[reduction]
    if binding.fn is _tutorial_sigmoid:
        return (), ('with np.errstate(divide="ignore", invalid="ignore", over="ignore"):',
                    "    y_pred = 1 / (1 + np.exp(-logits))",
                    "    values = -labels * np.log(y_pred) - (1 - labels) * np.log(1 - y_pred)", f"return {reduce}")
    if binding.fn is _tutorial_softmax:
        axis = params["axis"]
        return (), ('with np.errstate(divide="ignore", invalid="ignore", over="ignore"):', "    e = np.exp(logits)",
                    f"    values = -np.sum(labels * np.log(e / np.sum(e, axis={axis}, keepdims=True)), axis={axis})",
                    f"return {reduce}")
    raise NotImplementedError(f"no reproducer source for {binding.name}")


class NumpyAdapter:
    """The reference implementation as a framework."""

    framework = "numpy"
    requires = ("numpy",)
    distributions = ("numpy",)
    dtypes = ("float16", "bfloat16", "float32", "float64")
    modes = ("eager",)
    devices = ("cpu",)
    bindings = BINDINGS

    def load(self) -> Any:
        return np

    def to_framework(self, fw: Any, array: np.ndarray, dtype: str, device: str) -> np.ndarray:
        return np.asarray(array) if np.issubdtype(array.dtype, np.integer) else round_to(array, dtype)

    def to_numpy(self, fw: Any, value: Any) -> np.ndarray:
        return np.asarray(value)


    def repro_source(self, binding: Binding, params: dict, dtype: str, mode: str, device: str, quantity: str,
                     shapes: dict | None = None) -> ReproSource:
        """Return the binding's check as standalone NumPy source: the reference functions it runs, inlined."""
        if mode != "eager" or quantity != "value" or device != "cpu":
            raise ValueError("the NumPy adapter runs values only, eagerly, on the CPU")
        helpers, body = _repro_loss(binding, params)
        numpy_type = "ml_dtypes.bfloat16" if dtype == "bfloat16" else f"np.{dtype}"
        return ReproSource(
            prelude=(("import ml_dtypes",) if dtype == "bfloat16" else ()) + (("", "", *helpers) if helpers else ()),
            tensor=f"{{name}}.astype({numpy_type})",
            label_tensor=None,
            loss=body,
            run=(f"result = loss({', '.join(signature(binding.op))})",),
            to_numpy="np.asarray({value}, dtype=np.float64)",
        )
