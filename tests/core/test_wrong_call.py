"""An exception that says the call itself was wrong never counts as the error a case requires."""

from __future__ import annotations

import numpy as np
import pytest

from conformance.adapter import Binding
from conformance.check import call_was_wrong, run_check
from conformance.loader import load_paths
from fake_adapter import FakeAdapter as Adapter  # load, to_framework, to_numpy in NumPy

def _case(outcome: str):
    cases = [c for c in load_paths(None).cases if c.outcome == outcome]
    assert cases, f"the shipped vectors have a {outcome} case"
    return cases[0]


def _raising(exc: Exception, op: str) -> Binding:
    def fn(fw, inputs, params):
        raise exc

    return Binding("fake.op", op, fn, "raise")


@pytest.mark.parametrize("exc, wrong", [
    (TypeError("softmax_cross_entropy_with_integer_labels() got an unexpected keyword argument 'axis'"), True),
    (TypeError("f() takes 2 positional arguments but 3 were given"), True),
    (AttributeError("module 'optax' has no attribute 'safe_softmax_cross_entropy'"), True),
    (IndexError("Target 3 is out of bounds."), False),
    (ValueError("labels must be in [0, 3)"), False),
    (TypeError("Input 'y' of 'Mul' Op has type float32 that does not match type int32"), False),
])
def test_which_exceptions_say_the_call_was_wrong(exc, wrong):
    assert call_was_wrong(exc) is wrong


@pytest.mark.parametrize("outcome", ["raises", "implementation-defined"])
def test_a_wrong_call_is_an_error_not_the_required_raise(outcome):
    case = _case(outcome)
    wrong = run_check(Adapter(), np, _raising(TypeError("f() got an unexpected keyword argument 'axis'"), case.op), case,
                      "float64", "eager", "cpu")
    assert wrong["status"] == "error" and "the call itself failed" in wrong["message"]
    assert wrong["classification"] == "wrong-call"
    right = run_check(Adapter(), np, _raising(IndexError("label out of range"), case.op), case, "float64", "eager", "cpu")
    assert right["status"] == "pass" and "IndexError" in right["message"]
