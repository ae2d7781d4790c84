"""The shipped vectors agree with conformance.reference and conformance.gradients, and with their own format rules.

The expected values and gradients were produced by those modules, so this is a
staleness check (the code or a file changed without regenerating); the proof
that the values are right is test_vectors_mpmath.py. Generated cases store no
values: only their form is checked here.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from vector_corpus import CORPUS, FILES, GENERATED_CASES, STORED_VALUE_CASES, raw, raw_cases

from conformance import gradients, reference
from conformance.generate import generate_inputs
from conformance.ops import OPS

VALUE_CASES = STORED_VALUE_CASES
PUBLISHED = [case for case in VALUE_CASES if case.published]


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


@pytest.mark.parametrize("case", VALUE_CASES, ids=lambda c: c.key)
def test_expected_grad_equals_gradients_within_2_ulp(case):
    assert case.expected_grad is not None, f"{case.file}:{case.line} {case.key}: a value case stores expected_grad"
    with np.errstate(all="ignore"):
        got = gradients.compute(case.op, case.inputs, case.params)
    problem = ulp_mismatch(got, case.expected_grad, 2)
    assert problem is None, f"{case.file}:{case.line} {case.key} params={case.params}: gradients give {problem}"


def test_only_value_cases_store_a_gradient():
    for case in CORPUS.cases:
        stored = case.outcome == "value" and case.source["inputs"] != "generated"
        assert (case.expected_grad is not None) == stored, f"{case.key}: outcome {case.outcome}, {case.source}"


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
        for name, value in case.get("inputs", {}).items():
            want = int if kinds[name] == "int" else float
            wrong = [leaf for leaf in _leaves(value) if type(leaf) is not want]
            assert not wrong, f"{path.name} {case['id']}: input {name} holds {wrong[:3]}, not {want.__name__}s"
        for key in ("expected", "expected_grad"):
            wrong = [leaf for leaf in _leaves(case.get(key, [])) if type(leaf) is not float]
            assert not wrong, f"{path.name} {case['id']}: {key} holds non-floats {wrong[:3]} (write 1.0e-05, not 1e-05)"


def is_drawn(case) -> bool:
    """Return whether a case's inputs are random draws: seeded-random, or the log of Dirichlet draws (nll_loss)."""
    return case.source["inputs"] == "seeded-random" or "LogDirichletDraw" in case.flags


def test_every_reduction_and_layout_is_covered():
    for op in OPS:
        cases = [case for case in VALUE_CASES if case.op == op]
        reductions = {case.params["reduction"] for case in cases}
        assert reductions == {"none", "sum", "mean"}, f"{op}: reductions covered {sorted(reductions)}"
        shapes = {_first_input(case).shape for case in cases if is_drawn(case)}
        assert len(shapes) >= 3 and any(len(s) == 3 for s in shapes), f"{op}: seeded shapes {sorted(shapes)}"
        assert any(_first_input(case).shape[:1] == (1,) for case in cases), f"{op}: no batch of one"
        if any(param.name == "axis" for param in OPS[op].params):
            axes = {case.params["axis"] for case in cases}
            assert {0, 1} <= axes, f"{op}: class axes covered {sorted(axes)}; need 0 and 1 besides -1"


def test_out_of_range_labels_must_raise_and_raise_in_the_reference():
    cases = [case for case in CORPUS.cases if "LabelOutOfRange" in case.flags]
    assert cases, "no LabelOutOfRange case"
    for case in cases:
        assert case.outcome == "raises" and case.expected is None, case.key
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


RUN_TIME = "reference-float64-at-run-time"
GENERATED_KEYS = {"id", "comment", "flags", "source", "params", "outcome"}


def raw_generated() -> list[tuple[str, dict, dict]]:
    """Return (file name, group params, raw case) of every shipped case whose inputs are generated at run time."""
    return [(path.name, group.get("params", {}), case) for path in FILES for group in raw(path)["groups"]
            for case in group["cases"] if case["source"]["inputs"] == "generated"]


def test_generated_cases_store_their_generator_and_nothing_else():
    found = raw_generated()
    scale = {name for name, _, case in found if "LanguageModelScale" in case["flags"]}
    assert scale == {"sparse_softmax_cross_entropy.yaml"}, found
    for name, _, case in found:
        where = f"{name} {case['id']}"
        assert set(case) <= GENERATED_KEYS and set(case) >= GENERATED_KEYS - {"params"}, f"{where}: keys {sorted(case)}"
        assert case["outcome"] == "value" and list(case["flags"]) in (["LanguageModelScale"], ["EmptyBatch"]), where
        assert list(case["source"]) == ["inputs", "generator", "expected"] and case["source"]["expected"] == RUN_TIME, where
        generator = case["source"]["generator"]
        if case["flags"] == ["LanguageModelScale"]:  # too large to store: drawn in float32, as models train
            assert list(generator) == ["seed", "shape", "dtype", "distributions"], where
            assert generator["dtype"] == "float32", where
        else:  # a shape nested lists cannot hold: nothing is drawn, so no dtype
            assert list(generator) == ["seed", "shape", "distributions"] and 0 in generator["shape"], where


def test_the_language_model_case_is_described_exactly():
    cases = {case["id"]: (params, case) for _, params, case in raw_generated()}
    params, case = cases["lm-4096x32000"]
    assert {**params, **case.get("params", {})} == {"reduction": "mean"}
    generator = dict(case["source"]["generator"])
    assert isinstance(generator.pop("seed"), int)
    assert generator == {
        "shape": [4096, 32000], "dtype": "float32",
        "distributions": {"logits": {"dist": "normal", "loc": 0.0, "scale": 4.0},
                          "labels": {"dist": "integers", "low": 0, "high": 32000}},
    }


@pytest.mark.parametrize("case", [c for c in GENERATED_CASES if "LanguageModelScale" in c.flags], ids=lambda c: c.key)
def test_generated_case_loads_without_values_and_its_generator_draws(case):
    assert case.expected is None and case.expected_grad is None and case.generator == case.source["generator"]
    classes = case.generator["shape"][-1]
    few = generate_inputs(case.op, {**case.generator, "shape": [3, classes]}, case.params)  # the full draw is the run's
    assert few["logits"].dtype == np.float32 and few["logits"].shape == (3, classes), few["logits"].dtype
    labels = few["labels"]
    assert labels.dtype == np.int64 and labels.shape == (3,) and 0 <= labels.min() and labels.max() < classes


def _flagged(op: str, flag: str) -> list:
    return [case for case in VALUE_CASES if case.op == op and flag in case.flags]


def _first_input(case) -> np.ndarray:
    return case.inputs[next(iter(case.inputs))]


LOGIT_OPS = ("sigmoid_cross_entropy", "weighted_sigmoid_cross_entropy", "softmax_cross_entropy",
             "sparse_softmax_cross_entropy")
PROBABILITY_OPS = ("binary_cross_entropy", "categorical_cross_entropy")
# ManyTerms sizes: 4096 elements, 2048 for the ops added later (to keep the corpus near 3.5 MB)
MANY_TERMS = {op: 2048 if op in (*PROBABILITY_OPS, "nll_loss") else 4096 for op in OPS}


@pytest.mark.parametrize("op", sorted(OPS))
def test_precision_probes_are_present_and_probe_what_they_say(op):
    many = _flagged(op, "ManyTerms")
    assert {c.params["reduction"] for c in many} == {"sum", "mean"}, f"{op}: ManyTerms reductions"
    sizes = [_first_input(c).size for c in many]
    assert all(size >= MANY_TERMS[op] for size in sizes), f"{op}: ManyTerms sizes {sizes}"
    if op in LOGIT_OPS:
        _check_logit_probes(op)
    elif op in PROBABILITY_OPS:
        _check_probability_probes(op)
    elif op == "nll_loss":
        extreme = {float(v) for c in _flagged(op, "ExtremeLogProbabilities") for v in np.ravel(c.expected)}
        assert {1.0e-300, 1.0e4} <= extreme and any(700 < v < 746 for v in extreme), f"{op}: {sorted(extreme)}"
        assert any((c.expected < 0).any() for c in _flagged(op, "ScoresNotLogProbabilities")), f"{op}: a negative loss"


def _check_logit_probes(op: str) -> None:
    tiny = [v for c in _flagged(op, "NearZeroLoss") for v in np.ravel(c.expected)]
    assert any(0 < v < 1e-17 for v in tiny), f"{op}: NearZeroLoss values {tiny}"
    saturating = {abs(v) for c in _flagged(op, "Float16Saturation") for v in np.ravel(c.inputs["logits"])}
    assert {12.0, 65504.0, 70000.0} <= saturating, f"{op}: Float16Saturation logits {sorted(saturating)}"
    if "sigmoid" in op:
        pairs = {(x, z) for c in _flagged(op, "CancellingForm")
                 for x, z in zip(np.ravel(c.inputs["logits"]), np.ravel(c.inputs["labels"]))}
        assert {(-10.0, 0.0), (-20.0, 0.0), (-30.0, 0.0), (-100.0, 0.0)} <= pairs, f"{op}: CancellingForm {pairs}"
    if op == "softmax_cross_entropy":
        sums = {float(s) for c in _flagged(op, "LabelsNotNormalized")
                for s in np.ravel(np.sum(c.inputs["labels"], axis=c.params["axis"]))}
        assert any(s > 1 for s in sums) and any(s < 1 for s in sums), f"{op}: label sums {sums}"


def _probabilities(op: str, flag: str) -> set[float]:
    return {float(v) for c in _flagged(op, flag) for v in np.ravel(c.inputs["probabilities"])}


def _check_probability_probes(op: str) -> None:
    near_zero, near_one = _probabilities(op, "NearZeroProbability"), _probabilities(op, "NearOneProbability")
    assert {1.0e-8, 1.0e-7, 1.0e-45, 1.0e-300} <= near_zero, f"{op}: NearZeroProbability {sorted(near_zero)}"
    assert {1.0 - 1.0e-7, 1.0 - 1.0e-8, 1.0 - 2.0**-53} <= near_one, f"{op}: NearOneProbability {sorted(near_one)}"
    clip = _probabilities(op, "KerasClip")
    assert {1.0e-7, 1.0 - 1.0e-7} <= clip, f"{op}: KerasClip probabilities {sorted(clip)}"
    # 1e-300 underflows float32 and 1e-45 is a float32 subnormal: where the two dtypes' cases part
    assert np.float32(1.0e-300) == 0 and 0 < np.float32(1.0e-45) < np.finfo(np.float32).smallest_normal
    if op == "binary_cross_entropy":
        tiny = [v for c in _flagged(op, "NearZeroLoss") for v in np.ravel(c.expected)]
        assert any(0 < v < 1e-17 for v in tiny), f"{op}: NearZeroLoss values {tiny}"
    else:
        sums = {float(s) for c in _flagged(op, "ProbabilitiesNotNormalized")
                for s in np.ravel(np.sum(c.inputs["probabilities"], axis=c.params["axis"]))}
        assert any(s > 1 for s in sums) and any(s < 1 for s in sums), f"{op}: probability sums {sums}"


LOG_DIRICHLET = [case for case in CORPUS.cases if "LogDirichletDraw" in case.flags]


def test_there_are_log_dirichlet_draws():
    assert {case.op for case in LOG_DIRICHLET} == {"nll_loss"} and len(LOG_DIRICHLET) >= 5


@pytest.mark.parametrize("case", LOG_DIRICHLET, ids=lambda c: c.key)
def test_log_dirichlet_inputs_equal_their_redraw_exactly(case):
    recipe = json.loads(case.source["reference"][case.source["reference"].index("{"):])
    drawn = generate_inputs(recipe["op"], recipe["generator"], recipe["params"])
    assert case.source["inputs"] == "hand-written" and recipe["params"]["axis"] == case.params["axis"], case.key
    assert list(recipe["generator"]["distributions"]["logits"].items()) == [("dist", "dirichlet"), ("alpha", 1.0)]
    log_p = np.log(drawn["logits"])
    assert np.array_equal(log_p, case.inputs["log_probabilities"]) and log_p.dtype == np.float64, case.key
    assert np.array_equal(drawn["labels"], case.inputs["labels"]) and case.inputs["labels"].dtype == np.int64, case.key
    probabilities = np.exp(case.inputs["log_probabilities"])
    assert np.allclose(probabilities.sum(axis=case.params["axis"]), 1.0, rtol=0, atol=1e-12), case.key
