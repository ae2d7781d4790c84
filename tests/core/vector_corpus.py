"""The shipped vector corpus, read once per test session for every vector test module.

The files hold seeded cases of 4096 elements, so parsing them is the slow part
of the vector tests: the raw YAML (for format checks) goes through libyaml's
safe loader where PyYAML has it, and the checked cases through the kit's loader,
each once.
"""

from __future__ import annotations

import functools
from pathlib import Path

import yaml

from conformance.loader import load_paths

VECTORS = Path(__file__).resolve().parents[2] / "vectors"
FILES = sorted(VECTORS.glob("*.yaml"))
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

CORPUS = load_paths([VECTORS])


def is_generated(case) -> bool:
    """Return whether a case's inputs are drawn at run time (nothing stored to check but its form)."""
    return case.source["inputs"] == "generated"


STORED_VALUE_CASES = [case for case in CORPUS.cases if case.outcome == "value" and not is_generated(case)]
GENERATED_CASES = [case for case in CORPUS.cases if is_generated(case)]


@functools.cache
def raw(path: Path) -> dict:
    """Return one vector file as plain YAML data (shared: copy it before changing it)."""
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_SAFE_LOADER)


def raw_cases(doc: dict):
    """Yield every raw case mapping of a document."""
    for group in doc["groups"]:
        yield from group["cases"]
