"""Small vector files written by hand, for the tests (on sys.path through tests/conftest.py)."""

from __future__ import annotations

import textwrap

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
