"""Testing your own loss implementation against the kit's vectors, with or without pytest.

    from conformance.testing import assert_conforms, cases

    for case in cases("sigmoid_cross_entropy", dtypes=["float32"]):
        assert_conforms(case, my_loss(**case.inputs, **case.params))

The verdict and the message are the kit's own (``conformance.compare``): the
same bound for the dtype, the same comparison and the same failure text as a
``python -m conformance run`` of a framework. In pytest, the ``conformance_case``
fixture with the ``conformance_cases`` marker gives these cases as parameters.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator

import numpy as np

from conformance.cases import Case
from conformance.runner import LARGE_ELEMENTS
from conformance.runner import case_chosen  # the CLI's --cases selection, so both select the same cases
from conformance.tolerance import Bound

__all__ = ["ConformanceCase", "ConformanceMismatch", "as_numpy", "assert_conforms", "cases", "select_cases"]


class ConformanceMismatch(AssertionError):
    """An implementation's output is not within the kit's bound of the expected value."""


@dataclass(frozen=True)
class ConformanceCase:
    """One case of an op posed in one dtype: inputs in that dtype, params, the expected value and its bound."""

    case: Case
    dtype: str
    inputs: dict[str, np.ndarray]  # NumPy arrays of ``dtype`` (integer labels stay int64)
    params: dict[str, Any]  # every param of the op, defaults filled in (reduction included)
    expected: np.ndarray | None  # float64; None when the outcome is not a value
    bound: Bound | None
    expected_source: str | None

    @property
    def op(self) -> str:
        return self.case.op

    @property
    def id(self) -> str:
        return self.case.id

    @property
    def key(self) -> str:
        """Return ``op[id]``, the case's stable name."""
        return self.case.key

    @property
    def outcome(self) -> str:
        """Return ``value``, ``raises`` or ``implementation-defined``."""
        return self.case.outcome

    @property
    def flags(self) -> tuple[str, ...]:
        return self.case.flags

    @property
    def name(self) -> str:
        """Return the test id: ``op[id]-dtype``."""
        return f"{self.case.key}-{self.dtype}"

    def assert_conforms(self, actual: Any) -> None:
        """Return None when ``actual`` conforms; raise :class:`ConformanceMismatch` otherwise."""
        __tracebackhide__ = True  # pytest shows the test's line, not the kit's
        assert_conforms(self, actual)


class NotPosable(Exception):
    """The case has no form in this dtype (a finite input overflows it)."""


def pose(case: Case, dtype: str) -> ConformanceCase:
    """Return ``case`` posed in ``dtype``; raise :class:`NotPosable` when its inputs overflow the dtype."""
    from conformance.check import NotInDtype, rounded_inputs, expected_for

    case = case.materialized()
    try:
        with np.errstate(all="ignore"):  # inf and nan inputs are the point of some cases: no warnings from the kit
            if case.outcome == "value":
                expected, bound, inputs, source = expected_for(case, dtype, "value")
            else:
                (expected, bound, source), inputs = (None, None, None), rounded_inputs(case, dtype)[0]
    except NotInDtype as exc:
        raise NotPosable(str(exc)) from None
    copies = {name: np.array(value, copy=True) for name, value in inputs.items()}  # the caller may write to them
    return ConformanceCase(case, dtype, copies, dict(case.params), expected, bound, source)


def as_numpy(value: Any) -> np.ndarray:
    """Return ``value`` (NumPy array, number, or a torch/TensorFlow/JAX/CuPy tensor) as a NumPy array on the host."""
    if hasattr(value, "detach"):  # torch: leave autograd, leave the GPU; NumPy has no bfloat16
        value = value.detach().cpu()
        if str(value.dtype) == "torch.bfloat16":
            value = value.float()
        return value.numpy()
    if type(value).__module__.split(".")[0] == "cupy":
        return value.get()
    return np.asarray(value)


def assert_conforms(case: ConformanceCase, actual: Any) -> None:
    """Return None when ``actual`` is within the kit's bound of the case's expected value; raise otherwise.

    The message says which case and dtype, how many elements are off, the worst
    one (index, expected, actual, absolute and relative error, ulps, error over
    the bound) and the bound used.
    """
    from conformance.compare import Target, compare_to, describe_failure

    __tracebackhide__ = True
    if case.expected is None:
        raise ValueError(f"{case.name}: the case's outcome is {case.outcome}, so there is no value to compare "
                         f"(a 'raises' case must raise: use pytest.raises)")
    result = compare_to(Target.of(case.expected, case.bound, case.dtype), as_numpy(actual))
    if result.ok:
        return
    params = ", ".join(f"{k}={v!r}" for k, v in case.params.items())
    message = f"{case.key} {case.dtype} ({params}): {describe_failure(result, case.bound)}"
    returned = getattr(as_numpy(actual), "dtype", None)
    if returned is not None and str(returned) != case.dtype:
        message += f"; the implementation returned {returned} for {case.dtype} inputs"
    raise ConformanceMismatch(message)


def _has_flags(case: Case, flags: Iterable[str] | None, exclude: Iterable[str] | None) -> bool:
    if flags and not set(flags) & set(case.flags):
        return False
    return not (exclude and set(exclude) & set(case.flags))


def _vector_paths(ops: Iterable[str], vectors: Iterable[str | Path] | None) -> list[Path]:
    """Return the vector files to read: the given ones, else only the shipped files of these ops."""
    from conformance.loader import default_vector_dir

    if vectors:
        return [Path(v) for v in vectors]
    shipped = default_vector_dir()
    named = [shipped / f"{op}.yaml" for op in ops]
    return named if all(p.is_file() for p in named) else [shipped]


def select_cases(ops: Iterable[str], *, cases: Iterable[str] | None = None, flags: Iterable[str] | None = None,
                 exclude_flags: Iterable[str] | None = None, outcomes: Iterable[str] | None = ("value",),
                 vectors: Iterable[str | Path] | None = None, large: bool = False) -> list[Case]:
    """Return the cases of ``ops`` that pass every filter; raise ValueError naming any vector file problem."""
    from conformance.loader import load_paths

    ops = list(ops)
    corpus = load_paths(_vector_paths(ops, vectors))
    if corpus.problems:
        raise ValueError("problems in vector files: " + "; ".join(str(p) for p in corpus.problems))
    patterns = list(cases or [])
    return [c for c in corpus.cases
            if c.op in ops and case_chosen(c, patterns) and _has_flags(c, flags, exclude_flags)
            and (outcomes is None or c.outcome in outcomes) and (large or c.size <= LARGE_ELEMENTS)]


def cases(*ops: str, dtypes: Iterable[str] = ("float32", "float64"), **filters: Any) -> Iterator[ConformanceCase]:
    """Yield each selected case of ``ops`` in each dtype (cases with no form in a dtype are left out)."""
    for case in select_cases(ops, **filters):
        for dtype in dtypes:
            try:
                yield pose(case, dtype)
            except NotPosable:
                continue
