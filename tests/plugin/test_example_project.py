"""examples/own-loss, installed like a user would in a fresh virtual environment: both uses catch its one bug."""

from __future__ import annotations

import re
import shutil
import subprocess
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "own-loss"
# the example's bug: log(1 + e**-|x|) rounds to log(1) = 0 once e**-|x| is below the float epsilon, so this case
# (negative logits with label 0, a loss of about e**x) comes out as exactly 0.0
BUGGY_CASE = "sigmoid_cross_entropy[negative-logits-label-0]"
WORST = r"\d+ of 4 elements off; worst at index \[0, \d\]: expected [0-9.e+-]+, got 0\.0 \(abs err [0-9.e+-]+, " \
        r"rel err 1, [0-9.e+-]+ ulp, [0-9.e+-]+x the bound [0-9.e+-]+\); bound: derived \(largest allowed abs error"


def run(*args, cwd: Path, check: bool = True, timeout: int = 900) -> subprocess.CompletedProcess:
    done = subprocess.run([str(a) for a in args], capture_output=True, text=True, cwd=cwd, timeout=timeout)
    if check:
        assert done.returncode == 0, f"{args} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> tuple[Path, Path]:
    """Return (python of a fresh venv with the kit and the example installed, the example's copy)."""
    base = tmp_path_factory.mktemp("example")
    work = base / "own-loss"
    shutil.copytree(EXAMPLE, work, ignore=shutil.ignore_patterns("*.egg-info", "build", "__pycache__", ".pytest_cache"))
    venv.create(base / "venv", with_pip=True)
    python = base / "venv" / "bin" / "python"
    run(python, "-m", "pip", "install", "--quiet", ROOT, cwd=base)  # the kit, from its repository
    run(python, "-m", "pip", "install", "--quiet", "-e", f"{work}[test]", cwd=base)
    return python, work


def pytest_in(project, *args: str) -> subprocess.CompletedProcess:
    python, work = project
    return run(python, "-m", "pytest", "-p", "no:cacheprovider", "-rf", *args, cwd=work, check=False)


def test_the_authors_tests_report_the_bug_with_the_case_and_the_worst_element(project):
    done = pytest_in(project)
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    assert re.search(rf"ConformanceMismatch: {re.escape(BUGGY_CASE)} float64 \(reduction='none'\): {WORST}", out), out
    failed = re.findall(r"^FAILED (\S+)", out, re.MULTILINE)
    assert failed and all("test_sigmoid_cross_entropy[" in name for name in failed)  # MSE and the unit test pass
    assert "tests/test_losses.py::test_mean_is_the_default_reduction PASSED" in pytest_in(project, "-v").stdout


def test_the_ci_run_shows_the_bug_in_the_projects_column(project):
    done = pytest_in(project, "--conformance", "-m", "conformance")  # frameworks and ops come from pyproject.toml
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    assert re.search(rf"^FAIL \[numerical-error\] {re.escape(BUGGY_CASE)} own_loss.sigmoid_cross_entropy float64 eager cpu: {WORST}", out,
                     re.MULTILINE), out
    failed = re.findall(r"^FAILED conformance::(\S+)", out, re.MULTILINE)
    assert f"{BUGGY_CASE}-own_loss.sigmoid_cross_entropy-float64-eager-cpu" in failed
    assert all("-own_loss.sigmoid_cross_entropy-" in name for name in failed)  # numpy's reference column passes
    assert re.search(r"^own-loss\s+0\.1\.0\s+\d+\s+0\s+[1-9]", out, re.MULTILINE)  # its row of the summary table


def test_fixing_the_one_bug_makes_both_runs_pass(project):
    source = project[1] / "src" / "own_loss" / "__init__.py"
    text = source.read_text()
    source.write_text(text.replace("np.log(1 + np.exp(-np.abs(t)))", "np.log1p(np.exp(-np.abs(t)))"))
    try:
        for args in ((), ("--conformance", "-m", "conformance")):
            done = pytest_in(project, *args)
            assert done.returncode == 0, done.stdout[-3000:]
    finally:
        source.write_text(text)
