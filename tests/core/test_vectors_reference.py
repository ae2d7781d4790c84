"""The shipped vectors agree with conformance.reference and with their own format rules.

The expected values were produced by the reference, so this is a staleness
check (the reference or a file changed without regenerating); the proof that
the values are right is test_vectors_mpmath.py.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from conformance import reference
from conformance.loader import load_paths
from conformance.ops import OPS

VECTORS = Path(__file__).resolve().parents[2] / "vectors"
FILES = sorted(VECTORS.glob("*.yaml"))
CORPUS = load_paths([VECTORS])
VALUE_CASES = [case for case in CORPUS.cases if case.outcome == "value"]
PUBLISHED = [case for case in VALUE_CASES if case.published]


def raw(path: Path) -> dict:
    """Return one vector file as plain YAML data."""
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def raw_cases(doc: dict):
    """Yield every raw case mapping of a document."""
    for group in doc["groups"]:
        yield from group["cases"]


def ulp_mismatch(got: np.ndarray, want: np.ndarray, ulps: float) -> str | None:
    """Return a description of the elements of ``got`` more than ``ulps`` float64 ulps from ``want``, or None."""
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    if got.shape != want.shape:
        return f"shape {list(got.shape)}, but should be {list(want.shape)}"
    same_special = (np.isnan(got) & np.isnan(want)) | (np.isinf(want) & (got == want))
    finite = np.isfinite(want)
    if not np.all(same_special | finite) or not np.all(np.isfinite(got[finite])):
        return f"non-finite pattern differs: got {got.tolist()}, want {want.tolist()}"
    err = np.where(finite, np.abs(got - np.where(finite, want, 0.0)), 0.0)
    allowed = ulps * np.spacing(np.abs(np.where(finite, want, 0.0)))
    bad = err > allowed
    if not np.any(bad):
        return None
    worst = np.unravel_index(np.argmax(np.where(bad, err / allowed, 0)), bad.shape) if bad.ndim else ()
    return (
        f"{int(np.sum(bad))} of {bad.size} elements off by more than {ulps} ulp; worst at index {list(worst)}: "
        f"got {got[worst]!r}, want {want[worst]!r} (difference {err[worst]:.3g}, allowed {allowed[worst]:.3g})"
    )


def test_every_op_has_a_file_and_the_loader_reads_them_cleanly():
    assert sorted(p.stem for p in FILES) == sorted(OPS), f"vector files {[p.name for p in FILES]} vs ops {list(OPS)}"
    assert CORPUS.problems == [], "loader problems:\n" + "\n".join(map(str, CORPUS.problems))
    for path in FILES:
        assert raw(path)["op"] == path.stem, f"{path.name} declares op {raw(path)['op']!r}"


@pytest.mark.parametrize("case", VALUE_CASES, ids=lambda c: c.key)
def test_expected_equals_reference_within_2_ulp(case):
    with np.errstate(all="ignore"):
        got = reference.compute(case.op, case.inputs, case.params)
    problem = ulp_mismatch(got, case.expected, 2)
    assert problem is None, f"{case.file}:{case.line} {case.key} params={case.params}: reference gives {problem}"


@pytest.mark.parametrize("case", PUBLISHED, ids=lambda c: c.key)
def test_published_digits_agree_with_expected(case):
    digits = case.published["digits"]
    rounded = np.vectorize(lambda v: float(f"{v:.{digits - 1}e}"))(case.expected)
    value = case.published["value"]
    off = np.argwhere(rounded != value)
    assert off.size == 0, (
        f"{case.key}: expected rounded to {digits} digits differs from the published digits at "
        f"{off.tolist()}: {rounded[tuple(off[0])]!r} vs published {value[tuple(off[0])]!r}"
    )


def test_the_tutorials_printed_output_is_recorded():
    assert "sigmoid_cross_entropy[tutorial-5x3]" in [case.key for case in PUBLISHED]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_ids_unique_and_well_formed(path):
    ids = [case["id"] for case in raw_cases(raw(path))]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    assert not repeated, f"{path.name}: repeated ids {repeated}"
    assert all(isinstance(i, str) and i == i.lower() and " " not in i for i in ids), f"{path.name}: bad ids {ids}"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_flags_defined_once_and_all_used(path):
    doc = raw(path)
    used = {flag for case in raw_cases(doc) for flag in case.get("flags", [])}
    undefined = sorted(used - set(doc["notes"]))
    unused = sorted(set(doc["notes"]) - used)
    assert not undefined, f"{path.name}: flags used but not defined in notes: {undefined}"
    assert not unused, f"{path.name}: notes define flags no case uses: {unused}"
    text = path.read_text(encoding="utf-8")
    notes_block = text[text.index("\nnotes:") : text.index("\ngroups:")]
    for flag in doc["notes"]:
        assert notes_block.count(f"\n  {flag}:") == 1, f"{path.name}: flag {flag} defined {notes_block.count(flag)} times"


def _leaves(value):
    if isinstance(value, list):
        return [leaf for item in value for leaf in _leaves(item)]
    return [value]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_numbers_read_back_as_floats_and_ints(path):
    doc = raw(path)
    kinds = {spec.name: spec.kind for spec in OPS[doc["op"]].inputs}
    for case in raw_cases(doc):
        for name, value in case["inputs"].items():
            want = int if kinds[name] == "int" else float
            wrong = [leaf for leaf in _leaves(value) if type(leaf) is not want]
            assert not wrong, f"{path.name} {case['id']}: input {name} holds {wrong[:3]}, not {want.__name__}s"
        if "expected" in case:
            wrong = [leaf for leaf in _leaves(case["expected"]) if type(leaf) is not float]
            assert not wrong, f"{path.name} {case['id']}: expected holds non-floats {wrong[:3]} (write 1.0e-05, not 1e-05)"


def test_every_reduction_and_layout_is_covered():
    for op in OPS:
        cases = [case for case in VALUE_CASES if case.op == op]
        reductions = {case.params["reduction"] for case in cases}
        assert reductions == {"none", "sum", "mean"}, f"{op}: reductions covered {sorted(reductions)}"
        shapes = {tuple(case.source["generator"]["shape"]) for case in cases if case.source["inputs"] == "seeded-random"}
        assert len(shapes) >= 3 and any(len(s) == 3 for s in shapes), f"{op}: seeded shapes {sorted(shapes)}"
        if any(param.name == "axis" for param in OPS[op].params):
            axes = {case.params["axis"] for case in cases}
            assert {0, 1} <= axes, f"{op}: class axes covered {sorted(axes)}; need 0 and 1 besides -1"


def test_out_of_range_labels_are_implementation_defined_and_undefined_in_the_reference():
    cases = [case for case in CORPUS.cases if "LabelOutOfRange" in case.flags]
    assert cases, "no LabelOutOfRange case"
    for case in cases:
        assert case.outcome == "implementation-defined" and case.expected is None, case.key
        with pytest.raises(ValueError, match="labels must lie in"):
            reference.compute(case.op, case.inputs, case.params)


def test_the_ulp_check_itself_accepts_2_ulp_and_rejects_3():
    want = np.array([1.0, 0.1, 1.0e-300, 0.0, 3.0e300])
    two, three = want.copy(), want.copy()
    for _ in range(2):
        two = np.nextafter(two, np.inf)
    three = np.nextafter(two, np.inf)
    assert ulp_mismatch(want, want, 2) is None and ulp_mismatch(two, want, 2) is None
    assert "5 of 5 elements" in ulp_mismatch(three, want, 2)
    assert ulp_mismatch(np.array([np.nan, np.inf]), np.array([np.nan, np.inf]), 2) is None
    assert ulp_mismatch(np.array([np.nan]), np.array([1.0]), 2) is not None
    assert ulp_mismatch(np.array([np.inf]), np.array([-np.inf]), 2) is not None
    assert ulp_mismatch(np.array([1.0]), np.array([np.nan]), 2) is not None
    assert ulp_mismatch(np.ones((2, 3)), np.ones(3), 2).startswith("shape")
