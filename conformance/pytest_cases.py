"""The ``conformance_cases`` marker and the ``conformance_case`` fixture: the kit's cases as test parameters.

    @pytest.mark.conformance_cases("sigmoid_cross_entropy", dtypes=["float32"])
    def test_my_loss(conformance_case):
        conformance_case.assert_conforms(my_loss(**conformance_case.inputs, **conformance_case.params))

Test ids are ``op[id]-dtype`` (``sigmoid_cross_entropy[tutorial-5x3]-float32``):
case ids are stable in the vector files, so ids stay the same from run to run.
The marker's filters default to the run options (``--conformance-dtypes``,
``--conformance-cases``, ``--conformance-vectors``, ``--conformance-large``).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from conformance.cases import Case
from conformance.ops import OPS
from conformance.pytest_options import read_settings
from conformance.testing import NotPosable, pose, select_cases

MARKER = "conformance_cases"
FILTERS = ("dtypes", "cases", "flags", "exclude_flags", "outcomes", "vectors", "large")
_LOADED: dict[tuple, list[Case]] = {}  # the same selection is read once per process


@dataclass(frozen=True)
class CaseParam:
    """A parameter of the ``conformance_case`` fixture: a case and a dtype, posed only when the test runs."""

    case: Case
    dtype: str

    def __str__(self) -> str:
        return f"{self.case.key}-{self.dtype}"


def _filters(metafunc, marker) -> dict:
    unknown = sorted(set(marker.kwargs) - set(FILTERS))
    if unknown:
        raise pytest.Collector.CollectError(f"{metafunc.definition.nodeid}: {MARKER} takes no {', '.join(unknown)} "
                                f"(it takes {', '.join(FILTERS)})")
    settings = read_settings(metafunc.config)
    given = dict(marker.kwargs)
    given.setdefault("dtypes", settings.run.dtypes)
    given.setdefault("cases", settings.run.cases)
    given.setdefault("vectors", settings.vectors)
    given.setdefault("large", settings.run.large)
    given.setdefault("outcomes", ("value",))
    for key in ("dtypes", "cases", "flags", "exclude_flags", "outcomes", "vectors"):
        if isinstance(given.get(key), str):
            given[key] = [given[key]]
    return given


def parametrize_cases(metafunc) -> None:
    """Parametrize ``conformance_case`` with every selected (case, dtype) of the marker's ops."""
    marker = metafunc.definition.get_closest_marker(MARKER)
    where = metafunc.definition.nodeid
    if marker is None or not marker.args:
        raise pytest.Collector.CollectError(f"{where} uses the conformance_case fixture: mark it with "
                                f"@pytest.mark.{MARKER}(op, ...) naming the ops (one of {', '.join(OPS)})")
    unknown = [op for op in marker.args if op not in OPS]
    if unknown:
        raise pytest.Collector.CollectError(f"{where}: {MARKER} names unknown op(s) {', '.join(map(str, unknown))}; "
                                f"known: {', '.join(OPS)}")
    filters = _filters(metafunc, marker)
    dtypes = list(filters.pop("dtypes"))
    key = (tuple(marker.args), repr(sorted(filters.items())))
    if key not in _LOADED:
        try:
            _LOADED[key] = select_cases(marker.args, **filters)
        except ValueError as exc:
            raise pytest.Collector.CollectError(f"{where}: {exc}") from None
    params = [CaseParam(case, dtype) for case in _LOADED[key] for dtype in dtypes]
    metafunc.parametrize("conformance_case", params, ids=[str(p) for p in params], indirect=True)


def case_for(request):
    """Return the fixture's value: the parameter's case posed in its dtype (skipped when it has no such form)."""
    param = getattr(request, "param", None)
    if not isinstance(param, CaseParam):
        pytest.fail(f"{request.node.nodeid}: the conformance_case fixture needs @pytest.mark.{MARKER}(op, ...) "
                    f"on the test", pytrace=False)
    try:
        return pose(param.case, param.dtype)
    except NotPosable as exc:
        pytest.skip(str(exc))
