"""The edge-behaviour vectors: every edge flag is present with the outcome mathematics gives, and says what it should.

Each vector file ends with one group, "Edge behaviour", of inputs where frameworks may differ: labels out of range
(raises), labels outside [0, 1] (implementation-defined), NaN and infinite logits or predictions, an empty batch and
all-zero weights (values, possibly NaN or inf). The values here are checked against the mathematics stated in the
flags' notes, computed independently of conformance.reference (plain ``math``), and against the reference itself; the
limits the reference does not yet produce are strict xfails, so fixing it turns them into failures that ask for the
cases to be added.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from test_vectors_mpmath import grad_mismatch, mp_mismatch
from vector_corpus import CORPUS, FILES, raw

from conformance import gradients, reference
from conformance.generate import generate_inputs

EDGE_GROUP = "Edge behaviour"
REDUCTIONS = {"none", "sum", "mean"}
REQUIRED = {
    "mean_squared_error": {"NonFinite", "EmptyBatch"},
    "sigmoid_cross_entropy": {"LabelOutsideUnitInterval", "NonFiniteLogits", "EmptyBatch"},
    "weighted_sigmoid_cross_entropy": {"LabelOutsideUnitInterval", "NonFiniteLogits", "EmptyBatch", "AllZeroWeights"},
    "softmax_cross_entropy": {"NonFiniteLogits", "EmptyBatch", "AllZeroWeights"},
    "sparse_softmax_cross_entropy": {"LabelOutOfRange", "NonFiniteLogits", "EmptyBatch"},
}
OUTCOME = {"LabelOutOfRange": "raises", "LabelOutsideUnitInterval": "implementation-defined", "NonFinite": "value",
           "EmptyBatch": "value", "AllZeroWeights": "value"}  # NonFiniteLogits: see intended_outcome
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


def flagged(flag: str, outcome: str | None = None) -> list:
    """Return the edge cases carrying ``flag`` (and ``outcome``, if given)."""
    return [case for case in EDGE if flag in case.flags and outcome in (None, case.outcome)]


def samples(case) -> tuple[np.ndarray, np.ndarray]:
    """Return (logits with the class axis last, labels as one-hot or dense rows) of a stored softmax case."""
    axis = case.params["axis"]
    x = np.moveaxis(case.inputs["logits"], axis, -1)
    if case.op == "sparse_softmax_cross_entropy":
        return x, np.eye(x.shape[-1])[case.inputs["labels"]]
    return x, np.moveaxis(case.inputs["labels"], axis, -1)


def intended_outcome(case) -> str:
    """Return the outcome mathematics gives a NonFiniteLogits case: implementation-defined where a softmax sample has
    +inf on a labelled class (the limit 0 is reached only through inf - inf), else value."""
    if case.op in SOFTMAX_OPS:
        x, z = samples(case)
        if np.any((x == np.inf) & (z != 0)):
            return "implementation-defined"
    return "value"


def unreduced_expected(case) -> np.ndarray:
    """Return what mathematics gives each element (sigmoid ops, MSE) or sample (softmax ops), from plain math."""
    if case.op == "mean_squared_error":
        return (case.inputs["predictions"] - case.inputs["targets"]) ** 2
    if case.op in SIGMOID_OPS:
        q = np.broadcast_to(np.asarray(case.params.get("pos_weight", 1.0), float), case.inputs["logits"].shape)
        return np.vectorize(sigmoid_loss)(case.inputs["logits"], case.inputs["labels"], q)
    x, z = samples(case)
    rows = zip(x.reshape(-1, x.shape[-1]), z.reshape(-1, z.shape[-1]))
    return np.array([softmax_loss(list(xs), list(zs)) for xs, zs in rows]).reshape(x.shape[:-1])


def softplus(x: float) -> float:
    """Return log(1 + e^x), its limits at the infinities included."""
    if math.isnan(x):
        return math.nan
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


def sigmoid_loss(x: float, z: float, q: float) -> float:
    """Return q z softplus(-x) + (1 - z) softplus(x), a term with a zero factor being 0 (the limit) even at inf."""
    terms = [(q * z, softplus(-x)), (1 - z, softplus(x))]
    return math.fsum(0.0 if weight == 0 else weight * value for weight, value in terms)


def softmax_loss(xs: list[float], zs: list[float]) -> float:
    """Return -sum z_j log softmax(x)_j over the classes; -inf classes (probability 0) count only if labelled."""
    if any(math.isnan(x) for x in xs):
        return math.nan
    if any(x == math.inf for x in xs):
        raise ValueError("a +inf logit: no stored value case should hold one")
    live = [x for x in xs if x != -math.inf]
    top = live.index(max(live))
    rest = math.log1p(math.fsum(math.exp(x - live[top]) for j, x in enumerate(live) if j != top))  # lse - max
    return math.fsum(z * (math.inf if x == -math.inf else live[top] - x + rest) for x, z in zip(xs, zs) if z != 0)


def reduce(values: np.ndarray, reduction: str):
    """Return the values summed or averaged (NaN for the mean of nothing), or unchanged."""
    if reduction == "none":
        return values
    total = math.fsum(values.ravel()) if values.size else 0.0
    return total if reduction == "sum" else (total / values.size if values.size else math.nan)


def same(got, want, rel: float = 1e-15) -> bool:
    """Return whether arrays agree: NaN with NaN, an infinity with itself, finite numbers to ``rel``."""
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    if got.shape != want.shape:
        return False
    special = ~np.isfinite(want) | ~np.isfinite(got)
    if not np.array_equal(got[special], want[special], equal_nan=True):
        return False
    return bool(np.all(np.abs(got[~special] - want[~special]) <= rel * np.abs(want[~special]) + 1e-300))


@pytest.mark.parametrize("op", sorted(REQUIRED))
def test_each_file_has_one_edge_group_with_its_flags_under_every_reduction(op):
    path = next(p for p in FILES if p.stem == op)
    groups = [g for g in raw(path)["groups"] if g.get("description", "").startswith(EDGE_GROUP)]
    assert len(groups) == 1, f"{path.name}: {len(groups)} groups start with {EDGE_GROUP!r}"
    for flag in REQUIRED[op]:
        reductions = {case.params["reduction"] for case in EDGE if case.op == op and flag in case.flags}
        assert reductions == REDUCTIONS, f"{op}: {flag} covers reductions {sorted(reductions)}"


@pytest.mark.parametrize("case", EDGE, ids=lambda c: c.key)
def test_every_edge_case_has_the_outcome_mathematics_gives(case):
    flags = set(case.flags) & (set(OUTCOME) | {"NonFiniteLogits"})
    assert flags, f"{case.key}: an edge case carries an edge flag; it has {case.flags}"
    for flag in flags:
        want = intended_outcome(case) if flag == "NonFiniteLogits" else OUTCOME[flag]
        assert case.outcome == want, f"{case.key}: flag {flag} means outcome {want}, the case says {case.outcome}"


def test_edge_flags_mean_the_same_in_every_file():
    meanings: dict[str, set[str]] = {}
    for path in FILES:
        for flag, text in raw(path)["notes"].items():
            meanings.setdefault(flag, set()).add(text)
    for flag in {f for flags in REQUIRED.values() for f in flags} - {"NonFinite"}:
        assert len(meanings[flag]) == 1, f"flag {flag} is defined differently across files: {meanings[flag]}"


def test_non_finite_logits_cover_nan_and_both_infinities_in_every_cross_entropy_op():
    for op in (*SIGMOID_OPS, *SOFTMAX_OPS):
        logits = np.concatenate([c.inputs["logits"].ravel() for c in flagged("NonFiniteLogits") if c.op == op])
        assert np.isnan(logits).any() and (logits == np.inf).any() and (logits == -np.inf).any(), f"{op}: {logits}"
    mse = [c for c in flagged("NonFinite") if np.isnan(c.inputs["predictions"]).any()]
    assert {c.params["reduction"] for c in mse} == REDUCTIONS, "NaN predictions of MSE under every reduction"


def test_out_of_range_labels_are_minus_one_and_the_class_count_under_every_reduction():
    for label in (-1, 3):
        cases = [c for c in flagged("LabelOutOfRange") if label in c.inputs["labels"]]
        assert {c.params["reduction"] for c in cases} == REDUCTIONS, f"label {label}: {[c.key for c in cases]}"
        assert all(c.inputs["logits"].shape[c.params["axis"]] == 3 for c in cases)


@pytest.mark.parametrize("case", [c for c in EDGE if c.outcome == "raises"], ids=lambda c: c.key)
def test_raises_cases_make_the_reference_raise(case):
    with pytest.raises(ValueError, match="labels must lie in"):
        reference.compute(case.op, case.inputs, case.params)


@pytest.mark.parametrize("case", VALUES, ids=lambda c: c.key)
def test_value_cases_store_what_mathematics_and_the_reference_give(case):
    with np.errstate(all="ignore"):
        want = reduce(unreduced_expected(case), case.params["reduction"])
        got = reference.compute(case.op, case.inputs, case.params)
    assert same(case.expected, want, rel=1e-14), f"{case.key}: stored {case.expected}, mathematics gives {want}"
    assert np.array_equal(case.expected, got, equal_nan=True), f"{case.key}: stored {case.expected}, reference {got}"


@pytest.mark.parametrize("case", [c for c in VALUES if c.op in SIGMOID_OPS and "NonFiniteLogits" in c.flags],
                         ids=lambda c: c.key)
def test_sigmoid_gradient_at_infinite_logits_is_the_limit_of_the_derivative(case):
    x, z = case.inputs["logits"], case.inputs["labels"]
    q = np.asarray(case.params.get("pos_weight", 1.0), float)
    scale = 1 / x.size if case.params["reduction"] == "mean" else 1.0
    limit = np.where(x == np.inf, 1 - z, np.where(x == -np.inf, -q * z, np.nan)) * scale  # sigmoid(+-inf) = 1, 0
    infinite = np.isinf(x)
    assert infinite.any() or np.isnan(x).any(), case.key
    assert np.array_equal(case.expected_grad[infinite], limit[infinite]), f"{case.key}: {case.expected_grad}"
    assert np.isnan(case.expected_grad[np.isnan(x)]).all(), f"{case.key}: a NaN logit has a NaN gradient"


@pytest.mark.parametrize("case", [c for c in VALUES if c.op in SOFTMAX_OPS and "NonFiniteLogits" in c.flags
                                  and np.isneginf(c.inputs["logits"]).any()], ids=lambda c: c.key)
def test_softmax_gradient_at_a_minus_inf_logit_is_the_limit_of_the_derivative(case):
    x, z = samples(case)
    scale = 1 / x[..., 0].size if case.params["reduction"] == "mean" else 1.0
    grad = np.moveaxis(case.expected_grad, case.params["axis"], -1)
    for row in zip(*np.nonzero(np.isneginf(x).any(axis=-1))):
        live = np.isfinite(x[row])
        p = np.zeros(x.shape[-1])
        p[live] = np.exp(x[row][live] - x[row][live].max())
        p /= p.sum()
        want = (z[row].sum() * p - z[row]) * scale
        # p - 1 of the top class cancels in this plain evaluation: an absolute 4 u, as the terms are at most 1
        assert np.allclose(grad[row], want, rtol=1e-14, atol=4 * 2.0**-53), f"{case.key} {row}: {grad[row]} vs {want}"


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
        assert value.shape == ((0,) if case.op in SOFTMAX_OPS else (0, 3)), f"{case.key}: {value.shape}"
    else:
        assert value.shape == () and (value == 0 if reduction == "sum" else np.isnan(value)), f"{case.key}: {value}"
    assert grad.shape == (0, 3), f"{case.key}: gradient of shape {grad.shape}"


@pytest.mark.parametrize("case", flagged("LabelOutsideUnitInterval"), ids=lambda c: c.key)
def test_labels_outside_the_unit_interval_still_evaluate_to_a_negative_loss(case):
    with np.errstate(all="ignore"):
        got = reference.compute(case.op, case.inputs, {**case.params, "reduction": "none"})
    z = case.inputs["labels"]
    assert ((z < 0) | (z > 1)).all() and {-0.5, 1.5} <= set(z.ravel().tolist()), case.key
    assert same(got, unreduced_expected(case), rel=1e-14) and (got < 0).any(), f"{case.key}: {got}"
    assert "formula gives [[" in case.comment, f"{case.key}: the comment quotes what the formula gives"


@pytest.mark.parametrize("case", [c for c in flagged("NonFiniteLogits", "implementation-defined")], ids=lambda c: c.key)
def test_plus_inf_on_a_softmax_label_class_meets_inf_minus_inf_in_the_reference(case):
    with np.errstate(all="ignore"):
        got = reference.compute(case.op, case.inputs, {**case.params, "reduction": "none"})
    x, z = samples(case)
    on_label = ((x == np.inf) & (z != 0)).any(axis=-1)
    assert np.isnan(got[on_label]).all() and np.isfinite(got[~on_label]).all(), f"{case.key}: {got}"


def test_the_mpmath_check_holds_non_finite_cases_to_their_limits():
    case = BY_KEY[("weighted_sigmoid_cross_entropy", "inf-logits-against-labels")]
    assert mp_mismatch(case, case.expected) is None and grad_mismatch(case, case.expected_grad) is None
    assert mp_mismatch(case, np.full_like(case.expected, np.nan)) is not None
    assert grad_mismatch(case, np.full_like(case.expected_grad, np.nan)) is not None
    assert grad_mismatch(case, case.expected_grad * (1 + 1e-12)) is not None
    softmax = BY_KEY[("softmax_cross_entropy", "neg-inf-logit-on-label")]
    assert grad_mismatch(softmax, softmax.expected_grad) is None
    moved = softmax.expected_grad.copy()
    moved[0, 1] *= 1 + 1e-12  # a finite class beside the -inf one
    assert grad_mismatch(softmax, moved) is not None


# Limits the float64 reference does not produce yet: its IEEE arithmetic gives 0 * inf = NaN or inf - inf = NaN
# where mathematics has a limit. Each is a case to add (outcome value) once conformance.reference computes the limit
# (or once a source.expected kind states it from mathematics); until then these fail, and must.
PENDING = [
    ("sigmoid_cross_entropy", {"logits": [[np.inf, -np.inf]], "labels": [[1.0, 0.0]]}, {"reduction": "none"},
     [[0.0, 0.0]], [[0.0, 0.0]]),
    ("weighted_sigmoid_cross_entropy", {"logits": [[np.inf, -np.inf]], "labels": [[1.0, 0.0]]},
     {"pos_weight": 2.5, "reduction": "none"}, [[0.0, 0.0]], [[0.0, 0.0]]),
    ("softmax_cross_entropy", {"logits": [[np.inf, 0.5, 6.0]], "labels": [[0.0, 0.0, 1.0]]}, {"reduction": "none"},
     [np.inf], [[1.0, 0.0, -1.0]]),
    ("softmax_cross_entropy", {"logits": [[-np.inf, 0.5, 6.0]], "labels": [[0.0, 0.0, 1.0]]}, {"reduction": "none"},
     [math.log1p(math.exp(-5.5))], None),
    ("sparse_softmax_cross_entropy", {"logits": [[np.inf, 0.5, 6.0]], "labels": [2]}, {"reduction": "none"},
     [np.inf], [[1.0, 0.0, -1.0]]),
]


@pytest.mark.xfail(strict=True, reason="conformance.reference gives NaN (0 * inf, inf - inf) where the limit exists")
@pytest.mark.parametrize("op, inputs, params, value, grad", PENDING,
                         ids=[f"{p[0]}-{i}" for i, p in enumerate(PENDING)])
def test_the_reference_gives_the_limit_at_infinite_logits(op, inputs, params, value, grad):
    inputs = {k: np.asarray(v) for k, v in inputs.items()}
    with np.errstate(all="ignore"):
        got = reference.compute(op, inputs, params)
        got_grad = gradients.compute(op, inputs, params)
    assert same(got, value, rel=1e-15), f"{op}: reference gives {got}, the limit is {value}"
    assert grad is None or same(got_grad, grad), f"{op}: gradient {got_grad}, the limit is {grad}"
