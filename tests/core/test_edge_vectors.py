"""The edge-behaviour vectors: every edge flag is present with the outcome mathematics gives, and says what it should.

Each vector file ends with one group, "Edge behaviour", of inputs where frameworks may differ: labels out of range
(raises), labels or probabilities outside [0, 1] (implementation-defined), NaN and infinite logits, probabilities of
0 and 1, NaN and infinite log-probabilities, an empty batch and all-zero weights (values, possibly NaN or inf; one
categorical NaN case is implementation-defined). The values are checked against the mathematics stated in the flags'
notes, computed independently of conformance.reference (plain ``math``, tests/core/plain_limits.py: the limits at
infinite logits and at probabilities 0 and 1 included), and against the reference itself; gradients against the
limits of the derivatives; and every kind of infinite logit and boundary probability is required to be stored.
"""

from __future__ import annotations

import math

import numpy as np
import plain_limits as plain
import pytest
from test_vectors_mpmath import grad_mismatch, mp_mismatch
from vector_corpus import CORPUS, FILES, raw

from conformance import gradients, reference
from conformance.generate import generate_inputs
from conformance.ops import OPS

EDGE_GROUP = "Edge behaviour"
REDUCTIONS = {"none", "sum", "mean"}
REQUIRED = {
    "mean_squared_error": {"NonFinite", "EmptyBatch"},
    "sigmoid_cross_entropy": {"LabelOutsideUnitInterval", "NonFiniteLogits", "EmptyBatch"},
    "weighted_sigmoid_cross_entropy": {"LabelOutsideUnitInterval", "NonFiniteLogits", "EmptyBatch", "AllZeroWeights"},
    "softmax_cross_entropy": {"NonFiniteLogits", "EmptyBatch", "AllZeroWeights"},
    "sparse_softmax_cross_entropy": {"LabelOutOfRange", "NonFiniteLogits", "EmptyBatch"},
    "binary_cross_entropy": {"ProbabilityAtBoundary", "NonFiniteProbabilities", "ProbabilityOutsideUnitInterval",
                             "EmptyBatch"},
    "categorical_cross_entropy": {"ProbabilityAtBoundary", "NonFiniteProbabilities", "AllZeroWeights", "EmptyBatch"},
    "nll_loss": {"LabelOutOfRange", "NonFiniteLogProbabilities", "EmptyBatch"},
}
OUTCOME = {"LabelOutOfRange": "raises", "LabelOutsideUnitInterval": "implementation-defined",
           "ProbabilityOutsideUnitInterval": "implementation-defined", "NonFinite": "value", "NonFiniteLogits": "value",
           "NonFiniteLogProbabilities": "value", "ProbabilityAtBoundary": "value", "NonFiniteProbabilities": "value",
           "EmptyBatch": "value", "AllZeroWeights": "value"}  # NonFiniteProbabilities: see intended_outcome
SOFTMAX_OPS = ("softmax_cross_entropy", "sparse_softmax_cross_entropy")
SIGMOID_OPS = ("sigmoid_cross_entropy", "weighted_sigmoid_cross_entropy")
BY_KEY = {(case.op, case.id): case for case in CORPUS.cases}


def _edge_cases() -> list:
    found = []
    for path in FILES:
        doc = raw(path)
        for group in doc["groups"]:
            if group.get("description", "").startswith(EDGE_GROUP):
                found += [BY_KEY[(doc["op"], item["id"])] for item in group["cases"]]
    return found


EDGE = _edge_cases()
STORED = [case for case in EDGE if case.source["inputs"] != "generated"]
VALUES = [case for case in STORED if case.outcome == "value"]
EMPTY = [case for case in EDGE if "EmptyBatch" in case.flags]


def flagged(flag: str, outcome: str | None = None, op: str | None = None) -> list:
    """Return the edge cases carrying ``flag`` (and ``outcome`` and ``op``, if given)."""
    return [case for case in EDGE if flag in case.flags and outcome in (None, case.outcome) and op in (None, case.op)]


def intended_outcome(case, flag: str) -> str:
    """Return the outcome mathematics gives a case for one of its flags: a categorical NaN only on classes whose
    label is 0 is implementation-defined (the loss does not read it; xlogy-style evaluations give NaN)."""
    if flag == "NonFiniteProbabilities" and case.op == "categorical_cross_entropy":
        p, z = plain.samples(case)
        nan = np.isnan(p)
        if nan.any() and not (nan & (z != 0)).any():
            return "implementation-defined"
    return OUTCOME[flag]


def same(got, want, rel: float = 1e-15) -> bool:
    """Return whether arrays agree: NaN with NaN, an infinity with itself, finite numbers to ``rel``."""
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    if got.shape != want.shape:
        return False
    special = ~np.isfinite(want) | ~np.isfinite(got)
    if not np.array_equal(got[special], want[special], equal_nan=True):
        return False
    return bool(np.all(np.abs(got[~special] - want[~special]) <= rel * np.abs(want[~special]) + 1e-300))


def mean_scale(case) -> float:
    """Return what the gradient of a mean is scaled by: 1 over the element or sample count (1 otherwise)."""
    if case.params["reduction"] != "mean":
        return 1.0
    first = next(iter(case.inputs.values()))
    return 1 / (first.size if OPS[case.op].elementwise else first.size // first.shape[case.params["axis"]])


@pytest.mark.parametrize("op", sorted(REQUIRED))
def test_each_file_has_one_edge_group_with_its_flags_under_every_reduction(op):
    path = next(p for p in FILES if p.stem == op)
    groups = [g for g in raw(path)["groups"] if g.get("description", "").startswith(EDGE_GROUP)]
    assert len(groups) == 1, f"{path.name}: {len(groups)} groups start with {EDGE_GROUP!r}"
    for flag in REQUIRED[op]:
        reductions = {case.params["reduction"] for case in EDGE if case.op == op and flag in case.flags}
        assert reductions == REDUCTIONS, f"{op}: {flag} covers reductions {sorted(reductions)}"


def test_every_op_has_its_edge_requirements():
    assert set(REQUIRED) == set(OPS), f"edge requirements for {sorted(REQUIRED)}, ops {sorted(OPS)}"


@pytest.mark.parametrize("case", EDGE, ids=lambda c: c.key)
def test_every_edge_case_has_the_outcome_mathematics_gives(case):
    flags = set(case.flags) & set(OUTCOME)
    assert flags, f"{case.key}: an edge case carries an edge flag; it has {case.flags}"
    for flag in flags:
        want = intended_outcome(case, flag)
        assert case.outcome == want, f"{case.key}: flag {flag} means outcome {want}, the case says {case.outcome}"


def test_edge_flags_mean_the_same_in_every_file():
    meanings: dict[str, set[str]] = {}
    for path in FILES:
        for flag, text in raw(path)["notes"].items():
            meanings.setdefault(flag, set()).add(text)
    for flag in {f for flags in REQUIRED.values() for f in flags} - {"NonFinite"}:
        assert len(meanings[flag]) == 1, f"flag {flag} is defined differently across files: {meanings[flag]}"


def _first_inputs(flag: str, op: str) -> np.ndarray:
    return np.concatenate([next(iter(c.inputs.values())).ravel() for c in flagged(flag, op=op)])


def test_non_finite_inputs_cover_nan_and_the_infinities_of_each_op():
    for op in (*SIGMOID_OPS, *SOFTMAX_OPS):
        logits = _first_inputs("NonFiniteLogits", op)
        assert np.isnan(logits).any() and (logits == np.inf).any() and (logits == -np.inf).any(), f"{op}: {logits}"
    for op in ("binary_cross_entropy", "categorical_cross_entropy"):
        assert np.isnan(_first_inputs("NonFiniteProbabilities", op)).any(), op
        boundary = set(_first_inputs("ProbabilityAtBoundary", op).tolist())
        assert {0.0, 1.0} <= boundary, f"{op}: boundary probabilities {sorted(boundary)}"
    log_p = _first_inputs("NonFiniteLogProbabilities", "nll_loss")
    assert np.isnan(log_p).any() and (log_p == -np.inf).any(), f"nll_loss: {log_p}"
    mse = [c for c in flagged("NonFinite") if np.isnan(c.inputs["predictions"]).any()]
    assert {c.params["reduction"] for c in mse} == REDUCTIONS, "NaN predictions of MSE under every reduction"


def _situations(case) -> set[str]:
    """Return which infinite-logit or boundary-probability situations a stored value case holds."""
    first, labels = case.inputs.values()
    if case.op in SIGMOID_OPS or case.op == "binary_cross_entropy":
        edge = np.isinf(first) | (first == 0) | (first == 1)
        return {f"{x} with label {z}" for x, z in zip(first[edge].tolist(), labels[edge].tolist())}
    x, z = plain.samples(case)
    found = set()
    for value in (np.inf, -np.inf, 0.0, 1.0):
        at = x == value
        found |= {f"{value} on a label" for _ in range(int((at & (z != 0)).sum() > 0))}
        found |= {f"{value} off the label" for _ in range(int((at & (z == 0)).sum() > 0))}
    return found


LIMITS = {
    "sigmoid_cross_entropy": {"inf with label 0.0", "inf with label 1.0", "-inf with label 0.0", "-inf with label 1.0"},
    "softmax_cross_entropy": {"inf on a label", "inf off the label", "-inf on a label", "-inf off the label"},
    "binary_cross_entropy": {"0.0 with label 0.0", "0.0 with label 1.0", "1.0 with label 0.0", "1.0 with label 1.0"},
    "categorical_cross_entropy": {"0.0 on a label", "0.0 off the label", "1.0 on a label"},
    "nll_loss": {"-inf on a label", "-inf off the label"},
}
LIMITS["weighted_sigmoid_cross_entropy"] = LIMITS["sigmoid_cross_entropy"]
LIMITS["sparse_softmax_cross_entropy"] = LIMITS["softmax_cross_entropy"]


@pytest.mark.parametrize("op", sorted(LIMITS))
def test_every_limit_at_an_infinity_or_a_boundary_probability_is_stored_as_a_value(op):
    held = set().union(*(_situations(c) for c in VALUES if c.op == op))
    assert LIMITS[op] <= held, f"{op}: missing {sorted(LIMITS[op] - held)}; stored {sorted(held)}"


def test_out_of_range_labels_are_minus_one_and_the_class_count_under_every_reduction():
    for op in ("sparse_softmax_cross_entropy", "nll_loss"):
        for label in (-1, 3):
            cases = [c for c in flagged("LabelOutOfRange", op=op) if label in c.inputs["labels"]]
            assert {c.params["reduction"] for c in cases} == REDUCTIONS, f"{op} label {label}: {[c.key for c in cases]}"
            assert all(next(iter(c.inputs.values())).shape[c.params["axis"]] == 3 for c in cases)


@pytest.mark.parametrize("case", [c for c in EDGE if c.outcome == "raises"], ids=lambda c: c.key)
def test_raises_cases_make_the_reference_raise(case):
    with pytest.raises(ValueError, match="labels must lie in"):
        reference.compute(case.op, case.inputs, case.params)


@pytest.mark.parametrize("case", VALUES, ids=lambda c: c.key)
def test_value_cases_store_what_mathematics_and_the_reference_give(case):
    with np.errstate(all="ignore"):
        want = plain.reduce(plain.unreduced(case), case.params["reduction"])
        got = reference.compute(case.op, case.inputs, case.params)
    assert same(case.expected, want, rel=1e-14), f"{case.key}: stored {case.expected}, mathematics gives {want}"
    assert np.array_equal(case.expected, got, equal_nan=True), f"{case.key}: stored {case.expected}, reference {got}"


@pytest.mark.parametrize("case", [c for c in VALUES if c.op in SIGMOID_OPS and "NonFiniteLogits" in c.flags],
                         ids=lambda c: c.key)
def test_sigmoid_gradient_at_infinite_logits_is_the_limit_of_the_derivative(case):
    x, z = case.inputs["logits"], case.inputs["labels"]
    q = np.asarray(case.params.get("pos_weight", 1.0), float)
    limit = np.where(x == np.inf, 1 - z, np.where(x == -np.inf, -q * z, np.nan)) * mean_scale(case)  # sigmoid(+-inf)
    infinite = np.isinf(x)
    assert infinite.any() or np.isnan(x).any(), case.key
    assert np.array_equal(case.expected_grad[infinite], limit[infinite]), f"{case.key}: {case.expected_grad}"
    assert np.isnan(case.expected_grad[np.isnan(x)]).all(), f"{case.key}: a NaN logit has a NaN gradient"


@pytest.mark.parametrize("case", [c for c in VALUES if c.op in SOFTMAX_OPS and "NonFiniteLogits" in c.flags
                                  and np.isinf(c.inputs["logits"]).any()], ids=lambda c: c.key)
def test_softmax_gradient_at_an_infinite_logit_is_the_limit_of_the_derivative(case):
    x, z = plain.samples(case)
    grad = np.moveaxis(case.expected_grad, case.params["axis"], -1)
    for row in zip(*np.nonzero(np.isinf(x).any(axis=-1))):
        p = np.exp(plain.softmax_log_probabilities(x[row].tolist()))  # one-hot at a +inf logit, 0 at -inf ones
        want = (z[row].sum() * p - z[row]) * mean_scale(case)
        # p - 1 of the top class cancels in this plain evaluation: an absolute 4 u, as the terms are at most 1
        assert np.allclose(grad[row], want, rtol=1e-14, atol=4 * 2.0**-53), f"{case.key} {row}: {grad[row]} vs {want}"


@pytest.mark.parametrize("case", [c for c in VALUES if "ProbabilityAtBoundary" in c.flags], ids=lambda c: c.key)
def test_gradient_at_probabilities_0_and_1_is_the_one_sided_derivative(case):
    p, z = case.inputs["probabilities"], case.inputs["labels"]
    if case.op == "binary_cross_entropy":
        want = np.vectorize(plain.binary_gradient, otypes=[float])(p, z)
    else:
        want = -np.vectorize(plain.ratio, otypes=[float])(z, p)
    assert same(case.expected_grad, want * mean_scale(case)), f"{case.key}: {case.expected_grad} vs {want}"
    assert ((p == 0) | (p == 1)).any(), f"{case.key}: holds a probability of 0 or 1"


@pytest.mark.parametrize("case", [c for c in VALUES if c.op == "nll_loss"], ids=lambda c: c.key)
def test_nll_gradient_is_minus_the_label_one_hot_whatever_the_values(case):
    _, onehot = plain.samples(case)
    want = np.moveaxis(-onehot, -1, case.params["axis"]) * mean_scale(case)
    assert np.array_equal(case.expected_grad, want), f"{case.key}: {case.expected_grad}"


@pytest.mark.parametrize("case", flagged("AllZeroWeights"), ids=lambda c: c.key)
def test_all_zero_weights_give_zero_loss_and_gradient(case):
    assert np.all(case.expected == 0) and np.all(case.expected_grad == 0), f"{case.key}: {case.expected}"


@pytest.mark.parametrize("case", EMPTY, ids=lambda c: c.key)
def test_empty_batch_draws_shape_0x3_and_the_reference_gives_empty_zero_or_nan(case):
    assert case.source["generator"]["shape"] == [0, 3] and case.source["expected"] == "reference-float64-at-run-time"
    inputs = case.materialized().inputs
    drawn = generate_inputs(case.op, case.generator, case.params)
    assert all(np.array_equal(inputs[k], drawn[k]) and inputs[k].shape == drawn[k].shape for k in drawn)
    first = next(iter(inputs.values()))
    assert first.shape == (0, 3), f"{case.key}: drew {first.shape}"
    with np.errstate(all="ignore"):
        value = reference.compute(case.op, inputs, case.params)
        grad = gradients.compute(case.op, inputs, case.params)
    reduction = case.params["reduction"]
    if reduction == "none":
        assert value.shape == ((0, 3) if OPS[case.op].elementwise else (0,)), f"{case.key}: {value.shape}"
    else:
        assert value.shape == () and (value == 0 if reduction == "sum" else np.isnan(value)), f"{case.key}: {value}"
    assert grad.shape == (0, 3), f"{case.key}: gradient of shape {grad.shape}"


@pytest.mark.parametrize("case", flagged("LabelOutsideUnitInterval") + flagged("ProbabilityOutsideUnitInterval"),
                         ids=lambda c: c.key)
def test_inputs_outside_the_unit_interval_still_evaluate_to_a_negative_loss(case):
    with np.errstate(all="ignore"):
        got = reference.compute(case.op, case.inputs, {**case.params, "reduction": "none"})
    outside = next(v for k, v in case.inputs.items() if k in ("labels", "probabilities"))
    assert ((outside < 0) | (outside > 1)).all() and (outside < 0).any() and (outside > 1).any(), case.key
    assert same(got, plain.unreduced(case), rel=1e-14) and (got < 0).any(), f"{case.key}: {got}"
    quoted = "formula gives [[" in case.comment or (OPS[case.op].inputs[0].name == "probabilities"
                                                    and "formula gives nan" in case.comment)  # a reduced NaN
    assert quoted, f"{case.key}: the comment quotes what the formula gives"


@pytest.mark.parametrize("case", [c for c in EDGE if c.outcome == "implementation-defined"
                                  and "NonFiniteProbabilities" in c.flags], ids=lambda c: c.key)
def test_a_nan_off_every_label_leaves_the_reference_finite_but_a_propagating_evaluation_nan(case):
    p, z = case.inputs["probabilities"], case.inputs["labels"]
    with np.errstate(all="ignore"):
        got = reference.compute(case.op, case.inputs, {**case.params, "reduction": "none"})
        propagating = -np.sum(z * np.log(p), axis=case.params["axis"])  # 0 * log(NaN) is NaN, as in xlogy
    assert np.isfinite(got).all() and np.isnan(propagating).any(), f"{case.key}: {got}, {propagating}"
    assert same(got, plain.unreduced(case), rel=1e-14), f"{case.key}: {got}"


def test_the_mpmath_check_holds_non_finite_cases_to_their_limits():
    for key in [("weighted_sigmoid_cross_entropy", "inf-logits-against-labels"),
                ("sigmoid_cross_entropy", "inf-logits-with-labels"),
                ("softmax_cross_entropy", "pos-inf-logit-on-label"),
                ("binary_cross_entropy", "probabilities-0-and-1-matching-labels"), ("nll_loss", "neg-inf-on-label")]:
        case = BY_KEY[key]
        assert mp_mismatch(case, case.expected) is None and grad_mismatch(case, case.expected_grad) is None, key
        assert mp_mismatch(case, np.full_like(case.expected, np.nan)) is not None, key
        assert grad_mismatch(case, np.full_like(case.expected_grad, np.nan)) is not None, key
    case = BY_KEY[("weighted_sigmoid_cross_entropy", "inf-logits-against-labels")]
    assert grad_mismatch(case, case.expected_grad * (1 + 1e-12)) is not None
    for key, index in [(("softmax_cross_entropy", "neg-inf-logit-on-label"), (0, 1)),
                       (("sparse_softmax_cross_entropy", "pos-inf-logit-off-label"), (0, 0)),
                       (("binary_cross_entropy", "probabilities-0-and-1"), (0, 0))]:
        case = BY_KEY[key]
        assert grad_mismatch(case, case.expected_grad) is None, key
        moved = case.expected_grad.copy()
        moved[index] *= 1 + 1e-12  # a finite gradient beside the non-finite input
        assert grad_mismatch(case, moved) is not None, key


def test_the_plain_limits_agree_with_textbook_values():
    assert plain.sigmoid_loss(math.inf, 1.0, 2.5) == 0 and plain.sigmoid_loss(-math.inf, 0.0, 1.0) == 0
    assert plain.sigmoid_loss(math.inf, 0.0, 1.0) == math.inf
    assert plain.softmax_loss([math.inf, 0.5, 6.0], [1.0, 0.0, 0.0]) == 0
    assert plain.softmax_loss([math.inf, 0.5, 6.0], [0.0, 0.0, 1.0]) == math.inf
    assert plain.softmax_loss([-math.inf, 0.0], [0.0, 1.0]) == 0
    assert plain.softmax_loss([1.5] * 4, [0.25] * 4) == math.log(4)
    with pytest.raises(ValueError, match="no limit"):
        plain.softmax_loss([math.inf, math.inf, 0.0], [1.0, 0.0, 0.0])
    assert plain.binary_loss(0.0, 0.0) == 0 and plain.binary_loss(1.0, 1.0) == 0
    assert plain.binary_loss(0.5, 0.3) == math.log(2)
    assert plain.binary_loss(0.0, 1.0) == math.inf and plain.binary_loss(1.0, 0.5) == math.inf
    assert plain.binary_loss(1e-300, 0.0) == 1e-300 and math.isnan(plain.binary_loss(-0.25, 1.0))
    assert plain.binary_gradient(0.0, 0.0) == 1 and plain.binary_gradient(1.0, 1.0) == -1
    assert plain.binary_gradient(0.0, 1.0) == -math.inf and plain.binary_gradient(1.0, 0.0) == math.inf
    assert plain.categorical_loss([0.0, 0.3, 0.7], [0.0, 0.0, 1.0]) == -math.log(0.7)
    assert plain.nll([math.nan, -2.0], [0.0, 1.0]) == 2.0 and plain.reduce(np.array([1.0, math.nan]), "sum") != 1.0
