"""`compare`: the kit run under two interpreters (two environments), then diffed."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ADAPTER = textwrap.dedent('''
    """A stand-in framework for the compare test: release {release}."""
    import numpy as np
    from conformance import reference
    from conformance.adapter import Binding

    def _mse(fw, inputs, params):
        value = reference.compute("mean_squared_error", inputs, params)
        return value * {factor} if {release} > 1 else value

    class Adapter:
        framework = "lossfake"
        requires = ("numpy",)
        distributions = ("numpy",)
        dtypes = ("float64",)
        modes = ("eager",)
        devices = ("cpu",)
        bindings = (Binding("lossfake.mse", "mean_squared_error", _mse, "reference"),)

        def load(self):
            return np

        def to_framework(self, fw, array, dtype, device):
            return np.asarray(array)

        def to_numpy(self, fw, value):
            return np.asarray(value)
''')


def environment(root: Path, release: int, factor: float = 1.001) -> str:
    """Return the interpreter of a new virtual environment (the kit from the system site) holding lossfake."""
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(root)], check=True)
    python = str(root / "bin" / "python")
    site = subprocess.run([python, "-c", "import site; print(site.getsitepackages()[0])"], capture_output=True,
                          text=True, check=True).stdout.strip()
    Path(site, "lossfake.py").write_text(ADAPTER.format(release=release, factor=factor))
    return python


@pytest.fixture(scope="module")
def interpreters(tmp_path_factory):
    root = tmp_path_factory.mktemp("envs")
    return environment(root / "old", 1), environment(root / "new", 2)


def compare(tmp_path, old: str, new: str, *more: str):
    return subprocess.run([sys.executable, "-m", "conformance", "compare", "--python", old, "--python", new,
                           "--frameworks", "lossfake:Adapter", "--ops", "mean_squared_error", "--dtypes", "float64",
                           "--out-dir", str(tmp_path / "out"), "--quiet", *more],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)


def test_a_regression_between_two_interpreters_exits_1(tmp_path, interpreters):
    old, new = interpreters
    done = compare(tmp_path, old, new)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "regression(s)**" in done.stdout and "lossfake.mse" in done.stdout
    for side, python in zip("ab", (old, new)):
        header = json.loads((tmp_path / "out" / f"results-{side}.jsonl").read_text().splitlines()[0])
        assert header["executable"] == python
    assert (tmp_path / "out" / "diff.md").read_text().strip() == done.stdout.strip()


def test_the_same_release_twice_has_no_regression(tmp_path, interpreters):
    old, _ = interpreters
    done = compare(tmp_path, old, old)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "✅ **No regressions**" in done.stdout


def test_an_interpreter_without_the_kit_is_refused(tmp_path, interpreters):
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "bare")], check=True)
    done = compare(tmp_path, interpreters[0], str(tmp_path / "bare" / "bin" / "python"))
    assert done.returncode == 2 and "cannot import the kit" in done.stderr


def test_compare_needs_two_interpreters(tmp_path, interpreters):
    done = subprocess.run([sys.executable, "-m", "conformance", "compare", "--python", interpreters[0]],
                          capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert done.returncode == 2 and "--python twice" in done.stderr
