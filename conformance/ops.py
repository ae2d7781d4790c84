"""The canonical loss ops: their inputs, parameters, reductions and shape rules.

Each op is defined once here (and in prose in ``docs/ops.md``); the loader,
the reference, the adapters and the runner all read these specs, so an op's
contract cannot drift between them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

REDUCTIONS = ("none", "sum", "mean")


@dataclass(frozen=True)
class InputSpec:
    """One named input of an op: floating point or integer, differentiable or not."""

    name: str
    kind: str  # "float" or "int"
    differentiable: bool = False


@dataclass(frozen=True)
class ParamSpec:
    """One named parameter: its default and a check that returns a problem or None."""

    name: str
    default: Any
    check: Callable[[Any], str | None]
    required: bool = False


@dataclass(frozen=True)
class OpSpec:
    """A canonical op: its inputs, parameters and the rule its shapes obey."""

    name: str
    summary: str
    inputs: tuple[InputSpec, ...]
    params: tuple[ParamSpec, ...]
    check_shapes: Callable[[dict, dict], str | None]
    elementwise: bool = field(default=True)

    @property
    def input_names(self) -> tuple[str, ...]:
        return tuple(spec.name for spec in self.inputs)

    def param(self, name: str) -> ParamSpec:
        for spec in self.params:
            if spec.name == name:
                return spec
        raise KeyError(name)

    def resolve_params(self, given: dict) -> dict:
        """Return the params with defaults filled in (no validation)."""
        return {spec.name: given.get(spec.name, spec.default) for spec in self.params}


def _check_reduction(value: Any) -> str | None:
    if value not in REDUCTIONS:
        return f"reduction must be one of {', '.join(REDUCTIONS)}, got {value!r}"
    return None


def _check_axis(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return f"axis must be an integer, got {value!r}"
    return None


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_pos_weight(value: Any) -> str | None:
    if _is_number(value):
        return None
    if isinstance(value, list) and value and all(_is_number(v) for v in value):
        return None
    return f"pos_weight must be a number or a non-empty list of numbers, got {value!r}"


REDUCTION = ParamSpec("reduction", "none", _check_reduction)
AXIS = ParamSpec("axis", -1, _check_axis)
POS_WEIGHT = ParamSpec("pos_weight", None, _check_pos_weight, required=True)


def _shape(arr) -> tuple[int, ...]:
    return tuple(getattr(arr, "shape", ()))


def _same_shape(a: str, b: str) -> Callable[[dict, dict], str | None]:
    def check(inputs: dict, params: dict) -> str | None:
        sa, sb = _shape(inputs[a]), _shape(inputs[b])
        if sa != sb:
            return f"{a} has shape {list(sa)} but {b} has shape {list(sb)}; they must match"
        return None

    return check


def _check_weighted(inputs: dict, params: dict) -> str | None:
    problem = _same_shape("logits", "labels")(inputs, params)
    if problem:
        return problem
    weight = params.get("pos_weight")
    shape = _shape(inputs["logits"])
    if isinstance(weight, list) and (not shape or len(weight) != shape[-1]):
        last = shape[-1] if shape else "none (scalar logits)"
        return f"pos_weight has {len(weight)} entries but the last axis of logits has {last}"
    return None


def _class_axis(shape: tuple[int, ...], axis: int) -> int | None:
    if not -len(shape) <= axis < len(shape):
        return None
    return axis % len(shape)


def _dense(first: str) -> Callable[[dict, dict], str | None]:
    """Return the shape rule of a dense-label op whose scores input is ``first``."""

    def check(inputs: dict, params: dict) -> str | None:
        problem = _same_shape(first, "labels")(inputs, params)
        if problem:
            return problem
        shape = _shape(inputs[first])
        if len(shape) < 1 or _class_axis(shape, params["axis"]) is None:
            return f"axis {params['axis']} is out of range for {first} of shape {list(shape)}"
        return None

    return check


def _sparse(first: str) -> Callable[[dict, dict], str | None]:
    """Return the shape rule of an integer-label op whose scores input is ``first``."""

    def check(inputs: dict, params: dict) -> str | None:
        scores, labels = _shape(inputs[first]), _shape(inputs["labels"])
        axis = _class_axis(scores, params["axis"]) if scores else None
        if axis is None:
            return f"axis {params['axis']} is out of range for {first} of shape {list(scores)}"
        want = scores[:axis] + scores[axis + 1 :]
        if labels != want:
            return (
                f"labels have shape {list(labels)} but {first} {list(scores)} with class "
                f"axis {params['axis']} need labels of shape {list(want)}"
            )
        return None

    return check


OPS: dict[str, OpSpec] = {
    op.name: op
    for op in (
        OpSpec(
            "mean_squared_error",
            "(predictions - targets)**2, elementwise, then reduced",
            (InputSpec("predictions", "float", True), InputSpec("targets", "float")),
            (REDUCTION,),
            _same_shape("predictions", "targets"),
        ),
        OpSpec(
            "sigmoid_cross_entropy",
            "binary cross-entropy of sigmoid(logits) against labels, elementwise",
            (InputSpec("logits", "float", True), InputSpec("labels", "float")),
            (REDUCTION,),
            _same_shape("logits", "labels"),
        ),
        OpSpec(
            "weighted_sigmoid_cross_entropy",
            "sigmoid cross-entropy with the positive term scaled by pos_weight",
            (InputSpec("logits", "float", True), InputSpec("labels", "float")),
            (POS_WEIGHT, REDUCTION),
            _check_weighted,
        ),
        OpSpec(
            "softmax_cross_entropy",
            "cross-entropy of softmax(logits) against dense labels, one value per sample",
            (InputSpec("logits", "float", True), InputSpec("labels", "float")),
            (AXIS, REDUCTION),
            _dense("logits"),
            elementwise=False,
        ),
        OpSpec(
            "sparse_softmax_cross_entropy",
            "cross-entropy of softmax(logits) against integer class labels",
            (InputSpec("logits", "float", True), InputSpec("labels", "int")),
            (AXIS, REDUCTION),
            _sparse("logits"),
            elementwise=False,
        ),
        OpSpec(
            "binary_cross_entropy",
            "binary cross-entropy of probabilities against labels, elementwise",
            (InputSpec("probabilities", "float", True), InputSpec("labels", "float")),
            (REDUCTION,),
            _same_shape("probabilities", "labels"),
        ),
        OpSpec(
            "categorical_cross_entropy",
            "cross-entropy of probabilities against dense labels, one value per sample",
            (InputSpec("probabilities", "float", True), InputSpec("labels", "float")),
            (AXIS, REDUCTION),
            _dense("probabilities"),
            elementwise=False,
        ),
        OpSpec(
            "nll_loss",
            "negative log-likelihood: minus the log-probability of each integer label",
            (InputSpec("log_probabilities", "float", True), InputSpec("labels", "int")),
            (AXIS, REDUCTION),
            _sparse("log_probabilities"),
            elementwise=False,
        ),
    )
}


def get_op(name: str) -> OpSpec:
    """Return the spec of a canonical op, or raise KeyError naming the known ones."""
    try:
        return OPS[name]
    except KeyError:
        raise KeyError(f"unknown op {name!r}; known ops: {', '.join(OPS)}") from None
