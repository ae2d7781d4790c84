"""Turn case definitions into vector documents: arrays in, float64 reference values out.

A definition says what a case is (id, comment, flags, inputs or a generator);
everything derived (seeded inputs, expected values, the naive formula's
output quoted in a comment) is computed here, so the YAML never holds a
number typed in by hand except inputs and published digits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from conformance import gradients, reference
from conformance.generate import generate_inputs
from conformance.ops import get_op

from . import naive

ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9.-]*$")


@dataclass(frozen=True)
class Draft:
    """A case as defined by hand, before its inputs and expected value are worked out."""

    id: str
    comment: Any  # a string, or a function of (inputs, params, expected) giving one
    inputs: dict | None = None
    generator: dict | None = None
    flags: tuple[str, ...] = ()
    source: str = "hand-written"
    reference: str | None = None
    params: dict = field(default_factory=dict)
    outcome: str = "value"
    published: dict | None = None
    tolerance: dict | None = None


def case(case_id: str, comment, inputs: dict, **options) -> Draft:
    """Return a case with inputs given as nested lists (hand-written unless ``source`` says otherwise)."""
    return Draft(case_id, comment, inputs=inputs, **options)


def seeded(case_id: str, comment, *, seed: int, shape: list, distributions: dict, **options) -> Draft:
    """Return a case whose inputs are drawn by conformance.generate from a seed."""
    generator = {"seed": seed, "shape": list(shape), "distributions": distributions}
    return Draft(case_id, comment, generator=generator, source="seeded-random", **options)


def generated(case_id: str, comment: str, *, seed: int, shape: list, distributions: dict, dtype: str | None = None,
              **options) -> Draft:
    """Return a case whose inputs are drawn at run time (too large to store, or of a shape with a 0 in it).

    Its expected value is made then too. Without ``dtype`` the generator draws float64 (and says nothing).
    """
    generator = {"seed": seed, "shape": list(shape), **({"dtype": dtype} if dtype else {}),
                 "distributions": distributions}
    return Draft(case_id, comment, generator=generator, source="generated", **options)


def as_arrays(op: str, inputs: dict) -> dict[str, np.ndarray]:
    """Return hand-written inputs as arrays: float64, or int64 for an op's integer inputs, in the op's input order."""
    spec = get_op(op)
    if list(inputs) != list(spec.input_names):
        raise ValueError(f"{op}: inputs must be {list(spec.input_names)} in that order, got {list(inputs)}")
    kinds = {item.name: (np.int64 if item.kind == "int" else np.float64) for item in spec.inputs}
    return {name: np.asarray(value, dtype=kinds[name]) for name, value in inputs.items()}


def _source(draft: Draft) -> dict:
    source: dict = {"inputs": draft.source}
    if draft.reference:
        source["reference"] = draft.reference
    if draft.generator:
        source["generator"] = draft.generator
    if draft.source == "generated":
        source["expected"] = "reference-float64-at-run-time"
    elif draft.outcome == "value":
        source["expected"] = "reference-float64"
    return source


def _finish_generated(op: str, params: dict, draft: Draft) -> dict:
    """Return a generated case as it goes into the file: its generator, no inputs and no expected values.

    The spec is checked by drawing two samples of it (the full draw is what the
    run does, not the build), so a typo fails here rather than at run time.
    """
    trial = {**draft.generator, "shape": [2, *draft.generator["shape"][1:]]}
    inputs = generate_inputs(op, trial, params)
    problem = get_op(op).check_shapes(inputs, get_op(op).resolve_params(params))
    if problem or draft.outcome != "value":
        raise ValueError(f"{op}[{draft.id}]: {problem or 'a generated case has outcome value'}")
    out: dict = {"id": draft.id, "comment": draft.comment, "flags": list(draft.flags), "source": _source(draft)}
    if draft.params:
        out["params"] = dict(draft.params)
    out["outcome"] = draft.outcome
    return out


def finish(op: str, group_params: dict, draft: Draft) -> dict:
    """Return the case as it goes into the file: inputs as arrays, expected value and gradient in float64."""
    params = {**group_params, **draft.params}
    if draft.source == "generated":
        return _finish_generated(op, params, draft)
    if draft.generator:
        inputs = generate_inputs(op, draft.generator, params)
    else:
        inputs = as_arrays(op, draft.inputs)
    resolved = get_op(op).resolve_params(params)
    problem = get_op(op).check_shapes(inputs, resolved)
    if problem:
        raise ValueError(f"{op}[{draft.id}]: {problem}")
    expected = grad = None
    if draft.outcome == "value":
        with np.errstate(all="ignore"):  # NaN and inf cases are meant to produce them
            expected = reference.compute(op, inputs, resolved).astype(np.float64)
            grad = gradients.compute(op, inputs, resolved).astype(np.float64)
    comment = draft.comment(inputs, resolved, expected) if callable(draft.comment) else draft.comment
    out: dict = {"id": draft.id, "comment": comment}
    if draft.flags:
        out["flags"] = list(draft.flags)
    out["source"] = _source(draft)
    out["inputs"] = inputs
    if draft.params:
        out["params"] = dict(draft.params)
    out["outcome"] = draft.outcome
    if expected is not None:
        out["expected"] = expected
        out["expected_grad"] = grad
    if draft.published:
        out["published"] = {**draft.published, "value": np.asarray(draft.published["value"], dtype=np.float64)}
    if draft.tolerance:
        out["tolerance"] = draft.tolerance
    return out


def group(op: str, params: dict, drafts: list[Draft], description: str | None = None) -> dict:
    """Return one group of finished cases sharing ``params``."""
    out: dict = {"description": description} if description else {}
    out["params"] = dict(params)
    out["cases"] = [finish(op, params, draft) for draft in drafts]
    return out


def document(op: str, description: str, notes: dict, groups: list[dict]) -> dict:
    """Return a whole vector document, after checking ids are unique and well formed and flags are defined."""
    seen: set[str] = set()
    used: set[str] = set()
    for item in (c for g in groups for c in g["cases"]):
        if not ID_PATTERN.match(item["id"]) or item["id"] in seen:
            raise ValueError(f"{op}: case id {item['id']!r} is malformed or repeated")
        seen.add(item["id"])
        used.update(item.get("flags", []))
    if used != set(notes):
        raise ValueError(f"{op}: flags used {sorted(used)} but notes define {sorted(notes)}")
    return {"op": op, "description": description, "notes": notes, "groups": groups}


def show(values) -> str:
    """Return numbers for a comment: 6 significant digits, nested lists as brackets."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim == 0:
        value = float(arr) + 0.0  # no "-0" in prose
        return repr(value) if not np.isfinite(value) else f"{value:.6g}"
    return "[" + ", ".join(show(sub) for sub in arr) + "]"


def naive_comment(op: str, lead: str) -> Callable:
    """Return a comment maker that quotes what the tutorial's naive formula gives on the case, computed."""

    def make(inputs: dict, params: dict, expected: np.ndarray | None) -> str:
        n64, n32 = (reference.reduce(naive.evaluate(op, inputs, params, t), params["reduction"])
                    for t in (np.float64, np.float32))
        return (
            f"{lead} The naive formula ({NAIVE[op]}) gives {show(n64)} in float64 and {show(n32)} in float32; "
            f"the loss is {show(expected)}."
        )

    return make


NAIVE = {
    "sigmoid_cross_entropy": "-y*log(sigmoid(x)) - (1-y)*log(1-sigmoid(x))",
    "weighted_sigmoid_cross_entropy": "-q*y*log(sigmoid(x)) - (1-y)*log(1-sigmoid(x))",
    "softmax_cross_entropy": "-sum(labels*log(softmax(x)), axis) with softmax = exp(x - max)/sum",
    "sparse_softmax_cross_entropy": "-log(softmax(x))[label] with softmax = exp(x - max)/sum",
}
