"""The tutorial's 5x3 sigmoid example through every installed framework, as a user runs it."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

FRAMEWORKS = {"numpy": "numpy", "torch": "torch", "tensorflow": "tensorflow", "jax": "optax"}


def test_tutorial_5x3_passes_on_every_sigmoid_binding_and_reproduces_the_printed_digits(tmp_path):
    out = tmp_path / "tutorial.jsonl"
    done = subprocess.run(
        [sys.executable, "-m", "conformance", "run", "--frameworks", ",".join(FRAMEWORKS), "--ops",
         "sigmoid_cross_entropy", "--cases", "tutorial-5x3*", "--out", str(out)],
        capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    checks = [r for r in map(json.loads, out.read_text().splitlines()) if r["record"] == "check"]
    for framework, module in FRAMEWORKS.items():
        mine = [r for r in checks if r["framework"] == framework]
        if importlib.util.find_spec(module) is None:
            assert {r["status"] for r in mine} == {"skipped"}
            continue
        ran = [r for r in mine if r["status"] != "not-applicable"]
        assert {r["status"] for r in ran} == {"pass"}, framework
        assert {r["dtype"] for r in ran} == {"float32", "float64"}
        per_element = [r for r in ran if r["case"] == "tutorial-5x3"]
        assert per_element, f"{framework} has no binding that gives the elementwise 5x3 output"
        for record in per_element:
            if record["dtype"] == "float64":
                assert record["published"].startswith("reproduced (9 digits"), record
