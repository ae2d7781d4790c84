"""One check: a case, through one binding, in one dtype, mode and device, to one record.

Runs inside a framework's worker process. The expected value is the vector's
when the inputs are exact in the dtype; otherwise the float64 reference is
recomputed on the inputs as rounded to the dtype, so input rounding is never
blamed on the op. A check is of the op's value or of its gradient.
"""

from __future__ import annotations

import re
import time
from collections import OrderedDict
from typing import Any, Callable

import numpy as np

from conformance import gradients, reference
from conformance.adapter import Adapter, Binding
from conformance.cases import Case
from conformance.classify import matching_convention, numerical_or_bug
from conformance.compare import Target, compare_to, describe_failure
from conformance.conventions import CONVENTIONS
from conformance.dtypes import round_to, widen
from conformance.results import WRONG_CALL
from conformance.tolerance import derive_bound, derive_grad_bound, smallest_normal

MAX_MESSAGE = 500


class NotInDtype(Exception):
    """The case cannot be posed in this dtype: a finite input overflows it."""


def rounded_inputs(case: Case, dtype: str) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], bool]:
    """Return (inputs in dtype, the same as float64, whether rounding changed nothing)."""
    in_dtype, as_f64, exact = {}, {}, True
    for name, value in case.inputs.items():
        if value.dtype.kind == "f":
            rounded = round_to(value, dtype)
            back = rounded.astype(np.float64)
            overflow = np.isinf(back) & np.isfinite(value)
            if overflow.any():
                first = float(value[overflow].reshape(-1)[0])
                raise NotInDtype(f"input {name} holds {first!r}, which overflows {dtype}: the case has no {dtype} form")
            exact = exact and np.array_equal(back, value, equal_nan=True)
            in_dtype[name], as_f64[name] = rounded, back
        else:
            in_dtype[name], as_f64[name] = value, value
    return in_dtype, as_f64, exact


BLOCK_ELEMENTS = 1 << 22  # the reference works on blocks of rows this big, so large cases stay within memory


def reference_terms(case: Case, in_dtype: dict[str, np.ndarray]) -> np.ndarray:
    """Return the unreduced float64 reference on the dtype-rounded inputs, a block of rows at a time."""
    params = {**case.params, "reduction": "none"}
    first = next(iter(in_dtype.values()))
    axis = case.params.get("axis", -1) % max(first.ndim, 1)
    if case.size <= BLOCK_ELEMENTS or first.ndim < 2 or axis == 0:
        return reference.compute(case.op, widen(in_dtype), params)
    rows = max(1, BLOCK_ELEMENTS * len(first) // case.size)
    blocks = [reference.compute(case.op, widen({k: v[i : i + rows] for k, v in in_dtype.items()}), params)
              for i in range(0, len(first), rows)]
    return np.concatenate(blocks)


def expected_for(case: Case, dtype: str, quantity: str = "value"):
    """Return (expected, bound, inputs in dtype, where expected came from) for a value or gradient check."""
    if case.generator:
        in_dtype = {k: v if np.issubdtype(v.dtype, np.integer) else round_to(v, dtype) for k, v in case.inputs.items()}
        terms = reference_terms(case, in_dtype)
        expected = np.asarray(reference.reduce(terms, case.params.get("reduction", "none")), dtype=np.float64)
        return expected, derive_bound(case, in_dtype, terms, dtype), in_dtype, f"reference on generated {dtype} inputs"
    in_dtype, as_f64, exact = rounded_inputs(case, dtype)
    source = "vector" if exact else f"reference on {dtype}-rounded inputs"
    if quantity == "grad":
        stored = case.expected_grad if exact else None
        expected = stored if stored is not None else gradients.compute(case.op, as_f64, case.params)
        source = source if stored is not None else f"analytic gradient on {dtype}-rounded inputs"
        return expected, derive_grad_bound(case, as_f64, expected, dtype), in_dtype, source
    terms = reference.compute(case.op, as_f64, {**case.params, "reduction": "none"})
    if exact and case.expected is not None:
        expected = case.expected
    else:
        expected = np.asarray(reference.reduce(terms, case.params.get("reduction", "none")), dtype=np.float64)
    return expected, derive_bound(case, as_f64, terms, dtype), in_dtype, source


class TargetCache:
    """Expected values, bounds and rounded inputs per (dtype, quantity) of the case at hand.

    Every binding and mode of a framework checks the same case in the same
    dtype, so these are computed once; only the current case is kept, which
    bounds the memory a large generated case holds.
    """

    def __init__(self) -> None:
        self._case: tuple | None = None
        self._targets: dict[tuple, tuple] = {}

    def get(self, case: Case, dtype: str, quantity: str) -> tuple:
        """Return (target, inputs in dtype, where expected came from)."""
        if self._case != (case.file, case.key):
            self._case, self._targets = (case.file, case.key), {}
        key = (dtype, quantity)
        if key not in self._targets:
            expected, bound, inputs, source = expected_for(case, dtype, quantity)
            self._targets[key] = (Target.of(expected, bound, dtype), inputs, source)
        return self._targets[key]


_DEVICES: dict[tuple, str | None] = {}


def device_missing(adapter: Adapter, fw: Any, device: str) -> str | None:
    """Return why ``device`` cannot be used here (asked once per worker), or None."""
    key = (adapter.framework, device)
    if key not in _DEVICES:
        probe = getattr(adapter, "device_available", None)
        try:
            _DEVICES[key] = probe(fw, device) if probe else (None if device == "cpu" else f"{adapter.framework} "
                                                             f"adapter cannot tell whether {device} is present")
        except Exception as exc:  # a broken driver is a reason to skip, not to crash the worker
            _DEVICES[key] = f"{device} unavailable: {_short(exc)}"
    return _DEVICES[key]


# A CUDA error such as a device-side assert leaves the process's CUDA context unusable: every later call fails.
POISON_MARKERS = ("device-side assert", "CUDA error", "cudaErrorLaunchFailure", "illegal memory access")


def poisons_process(exc: BaseException) -> bool:
    """Return whether ``exc`` leaves the process unable to run further checks (its worker must restart)."""
    text = f"{type(exc).__name__}: {exc}"
    return any(marker in text for marker in POISON_MARKERS)


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:MAX_MESSAGE]}"


def _behaviour(actual: np.ndarray) -> str:
    if actual.size == 0:
        return "empty"
    if np.isfinite(actual).all():
        return "number"
    if actual.size and np.all(np.isnan(actual)):
        return "nan"
    if np.any(np.isnan(actual)):
        return "partly nan"
    if np.any(np.isinf(actual)):
        return "inf"
    return "number"


class CallCache:
    """Callables built per (binding, mode, quantity, dtype, shapes, params), so each compiles once.

    The most recently used ones are kept (compiled executables hold memory: a
    whole run's worth reached 4 GB under JAX).
    """

    def __init__(self, size: int = 256) -> None:
        self._built: OrderedDict[tuple, Callable] = OrderedDict()
        self.size = size

    def get(self, adapter: Adapter, fw: Any, binding: Binding, case: Case, dtype: str, mode: str, quantity: str):
        shapes = tuple((k, v.shape) for k, v in sorted(case.inputs.items()))
        key = (binding.op, binding.name, mode, quantity, dtype, shapes, repr(sorted(case.params.items())))
        if key in self._built:
            self._built.move_to_end(key)
        else:
            self._built[key] = build_callable(adapter, fw, binding, dict(case.params), mode, quantity)
            if len(self._built) > self.size:
                self._built.popitem(last=False)
        return self._built[key]


def build_callable(adapter: Adapter, fw: Any, binding: Binding, params: dict, mode: str, quantity: str) -> Callable:
    """Return inputs -> framework value: the binding as called in ``mode``, or its gradient."""

    def forward(inputs):
        return binding.fn(fw, inputs, params)

    wrt = gradients.differentiable_input(binding.op) if quantity == "grad" else None
    if mode == "eager" and wrt is None:
        return forward
    build = getattr(adapter, "build", None)
    if build is None:
        raise NotImplementedError(f"{adapter.framework} adapter has no build() for mode {mode} / gradients")
    return build(fw, forward, mode, wrt)


def _call(adapter: Adapter, fw: Any, fn: Callable, inputs: dict, dtype: str, device: str):
    converted = {name: adapter.to_framework(fw, value, dtype, device) for name, value in inputs.items()}
    start = time.perf_counter()
    actual = np.asarray(adapter.to_numpy(fw, fn(converted)))
    return actual, time.perf_counter() - start


def published_digits(case: Case, actual: np.ndarray) -> str | None:
    """Return whether ``actual``, rounded to the published digits, reproduces what the publication printed."""
    published = case.published
    if not published or actual.shape != published["value"].shape:
        return None
    digits = published["digits"]
    rounded = np.array([float(f"{v:.{digits - 1}e}") for v in actual.astype(np.float64).reshape(-1)])
    differ = np.flatnonzero(rounded != published["value"].reshape(-1))
    if not differ.size:
        return f"reproduced ({digits} digits, {published['source']})"
    first = differ[0]
    return (f"differs in {differ.size} element(s); first at flat index {first}: printed "
            f"{published['value'].reshape(-1)[first]!r}, got {rounded[first]!r}")


def _flushed(expected: np.ndarray, actual: np.ndarray, dtype: str) -> int:
    """Return how many elements came back 0 where the true value is a normal number of the dtype."""
    if actual.shape != expected.shape:
        return 0
    return int(np.sum((actual == 0) & (np.abs(expected) >= smallest_normal(dtype)) & np.isfinite(expected)))


def run_check(adapter: Adapter, fw: Any, binding: Binding, case: Case, dtype: str, mode: str, device: str,
              quantity: str = "value", cache: CallCache | None = None, targets: TargetCache | None = None) -> dict:
    """Return the result fields of one check (status, errors, message) as a dict."""
    reason = binding.not_applicable(case.inputs, case.params)
    if reason:
        return {"status": "not-applicable", "message": reason}
    missing_device = device_missing(adapter, fw, device)
    if missing_device:
        return {"status": "skipped", "message": missing_device}
    target = source = None
    try:
        if case.outcome == "value":
            target, inputs, source = (targets or TargetCache()).get(case, dtype, quantity)
        else:
            inputs = rounded_inputs(case, dtype)[0]
        fn = (cache or CallCache()).get(adapter, fw, binding, case, dtype, mode, quantity)
        actual, seconds = _call(adapter, fw, fn, inputs, dtype, device)
    except NotInDtype as exc:
        return {"status": "not-applicable", "message": str(exc)}
    except Exception as exc:  # the framework's exception is the result
        result = {"status": "error", "message": _short(exc), "behaviour": "raised"} if case.outcome == "value" \
            else _judge_raised(case, exc)
        if call_was_wrong(exc):
            result["classification"] = WRONG_CALL
        return {**result, "poisoned": True} if poisons_process(exc) else result
    fields = {"seconds": seconds, "result_dtype": str(actual.dtype), "behaviour": _behaviour(actual)}
    if case.outcome == "raises":
        return {**fields, "status": "fail", "message": f"returned {_behaviour(actual)} where an error must be raised"}
    if case.outcome == "implementation-defined":
        return {**fields, "status": "pass", "message": f"implementation-defined: returned {_behaviour(actual)}"}
    result = compare_to(target, actual)
    flushed = _flushed(target.expected, actual, dtype) if quantity == "grad" else 0
    fields.update(
        expected_source=source, max_abs_err=result.max_abs_err, max_rel_err=result.max_rel_err,
        max_ulp=result.max_ulp, err_over_bound=result.err_over_bound, bound=target.bound.model, worst=result.worst,
        flushed_to_zero=flushed if quantity == "grad" else None,
        published=published_digits(case, actual) if quantity == "value" and dtype == "float64" else None,
    )
    notes = [f"{flushed} gradient element(s) flushed to zero where the true value is a normal {dtype} number"] \
        if flushed else []
    if result.ok:
        return {**fields, "status": "pass", "message": "; ".join(notes)}
    message = describe_failure(result, target.bound)
    if str(actual.dtype) != dtype:
        notes.append(f"the binding returned {actual.dtype} for {dtype} inputs")
    convention = matching_convention(case, binding, inputs, actual, dtype) if quantity == "value" else None
    if convention:
        about = CONVENTIONS[convention]
        return {**fields, "status": "definition-difference", "classification": f"definition-difference: {convention}",
                "message": f"follows {convention} ({about.description}; {about.source}), not the canonical "
                           f"definition: {message}"}
    return {**fields, "status": "fail", "classification": numerical_or_bug(case, target, actual, dtype),
            "message": "; ".join([message, *notes])}


_WRONG_CALL = re.compile(r"unexpected keyword argument|positional arguments? but \d+ (were|was) given|"
                         r"missing \d+ required (positional|keyword-only) argument")


def call_was_wrong(exc: BaseException) -> bool:
    """Whether the exception says the call itself was wrong (the API has no such argument or attribute),
    which tells nothing about how the op treats its inputs."""
    if isinstance(exc, (AttributeError, NameError, ImportError)):
        return True
    return isinstance(exc, TypeError) and bool(_WRONG_CALL.search(str(exc)))


def _judge_raised(case: Case, exc: BaseException) -> dict:
    if call_was_wrong(exc):
        return {"status": "error", "behaviour": "raised",
                "message": f"the call itself failed, which shows nothing about the {case.outcome} outcome: {_short(exc)}"}
    if case.outcome == "raises":
        return {"status": "pass", "message": f"raised as required: {_short(exc)}", "behaviour": "raised"}
    return {"status": "pass", "message": f"implementation-defined: raised {_short(exc)}", "behaviour": "raised"}
