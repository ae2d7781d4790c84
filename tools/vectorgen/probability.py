"""What the probability-input ops share: flag definitions, the convention flags and the comments quoting conventions.

binary_cross_entropy and categorical_cross_entropy take probabilities, and
frameworks keep them away from 0 and 1 in named ways (docs/conventions.md):
PyTorch clamps each log at -100 (log-clamp-100), Keras clips into
[1e-7, 1 - 1e-7] (keras-epsilon-clip). A case is flagged where a convention's
value lies outside the bound a check would allow around the canonical value,
and its comment quotes both, computed by conformance.conventions when the
files are generated.
"""

from __future__ import annotations

import dataclasses
from typing import Callable

import numpy as np

from conformance import conventions, reference
from conformance.dtypes import round_to
from conformance.generate import generate_inputs
from conformance.ops import get_op

from .build import Draft, as_arrays, show

KERAS_LOW32 = float(np.float32(conventions.KERAS_EPSILON))  # Keras's clip limits once rounded to float32
KERAS_HIGH32 = float(np.float32(1.0 - conventions.KERAS_EPSILON))
ONE_BELOW = 1.0 - 2.0**-53  # the largest double below 1
CHECKED_DTYPES = ("float64", "float32")
K = 16  # as conformance.tolerance: roundings inside one op evaluation
FLAG_OF = {"log-clamp-100": "LogClampDiffers", "keras-epsilon-clip": "KerasClipDiffers"}

CONVENTION_NOTES = {
    "LogClampDiffers": (
        "log-clamp-100 (docs/conventions.md: PyTorch's BCELoss clamps each log term at -100) gives a value outside "
        "16 u (|loss| + 1) + the smallest normal of the canonical loss, on some element, in float64 or float32 "
        "(on the inputs rounded to that dtype, as the runner checks them). The comment quotes both values, computed "
        "by conformance.conventions."
    ),
    "KerasClipDiffers": (
        "keras-epsilon-clip (docs/conventions.md: Keras clips probabilities into [1e-7, 1 - 1e-7] in the run's "
        "dtype, and rescales categorical rows to sum 1 first) gives a value outside 16 u (|loss| + 1) + the "
        "smallest normal of the canonical loss, on some element or sample, in float64 or float32 (on the inputs "
        "rounded to that dtype). The comment quotes both values, computed by conformance.conventions."
    ),
}
KERAS_CLIP_NOTE = (
    "Probabilities exactly at Keras's clip limits: 1e-7 and 1 - 1e-7 (float64), and their float32 roundings "
    f"{KERAS_LOW32!r} and {KERAS_HIGH32!r}, which the float64 limits also become when cast to float32. Clipping "
    "leaves them unchanged, so keras-epsilon-clip and the canonical loss agree here; a clip limit that is off by "
    "one rounding shows."
)
FROM_TUTORIAL_NOTE = (
    "Inputs made from the tutorial's logits in float64 by tools/vectorgen ({how}): the loss equals the {op} of the "
    "logits up to the rounding of those inputs; the comment quotes both."
)


def convention_notes(op: str) -> dict[str, str]:
    """Return the definitions of the *Differs flags of the conventions defined for ``op``."""
    return {FLAG_OF[name]: CONVENTION_NOTES[FLAG_OF[name]] for name in applicable(op)}


def applicable(op: str) -> tuple[str, ...]:
    """Return the names of the conventions defined for ``op``, in a fixed order."""
    return tuple(name for name, c in conventions.CONVENTIONS.items() if op in c.ops)


def _rounded(op: str, inputs: dict, dtype: str) -> dict:
    """Return the inputs rounded to ``dtype`` and widened back to float64 (integer inputs unchanged)."""
    kinds = {spec.name: spec.kind for spec in get_op(op).inputs}
    return {k: (round_to(v, dtype).astype(np.float64) if kinds[k] == "float" else v) for k, v in inputs.items()}


def _evaluations(op: str, inputs: dict, params: dict, dtype: str, reduction: str) -> dict[str, np.ndarray]:
    """Return {'canonical' and each convention's name: its value} on the inputs rounded to ``dtype``."""
    rounded = _rounded(op, inputs, dtype)
    params = {**params, "reduction": reduction}
    with np.errstate(all="ignore"):
        out = {"canonical": reference.compute(op, rounded, params)}
        out.update({name: conventions.compute(name, op, rounded, params, dtype) for name in applicable(op)})
    return out


def differs(canonical: np.ndarray, other: np.ndarray, dtype: str) -> bool:
    """Return whether ``other`` leaves the bound 16 u (|canonical| + 1) + smallest normal anywhere (NaN = NaN)."""
    canonical, other = np.asarray(canonical, np.float64), np.asarray(other, np.float64)
    info = np.finfo(dtype)
    special = ~np.isfinite(canonical) | ~np.isfinite(other)
    if not np.array_equal(canonical[special], other[special], equal_nan=True):
        return True
    allowed = K * float(info.eps) / 2 * (np.abs(canonical) + 1) + float(info.smallest_normal)
    return bool(np.any(np.abs(canonical - other)[~special] > allowed[~special]))


def convention_flags(op: str, inputs: dict, params: dict) -> tuple[str, ...]:
    """Return the *Differs flags of the conventions whose unreduced values differ from the canonical ones."""
    found = []
    for name in applicable(op):
        for dtype in CHECKED_DTYPES:
            got = _evaluations(op, inputs, params, dtype, "none")
            if differs(got["canonical"], got[name], dtype):
                found.append(FLAG_OF[name])
                break
    return tuple(found)


def flagged(op: str, group_params: dict, draft: Draft) -> Draft:
    """Return ``draft`` with the flags of the conventions that differ on its inputs appended."""
    params = get_op(op).resolve_params({**group_params, **draft.params})
    inputs = generate_inputs(op, draft.generator, params) if draft.generator else as_arrays(op, draft.inputs)
    return dataclasses.replace(draft, flags=tuple(draft.flags) + convention_flags(op, inputs, params))


def convention_comment(op: str, lead) -> Callable:
    """Return a comment maker: ``lead`` (text, or a comment maker), then the canonical formula's value and each
    convention's, in float64 and on the inputs rounded to float32."""

    def make(inputs: dict, params: dict, expected: np.ndarray | None) -> str:
        parts = []
        for dtype in CHECKED_DTYPES:
            got = _evaluations(op, inputs, params, dtype, params["reduction"])
            quotes = " and ".join(f"{name} gives {show(got[name])}" for name in applicable(op))
            where = "in float64" if dtype == "float64" else "on the inputs rounded to float32"
            parts.append(f"{where} the canonical formula gives {show(got['canonical'])}, {quotes}")
        text = "; ".join(parts)
        first = lead(inputs, params, expected) if callable(lead) else lead
        return f"{first} {text[0].upper()}{text[1:]}."

    return make


def from_logits_comment(op: str, lead: str, logits_op: str, logits) -> Callable:
    """Return a comment maker quoting ``logits_op`` on ``logits`` (with the case's labels) beside the case's loss."""

    def make(inputs: dict, params: dict, expected: np.ndarray | None) -> str:
        other = reference.compute(logits_op, {"logits": np.asarray(logits, np.float64), "labels": inputs["labels"]},
                                  params)
        worst = float(np.max(np.abs(other - expected) / np.abs(other)))
        return (f"{lead} The loss is {show(expected)}, within {worst:.1e} (relative) of {logits_op} on the logits, "
                "the rounding of the inputs.")

    return make
