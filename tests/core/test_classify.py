"""A failed check is classified: a declared definition convention, a numerical error, or a bug."""

from __future__ import annotations

import numpy as np

from conformance import reference
from conformance.adapter import Binding
from conformance.check import run_check
from conformance.loader import load_text
from vector_files import vector_text
from fake_adapter import FakeAdapter

# p = 0 with label 1 is an infinite loss; p = 1e-9 with label 1 is 20.72; Keras clips both to 1e-7 (16.118)
CASE = """
- id: probabilities-at-the-edge
  comment: probabilities 0 and 1e-9 with label 1, and 0.3 with label 0
  source: {inputs: hand-written, expected: reference-float64}
  inputs: {probabilities: [0.0, 1.0e-9, 0.3], labels: [1.0, 1.0, 0.0]}
  expected: [.inf, 20.72326583694641, 0.35667494393873245]
"""


def case():
    (loaded,), problems = load_text(vector_text(CASE, op="binary_cross_entropy"), "c.yaml")
    assert not problems
    return loaded


def keras_like(fw, inputs, params):
    p = np.clip(inputs["probabilities"], 1e-7, 1 - 1e-7)
    z = inputs["labels"]
    return -(z * np.log(p) + (1 - z) * np.log(1 - p))


def perturbed(factor):
    def fn(fw, inputs, params):
        return reference.binary_cross_entropy(inputs["probabilities"], inputs["labels"]) * factor

    return fn


def check(fn, conventions=()):
    binding = Binding("fake.bce", "binary_cross_entropy", fn, "test", conventions=conventions)
    return run_check(FakeAdapter(), np, binding, case(), "float64", "eager", "cpu")


def test_declared_convention_is_a_definition_difference_not_a_failure():
    record = check(keras_like, ("keras-epsilon-clip",))
    assert record["status"] == "definition-difference"
    assert record["classification"] == "definition-difference: keras-epsilon-clip"
    assert record["message"].startswith("follows keras-epsilon-clip (probabilities are clipped to [1e-7, 1 - 1e-7]")


def test_the_same_values_without_the_declaration_are_a_bug():
    record = check(keras_like)
    assert record["status"] == "fail" and record["classification"] == "bug: finite result where the true value is not"


def test_a_convention_the_values_do_not_follow_does_not_excuse_them():
    record = check(keras_like, ("log-clamp-100",))
    assert record["status"] == "fail"


def test_precision_lost_inside_the_op_is_a_numerical_error():
    record = check(perturbed(1 + 1e-10))  # ~450000 ulp off, yet nine digits right: rounding, not a wrong formula
    assert record["status"] == "fail" and record["classification"] == "numerical-error"


def test_a_wrong_formula_is_a_bug():
    record = check(perturbed(0.5))
    assert record["status"] == "fail" and record["classification"] == "bug"
