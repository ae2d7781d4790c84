"""The command line as a user runs it: exit codes, streamed results, readable failures."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from vector_files import vector_text

GOOD = """
- id: moderate
  comment: two moderate logits
  source: {inputs: hand-written, expected: reference-float64}
  inputs: {logits: [1.0, -2.0], labels: [0.0, 1.0]}
  expected: [1.3132616875182228, 2.1269280110429727]
"""
# log(1 + e**-2) is 0.12692801104297263, not 0.127: this case must fail
WRONG = GOOD.replace("moderate", "wrong-expected").replace("2.1269280110429727", "0.127").replace("-2.0", "2.0")


def cli(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "conformance", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=300)


def records(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_run_passes_streams_jsonl_and_prints_a_table(write_vectors, tmp_path):
    vectors = write_vectors("good.yaml", vector_text(GOOD))
    out = tmp_path / "results.jsonl"
    done = cli("run", "--frameworks", "numpy", "--vectors", str(vectors), "--out", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    lines = records(out)
    header, checks, summary = lines[0], lines[1:-1], lines[-1]
    assert header["record"] == "header" and header["vectors_digest"].startswith("sha256:")
    assert header["frameworks"]["numpy"]["versions"]["numpy"]
    assert {"kit_version", "python", "platform", "cpu", "gpu"} <= set(header)
    assert [(c["binding"], c["dtype"], c["status"]) for c in checks] == [
        ("conformance.reference.sigmoid_cross_entropy", "float32", "pass"),
        ("conformance.reference.sigmoid_cross_entropy", "float64", "pass"),
    ]
    assert summary == {**summary, "record": "summary", "complete": True}
    assert summary["counts"]["pass"] == 2
    assert "framework" in done.stdout and "numpy" in done.stdout


def test_failure_exits_1_and_names_case_binding_dtype_worst_element_and_bound(write_vectors, tmp_path):
    vectors = write_vectors("wrong.yaml", vector_text(GOOD + WRONG))
    done = cli("run", "--frameworks", "numpy", "--dtypes", "float64", "--vectors", str(vectors),
               "--out", str(tmp_path / "r.jsonl"))
    assert done.returncode == 1
    (line,) = [line for line in done.stdout.splitlines() if line.startswith("FAIL")]
    assert line.startswith(
        "FAIL [bug] sigmoid_cross_entropy[wrong-expected] conformance.reference.sigmoid_cross_entropy float64 eager cpu: "
        "1 of 2 elements off; worst at index [1]: expected 0.127, got 0.126928011042972")
    assert "bound: derived (largest allowed abs error" in line


def test_bad_vector_file_is_reported_and_the_good_one_still_runs(write_vectors, tmp_path):
    good = write_vectors("good.yaml", vector_text(GOOD))
    bad = write_vectors("bad.yaml", vector_text(GOOD.replace("[0.0, 1.0]", "[0.0, 1.0, 1.0]")))
    out = tmp_path / "r.jsonl"
    done = cli("run", "--frameworks", "numpy", "--vectors", str(good), str(bad), "--out", str(out))
    assert done.returncode == 2
    assert f"error: {bad}:7: case moderate: logits has shape [2] but labels has shape [3]" in done.stderr
    assert "Traceback" not in done.stderr
    assert records(out)[-1]["counts"]["pass"] == 2


def test_vectors_validate_reports_every_problem(write_vectors):
    bad = write_vectors("bad.yaml", vector_text(GOOD.replace("[0.0, 1.0]", "[0.0, x]") + GOOD))
    done = cli("vectors", "validate", str(bad))
    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        f"{bad}:7: case moderate: input labels holds the non-numeric value 'x'",
        "1 file(s), 1 valid case(s), 1 problem(s)",
    ]


def test_shipped_vectors_are_valid():
    done = cli("vectors", "validate", str(__import__("conformance.loader").loader.default_vector_dir()))
    assert done.returncode == 0, done.stdout
    assert " 0 problem(s)" in done.stdout


def test_unknown_framework_is_a_clear_error(write_vectors, tmp_path):
    vectors = write_vectors("good.yaml", vector_text(GOOD))
    done = cli("run", "--frameworks", "numpy,caffe", "--vectors", str(vectors), "--out", str(tmp_path / "r.jsonl"))
    assert done.returncode == 2
    assert "error: no adapter named 'caffe' in entry-point group conformance.adapters" in done.stderr


@pytest.mark.parametrize("flag", ["--dtypes float8", "--ops softmax"])
def test_bad_option_values_are_refused(flag):
    done = cli("run", *flag.split())
    assert done.returncode == 2 and "unknown" in done.stderr and "Traceback" not in done.stderr


def test_importing_the_kit_imports_no_framework():
    code = (
        "import sys, conformance, conformance.cli, conformance.runner, conformance.worker, conformance.check\n"
        "import conformance.adapters.numpy_adapter, conformance.adapters.torch_adapter\n"
        "import conformance.adapters.tensorflow_adapter, conformance.adapters.jax_adapter\n"
        "from conformance.adapter import load_adapter\n"
        "[load_adapter(n) for n in ('numpy', 'torch', 'tensorflow', 'jax')]\n"
        "print(sorted(m for m in ('torch', 'tensorflow', 'jax', 'jaxlib', 'optax', 'keras') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_repro_takes_options_before_between_or_after_its_positionals(tmp_path, capsys):
    from conformance.cli import main

    missing = str(tmp_path / "missing.jsonl")
    for argv in (["repro", missing, "--force", "case", "binding", "float32"],
                 ["repro", missing, "case", "--mode", "eager", "binding", "float32"],
                 ["repro", "--force", missing, "case", "binding", "float32", "--quantity", "grad"]):
        assert main(argv) == 2  # argparse would exit with 'unrecognized arguments' instead
        assert "missing.jsonl" in capsys.readouterr().err


def test_exclude_leaves_out_the_cases_it_names(tmp_path):
    import json

    out = tmp_path / "r.jsonl"
    done = cli("run", "--frameworks", "numpy", "--ops", "sigmoid_cross_entropy,softmax_cross_entropy", "--cases",
               "tutorial-*", "--exclude", "tutorial-5x3-*,sigmoid_cross_entropy[tutorial-5x3]", "--out", str(out),
               "--quiet")
    assert done.returncode == 0, done.stdout + done.stderr
    keys = {f"{r['op']}[{r['case']}]" for r in map(json.loads, out.read_text().splitlines()) if r["record"] == "check"}
    assert keys and all("[tutorial-" in k for k in keys)
    assert not any(k.startswith("sigmoid_cross_entropy") for k in keys)  # its tutorial cases are all excluded
