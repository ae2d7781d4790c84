"""Errors, ulps and bounds: the numbers every verdict rests on."""

from __future__ import annotations

import math

import numpy as np
import pytest

from conformance.compare import compare
from conformance.loader import load_text
from conformance.tolerance import Bound, derive_bound, ulp, unit_roundoff
from vector_files import vector_text


def test_ulp_is_the_spacing_of_the_dtype():
    assert ulp(np.array([1.0]), "float64")[0] == 2.0**-52
    assert ulp(np.array([1.0, 1.5, 2.0]), "float32").tolist() == [2.0**-23, 2.0**-23, 2.0**-22]
    assert ulp(np.array([-1000.0]), "float16")[0] == 0.5
    assert ulp(np.array([1.0]), "bfloat16")[0] == 2.0**-7
    # below the normal range the spacing stays that of the smallest normal number
    assert ulp(np.array([0.0, 1e-45]), "float32").tolist() == [2.0**-149, 2.0**-149]
    assert unit_roundoff("float32") == 2.0**-24


def flat(allowed):
    return Bound(np.asarray(allowed, dtype=np.float64), "test")


def test_errors_in_abs_rel_and_ulps():
    result = compare(np.array([1.0, 2.0]), np.array([1.0, 2.0 + 2.0**-51]), flat(1e-12), "float64")
    assert result.ok and result.off == 0
    assert result.max_abs_err == 2.0**-51
    assert result.max_ulp == 1.0
    assert result.max_rel_err == pytest.approx(2.0**-52)
    assert result.worst["index"] == [1]


def test_nan_where_a_number_is_expected_fails_and_matching_specials_pass():
    result = compare(np.array([1.0, np.nan, np.inf]), np.array([np.nan, np.nan, np.inf]), flat(1.0), "float32")
    assert not result.ok and result.off == 1
    assert result.worst["index"] == [0] and result.worst["actual"] == "nan"
    assert math.isinf(result.max_abs_err)


def test_shape_mismatch_fails_with_both_shapes():
    result = compare(np.zeros((2, 3)), np.zeros(6), flat(1.0), "float32")
    assert not result.ok and result.message == "shape [6] where [2, 3] was expected"


CONFIDENT = """
- id: confident
  comment: a confidently right prediction; the loss is tiny
  source: {inputs: hand-written, expected: reference-float64}
  inputs: {logits: [[12.0, 3.0, 2.0]], labels: [[1.0, 0.0, 0.0]]}
  expected: [0.00016879548708934855]  # mpmath, 40 digits: log(1 + e**-9 + e**-10)
"""


def confident_case():
    (case,), problems = load_text(vector_text(CONFIDENT, op="softmax_cross_entropy"), "t.yaml")
    assert not problems
    return case


def test_derived_bound_accepts_the_rounding_of_log_sum_exp_that_a_flat_rtol_rejects():
    case = confident_case()
    terms = case.expected
    bound = derive_bound(case, case.inputs, terms, "float32")
    # float32 log(1.000167) is off by up to half an ulp of 1 (2**-24): relative error ~3.6e-4 of this loss
    typical = np.float32(np.log(np.float32(1) + np.float32(np.exp(-9.0)) + np.float32(np.exp(-10.0))))
    assert compare(case.expected, np.array([typical]), bound, "float32").ok
    assert not compare(case.expected, np.array([typical]), flat(1e-5 * case.expected), "float32").ok
    # ...while an error of 1e-5 is far beyond what any float32 evaluation needs
    assert not compare(case.expected, case.expected + 1e-5, bound, "float32").ok


def test_sum_bound_grows_with_the_number_of_terms():
    case = confident_case()
    n1 = derive_bound(case, case.inputs, np.ones(1), "float64").allowed
    summed = case.__class__(**{**case.__dict__, "params": {**case.params, "reduction": "sum"}})
    many = {"logits": np.zeros((100, 3)), "labels": np.tile([1.0, 0.0, 0.0], (100, 1))}
    n100 = derive_bound(summed, many, np.ones(100), "float64").allowed
    assert n100 > 100 * n1


def test_override_replaces_the_derived_bound():
    case = confident_case()
    case = case.__class__(**{**case.__dict__, "tolerance": {"float32": {"rtol": 0.5, "atol": 0.0, "reason": "test"}}})
    bound = derive_bound(case, case.inputs, case.expected, "float32")
    assert bound.model == "override: test"
    assert bound.allowed.tolist() == [0.5 * case.expected[0]]
