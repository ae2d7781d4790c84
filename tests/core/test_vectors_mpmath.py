"""The shipped expected values are right: an independent mpmath evaluation agrees, and the tutorial's claims are tested.

Bounds, with u = 2**-53 (float64 unit roundoff) and ulp(v) = np.spacing of the float64 nearest to v:

* each unreduced value (one per element; one per sample for the ops with a class axis):
  ``|stored - mp| <= 2 ulp(mp)``;
* ``sum`` of n unreduced values t_i:
  ``|stored - mp| <= sum_i 2 ulp(t_i) + (n - 1) u sum_i |t_i|``: every term may carry its
  own 2 ulp, and summing n terms in float64 adds at most (n - 1) u sum |t_i| (Higham's first-order
  bound for recursive summation; NumPy's pairwise summation stays well inside it);
* ``mean``: the sum's bound divided by n, plus 1 ulp(mp) for the rounding of the division.

A non-finite expected value must be the same NaN or the same infinity as the mpmath value.

Gradients (``expected_grad``, d sum(output) / d of the differentiable input: logits, predictions, probabilities or
log-probabilities) are checked against mpmath's central difference (step 1e-20; for a probability p, 1e-20 times
the smaller of p and 1 - p) of the same mpmath losses, at 20 digits above their working precision, divided by the
element or sample count for ``mean``. Per element, with the C and E of ``mp_reference.gradient_slack``:
``|stored - mp| <= 4 ulp(mp) + 4 u C + 2 u E``. For hard labels and the sigmoid ops C = E = 0 and this is 4 ulp;
C lets soft labels cancel (the derivative is a difference of two parts), E lets softmax's exp(x_j - max - lse)
turn the rounding of its exponent into a relative error. A case of more than 2 * GRAD_SAMPLE elements is checked
on GRAD_SAMPLE elements drawn with a fixed seed plus its largest and smallest gradient (the mpmath derivative costs
two loss evaluations per element, at hundreds of digits for extreme logits).

Non-finite inputs and the ends of the domain (``NonFinite``, ``NonFiniteLogits``, ``ProbabilityAtBoundary``,
``NonFiniteProbabilities``, ``NonFiniteLogProbabilities``): an unreduced value is checked as above (mpmath's
infinities give inf for a logit at infinity against its label or for log 0 under a nonzero label, 0 for a term of
weight 0, and NaN for a NaN; a sum or mean of them is the same special value). A gradient element whose sample holds
a non-finite input, or whose probability is 0 or 1, has no two-sided derivative; it is checked against the limit of
the textbook derivative (``mp_reference.gradient_limit``): the same NaN or infinity where that is not finite, else
within ``4 ulp + 2 u E``.
"""

from __future__ import annotations

import math

import mp_reference as mpr
import numpy as np
import pytest
from mpmath import mp, mpf
from vector_corpus import STORED_VALUE_CASES

U = 2.0**-53
GRAD_SAMPLE = 32
VALUE_CASES = STORED_VALUE_CASES
CLAIM_FLAGS = ("ClaimHolds", "ClaimBreaks", "ClaimBreaksFloat32")
CLAIM_CASES = [case for case in VALUE_CASES if set(case.flags) & set(CLAIM_FLAGS)]
_MP_CACHE: dict[str, tuple[np.ndarray, object]] = {}


def mp_values(case) -> tuple[np.ndarray, object]:
    """Return (unreduced mpf values, reduced mpf value or array) for a case, computed once per case."""
    if case.key not in _MP_CACHE:
        terms = mpr.unreduced(case.op, case.inputs, case.params)
        _MP_CACHE[case.key] = (terms, mpr.reduce(terms, case.params["reduction"]))
    return _MP_CACHE[case.key]


def ulp(value) -> float:
    """Return the float64 spacing at the float64 nearest to an mpf value."""
    return float(np.spacing(abs(mpr.to_float(value))))


def _special_mismatch(stored: float, exact) -> str | None:
    want = mpr.to_float(exact)
    if math.isnan(want) or math.isinf(want) or math.isnan(stored) or math.isinf(stored):
        same = (math.isnan(want) and math.isnan(stored)) or want == stored
        return None if same else f"stored {stored!r} but mpmath gives {want!r}"
    return None


def _check_one(stored: float, exact, allowed: float, where: str) -> str | None:
    special = _special_mismatch(stored, exact)
    if special or not math.isfinite(stored):
        return f"{where}: {special}" if special else None
    err = abs(mpf(stored) - exact)
    if err <= allowed:
        return None
    return f"{where}: stored {stored!r}, mpmath {mp.nstr(exact, 20)}, difference {mp.nstr(err, 3)} > allowed {allowed:.3g}"


def allowed_error(case) -> np.ndarray:
    """Return the bound on |stored - mp| for each output value of the case (see the module docstring)."""
    terms, exact = mp_values(case)
    reduction = case.params["reduction"]
    if reduction == "none":
        return np.vectorize(lambda t: 2 * ulp(t), otypes=[float])(terms).reshape(terms.shape)
    flat = terms.ravel().tolist()
    allowed = sum(2 * ulp(t) for t in flat) + max(len(flat) - 1, 0) * U * float(mp.fsum(abs(t) for t in flat))
    if reduction == "mean":
        allowed = allowed / len(flat) + ulp(exact)
    return np.asarray(allowed)


def mp_mismatch(case, expected: np.ndarray) -> str | None:
    """Return how ``expected`` breaks the bounds against the mpmath values of ``case``, or None."""
    terms, exact = mp_values(case)
    exact = np.asarray(exact, dtype=object).reshape(np.shape(expected))
    allowed = allowed_error(case)
    for index in np.ndindex(np.shape(expected)):
        where = f"index {list(index)}" if index else f"{case.params['reduction']} of {terms.size} values"
        problem = _check_one(float(expected[index]), exact[index], float(allowed[index]), where)
        if problem:
            return problem
    return None


@pytest.mark.parametrize("case", VALUE_CASES, ids=lambda c: c.key)
def test_expected_agrees_with_mpmath(case):
    problem = mp_mismatch(case, case.expected)
    assert problem is None, f"{case.file}:{case.line} {case.key} params={case.params}: {problem}"


@pytest.mark.parametrize("key", ["mean_squared_error[random-4x5]", "softmax_cross_entropy[random-soft-16x10]",
                                 "sigmoid_cross_entropy[tutorial-5x3-sum]",
                                 "sparse_softmax_cross_entropy[random-16x10-mean]",
                                 "binary_cross_entropy[random-soft-4x5]", "binary_cross_entropy[near-zero-probabilities]",
                                 "categorical_cross_entropy[random-soft-16x10-mean]", "nll_loss[random-16x10-sum]"])
def test_the_mpmath_check_rejects_values_just_outside_the_bound(key):
    case = next(c for c in VALUE_CASES if c.key == key)
    assert mp_mismatch(case, case.expected) is None
    assert mp_mismatch(case, case.expected + 2.5 * allowed_error(case)) is not None
    assert mp_mismatch(case, case.expected - 2.5 * allowed_error(case)) is not None


def test_mp_reference_textbook_values():
    ln2 = mp.log(2)
    assert mpr.weighted_bce(0.0, 1.0) == ln2 and mpr.weighted_bce(0.0, 0.0) == ln2
    assert abs(mpr.weighted_bce(0.0, 1.0, 3.0) - 3 * ln2) < mpf(10) ** -38
    assert abs(mpr.softmax_ce([1.5] * 4, [0.25] * 4) - mp.log(4)) < mpf(10) ** -38
    assert mpr.squared_error(3.0, 1.0) == 4
    # tiny losses keep their digits: these would be 0 at 40 digits without the raised precision
    assert abs(mpr.weighted_bce(100.0, 1.0) / mp.exp(mpf(-100)) - 1) < mpf(10) ** -35  # log(1 + e) = e (1 - e/2 ...)
    assert abs(mpr.sparse_softmax_ce([700.0, 0.0], 0) / mp.exp(mpf(-700)) - 1) < mpf(10) ** -35
    assert abs(mpr.sparse_softmax_ce([1.0e4, -1.0e4], 1) - 2.0e4) < mpf(10) ** -30
    # past the magnitude cap a loss below float64's range may lose its digits, but never becomes log(0)
    assert 0 <= mpr.sparse_softmax_ce([1.0e4, 0.0], 0) < mpf(10) ** -340
    assert abs(mpr.weighted_bce(7.0e4, 0.0) - 7.0e4) < mpf(10) ** -30 and mpr.weighted_bce(-7.0e4, 0.0) < mpf(10) ** -340
    # limits: a zero-weighted term is 0; a +inf logit takes all the probability; two have no limit
    assert mpr.weighted_bce(math.inf, 1.0, 2.5) == 0 and mpr.weighted_bce(-math.inf, 0.0) == 0
    assert mpr.weighted_bce(math.inf, 0.0) == mp.inf
    assert mpr.softmax_ce([math.inf, 0.5, 6.0], [1.0, 0.0, 0.0]) == 0
    assert mpr.sparse_softmax_ce([math.inf, 0.5, 6.0], 2) == mp.inf
    assert abs(mpr.softmax_ce([-math.inf, 0.5, 6.0], [0.0, 0.0, 1.0]) - mp.log(1 + mp.exp(-5.5))) < mpf(10) ** -38
    assert mp.isnan(mpr.softmax_ce([math.inf, math.inf, 0.0], [1.0, 0.0, 0.0]))


def test_mp_reference_probability_values():
    assert mpr.bce(0.5, 1.0) == mp.log(2) and mpr.bce(0.5, 0.3) == mp.log(2)
    assert mpr.bce(0.0, 0.0) == 0 and mpr.bce(1.0, 1.0) == 0 and mpr.bce(0.0, 1.0) == mp.inf
    # 1 - p is formed exactly: -log(1 - 1e-300) keeps its digits, and -log(1 - 1e-7) is not -log of a rounded 1 - p
    assert abs(mpr.bce(1.0e-300, 0.0) / mpf(1.0e-300) - 1) < mpf(10) ** -35
    one_minus = 1 - mpf(1.0 - 1.0e-7)
    assert abs(mpr.bce(1.0 - 1.0e-7, 0.0) + mp.log(one_minus)) < mpf(10) ** -35 and one_minus != mpf(1.0e-7)
    assert abs(mpr.cce([0.25] * 4, [0.25] * 4) - mp.log(4)) < mpf(10) ** -38 and mpr.cce([0.0, 1.0], [0.0, 1.0]) == 0
    assert mpr.nll([-1.5, -0.5], 1) == mpf(0.5) and mpr.nll([math.nan, -0.5], 1) == mpf(0.5)


def naive(case, dtype) -> np.ndarray:
    """Return the tutorial's hand-written formula for the case, evaluated in ``dtype`` and reduced."""
    x = case.inputs["logits"].astype(dtype)
    axis = case.params.get("axis", -1)
    with np.errstate(all="ignore"):
        if case.op == "sigmoid_cross_entropy":
            y = case.inputs["labels"].astype(dtype)
            p = dtype(1) / (dtype(1) + np.exp(-x))
            values = -y * np.log(p) - (dtype(1) - y) * np.log(dtype(1) - p)
        else:
            e = np.exp(x - np.max(x, axis=axis, keepdims=True))
            log_p = np.log(e / np.sum(e, axis=axis, keepdims=True))
            if case.op == "softmax_cross_entropy":
                values = -np.sum(case.inputs["labels"].astype(dtype) * log_p, axis=axis)
            else:
                picked = np.take_along_axis(np.moveaxis(log_p, axis, -1), case.inputs["labels"][..., None], axis=-1)
                values = -picked[..., 0]
        if case.params["reduction"] == "none":
            return values.astype(np.float64)
        total = np.sum(values.astype(np.float64))
        return total / values.size if case.params["reduction"] == "mean" else total


def deviation(naive_value: np.ndarray, expected: np.ndarray) -> float:
    """Return max |naive - expected| / max(1, |expected|), inf where either is not finite."""
    naive_value, expected = np.asarray(naive_value), np.asarray(expected)
    if not (np.all(np.isfinite(naive_value)) and np.all(np.isfinite(expected))):
        return math.inf
    return float(np.max(np.abs(naive_value - expected) / np.maximum(1.0, np.abs(expected))))


@pytest.mark.parametrize("case", CLAIM_CASES, ids=lambda c: c.key)
def test_tutorial_claim(case):
    dev64, dev32 = deviation(naive(case, np.float64), case.expected), deviation(naive(case, np.float32), case.expected)
    where = f"{case.key} ({', '.join(case.flags)}): naive formula deviates {dev64:.3g} in float64, {dev32:.3g} in float32"
    if "ClaimHolds" in case.flags:
        assert dev64 <= 1e-12, f"{where}; the claim should hold to 1e-12 in float64"
    if "ClaimBreaks" in case.flags:
        assert dev64 > 1e-3, f"{where}; the claim should break in float64"
    if "ClaimBreaksFloat32" in case.flags:
        assert dev64 <= 1e-12 and dev32 > 1e-3, f"{where}; the claim should hold in float64 but break in float32"


@pytest.mark.parametrize("op", ["sigmoid_cross_entropy", "softmax_cross_entropy", "sparse_softmax_cross_entropy"])
def test_every_claim_flag_is_exercised(op):
    flags = {flag for case in CLAIM_CASES if case.op == op for flag in case.flags}
    assert set(CLAIM_FLAGS) <= flags, f"{op}: claim flags present {sorted(flags & set(CLAIM_FLAGS))}"


_GRAD_CACHE: dict[str, dict[tuple, tuple]] = {}


def grad_indices(case) -> list[tuple]:
    """Return the gradient elements to check: all of a small case, else a seeded sample plus the extremes."""
    grad = case.expected_grad
    every = list(np.ndindex(grad.shape))
    if len(every) <= 2 * GRAD_SAMPLE:
        return every
    picked = {every[i] for i in np.random.default_rng(0).choice(len(every), GRAD_SAMPLE, replace=False)}
    finite = np.where(np.isfinite(grad), grad, 0.0)
    extremes = {tuple(int(k) for k in np.unravel_index(f(finite), grad.shape)) for f in (np.argmax, np.argmin)}
    return sorted(picked | extremes)


def mp_gradients(case) -> dict[tuple, tuple]:
    """Return {index: (mpmath derivative or its limit, allowed error)} for the checked elements."""
    if case.key not in _GRAD_CACHE:
        out = {}
        for index in grad_indices(case):
            if mpr.has_derivative(case.op, case.inputs, case.params, index):
                exact = mpr.gradient(case.op, case.inputs, case.params, index)
                cancelled, conditioned = mpr.gradient_slack(case.op, case.inputs, case.params, index)
            else:
                (exact, conditioned), cancelled = mpr.gradient_limit(case.op, case.inputs, case.params, index), 0
            out[index] = (exact, 4 * ulp(exact) + 4 * U * float(cancelled) + 2 * U * float(conditioned))
        _GRAD_CACHE[case.key] = out
    return _GRAD_CACHE[case.key]


def grad_mismatch(case, grad: np.ndarray) -> str | None:
    """Return how ``grad`` breaks the bound against the mpmath derivatives of ``case``, or None."""
    for index, (exact, allowed) in mp_gradients(case).items():
        stored = float(grad[index])
        special = _special_mismatch(stored, exact)
        if special:
            return f"index {list(index)}: {special} (a limit of the derivative at non-finite inputs)"
        if not math.isfinite(mpr.to_float(exact)):
            continue
        err = abs(mpf(stored) - exact)
        if not math.isfinite(stored) or err > allowed:
            return (f"index {list(index)}: stored {stored!r}, mpmath {mp.nstr(exact, 20)}, "
                    f"difference {mp.nstr(err, 3)} > allowed {allowed:.3g}")
    return None


@pytest.mark.parametrize("case", VALUE_CASES, ids=lambda c: c.key)
def test_expected_grad_agrees_with_the_mpmath_derivative(case):
    problem = grad_mismatch(case, case.expected_grad)
    assert problem is None, f"{case.file}:{case.line} {case.key} params={case.params}: expected_grad {problem}"


@pytest.mark.parametrize("key", ["mean_squared_error[random-4x5-mean]", "sigmoid_cross_entropy[random-soft-4x5]",
                                 "softmax_cross_entropy[random-soft-16x10]", "sparse_softmax_cross_entropy[many-64x64-sum]",
                                 "weighted_sigmoid_cross_entropy[random-4x5-per-class]",
                                 "binary_cross_entropy[random-soft-4x5-mean]",
                                 "binary_cross_entropy[near-one-probabilities]",
                                 "categorical_cross_entropy[near-zero-probabilities]", "nll_loss[axis1-random-2x4x3]"])
def test_the_gradient_check_rejects_values_just_outside_the_bound(key):
    case = next(c for c in VALUE_CASES if c.key == key)
    assert grad_mismatch(case, case.expected_grad) is None
    allowed = np.zeros(case.expected_grad.shape)
    for index, (_, bound) in mp_gradients(case).items():
        allowed[index] = bound
    for sign in (1, -1):
        moved = case.expected_grad + sign * 2.5 * allowed
        assert grad_mismatch(case, moved) is not None, f"{key}: a gradient moved by {sign} * 2.5 bounds passed"


def test_the_gradient_sample_covers_small_cases_whole_and_large_ones_in_part():
    small = next(c for c in VALUE_CASES if c.key == "sigmoid_cross_entropy[tutorial-5x3]")
    large = next(c for c in VALUE_CASES if c.key == "sigmoid_cross_entropy[many-64x64-sum]")
    assert len(grad_indices(small)) == 15
    assert GRAD_SAMPLE <= len(grad_indices(large)) <= GRAD_SAMPLE + 2 and grad_indices(large) == grad_indices(large)


def cancelling_form(case, dtype) -> np.ndarray:
    """Return (1 - z) x - log_sigmoid(x) (log_sigmoid itself stable), unreduced, in ``dtype``."""
    x, z = case.inputs["logits"].astype(dtype), case.inputs["labels"].astype(dtype)
    with np.errstate(all="ignore"):
        return (dtype(1) - z) * x + (np.maximum(-x, dtype(0)) + np.log1p(np.exp(-np.abs(x))))


def plain_logsumexp(case, dtype) -> np.ndarray:
    """Return max + log(sum(exp(x - max))) minus the label's logit, unreduced, for classes on the last axis."""
    x = case.inputs["logits"].astype(dtype)
    top = np.max(x, axis=-1, keepdims=True)
    lse = top + np.log(np.sum(np.exp(x - top), axis=-1, keepdims=True))
    labels = case.inputs["labels"]
    if labels.ndim == x.ndim:
        return np.sum(labels.astype(dtype) * (lse - x), axis=-1)
    return (lse - np.take_along_axis(x, labels[..., None], axis=-1))[..., 0]


def worst_relative(got: np.ndarray, want: np.ndarray) -> float:
    """Return max |got - want| / |want| over the non-zero wanted values; inf if ``got`` is not all finite."""
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    if not np.all(np.isfinite(got)):
        return math.inf
    keep = want != 0
    return float(np.max(np.abs(got[keep] - want[keep]) / np.abs(want[keep])))


@pytest.mark.parametrize("case", [c for c in VALUE_CASES if {"CancellingForm", "NearZeroLoss"} & set(c.flags)],
                         ids=lambda c: c.key)
def test_precision_probes_defeat_the_formulas_they_target(case):
    if "CancellingForm" in case.flags:
        assert worst_relative(cancelling_form(case, np.float64), case.expected) > 1e-3, case.key
        assert worst_relative(cancelling_form(case, np.float32), case.expected) > 1e-3, case.key
    elif case.op.endswith("softmax_cross_entropy"):
        assert worst_relative(plain_logsumexp(case, np.float64), case.expected) > 1e-3, case.key
    elif case.op == "binary_cross_entropy":
        assert worst_relative(log_of_one_minus(case, np.float64), case.expected) > 1e-3, case.key
    else:
        assert worst_relative(naive_weighted(case, np.float64), case.expected) > 1e-3, case.key


def log_of_one_minus(case, dtype) -> np.ndarray:
    """Return -(z log p + (1 - z) log(1 - p)) with 1 - p rounded before the log (not log1p), unreduced, in ``dtype``."""
    p, z = case.inputs["probabilities"].astype(dtype), case.inputs["labels"].astype(dtype)
    with np.errstate(all="ignore"):
        return -(np.where(z == 0, dtype(0), z * np.log(p)) + np.where(z == 1, dtype(0), (1 - z) * np.log(1 - p)))


def naive_weighted(case, dtype) -> np.ndarray:
    """Return -q z log(sigmoid(x)) - (1 - z) log(1 - sigmoid(x)) as written, unreduced, in ``dtype``."""
    x, z = case.inputs["logits"].astype(dtype), case.inputs["labels"].astype(dtype)
    q = np.asarray(case.params.get("pos_weight", 1.0), dtype)
    with np.errstate(all="ignore"):
        p = dtype(1) / (dtype(1) + np.exp(-x))
        return -q * z * np.log(p) - (dtype(1) - z) * np.log(dtype(1) - p)


def test_labels_not_summing_to_one_make_softmax_minus_labels_the_wrong_gradient():
    cases = [c for c in VALUE_CASES if "LabelsNotNormalized" in c.flags]
    assert cases
    for case in cases:
        x, z = case.inputs["logits"], case.inputs["labels"]
        softmax = np.exp(x - x.max(axis=-1, keepdims=True))
        softmax /= softmax.sum(axis=-1, keepdims=True)
        assert np.max(np.abs((softmax - z) - case.expected_grad)) > 0.1, case.key
