"""The analytic gradients, proven against mpmath's numerical derivative of the independent mpmath losses."""

from __future__ import annotations

import numpy as np
import pytest
from mpmath import mp

import mp_reference as mpr
from conformance import gradients

ULPS = 4


def close(actual: float, exact) -> bool:
    exact = float(exact)
    return abs(actual - exact) <= ULPS * np.spacing(abs(exact)) + 1e-300


def dx(f, x: float):
    """Return f'(x) by a central difference with step 1e-20; f works at 50+ digits, so this keeps ~30."""
    with mp.workdps(60):
        return mp.diff(f, mp.mpf(x), h=mp.mpf("1e-20"))


SIGMOID_CASES = [
    ([[12.0, 3.0, 2.0], [4.0, 6.5, 1.2]], [[1.0, 0.0, 0.0], [1.0, 1.0, 0.0]], 1.0),
    ([[30.0, -30.0, 100.0, -100.0]], [[1.0, 0.0, 0.0, 1.0]], 1.0),
    ([[0.5, -2.0, 7.0]], [[0.3, 0.9, 0.5]], 1.0),
    ([[0.5, -2.0, 40.0]], [[1.0, 0.0, 1.0]], 3.0),
]


@pytest.mark.parametrize(("logits", "labels", "q"), SIGMOID_CASES)
def test_weighted_sigmoid_gradient(logits, labels, q):
    x, z = np.array(logits), np.array(labels)
    got = gradients.compute("weighted_sigmoid_cross_entropy", {"logits": x, "labels": z}, {"pos_weight": q})
    for index in np.ndindex(x.shape):
        exact = dx(lambda t: mpr.weighted_bce(t, z[index], q), x[index])
        assert close(got[index], exact), (index, got[index], exact)


def test_sigmoid_gradient_is_the_weighted_one_with_q_1_and_mean_divides_by_the_count():
    x, z = np.array(SIGMOID_CASES[0][0]), np.array(SIGMOID_CASES[0][1])
    plain = gradients.compute("sigmoid_cross_entropy", {"logits": x, "labels": z}, {})
    mean = gradients.compute("sigmoid_cross_entropy", {"logits": x, "labels": z}, {"reduction": "mean"})
    for index in np.ndindex(x.shape):
        exact = dx(lambda t: mpr.weighted_bce(t, z[index]), x[index])
        assert close(plain[index], exact)
        assert close(mean[index], exact / x.size)


SOFTMAX_CASES = [
    ([[12.0, 3.0, 2.0], [3.0, 10.0, 1.0]], [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]),
    ([[40.0, 0.0, -3.0]], [[1.0, 0.0, 0.0]]),
    ([[1e4, -1e4, 0.0]], [[0.0, 1.0, 0.0]]),
    ([[0.2, -1.0, 2.5]], [[0.2, 0.5, 0.3]]),
]


def partial(f, xs, j):
    def at(t):
        moved = list(xs)
        moved[j] = t
        return f(moved)

    return dx(at, xs[j])


@pytest.mark.parametrize(("logits", "labels"), SOFTMAX_CASES)
def test_softmax_gradient(logits, labels):
    x, z = np.array(logits), np.array(labels)
    got = gradients.compute("softmax_cross_entropy", {"logits": x, "labels": z}, {"reduction": "sum"})
    for row in range(x.shape[0]):
        for j in range(x.shape[1]):
            exact = partial(lambda xs: mpr.softmax_ce(xs, z[row]), list(x[row]), j)
            assert close(got[row, j], exact), (row, j, got[row, j], exact)


def test_softmax_gradient_over_axis_0_and_sparse_labels_with_mean():
    x = np.array([[2.0, 0.5, 6.0], [0.1, 0.0, 3.0]])
    sparse = gradients.compute("sparse_softmax_cross_entropy", {"logits": x, "labels": np.array([2, 1])},
                               {"reduction": "mean"})
    dense_t = gradients.compute("softmax_cross_entropy", {"logits": x.T, "labels": np.eye(3)[[2, 1]].T},
                                {"axis": 0, "reduction": "mean"})
    for row, label in enumerate([2, 1]):
        for j in range(3):
            exact = partial(lambda xs: mpr.sparse_softmax_ce(xs, label), list(x[row]), j) / 2
            assert close(sparse[row, j], exact)
            assert close(dense_t[j, row], exact)


def test_mse_gradient():
    p, t = np.array([[1.5, -2.0], [0.1, 3.0]]), np.array([[1.0, 2.0], [0.3, 3.0]])
    got = gradients.compute("mean_squared_error", {"predictions": p, "targets": t}, {"reduction": "mean"})
    for index in np.ndindex(p.shape):
        exact = dx(lambda v: mpr.squared_error(v, t[index]), p[index]) / p.size
        assert close(got[index], exact)


def test_gradient_terms_are_those_of_the_textbook_formula():
    x, z = np.array([30.0, -30.0]), np.array([1.0, 0.0])
    scale = gradients.term_scale("sigmoid_cross_entropy", {"logits": x, "labels": z}, {"reduction": "mean"})
    # sigmoid(x) - z: |sigmoid(30)| + 1 where the label is 1 (p - 1 may round), sigmoid(-30) alone where it is 0
    assert scale[0] == pytest.approx((1 + 1) / 2)
    assert scale[1] == pytest.approx(np.exp(-30.0) / 2, rel=1e-12)
    sparse = gradients.term_scale("sparse_softmax_cross_entropy",
                                  {"logits": np.array([[40.0, 0.0]]), "labels": np.array([0])}, {})
    assert sparse.tolist() == [[2.0, pytest.approx(np.exp(-40.0), rel=1e-12)]]
