"""Comment makers for the precision probes: each quotes numbers computed on the case when the files are generated.

A probe's comment says what it probes and shows it: what an algebraically
equal formula gives (forms.py), what the stable form gives once the inputs are
cast to float16, or how far a term-by-term sum in low precision drifts.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from conformance import gradients, reference

from . import forms, naive
from .build import NAIVE, show

LOW = (np.float32, np.float16)


def forms_comment(op: str, lead: str, *names: str) -> Callable:
    """Return a comment maker quoting what the named formulas (``naive`` or a key of forms.FORMS) give, in float64 and float32."""

    def evaluate(name: str, inputs: dict, params: dict, dtype) -> np.ndarray:
        if name == "naive":
            values = naive.evaluate(op, inputs, params, dtype)
        else:
            values = forms.FORMS[name][1](inputs, params, dtype)
        return reference.reduce(np.asarray(values, np.float64), params["reduction"])

    def make(inputs: dict, params: dict, expected: np.ndarray | None) -> str:
        quotes = []
        for name in names:
            prose = NAIVE[op] if name == "naive" else forms.FORMS[name][0]
            got = [show(evaluate(name, inputs, params, t)) for t in (np.float64, np.float32)]
            quotes.append(f"{prose} gives {got[0]} in float64 and {got[1]} in float32")
        return f"{lead} " + "; ".join(quotes) + f"; the loss is {show(expected)}."

    return make


def float16_comment(op: str, lead: str) -> Callable:
    """Return a comment maker quoting the logits cast to float16 and the stable reference form evaluated there."""

    def make(inputs: dict, params: dict, expected: np.ndarray | None) -> str:
        with np.errstate(all="ignore"):  # 70000 overflows on the cast: that is the point
            half = {k: (v.astype(np.float16) if v.dtype.kind == "f" else v) for k, v in inputs.items()}
            got = reference.compute(op, half, params)
        return (
            f"{lead} Cast to float16 the logits are {show(half['logits'])}; the stable reference form evaluated in "
            f"float16 gives {show(got)}; the loss is {show(expected)}."
        )

    return make


def _sequential(values: np.ndarray, reduction: str, dtype) -> float:
    """Return the sum (or mean) of ``values`` accumulated term by term in ``dtype``."""
    total = np.cumsum(values.astype(dtype).ravel(), dtype=dtype)[-1]
    return float(total / dtype(values.size) if reduction == "mean" else total)


def accumulation_comment(op: str, lead: str) -> Callable:
    """Return a comment maker quoting how far a term-by-term sum of the per-element losses drifts in float32 and float16."""

    def make(inputs: dict, params: dict, expected: np.ndarray | None) -> str:
        terms = reference.compute(op, inputs, {**params, "reduction": "none"})
        want = float(expected)
        drift = [abs(_sequential(terms, params["reduction"], t) - want) / abs(want) for t in LOW]
        return (
            f"{lead} The {params['reduction']} of {terms.size} float64 terms is {want:.6g}; the same terms rounded "
            f"and accumulated one by one are off by {drift[0]:.1e} (relative) in float32 and {drift[1]:.1e} in "
            f"float16."
        )

    return make


def label_sum_comment(op: str, lead: str) -> Callable:
    """Return a comment maker quoting how far softmax(x) - z (right only when labels sum to 1) is from the gradient."""

    def make(inputs: dict, params: dict, expected: np.ndarray | None) -> str:
        axis = params["axis"]
        grad = gradients.compute(op, inputs, params)
        wrong = np.exp(reference.log_softmax(inputs["logits"], axis)) - inputs["labels"]
        sums = np.sum(inputs["labels"], axis=axis)
        return (
            f"{lead} Label sums {show(sums)}. The gradient of the loss is sum(z) softmax(x) - z; softmax(x) - z, "
            f"right only for sums of 1, is off by up to {np.max(np.abs(wrong - grad)):.3g}. The loss is "
            f"{show(expected)}."
        )

    return make
