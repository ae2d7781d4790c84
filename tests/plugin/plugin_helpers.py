"""Small vector files and run helpers shared by the plugin's tests.

Every expected value here is worked out by hand, never taken from the kit:
softplus(1) = log(1 + e) = 1.3132616875182228 and softplus(2) = 2 + log(1 + e**-2)
= 2.1269280110429727; (3 - 1)**2 = 4 and (0.5 - 2)**2 = 2.25.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

# Imported here so that pytester's in-process runs find them loaded: it unloads the modules a run imported,
# and PyYAML's and NumPy's C extensions cannot be loaded a second time into one process.
import conformance.expectations  # noqa: F401
import conformance.pytest_cases  # noqa: F401
import conformance.pytest_run  # noqa: F401

SUPPORT = Path(__file__).resolve().parents[1] / "support"
FAKE = "fake_adapter:FakeAdapter"

SIGMOID = """\
schema: loss-conformance-vectors/1
op: sigmoid_cross_entropy
notes: {Small: a small hand-written case, Other: another flag}
groups:
  - params: {reduction: none}
    cases:
      - id: moderate
        comment: two moderate logits
        flags: [Small]
        source: {inputs: hand-written, expected: reference-float64}
        inputs: {logits: [1.0, -2.0], labels: [0.0, 1.0]}
        expected: [1.3132616875182228, 2.1269280110429727]
      - id: other
        comment: the same logits the other way round
        flags: [Other]
        source: {inputs: hand-written, expected: reference-float64}
        inputs: {logits: [-2.0, 1.0], labels: [1.0, 0.0]}
        expected: [2.1269280110429727, 1.3132616875182228]
"""

MSE = """\
schema: loss-conformance-vectors/1
op: mean_squared_error
notes: {Small: a small hand-written case}
groups:
  - params: {reduction: none}
    cases:
      - id: pair
        comment: two squared differences
        flags: [Small]
        source: {inputs: hand-written, expected: reference-float64}
        inputs: {predictions: [3.0, 0.5], targets: [1.0, 2.0]}
        expected: [4.0, 2.25]
"""


@pytest.fixture(autouse=True)
def quick_inner_runs(request, monkeypatch):
    """Keep hypothesis and pytest-benchmark out of pytester's runs: slow or noisy there, and not under test."""
    if "pytester" in request.fixturenames:
        request.getfixturevalue("pytester")  # it clears PYTEST_ADDOPTS when it starts
        monkeypatch.setenv("PYTEST_ADDOPTS", "-p no:hypothesispytest -p no:benchmark")


def write_vectors(pytester, *texts: str) -> Path:
    """Return a directory in the pytester tree holding the given vector files."""
    folder = pytester.path / "vectors"
    folder.mkdir(exist_ok=True)
    for number, text in enumerate(texts or (SIGMOID,)):
        (folder / f"v{number}.yaml").write_text(text, encoding="utf-8")
    return folder


def conformance_args(vectors: Path, frameworks: str = FAKE, *more: str) -> list[str]:
    """Return the arguments of a ``--conformance`` run over ``vectors`` (float64 only, to stay quick)."""
    return ["--conformance", f"--conformance-vectors={vectors}", f"--conformance-frameworks={frameworks}",
            "--conformance-dtypes=float64", *more]


def read_records(path: Path) -> list[dict]:
    """Return the records of a results file."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
