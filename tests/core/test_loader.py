"""The loader: every kind of bad input gives one clear problem, and good cases still load."""

from __future__ import annotations

import numpy as np
import pytest

from conformance import cases as cases_module
from conformance.loader import load_paths, load_text
from vector_files import vector_text

GOOD = """
- id: good
  comment: two moderate logits
  flags: [Small]
  source: {inputs: hand-written, expected: reference-float64}
  inputs: {logits: [1.0, -2.0], labels: [0.0, 1.0]}
  expected: [1.3132616875182228, 2.1269280110429727]
"""


def problems_of(cases: str, **kw) -> list[str]:
    _, problems = load_text(vector_text(cases, **kw), "vectors/x.yaml")
    return [str(p) for p in problems]


def test_good_case_loads_with_line_and_float64_arrays():
    loaded, problems = load_text(vector_text(GOOD), "x.yaml")
    assert problems == []
    (case,) = loaded
    assert case.key == "sigmoid_cross_entropy[good]"
    assert case.line == 7
    assert case.inputs["logits"].dtype == np.float64
    assert case.params == {"reduction": "none"}
    assert case.expected.tolist() == [1.3132616875182228, 2.1269280110429727]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("[1.0, -2.0]", "[1.0, -2.0, 3.0]"), "logits has shape [3] but labels has shape [2]"),
        (("[0.0, 1.0]", "[0.0, one]"), "non-numeric value 'one'"),
        (("[0.0, 1.0]", "[0.0, 1e-05]"), "write 1.0e-05"),
        (("[0.0, 1.0]", "[0.0, true]"), "non-numeric value True"),
        (("[0.0, 1.0]", "[[0.0], 1.0]"), "not a rectangular array"),
        (("flags: [Small]", "flags: [Undefined]"), "flags ['Undefined'] are not defined"),
        (("source: {inputs: hand-written, expected: reference-float64}", "source: {inputs: guessed}"), "source.inputs"),
        (("comment: two moderate logits", "comment: ''"), "comment is required"),
        (("id: good", "id: Good Case"), "id must be a string"),
        (("[1.3132616875182228, 2.1269280110429727]", "[1.0]"), "expected has shape [1]"),
        (("  expected:", "  outcome: maybe\n  expected:"), "outcome must be one of"),
        (("  expected:", "  params: {axis: 1}\n  expected:"), "unknown params ['axis']"),
        (("  expected:", "  params: {reduction: average}\n  expected:"), "reduction must be one of"),
        (("  expected:", "  tolerance: {float32: {rtol: 1.0e-3}}\n  expected:"), "needs rtol, atol and a reason"),
    ],
)
def test_bad_case_gives_one_problem_naming_file_line_and_case(change, message):
    found = problems_of(GOOD.replace(*change))
    assert len(found) == 1, found
    assert found[0].startswith("vectors/x.yaml:7: case " if "id:" not in change[1] else "vectors/x.yaml:7: id"), found[0]
    assert message in found[0]


def test_unknown_op_is_reported_once_for_the_file():
    found = problems_of(GOOD, op="softmax_crossentropy")
    assert found == [
        "vectors/x.yaml:1: unknown op 'softmax_crossentropy'; known ops: mean_squared_error, sigmoid_cross_entropy, "
        "weighted_sigmoid_cross_entropy, softmax_cross_entropy, sparse_softmax_cross_entropy, binary_cross_entropy, "
        "categorical_cross_entropy, nll_loss"
    ]


def test_duplicate_id_keeps_the_first_and_names_both_lines():
    loaded, problems = load_text(vector_text(GOOD + GOOD), "x.yaml")
    assert [c.id for c in loaded] == ["good"]
    assert [str(p) for p in problems] == ["x.yaml:14: case good: duplicate id (first at line 7)"]


def test_malformed_yaml_names_the_line():
    found = problems_of(GOOD.replace("[1.0, -2.0]", "[1.0, -2.0"))
    assert len(found) == 1 and found[0].startswith("vectors/x.yaml:") and "malformed YAML" in found[0]


def test_python_tag_is_refused_and_never_run(tmp_path):
    marker = tmp_path / "executed"
    evil = GOOD.replace("[1.0, -2.0]", f'!!python/object/apply:os.system ["touch {marker}"]')
    found = problems_of(evil)
    assert len(found) == 1
    assert "case good: YAML tag not allowed" in found[0] and "python/object/apply" in found[0]
    assert not marker.exists()


def test_input_too_large_to_be_a_vector(monkeypatch):
    monkeypatch.setattr(cases_module, "MAX_ELEMENTS", 1)
    found = problems_of(GOOD)
    assert len(found) == 1 and "has 2 elements; a test vector holds at most 1" in found[0]


def test_sparse_labels_must_be_integers_and_fit_the_logits():
    case = """
    - id: sparse
      comment: tutorial-like
      source: {inputs: hand-written, expected: reference-float64}
      inputs: {logits: [[2.0, 0.5, 6.0]], labels: [1.5]}
      expected: [1.0]
    """
    found = problems_of(case, op="sparse_softmax_cross_entropy", params="{}")
    assert len(found) == 1 and "labels must hold integers, got 1.5" in found[0]
    found = problems_of(case.replace("[1.5]", "[1, 2]"), op="sparse_softmax_cross_entropy", params="{}")
    assert "labels have shape [2] but logits [1, 3] with class axis -1 need labels of shape [1]" in found[0]


def test_a_bad_file_does_not_stop_the_others(write_vectors):
    good = write_vectors("a.yaml", vector_text(GOOD))
    bad = write_vectors("b.yaml", "schema: [unclosed\n")
    corpus = load_paths([good, bad])
    assert [c.id for c in corpus.cases] == ["good"]
    assert len(corpus.problems) == 1 and str(corpus.problems[0]).startswith(str(bad))
    assert corpus.digest.startswith("sha256:")


def test_wrong_schema_and_unknown_top_level_key():
    text = vector_text(GOOD).replace("loss-conformance-vectors/1", "loss-conformance-vectors/9") + "extra: 1\n"
    _, problems = load_text(text, "x.yaml")
    messages = [p.message for p in problems]
    assert any("schema must be 'loss-conformance-vectors/1'" in m for m in messages)
    assert "unknown top-level key 'extra'" in messages
