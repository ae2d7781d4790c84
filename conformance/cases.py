"""A test case, and the checks that turn one raw YAML mapping into it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from conformance.generate import generate_inputs, input_shapes
from conformance.ops import OPS, OpSpec

OUTCOMES = ("value", "raises", "implementation-defined")
INPUT_SOURCES = ("tutorial", "hand-written", "seeded-random", "generated")
EXPECTED_SOURCES = ("reference-float64",)
RUN_TIME_SOURCE = "reference-float64-at-run-time"  # generated cases: inputs and expected value made when run
from conformance.dtypes import DTYPES
CASE_KEYS = {"id", "comment", "flags", "source", "inputs", "params", "outcome", "expected", "expected_grad",
             "published", "tolerance"}
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9.-]*$")
MAX_ELEMENTS = 1_000_000


@dataclass(frozen=True)
class Case:
    """One checked test case of one op, with float64 (or int64) NumPy inputs."""

    file: str
    line: int | None
    op: str
    id: str
    comment: str
    flags: tuple[str, ...]
    source: dict
    inputs: dict[str, np.ndarray]
    params: dict[str, Any]
    outcome: str
    expected: np.ndarray | None = None
    expected_grad: np.ndarray | None = None
    published: dict | None = None
    tolerance: dict[str, dict] = field(default_factory=dict)
    generator: dict | None = None  # set for generated cases, whose inputs are drawn when run

    @property
    def key(self) -> str:
        """Return the case's stable name, ``op[id]``."""
        return f"{self.op}[{self.id}]"

    @property
    def size(self) -> int:
        """Return the number of input elements."""
        return sum(int(v.size) for v in self.inputs.values())

    def for_worker(self) -> "Case":
        """Return the case as sent to a worker: a generated case without its placeholder inputs."""
        return replace(self, inputs={}) if self.generator else self

    def materialized(self) -> "Case":
        """Return the case with real inputs: a generated case's are drawn from its generator now."""
        if not self.generator or (self.inputs and all(v.strides != (0,) * v.ndim for v in self.inputs.values())):
            return self
        return replace(self, inputs=generate_inputs(self.op, self.generator, self.params))


class CaseError(ValueError):
    """A raw case is not a valid case; carries the case id and line."""

    def __init__(self, message: str, case: str | None = None, line: int | None = None):
        super().__init__(message)
        self.case = case
        self.line = line


def _leaves(value: Any) -> list:
    if isinstance(value, list):
        return [leaf for item in value for leaf in _leaves(item)]
    return [value]


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def to_array(value: Any, kind: str, what: str) -> np.ndarray:
    """Return ``value`` (a number or nested lists) as a float64 or int64 array, or raise ValueError."""
    leaves = _leaves(value)
    if len(leaves) > MAX_ELEMENTS:
        raise ValueError(f"{what} has {len(leaves)} elements; a test vector holds at most {MAX_ELEMENTS}")
    for leaf in leaves:
        if isinstance(leaf, str):
            hint = " (YAML 1.1 reads a float only with a dot in the mantissa: write 1.0e-05, not 1e-05)"
            raise ValueError(f"{what} holds the non-numeric value {leaf!r}" + (hint if "e" in leaf.lower() else ""))
        if not _is_number(leaf):
            raise ValueError(f"{what} holds the non-numeric value {leaf!r}")
        if kind == "int" and not (isinstance(leaf, int) or float(leaf).is_integer()):
            raise ValueError(f"{what} must hold integers, got {leaf!r}")
    try:
        return np.array(value, dtype=np.int64 if kind == "int" else np.float64)
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"{what} is not a rectangular array of numbers: {exc}") from None


def output_shape(spec: OpSpec, inputs: dict[str, np.ndarray], params: dict) -> tuple[int, ...]:
    """Return the shape the op's output has for these inputs and params."""
    if params.get("reduction", "none") != "none":
        return ()
    first = inputs[spec.input_names[0]].shape
    if spec.elementwise:
        return first
    axis = params["axis"] % len(first)
    return first[:axis] + first[axis + 1 :]


def _check_flags(raw: dict, notes: dict) -> tuple[str, ...]:
    flags = raw.get("flags", [])
    if not isinstance(flags, list) or not all(isinstance(f, str) for f in flags):
        raise ValueError("flags must be a list of names")
    undefined = [f for f in flags if f not in notes]
    if undefined:
        raise ValueError(f"flags {undefined} are not defined in the file's notes")
    return tuple(flags)


def _check_source(raw: dict, outcome: str) -> dict:
    source = raw.get("source")
    if not isinstance(source, dict):
        raise ValueError("source is required: say where the inputs and the expected value come from")
    if source.get("inputs") not in INPUT_SOURCES:
        raise ValueError(f"source.inputs must be one of {', '.join(INPUT_SOURCES)}, got {source.get('inputs')!r}")
    drawn = source.get("inputs") in ("seeded-random", "generated")
    if drawn != isinstance(source.get("generator"), dict):
        raise ValueError("source.generator is required for seeded-random and generated inputs, and only for them")
    if source.get("inputs") == "generated":
        if outcome != "value" or source.get("expected") != RUN_TIME_SOURCE:
            raise ValueError(f"a generated case has outcome value and source.expected {RUN_TIME_SOURCE}")
        return dict(source)
    if outcome == "value" and source.get("expected") not in EXPECTED_SOURCES:
        raise ValueError(f"source.expected must be one of {', '.join(EXPECTED_SOURCES)}, got {source.get('expected')!r}")
    return dict(source)


def _check_params(spec: OpSpec, group: dict, raw: dict) -> dict:
    given = {**group, **(raw.get("params") or {})}
    known = {p.name for p in spec.params}
    unknown = sorted(set(given) - known)
    if unknown:
        raise ValueError(f"unknown params {unknown} for op {spec.name} (it takes {sorted(known)})")
    for param in spec.params:
        if param.name not in given:
            if param.required:
                raise ValueError(f"param {param.name} is required for op {spec.name}")
            continue
        problem = param.check(given[param.name])
        if problem:
            raise ValueError(problem)
    return spec.resolve_params(given)


def _placeholder_inputs(spec: OpSpec, raw: dict, params: dict) -> dict[str, np.ndarray]:
    """Return zero-memory stand-ins with the shapes a generated case's inputs will have."""
    stored = sorted({"inputs", "expected", "expected_grad", "published"} & set(raw))
    if stored:
        raise ValueError(f"a generated case stores no {', '.join(stored)}: they are made when it runs")
    generator = raw["source"]["generator"]
    shapes = input_shapes(spec.name, generator, params)
    dtype = np.dtype(generator.get("dtype", "float64"))
    return {s.name: np.broadcast_to(np.zeros((), np.int64 if s.kind == "int" else dtype), shapes[s.name])
            for s in spec.inputs}


def _check_inputs(spec: OpSpec, raw: dict) -> dict[str, np.ndarray]:
    inputs = raw.get("inputs")
    if not isinstance(inputs, dict) or set(inputs) != set(spec.input_names):
        got = sorted(inputs) if isinstance(inputs, dict) else inputs
        raise ValueError(f"inputs must be exactly {list(spec.input_names)} for op {spec.name}, got {got}")
    return {s.name: to_array(inputs[s.name], s.kind, f"input {s.name}") for s in spec.inputs}


def _check_expected(raw: dict, outcome: str, shape: tuple[int, ...]) -> np.ndarray | None:
    if outcome != "value":
        if "expected" in raw:
            raise ValueError(f"outcome {outcome} takes no expected value")
        return None
    if "expected" not in raw:
        raise ValueError("outcome value needs an expected value")
    expected = to_array(raw["expected"], "float", "expected")
    if expected.shape != shape:
        raise ValueError(f"expected has shape {list(expected.shape)} but the op gives shape {list(shape)}")
    return expected


def _check_expected_grad(raw: dict, outcome: str, spec: OpSpec, inputs: dict) -> np.ndarray | None:
    if "expected_grad" not in raw:
        return None
    if outcome != "value":
        raise ValueError(f"outcome {outcome} takes no expected_grad")
    wrt = next(s.name for s in spec.inputs if s.differentiable)
    grad = to_array(raw["expected_grad"], "float", "expected_grad")
    if grad.shape != inputs[wrt].shape:
        raise ValueError(f"expected_grad has shape {list(grad.shape)} but {wrt} has shape {list(inputs[wrt].shape)}")
    return grad


def _check_published(raw: dict, shape: tuple[int, ...]) -> dict | None:
    published = raw.get("published")
    if published is None:
        return None
    if not isinstance(published, dict) or not isinstance(published.get("source"), str):
        raise ValueError("published needs a source (who printed these digits) and a value")
    digits = published.get("digits")
    if isinstance(digits, bool) or not isinstance(digits, int) or not 1 <= digits <= 17:
        raise ValueError(f"published.digits must be an integer in 1..17, got {digits!r}")
    value = to_array(published.get("value"), "float", "published.value")
    if value.shape != shape:
        raise ValueError(f"published.value has shape {list(value.shape)}, expected {list(shape)}")
    return {"source": published["source"], "digits": digits, "value": value}


def _check_tolerance(raw: dict) -> dict[str, dict]:
    tolerance = raw.get("tolerance") or {}
    if not isinstance(tolerance, dict):
        raise ValueError("tolerance must map dtypes to {rtol, atol, reason}")
    checked = {}
    for dtype, entry in tolerance.items():
        if dtype not in DTYPES:
            raise ValueError(f"tolerance names unknown dtype {dtype!r} (known: {', '.join(DTYPES)})")
        if not isinstance(entry, dict) or not isinstance(entry.get("reason"), str) or not entry["reason"].strip():
            raise ValueError(f"tolerance.{dtype} needs rtol, atol and a reason")
        bad = [k for k in ("rtol", "atol") if k in entry and (not _is_number(entry[k]) or entry[k] < 0)]
        if bad or not ({"rtol", "atol"} & set(entry)):
            raise ValueError(f"tolerance.{dtype}: rtol/atol must be non-negative numbers")
        checked[dtype] = {"rtol": float(entry.get("rtol", 0.0)), "atol": float(entry.get("atol", 0.0)), "reason": entry["reason"]}
    return checked


def build_case(raw: Any, op: str, group_params: dict, notes: dict, file: str, line: int | None) -> Case:
    """Return the checked case for one raw mapping, or raise CaseError saying what is wrong."""
    if not isinstance(raw, dict):
        raise CaseError("a case must be a mapping", line=line)
    case_id = raw.get("id")
    if not isinstance(case_id, str) or not ID_PATTERN.match(case_id):
        raise CaseError(f"id must be a string matching {ID_PATTERN.pattern}, got {case_id!r}", line=line)
    try:
        unknown = sorted(set(raw) - CASE_KEYS)
        if unknown:
            raise ValueError(f"unknown keys {unknown}")
        if not isinstance(raw.get("comment"), str) or not raw["comment"].strip():
            raise ValueError("comment is required: say what the case checks")
        spec = OPS[op]
        outcome = raw.get("outcome", "value")
        if outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {', '.join(OUTCOMES)}, got {outcome!r}")
        params = _check_params(spec, group_params, raw)
        source = _check_source(raw, outcome)
        generated = source["inputs"] == "generated"
        inputs = _placeholder_inputs(spec, raw, params) if generated else _check_inputs(spec, raw)
        problem = spec.check_shapes(inputs, params)
        if problem:
            raise ValueError(problem)
        shape = output_shape(spec, inputs, params)
        return Case(
            file=file, line=line, op=op, id=case_id, comment=raw["comment"].strip(),
            flags=_check_flags(raw, notes), source=source, inputs=inputs,
            params=params, outcome=outcome, expected=None if generated else _check_expected(raw, outcome, shape),
            expected_grad=_check_expected_grad(raw, outcome, spec, inputs),
            published=_check_published(raw, shape), tolerance=_check_tolerance(raw),
            generator=source["generator"] if generated else None,
        )
    except ValueError as exc:
        raise CaseError(str(exc), case=case_id, line=line) from None
