"""Use 1: own-loss tested case by case against the loss-conformance vectors.

`conformance_cases` names the op and the filters; `conformance_case` is one case
in one dtype: its inputs (NumPy arrays of that dtype), params (reduction, ...),
the expected value and the kit's bound. `assert_conforms` fails with the case,
how many elements are off, the worst one and the bound.
"""

import numpy as np
import pytest

import own_loss


@pytest.mark.conformance_cases("mean_squared_error", dtypes=["float32", "float64"])
def test_mean_squared_error(conformance_case):
    inputs = conformance_case.inputs
    actual = own_loss.mean_squared_error(inputs["predictions"], inputs["targets"], **conformance_case.params)
    conformance_case.assert_conforms(actual)


@pytest.mark.conformance_cases("sigmoid_cross_entropy", exclude_flags=["EmptyBatch"])
def test_sigmoid_cross_entropy(conformance_case):
    inputs = conformance_case.inputs
    actual = own_loss.sigmoid_cross_entropy(inputs["logits"], inputs["labels"], **conformance_case.params)
    conformance_case.assert_conforms(actual)


def test_mean_is_the_default_reduction():
    # an ordinary unit test next to the conformance ones
    assert own_loss.mean_squared_error(np.array([1.0, 3.0]), np.array([0.0, 0.0])) == 5.0
