"""Shared fixtures: tests/support on sys.path (faulty adapters, hand-written vector and results files)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

SUPPORT = Path(__file__).parent / "support"
sys.path.insert(0, str(SUPPORT))


@pytest.fixture
def write_vectors(tmp_path):
    """Return a function that writes a vector file into tmp_path and returns its path."""

    def write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write
