"""Every adapter's reproducers run what the kit ran: the script's actual is the kit's, element for element.

For each framework the kit runs the tutorial cases (and MSE's exact case) in
float32 with every binding, and one case in the other dtypes and modes, value
and gradient; a script is written for every check that ran (--force for
the passing ones), and one process per framework runs all of them and then
the kit's own call for the same checks.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from repro_helpers import kit_run, printed, records, repro, same_number

HERE = Path(__file__).parent
CASES = "tutorial-*,mean_squared_error[exact-2x3*],axis0-tutorial-3x2,axis1-tutorial-1x3x2"  # with classes on axis 0, 1
# adapter -> (modules it needs, modules a script for it may import)
ADAPTERS = {
    "numpy": ((), {"numpy"}),
    "torch": (("torch",), {"torch"}),
    "tensorflow": (("tensorflow",), {"tensorflow", "os"}),
    "jax": (("jax", "optax"), {"jax", "jax.numpy", "optax"}),
    "keras-tensorflow": (("keras", "tensorflow"), {"keras", "tensorflow", "os"}),
    "keras-torch": (("keras", "torch"), {"keras", "torch", "os"}),
    "keras-jax": (("keras", "jax"), {"keras", "jax", "os"}),
}


def _imports(source: str) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            found.add(node.module)
    return found


# Besides every binding's value in float32: one case in the other dtypes, value and gradient, in the compiled modes
# where they compile fast (torch.compile has a test of its own, in test_repro_torch.py).
# framework -> (the modes asked for, the modes that run)
MODES = {"torch": ("eager", {"eager"}), "tensorflow": ("eager,compiled", {"eager", "compiled", "compiled-xla"}),
         "jax": ("eager,compiled", {"eager", "compiled"})}


def _scripts_for(framework: str, results: Path, tmp_path: Path) -> list[dict]:
    """Return {script, record} for every check of ``results`` that ran, each script written to ``tmp_path``."""
    _, allowed = ADAPTERS[framework]
    entries = []
    for record in records(results):
        if record["status"] not in ("pass", "fail", "definition-difference"):
            continue
        code, text, err = repro(str(results), f"{record['op']}[{record['case']}]", record["binding"],
                                record["dtype"], "--force", "--mode", record["mode"], "--quantity", record["quantity"])
        assert code == 0, err
        assert _imports(text) <= {"sys", "numpy", "ml_dtypes"} | allowed, _imports(text)
        script = tmp_path / f"script_{len(list(tmp_path.glob('script_*.py')))}.py"
        script.write_text(text, encoding="utf-8")
        entries.append({"script": str(script), "record": record})
    return entries


@pytest.mark.parametrize("framework", list(ADAPTERS))
def test_every_binding_script_gives_the_kits_actual(framework, tmp_path):
    for module in ADAPTERS[framework][0]:
        pytest.importorskip(module)
    modes, ran = MODES.get(framework, ("eager", {"eager"}))
    runs = [("--cases", CASES, "--dtypes", "float32", "--all-bindings"),
            ("--ops", "sigmoid_cross_entropy", "--cases", "tutorial-5x3-mean", "--dtypes", "float16,bfloat16,float64",
             "--modes", modes, "--grad")]
    entries = []
    for number, args in enumerate(runs):
        results = kit_run(tmp_path / f"results{number}.jsonl", "--frameworks", framework, *args)
        entries += _scripts_for(framework, results, tmp_path)
    assert len({e["record"]["binding"] for e in entries}) >= 2 and len(entries) >= 8
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps(entries))
    done = subprocess.run([sys.executable, str(HERE / "script_driver.py"), str(manifest)], capture_output=True,
                          text=True, timeout=600, env=os.environ)
    assert done.returncode == 0, done.stderr[-3000:]
    for entry, result in zip(entries, json.loads(done.stdout)):
        record = entry["record"]
        where = " ".join(str(record[k]) for k in ("case", "binding", "dtype", "mode", "quantity"))
        assert result["actual"] == result["kit"], where  # every element, bit for bit (as float64 reprs)
        shown = printed(result["stdout"])
        assert same_number(shown["actual"], record["worst"]["actual"]), (where, shown, record["worst"])
        assert same_number(shown["max_abs_err"], record["max_abs_err"]), (where, shown, record["max_abs_err"])
        assert result["exit"] == (0 if record["status"] == "pass" else 1), (where, result["stdout"])
    # the second run's checks were written and compared too
    seen = {(e["record"]["dtype"], e["record"]["mode"], e["record"]["quantity"]) for e in entries}
    assert {d for d, _, _ in seen} == {"float16", "bfloat16", "float32", "float64"}
    assert {m for _, m, _ in seen} == ran
    assert {q for _, _, q in seen} == ({"value"} if framework == "numpy" else {"value", "grad"})
