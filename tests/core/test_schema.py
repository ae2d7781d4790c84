"""The JSON Schema of vector files (Draft 2020-12): every shipped file validates, broken variants do not."""

from __future__ import annotations

import copy
import json

import jsonschema
import pytest
from vector_corpus import FILES, VECTORS, raw

from conformance.ops import OPS

SCHEMA_PATH = VECTORS / "schema" / "loss-vectors-1.schema.json"
SCHEMA = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)


def errors(doc) -> list[str]:
    """Return the schema's complaints about ``doc``, each with its JSON path."""
    return [f"{error.json_path}: {error.message}" for error in VALIDATOR.iter_errors(doc)]


def test_schema_is_a_valid_draft_2020_12_schema():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_shipped_file_validates(path):
    problems = errors(raw(path))
    assert not problems, f"{path.name}:\n" + "\n".join(problems[:10])


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_shipped_file_points_editors_at_the_schema(path):
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first == "# yaml-language-server: $schema=schema/loss-vectors-1.schema.json", first


def _first_case(doc: dict) -> dict:
    return doc["groups"][0]["cases"][0]


def _case_with(doc: dict, predicate) -> dict:
    return next(c for g in doc["groups"] for c in g["cases"] if predicate(c))


def _seeded(doc: dict) -> dict:
    return _case_with(doc, lambda c: c["source"]["inputs"] == "seeded-random")


def _generated(doc: dict) -> dict:
    return _case_with(doc, lambda c: c["source"]["inputs"] == "generated")


def _store(key: str, value):
    return lambda d: _generated(d).__setitem__(key, value)


BROKEN = {
    "missing id": lambda d: _first_case(d).pop("id"),
    "bad outcome": lambda d: _first_case(d).__setitem__("outcome", "valid"),
    "expected missing for outcome value": lambda d: _first_case(d).pop("expected"),
    "unknown top-level key": lambda d: d.__setitem__("version", 2),
    "wrong schema id": lambda d: d.__setitem__("schema", "loss-conformance-vectors/2"),
    "unknown op": lambda d: d.__setitem__("op", "hinge"),
    "id with capitals": lambda d: _first_case(d).__setitem__("id", "Tutorial-5x3"),
    "unknown case key": lambda d: _first_case(d).__setitem__("weight", 1.0),
    "expected given for implementation-defined": lambda d: _first_case(d).__setitem__("outcome", "implementation-defined"),
    "expected given for raises": lambda d: _first_case(d).__setitem__("outcome", "raises"),
    "number written as 1e-05 (a string in YAML 1.1)": lambda d: _first_case(d).__setitem__("expected", ["1e-05"]),
    "wrong input name for the op": lambda d: _first_case(d)["inputs"].__setitem__("predictions", [1.0]),
    "missing input": lambda d: _first_case(d)["inputs"].pop("labels"),
    "unknown reduction": lambda d: d["groups"][0]["params"].__setitem__("reduction", "avg"),
    "seeded-random without generator": lambda d: _seeded(d)["source"].pop("generator"),
    "generator on hand-written inputs": lambda d: _seeded(d)["source"].__setitem__("inputs", "hand-written"),
    "unknown distribution": lambda d: _seeded(d)["source"]["generator"]["distributions"].__setitem__(
        "logits", {"dist": "cauchy", "scale": 1.0}),
    "tolerance without a reason": lambda d: _first_case(d).__setitem__(
        "tolerance", {"float32": {"rtol": 1.0e-4, "atol": 0.0}}),
    "published digits beyond 17": lambda d: _first_case(d)["published"].__setitem__("digits", 18),
    "flag not CamelCase": lambda d: _first_case(d).__setitem__("flags", ["tutorial"]),
    "expected_grad written as 1e-05": lambda d: _first_case(d).__setitem__("expected_grad", [["1e-05"]]),
    "expected_grad for implementation-defined": lambda d: (_first_case(d).pop("expected"), _first_case(d).pop(
        "published"), _first_case(d)["source"].pop("expected"), _first_case(d).__setitem__("outcome", "implementation-defined")),
    "dtype in a seeded-random generator": lambda d: _seeded(d)["source"]["generator"].__setitem__("dtype", "float32"),
    "generated case storing inputs": _store("inputs", {"logits": [[1.0, 2.0]], "labels": [0]}),
    "generated case storing expected": _store("expected", 1.0),
    "generated case storing expected_grad": _store("expected_grad", [[0.5, -0.5]]),
    "generated case storing published": _store("published", {"source": "x", "digits": 3, "value": 1.0}),
    "generated case without generator": lambda d: _generated(d)["source"].pop("generator"),
    "generated case with a stored-value source": lambda d: _generated(d)["source"].__setitem__(
        "expected", "reference-float64"),
    "generated case without an expected source": lambda d: _generated(d)["source"].pop("expected"),
    "generated case with outcome raises": lambda d: _generated(d).__setitem__("outcome", "raises"),
    "generated case with an unknown dtype": lambda d: _generated(d)["source"]["generator"].__setitem__("dtype", "int8"),
    "stored case with a run-time source": lambda d: _first_case(d)["source"].__setitem__(
        "expected", "reference-float64-at-run-time"),
    "stored case without inputs": lambda d: _first_case(d).pop("inputs"),
}


def small_doc() -> dict:
    """Return a small document (fast to validate): the sigmoid file's tutorial and first seeded case, and a
    sparse-softmax group holding its first generated case."""
    sigmoid, sparse = raw(VECTORS / "sigmoid_cross_entropy.yaml"), raw(VECTORS / "sparse_softmax_cross_entropy.yaml")
    first = {key: value for key, value in sigmoid["groups"][0].items() if key != "cases"}
    doc = {key: value for key, value in sigmoid.items() if key != "groups"}
    doc["groups"] = [{**first, "cases": [_first_case(sigmoid), _seeded(sigmoid)]},
                     {"params": {"reduction": "mean"}, "cases": [_generated(sparse)]}]
    doc["notes"] = {**doc["notes"], "LanguageModelScale": sparse["notes"]["LanguageModelScale"]}
    return copy.deepcopy(doc)


@pytest.mark.parametrize("name", BROKEN)
def test_broken_variant_is_rejected(name):
    doc = small_doc()
    assert not errors(doc)
    broken = copy.deepcopy(doc)
    BROKEN[name](broken)
    assert errors(broken), f"the schema accepted a file with {name}"


def test_expected_is_optional_only_for_other_outcomes():
    doc = small_doc()
    case = _first_case(doc)
    for key in ("expected", "expected_grad", "published"):
        case.pop(key)
    case["source"].pop("expected")
    for outcome in ("implementation-defined", "raises"):
        case["outcome"] = outcome
        assert not errors(doc), f"{outcome}: {errors(doc)}"


def _input_rules() -> dict[str, tuple[list, list]]:
    """Return {op: (required input names, allowed input names)} as the schema states them."""
    rules = {}
    for block in SCHEMA["allOf"]:
        inputs = block["then"]["properties"]["groups"]["items"]["properties"]["cases"]["items"]["properties"]["inputs"]
        rules[block["if"]["properties"]["op"]["const"]] = (inputs["required"], inputs["propertyNames"]["enum"])
    return rules


def test_the_schema_names_every_op_and_exactly_its_inputs():
    assert SCHEMA["properties"]["op"]["enum"] == list(OPS)
    assert _input_rules() == {op: (list(spec.input_names), list(spec.input_names)) for op, spec in OPS.items()}


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_a_case_with_another_ops_input_name_is_rejected(path):
    doc = raw(path)
    small = copy.deepcopy({**doc, "groups": [{**doc["groups"][0], "cases": [_first_case(doc)]}]})
    assert not errors(small), errors(small)
    inputs = _first_case(small)["inputs"]
    first = next(iter(inputs))
    inputs["logits" if first != "logits" else "predictions"] = inputs.pop(first)
    assert errors(small), f"{path.name}: the schema accepted a case whose {first} input was renamed"
