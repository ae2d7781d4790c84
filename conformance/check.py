"""One check: a case, through one binding, in one dtype, mode and device, to one record.

Runs inside a framework's worker process. The expected value is the vector's
when the inputs are exact in the dtype; otherwise the float64 reference is
recomputed on the inputs as rounded to the dtype, so input rounding is never
blamed on the op.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from conformance import reference
from conformance.adapter import Adapter, Binding
from conformance.cases import Case
from conformance.compare import compare, describe_failure
from conformance.dtypes import round_to
from conformance.tolerance import derive_bound

MAX_MESSAGE = 500


def _rounded_inputs(case: Case, dtype: str) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], bool]:
    """Return (inputs in dtype, the same as float64, whether rounding changed nothing)."""
    in_dtype, as_f64, exact = {}, {}, True
    for name, value in case.inputs.items():
        if value.dtype.kind == "f":
            rounded = round_to(value, dtype)
            back = rounded.astype(np.float64)
            exact = exact and np.array_equal(back, value, equal_nan=True)
            in_dtype[name], as_f64[name] = rounded, back
        else:
            in_dtype[name], as_f64[name] = value, value
    return in_dtype, as_f64, exact


def expected_for(case: Case, dtype: str) -> tuple[np.ndarray, np.ndarray, dict, str]:
    """Return (expected, unreduced float64 terms, inputs in dtype, where expected came from)."""
    in_dtype, as_f64, exact = _rounded_inputs(case, dtype)
    terms = reference.compute(case.op, as_f64, {**case.params, "reduction": "none"})
    if exact and case.expected is not None:
        return case.expected, terms, in_dtype, "vector"
    value = reference.reduce(terms, case.params.get("reduction", "none"))
    return np.asarray(value, dtype=np.float64), terms, in_dtype, f"reference on {dtype}-rounded inputs"


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:MAX_MESSAGE]}"


def _behaviour(actual: np.ndarray) -> str:
    if np.all(np.isnan(actual)):
        return "nan"
    if np.any(np.isnan(actual)):
        return "partly nan"
    if np.any(np.isinf(actual)):
        return "inf"
    return "number"


def _call(adapter: Adapter, fw: Any, binding: Binding, inputs: dict, params: dict, dtype: str, device: str):
    converted = {name: adapter.to_framework(fw, value, dtype, device) for name, value in inputs.items()}
    start = time.perf_counter()
    out = binding.fn(fw, converted, params)
    actual = adapter.to_numpy(fw, out)
    return np.asarray(actual), time.perf_counter() - start


def run_check(adapter: Adapter, fw: Any, binding: Binding, case: Case, dtype: str, mode: str, device: str) -> dict:
    """Return the result fields of one check (status, errors, message) as a dict."""
    reason = binding.not_applicable(case.inputs, case.params)
    if reason:
        return {"status": "not-applicable", "message": reason}
    expected, terms, inputs, source = (None, None, None, None)
    try:
        if case.outcome == "value":
            expected, terms, inputs, source = expected_for(case, dtype)
        else:
            inputs = _rounded_inputs(case, dtype)[0]
        actual, seconds = _call(adapter, fw, binding, inputs, case.params, dtype, device)
    except Exception as exc:  # the framework's exception is the result
        if case.outcome == "value":
            return {"status": "error", "message": _short(exc), "behaviour": "raised"}
        return _judge_raised(case, exc)
    fields = {"seconds": seconds, "result_dtype": str(actual.dtype), "behaviour": _behaviour(actual)}
    if case.outcome == "raises":
        return {**fields, "status": "fail", "message": f"returned {_behaviour(actual)} where an error must be raised"}
    if case.outcome == "implementation-defined":
        return {**fields, "status": "pass", "message": f"implementation-defined: returned {_behaviour(actual)}"}
    bound = derive_bound(case, inputs_as_f64(inputs), terms, dtype)
    result = compare(expected, actual, bound, dtype)
    fields.update(
        expected_source=source, max_abs_err=result.max_abs_err, max_rel_err=result.max_rel_err,
        max_ulp=result.max_ulp, err_over_bound=result.err_over_bound, bound=bound.model, worst=result.worst,
    )
    if result.ok:
        return {**fields, "status": "pass", "message": ""}
    message = describe_failure(result, bound)
    if str(actual.dtype) != dtype:
        message += f"; the binding returned {actual.dtype} for {dtype} inputs"
    return {**fields, "status": "fail", "message": message}


def inputs_as_f64(inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Return the inputs with floating arrays widened to float64."""
    return {k: v.astype(np.float64) if v.dtype.kind == "f" or v.dtype.name == "bfloat16" else v for k, v in inputs.items()}


def _judge_raised(case: Case, exc: BaseException) -> dict:
    if case.outcome == "raises":
        return {"status": "pass", "message": f"raised as required: {_short(exc)}", "behaviour": "raised"}
    return {"status": "pass", "message": f"implementation-defined: raised {_short(exc)}", "behaviour": "raised"}
