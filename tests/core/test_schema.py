"""The JSON Schema of vector files (Draft 2020-12): every shipped file validates, broken variants do not."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import jsonschema
import pytest
import yaml

VECTORS = Path(__file__).resolve().parents[2] / "vectors"
SCHEMA_PATH = VECTORS / "schema" / "loss-vectors-1.schema.json"
SCHEMA = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
FILES = sorted(VECTORS.glob("*.yaml"))


def load(path: Path) -> dict:
    """Return a vector file as plain YAML data."""
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def errors(doc) -> list[str]:
    """Return the schema's complaints about ``doc``, each with its JSON path."""
    return [f"{error.json_path}: {error.message}" for error in VALIDATOR.iter_errors(doc)]


def test_schema_is_a_valid_draft_2020_12_schema():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_shipped_file_validates(path):
    problems = errors(load(path))
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
}


def small_doc() -> dict:
    """Return the sigmoid file cut down to its first group's tutorial case and first seeded case (fast to validate)."""
    doc = load(VECTORS / "sigmoid_cross_entropy.yaml")
    doc["groups"] = doc["groups"][:1]
    doc["groups"][0]["cases"] = [_first_case(doc), _seeded(doc)]
    return doc


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
    for key in ("expected", "published"):
        case.pop(key)
    case["source"].pop("expected")
    case["outcome"] = "implementation-defined"
    assert not errors(doc), errors(doc)
