"""The README's current matrix is what the matrix command makes of the committed results files."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_readme_shows_the_matrix_of_the_committed_results():
    done = subprocess.run([sys.executable, str(ROOT / "tools" / "readme_matrix.py"), "--check"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "results-cuda-eager.jsonl" in (ROOT / "README.md").read_text()
