"""Shared fixtures: the faulty test adapters on sys.path, and small vector files."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

SUPPORT = Path(__file__).parent / "support"
sys.path.insert(0, str(SUPPORT))

TUTORIAL_LOGITS = [[12.0, 3.0, 2.0], [3.0, 10.0, 1.0], [1.0, 2.0, 5.0], [4.0, 6.5, 1.2], [3.0, 6.0, 1.0]]
TUTORIAL_LABELS = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 1.0, 0.0], [0.0, 1.0, 0.0]]


def vector_text(cases: str, op: str = "sigmoid_cross_entropy", params: str = "{reduction: none}") -> str:
    """Return a vector file around the given YAML list of cases (indented by the caller's dedent)."""
    body = textwrap.indent(textwrap.dedent(cases).strip("\n"), " " * 6)
    return (
        "schema: loss-conformance-vectors/1\n"
        f"op: {op}\n"
        "notes: {Small: a small hand-written case}\n"
        "groups:\n"
        f"  - params: {params}\n"
        "    cases:\n"
        f"{body}\n"
    )


@pytest.fixture
def write_vectors(tmp_path):
    """Return a function that writes a vector file into tmp_path and returns its path."""

    def write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write
