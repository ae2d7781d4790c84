"""Generated cases: described by a seed and distributions, drawn in the worker, checked against the reference."""

from __future__ import annotations

import pickle

import numpy as np

from conformance import runner
from conformance.generate import generate_inputs
from conformance.loader import load_text
from conformance.runner import RunOptions, run, run_framework
from vector_files import vector_text
from fake_adapter import FakeAdapter

GENERATED = """
- id: lm-like
  comment: a generated sparse case, drawn when it runs
  source:
    inputs: generated
    generator:
      seed: 7
      shape: [64, 1000]
      dtype: float32
      distributions:
        logits: {dist: normal, loc: 0.0, scale: 4.0}
        labels: {dist: integers, low: 0, high: 1000}
    expected: reference-float64-at-run-time
"""


def load(text=GENERATED):
    return load_text(vector_text(text, op="sparse_softmax_cross_entropy", params="{reduction: mean}"), "g.yaml")


def test_generated_case_loads_with_shapes_but_no_data():
    (case,), problems = load()
    assert problems == []
    assert case.inputs["logits"].shape == (64, 1000) and case.inputs["labels"].shape == (64,)
    assert case.inputs["logits"].strides == (0, 0)  # a stand-in, no memory behind it
    assert case.size == 64 * 1000 + 64
    assert len(pickle.dumps(case.for_worker())) < 2000


def test_materialized_inputs_are_the_generator_draw():
    (case,), _ = load()
    real = case.materialized()
    drawn = generate_inputs(case.op, case.generator, case.params)
    assert real.inputs["logits"].dtype == np.float32
    assert np.array_equal(real.inputs["logits"], drawn["logits"])
    assert np.array_equal(real.inputs["labels"], drawn["labels"])


def test_generated_case_may_not_store_data():
    text = GENERATED.replace("  comment:", "  expected: 1.0\n  comment:")
    _, problems = load(text)
    assert len(problems) == 1 and "a generated case stores no expected" in problems[0].message


def test_generated_case_runs_in_a_worker_against_the_run_time_reference():
    (case,), _ = load()
    records = []
    run_framework("numpy", __import__("conformance.adapter").adapter.load_adapter("numpy"), [case],
                  RunOptions(frameworks=["numpy"], grad=True), records.append)
    values = [r for r in records if r["quantity"] == "value"]
    assert {r["status"] for r in values} == {"pass"}
    assert {r["expected_source"] for r in values} == {"reference on generated float32 inputs",
                                                      "reference on generated float64 inputs"}
    grads = [r for r in records if r["quantity"] == "grad"]
    assert grads and {r["status"] for r in grads} == {"not-applicable"}


def test_large_cases_run_only_when_asked(monkeypatch):
    (case,), _ = load()
    monkeypatch.setattr(runner, "LARGE_ELEMENTS", 1000)
    notes, records = [], []
    run([case], RunOptions(frameworks=["fake_adapter:FakeAdapter"]), records.append, notes.append, notes.append)
    assert records == [] and notes == [
        "1 case(s) with over 1,000 input elements not run (use --large): sparse_softmax_cross_entropy[lm-like]"]
    run([case], RunOptions(frameworks=["fake_adapter:FakeAdapter"], large=True), records.append, notes.append)
    assert records and records[0]["case"] == "lm-like"


def test_reference_in_row_blocks_equals_the_whole(monkeypatch):
    from conformance import check, reference

    (case,), _ = load()
    real = case.materialized()
    whole = reference.compute(real.op, {k: v.astype(np.float64) if v.dtype.kind == "f" else v
                                        for k, v in real.inputs.items()}, {**real.params, "reduction": "none"})
    monkeypatch.setattr(check, "BLOCK_ELEMENTS", 5000)  # 5 rows of 1000 classes per block
    blocked = check.reference_terms(real, real.inputs)
    assert blocked.shape == (64,) and np.array_equal(blocked, whole)
