"""The built wheel, installed in a clean virtual environment, runs the kit from outside the repo."""

from __future__ import annotations

import json
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run(*args, cwd, timeout=600):
    done = subprocess.run([str(a) for a in args], capture_output=True, text=True, cwd=cwd, timeout=timeout)
    assert done.returncode == 0, f"{args} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", dist, ROOT, cwd=dist)
    (built,) = dist.glob("loss_conformance-*.whl")
    return built


def test_wheel_ships_vectors_schema_and_adapters_under_the_package(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    shipped = {Path(p).name for p in (ROOT / "vectors").glob("*.yaml")}
    assert shipped, "the repo has no vector files"
    assert shipped <= {Path(n).name for n in names if n.startswith("conformance/vectors/")}
    assert any(n.startswith("conformance/vectors/schema/") and n.endswith(".json") for n in names)
    assert "conformance/adapters/torch_adapter.py" in names
    assert not [n for n in names if n.startswith("adapters/")], "adapters must not install as a top-level package"
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "[conformance.adapters]" in zipfile.ZipFile(wheel).read(entry_points).decode()


def test_installed_wheel_runs_from_outside_the_repo(wheel, tmp_path):
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    run(python, "-m", "pip", "install", "--quiet", wheel, cwd=tmp_path)
    work = tmp_path / "elsewhere"
    work.mkdir()
    done = run(python, "-m", "conformance", "vectors", "validate",
               run(python, "-c", "from conformance.loader import default_vector_dir as d; print(d())", cwd=work).stdout.strip(),
               cwd=work)
    assert " 0 problem(s)" in done.stdout
    done = subprocess.run([python, "-m", "conformance", "run", "--frameworks", "numpy,torch", "--out", "r.jsonl"],
                          capture_output=True, text=True, cwd=work, timeout=600)
    assert done.returncode in (0, 1), done.stderr  # 1: a check failed, which is a verdict, not a broken install
    assert "Traceback" not in done.stderr
    records = [json.loads(line) for line in (work / "r.jsonl").read_text().splitlines()]
    statuses = {(r["framework"], r["status"]) for r in records if r["record"] == "check"}
    assert ("numpy", "pass") in statuses
    # the clean environment has no torch: skipped with the reason, not a crash
    assert {s for f, s in statuses if f == "torch"} == {"skipped"}
    assert next(r for r in records if r.get("framework") == "torch")["message"] == "torch is not installed"
