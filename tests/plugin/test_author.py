"""Use 1: an author tests their own loss against the kit's vectors with the marker, the fixture and the assertion."""

from __future__ import annotations

import numpy as np
import pytest

from conformance.testing import ConformanceMismatch, as_numpy, assert_conforms, cases
from plugin_helpers import quick_inner_runs, MSE, SIGMOID, write_vectors

pytest_plugins = ["pytester"]
__all__ = ["quick_inner_runs"]  # an autouse fixture

# the author's implementations: a right one, and one whose second element is off by one part in a thousand
LOSSES = """
import numpy as np
import pytest

def softplus(t):
    return np.maximum(t, 0) + np.log1p(np.exp(-np.abs(t)))

def good(logits, labels, reduction):
    return labels * softplus(-logits) + (1 - labels) * softplus(logits)

def off(logits, labels, reduction):
    out = good(logits, labels, reduction).copy()
    out.reshape(-1)[1] *= 1.001
    return out
"""


def test_cases_are_parameters_with_stable_readable_ids(pytester):
    vectors = write_vectors(pytester, SIGMOID, MSE)
    pytester.makepyfile(LOSSES + f"""
@pytest.mark.conformance_cases("sigmoid_cross_entropy", vectors=[{str(vectors)!r}])
def test_mine(conformance_case):
    conformance_case.assert_conforms(good(**conformance_case.inputs, **conformance_case.params))
""")
    result = pytester.runpytest("--collect-only", "-q")
    result.stdout.fnmatch_lines([
        "*.py::test_mine[[]sigmoid_cross_entropy[[]moderate[]]-float32[]]",
        "*.py::test_mine[[]sigmoid_cross_entropy[[]moderate[]]-float64[]]",
        "*.py::test_mine[[]sigmoid_cross_entropy[[]other[]]-float32[]]",
        "*.py::test_mine[[]sigmoid_cross_entropy[[]other[]]-float64[]]",
    ])
    assert "pair" not in result.stdout.str()  # the MSE case belongs to another op
    pytester.runpytest().assert_outcomes(passed=4)


def test_a_wrong_output_fails_with_the_kits_message_without_assertion_rewriting(pytester):
    vectors = write_vectors(pytester, SIGMOID)
    pytester.makepyfile(LOSSES + f"""
@pytest.mark.conformance_cases("sigmoid_cross_entropy", vectors=[{str(vectors)!r}], cases=["moderate"],
                               dtypes=["float64"])
def test_mine(conformance_case):
    conformance_case.assert_conforms(off(**conformance_case.inputs, **conformance_case.params))
""")
    result = pytester.runpytest("--assert=plain")
    result.assert_outcomes(failed=1)
    # softplus(2) * 1.001 - softplus(2) = 0.0021269280110429727: far above any float64 bound
    result.stdout.fnmatch_lines([
        "E *conformance.testing.ConformanceMismatch: sigmoid_cross_entropy[[]moderate[]] float64 (reduction='none'): "
        "1 of 2 elements off; worst at index [[]1[]]: expected 2.1269280110429727, got 2.12905493905401* "
        "(abs err 0.00213, rel err 0.001, * ulp, *x the bound *); bound: derived (largest allowed abs error *)",
    ])


def test_marker_filters_flags_cases_and_dtypes(pytester):
    vectors = write_vectors(pytester, SIGMOID)
    pytester.makepyfile(LOSSES + f"""
V = [{str(vectors)!r}]

@pytest.mark.conformance_cases("sigmoid_cross_entropy", vectors=V, flags=["Other"], dtypes="float32")
def test_flagged(conformance_case):
    assert conformance_case.id == "other" and conformance_case.dtype == "float32"
    assert conformance_case.inputs["logits"].dtype == np.float32

@pytest.mark.conformance_cases("sigmoid_cross_entropy", vectors=V, exclude_flags=["Other"])
def test_excluded(conformance_case):
    assert conformance_case.id == "moderate"
""")
    result = pytester.runpytest("-v")
    result.assert_outcomes(passed=3)
    # the run options are the marker's defaults
    pytester.runpytest("--conformance-dtypes=float64", "--conformance-cases=other").assert_outcomes(passed=1, skipped=1)


def test_the_fixture_without_the_marker_is_a_collection_error(pytester):
    pytester.makepyfile("""
        def test_mine(conformance_case):
            pass
    """)
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*test_mine uses the conformance_case fixture: mark it with "
                                 "@pytest.mark.conformance_cases(op, ...)*"])


def test_an_unknown_op_or_filter_is_a_collection_error(pytester):
    pytester.makepyfile("""
        import pytest

        @pytest.mark.conformance_cases("softmax")
        def test_op(conformance_case):
            pass

        @pytest.mark.conformance_cases("mean_squared_error", dtype="float32")
        def test_filter(conformance_case):
            pass
    """)
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*conformance_cases names unknown op(s) softmax; known: mean_squared_error*"])
    pytester.makepyfile("""
        import pytest

        @pytest.mark.conformance_cases("mean_squared_error", dtype="float32")
        def test_filter(conformance_case):
            pass
    """)
    pytester.runpytest().stdout.fnmatch_lines(["*conformance_cases takes no dtype (it takes dtypes, cases,*"])


def test_the_shipped_vectors_are_the_default(pytester):
    pytester.makepyfile("""
        import pytest

        @pytest.mark.conformance_cases("sigmoid_cross_entropy", cases=["tutorial-5x3"], dtypes=["float32"])
        def test_mine(conformance_case):
            assert conformance_case.inputs["logits"].shape == (5, 3)
            assert conformance_case.expected.shape == (5, 3)
    """)
    result = pytester.runpytest("-v")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*test_mine[[]sigmoid_cross_entropy[[]tutorial-5x3[]]-float32[]] PASSED*"])


def test_assert_conforms_works_without_pytest(tmp_path):
    (tmp_path / "v.yaml").write_text(MSE, encoding="utf-8")
    (case,) = cases("mean_squared_error", dtypes=["float32"], vectors=[tmp_path / "v.yaml"])
    assert case.name == "mean_squared_error[pair]-float32"
    assert case.inputs["predictions"].dtype == np.float32
    assert_conforms(case, np.array([4.0, 2.25], dtype=np.float32))
    with pytest.raises(ConformanceMismatch) as caught:
        assert_conforms(case, np.array([4.0, 2.5], dtype=np.float32))
    message = str(caught.value)
    assert message.startswith("mean_squared_error[pair] float32 (reduction='none'): 1 of 2 elements off; worst at "
                              "index [1]: expected 2.25, got 2.5 (abs err 0.25, rel err 0.111, ")
    assert "bound: derived" in message
    with pytest.raises(ConformanceMismatch, match=r"shape \[3\] where \[2\] was expected"):
        assert_conforms(case, np.zeros(3))


def test_a_case_that_must_raise_has_no_value_to_compare(tmp_path):
    (tmp_path / "v.yaml").write_text(MSE.replace("pair", "raises").replace("expected: [4.0, 2.25]", "outcome: raises"),
                                     encoding="utf-8")
    (case,) = cases("mean_squared_error", dtypes=["float64"], vectors=[tmp_path / "v.yaml"], outcomes=["raises"])
    with pytest.raises(ValueError, match=r"outcome is raises, so there is no value to compare"):
        assert_conforms(case, np.zeros(2))


def test_tensors_are_compared_after_conversion_to_numpy():
    torch = pytest.importorskip("torch")
    assert as_numpy(torch.tensor([1.5, 2.0], dtype=torch.bfloat16, requires_grad=True)).tolist() == [1.5, 2.0]
    assert as_numpy(torch.tensor([1.0], dtype=torch.float64)).dtype == np.float64
    assert as_numpy([1, 2]).tolist() == [1, 2]
