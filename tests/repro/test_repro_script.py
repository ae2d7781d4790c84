"""The repro command without a framework: escaping, literals, drawn inputs, errors and --all, on plain NumPy."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import numpy as np
import pytest

from conformance.generate import generate_inputs
from conformance.repro_inputs import generator_lines
from conformance.repro_script import array_source, docstring
from vector_files import vector_text
from fake_adapter import NASTY_BINDING
from repro_helpers import kit_run, printed, records, repro, run_alone, same_number

REPRO = "fake_adapter:ReproAdapter"
NASTY_COMMENT = 'He said """stop""" and \'\'\'go\'\'\'; a backslash \\ and \\n, a tab\tand a bell \a;\nnew line "'
NASTY = f"""
- id: nasty-comment
  comment: {json.dumps(NASTY_COMMENT)}
  source: {{inputs: hand-written, expected: reference-float64}}
  inputs: {{logits: [[1.0, -2.0, 30.5]], labels: [[0.0, 1.0, 0.25]]}}
  expected: [[1.3132616875182228, 2.1269280110429727, 22.874999999999996]]
"""
GENERATED = """
- id: drawn-64x40
  comment: a generated case over the inline limit
  source:
    inputs: generated
    generator:
      seed: 11
      shape: [64, 40]
      dtype: float32
      distributions:
        logits: {dist: normal, loc: 0.5, scale: 3.0}
        labels: {dist: bernoulli, p: 0.3}
    expected: reference-float64-at-run-time
"""


@pytest.fixture
def outside(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("outside")


def nasty_run(tmp_path: Path, write_vectors) -> Path:
    vectors = write_vectors("nasty.yaml", vector_text(NASTY))
    return kit_run(tmp_path / "nasty.jsonl", "--frameworks", REPRO, "--vectors", str(vectors), "--dtypes",
                   "float64")


def test_quotes_backslashes_and_newlines_cannot_break_the_script(tmp_path, write_vectors, outside):
    results = nasty_run(tmp_path, write_vectors)
    message = 'worst """ at \'\'\' \\ "x"\n second line \x00 \u2028 end"'
    lines = results.read_text().splitlines()
    edited = [json.loads(line) for line in lines]
    for record in edited:
        if record.get("binding") == NASTY_BINDING:
            record["message"] = message
    results.write_text("\n".join(json.dumps(r) for r in edited) + "\n")
    code, text, err = repro(str(results), "nasty-comment", NASTY_BINDING, "float64")
    assert code == 0, err
    tree = ast.parse(text)  # compiles
    compile(text, "repro.py", "exec")
    doc = " ".join(ast.get_docstring(tree, clean=False).split())
    for piece in (" ".join(NASTY_COMMENT.split()), " ".join(message.split()), NASTY_BINDING.split("\n")[0]):
        assert piece in doc, piece
    script = outside / "nasty.py"
    script.write_text(text, encoding="utf-8")
    done = run_alone(script, outside)
    assert done.returncode == 1 and "REPRODUCED:" in done.stdout, done.stdout + done.stderr
    record = next(r for r in records(results) if r["binding"] == NASTY_BINDING)
    assert same_number(printed(done.stdout)["actual"], record["worst"]["actual"])


def test_all_names_files_safely(tmp_path, write_vectors):
    results = nasty_run(tmp_path, write_vectors)
    code, _, err = repro(str(results), "--all")
    assert code == 0, err
    out = tmp_path / "nasty-repro"  # beside the results file by default
    names = sorted(p.name for p in out.glob("*.py"))
    assert len(names) == 3  # off, the nasty one, raises: three failing checks
    assert all(set(n) <= set("abcdefghijklmnopqrstuvwxyz0123456789._-ABCDEFGHIJKLMNOPQRSTUVWXYZ") for n in names)
    for name in names:
        compile((out / name).read_text(), name, "exec")
    index = (out / "README.md").read_text()
    assert index.count("\n| [") == 3  # one row per script, whatever the binding name holds


@pytest.mark.parametrize("values", [
    np.array([[1.5, -0.0, 5e-324, np.inf], [-np.inf, np.nan, 0.1, 1e308]]),
    np.float32([0.1, 3.4028235e38, 1.4e-45, -2.5]).astype(np.float64),
    np.array(0.30000000000000004), np.zeros((0, 3)), np.arange(-3, 40).reshape(43) * 1.1,
])
def test_array_literals_read_back_bit_for_bit(values):
    space = {"np": np}
    exec(array_source("x", values), space)
    assert space["x"].shape == values.shape and space["x"].dtype == np.float64
    assert np.array_equal(space["x"].view(np.int64), values.view(np.int64))


def test_integer_labels_stay_integers():
    space = {"np": np}
    exec(array_source("labels", np.array([2, -1], dtype=np.int64)), space)
    assert space["labels"].dtype == np.int64 and space["labels"].tolist() == [2, -1]


@pytest.mark.parametrize("text", ['plain', 'ends with a quote"', '"""', '""""""', "\\", "a\\\"\"\"b", "\x00\x07\r\t",
                                  "'''", "\u2028"])
def test_docstring_holds_exactly_the_text(text):
    assert ast.literal_eval(docstring(text)) == text + "\n"


@pytest.mark.parametrize("op, generator, params", [
    ("sigmoid_cross_entropy", {"seed": 3, "shape": [5, 7], "distributions": {
        "logits": {"dist": "normal", "loc": 0.5, "scale": 2.0}, "labels": {"dist": "bernoulli", "p": 0.4}}}, {}),
    ("sigmoid_cross_entropy", {"seed": 3, "shape": [5, 7], "dtype": "float32", "distributions": {
        "logits": {"dist": "normal", "loc": 0.5, "scale": 2.0}, "labels": {"dist": "uniform", "low": 0.0,
                                                                           "high": 1.0}}}, {}),
    ("sparse_softmax_cross_entropy", {"seed": 9, "shape": [6, 4], "dtype": "float32", "distributions": {
        "logits": {"dist": "normal", "loc": 0.0, "scale": 4.0}, "labels": {"dist": "integers", "low": 0, "high": 4}}},
     {"axis": -1}),
    ("softmax_cross_entropy", {"seed": 1, "shape": [3, 5, 2], "distributions": {
        "logits": {"dist": "uniform", "low": -3.0, "high": 3.0}, "labels": {"dist": "dirichlet", "alpha": 0.5}}},
     {"axis": 1}),
    ("softmax_cross_entropy", {"seed": 2, "shape": [4, 3], "distributions": {
        "logits": {"dist": "normal", "loc": 0.0, "scale": 1.0},
        "labels": {"dist": "dirichlet", "alpha": [1.0, 2.0, 0.5]}}}, {"axis": -1}),
    ("softmax_cross_entropy", {"seed": 4, "shape": [3, 4], "distributions": {
        "logits": {"dist": "normal", "loc": 0.0, "scale": 1.0}, "labels": {"dist": "onehot"}}}, {"axis": 0}),
])
def test_drawn_inputs_are_the_generators(op, generator, params):
    space = {"np": np}
    exec("\n".join(generator_lines(op, generator, params)), space)
    for name, value in generate_inputs(op, generator, params).items():
        assert space[name].dtype == value.dtype and np.array_equal(space[name], value), name


def test_large_generated_case_is_drawn_not_inlined(tmp_path, write_vectors, outside):
    vectors = write_vectors("drawn.yaml", vector_text(GENERATED, params="{reduction: mean}"))
    results = kit_run(tmp_path / "drawn.jsonl", "--frameworks", REPRO, "--vectors", str(vectors), "--dtypes",
                      "float32")
    code, text, err = repro(str(results), "drawn-64x40", "reproducible.off", "float32")
    assert code == 0, err
    assert "rng = np.random.default_rng(11)" in text and "drawn in the script from seed 11" in err
    assert len(text) < 8000  # 2560 logits are not written out
    done = run_alone(outside / "drawn.py", outside) if (outside / "drawn.py").write_text(text) else None
    assert done.returncode == 1 and "REPRODUCED:" in done.stdout, done.stdout + done.stderr
    record = next(r for r in records(results) if r["binding"] == "reproducible.off")
    assert same_number(printed(done.stdout)["actual"], record["worst"]["actual"])


def test_large_expected_value_gets_a_clear_error(tmp_path, write_vectors):
    vectors = write_vectors("drawn.yaml", vector_text(GENERATED, params="{reduction: none}"))
    results = kit_run(tmp_path / "drawn.jsonl", "--frameworks", REPRO, "--vectors", str(vectors), "--dtypes",
                      "float32")
    code, _, err = repro(str(results), "drawn-64x40", "reproducible.off", "float32")
    assert code == 2
    assert "2,560 elements" in err and "no standalone reproducer" in err


def test_stored_seeded_case_over_the_limit_is_drawn_from_its_seed(tmp_path, outside):
    results = kit_run(tmp_path / "seeded.jsonl", "--frameworks", "numpy", "--ops", "sigmoid_cross_entropy",
                      "--cases", "many-64x64-sum", "--dtypes", "float32")
    code, text, err = repro(str(results), "many-64x64-sum", "conformance.reference.sigmoid_cross_entropy",
                            "float32", "--force")
    assert code == 0, err
    assert "rng = np.random.default_rng(5)" in text and "logits = logits.astype(np.float32)" in text
    (outside / "seeded.py").write_text(text)
    done = run_alone(outside / "seeded.py", outside)
    assert done.returncode == 0 and "NOT REPRODUCED:" in done.stdout, done.stdout + done.stderr
    (record,) = records(results)
    assert same_number(printed(done.stdout)["actual"], record["worst"]["actual"])


def test_error_record_script_raises_the_ops_exception(tmp_path, write_vectors, outside):
    results = nasty_run(tmp_path, write_vectors)
    code, text, err = repro(str(results), "nasty-comment", "reproducible.raises", "float64")
    assert code == 0, err
    (outside / "raises.py").write_text(text)
    done = run_alone(outside / "raises.py", outside)
    assert done.returncode == 1 and "ValueError: the fake op refuses" in done.stderr


def test_results_that_are_not_json_name_the_file_and_line(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"record": "header"}\nnot json at all\n')
    code, _, err = repro(str(bad), "x", "y", "float32")
    assert code == 2 and f"{bad}:2: not a JSON record" in err
    empty = tmp_path / "empty.jsonl"
    empty.write_text('{"record": "header"}\n')
    code, _, err = repro(str(empty), "x", "y", "float32")
    assert code == 2 and "holds no check records" in err
    code, _, err = repro(str(tmp_path / "missing.jsonl"), "x", "y", "float32")
    assert code == 2 and "missing.jsonl" in err and "cannot read" in err


def test_adapter_without_the_hook_says_so(tmp_path, write_vectors):
    vectors = write_vectors("nasty.yaml", vector_text(NASTY))
    results = kit_run(tmp_path / "fake.jsonl", "--frameworks", f"fake_adapter:FakeAdapter,{REPRO}", "--vectors",
                      str(vectors), "--dtypes", "float64")
    code, _, err = repro(str(results), "nasty-comment", "fake.wrong", "float64")
    assert code == 2 and "the fake adapter gives no reproducer" in err
    code, _, err = repro(str(results), "--all", "-o", str(tmp_path / "all"))
    assert code == 2 and "no script for sigmoid_cross_entropy[nasty-comment] fake.wrong" in err
    index = (tmp_path / "all" / "README.md").read_text()
    without = index.split("## Checks without a script")[1]
    assert "fake.wrong" in without and "fake.raises" in without and "gives no reproducer" in without
    assert len(list((tmp_path / "all").glob("*.py"))) == 3  # the reproducible adapter's three still written


def test_arguments_are_checked(tmp_path, write_vectors):
    results = nasty_run(tmp_path, write_vectors)
    code, _, err = repro(str(results), "nasty-comment")
    assert code == 2 and "BINDING" in err and "DTYPE" in err
    code, _, err = repro(str(results), "nasty-comment", "--all")
    assert code == 2 and "--all takes no CASE" in err
    target = tmp_path / "one.py"
    code, out, err = repro(str(results), "nasty-comment", "reproducible.off", "float64", "-o", str(target))
    assert code == 0 and out == "" and str(target) in err
    compile(target.read_text(), str(target), "exec")


def test_crashed_check_just_runs_the_call(tmp_path, write_vectors, outside):
    vectors = write_vectors("nasty.yaml", vector_text(NASTY))
    results = kit_run(tmp_path / "crash.jsonl", "--frameworks", "fake_adapter:CrashingReproAdapter", "--vectors",
                      str(vectors), "--dtypes", "float64")
    (record,) = records(results)
    assert record["status"] == "crashed"
    code, text, err = repro(str(results), "nasty-comment", "crashingrepro.abort", "float64")
    assert code == 0, err
    assert "crashes the process" in text and "expected = " not in text
    (outside / "crash.py").write_text(text)
    done = run_alone(outside / "crash.py", outside)
    assert done.returncode < 0  # killed by the signal the worker died of: the crash reproduces by itself


MUST_RAISE = """
- id: must-raise
  comment: a case whose op must raise (the fake ops return a number)
  source: {inputs: hand-written}
  inputs: {logits: [[1.0, -2.0]], labels: [[0.0, 1.0]]}
  outcome: raises
"""


def test_raises_case_reproduces_when_a_value_comes_back(tmp_path, write_vectors, outside):
    vectors = write_vectors("raise.yaml", vector_text(MUST_RAISE))
    results = kit_run(tmp_path / "raise.jsonl", "--frameworks", REPRO, "--vectors", str(vectors), "--dtypes",
                      "float32")
    status = {r["binding"]: r["status"] for r in records(results)}
    assert status["reproducible.softplus"] == "fail" and status["reproducible.raises"] == "pass"
    for binding, exit_code, verdict in (("reproducible.softplus", 1, "REPRODUCED: returned"),
                                        ("reproducible.raises", 0, "NOT REPRODUCED: raised ValueError")):
        code, text, err = repro(str(results), "must-raise", binding, "float32", "--force")
        assert code == 0, err
        assert "expected = " not in text and "the op must raise" in text
        (outside / "raise.py").write_text(text)
        done = run_alone(outside / "raise.py", outside)
        assert done.returncode == exit_code and verdict in done.stdout, done.stdout + done.stderr
