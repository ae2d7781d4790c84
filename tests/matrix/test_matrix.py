"""The matrix model, its merge of several results files, and the md / csv / json formats."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import numpy as np
import pytest

from conformance.matrix import build, cell_text
from conformance.resultset import ResultsError, read_run, read_runs
from results_files import check, header, write


def cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "conformance", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=300)


def test_merge_keeps_each_machine_and_version_apart(tmp_path):
    cpu = write(tmp_path / "cpu.jsonl", [check("c1", ulp=1.0), check("c2", ulp=2.0)],
                header({"torch": "2.13.0"}, cpu="Xeon A"))
    gpu = write(tmp_path / "gpu.jsonl", [check("c1", ulp=3.0, device="cuda", version="2.11.0")],
                header({"torch": "2.11.0"}, cpu="Xeon B", gpu=["NVIDIA H100 80GB HBM3, 580.1"]))
    matrix = build(read_runs([cpu, gpu]))
    machines = {(c.device, c.machine, c.version) for c in matrix.columns}
    assert machines == {("cpu", "Xeon A", "2.13.0"), ("cuda", "NVIDIA H100 80GB HBM3", "2.11.0")}
    assert [r.case for r in matrix.rows] == ["c1", "c2"]
    assert sum(len(cell.checks) for cell in matrix.cells.values()) == 3


def test_a_later_file_replaces_the_same_check_on_the_same_machine(tmp_path):
    first = write(tmp_path / "a.jsonl", [check("c1", status="fail", ulp=50.0, over=3.0)])
    second = write(tmp_path / "b.jsonl", [check("c1", status="pass", ulp=1.0)])
    matrix = build(read_runs([first, second]))
    (cell,) = matrix.cells.values()
    assert cell.status == "pass" and cell.ulp.max == 1.0


def test_an_aggregated_cell_gives_median_p99_max_and_names_the_worst_case(tmp_path):
    ulps = [1.0, 2.0, 3.0, 4.0, 100.0, 0.25]
    records = [check(f"case{i}", ulp=u, over=u / 200) for i, u in enumerate(ulps)]
    matrix = build(read_runs([write(tmp_path / "r.jsonl", records)]), rows="op")
    (cell,) = matrix.cells.values()
    assert cell.ulp.median == pytest.approx(np.median(ulps))
    assert cell.ulp.p99 == pytest.approx(np.percentile(ulps, 99))
    assert cell.ulp.max == 100.0 and cell.ulp.worst == "mean_squared_error[case4]"
    assert cell_text(cell).startswith("6/6 pass")


def test_the_worst_status_decides_a_cell_and_definition_differences_are_not_failures(tmp_path):
    records = [check("a"), check("b", status="definition-difference", ulp=float("inf"), over=float("inf"),
                                 classification="definition-difference: log-clamp-100")]
    matrix = build(read_runs([write(tmp_path / "r.jsonl", records)]), rows="op")
    (cell,) = matrix.cells.values()
    assert cell.status == "definition-difference" and cell.conventions == ("log-clamp-100",)
    records.append(check("c", status="crashed", ulp=None, over=None))
    matrix = build(read_runs([write(tmp_path / "r2.jsonl", records)]), rows="op")
    assert next(iter(matrix.cells.values())).status == "crashed"


def test_rows_and_columns_where_nothing_ran_are_left_out_unless_asked(tmp_path):
    records = [check("ran"), check("never", status="not-applicable", ulp=None, over=None),
               check("ran", binding="torch.other", status="not-applicable", ulp=None, over=None)]
    runs = read_runs([write(tmp_path / "r.jsonl", records)])
    assert [r.case for r in build(runs).rows] == ["ran"] and len(build(runs).columns) == 1
    full = build(runs, include_not_applicable=True)
    assert len(full.rows) == 2 and len(full.columns) == 2


def test_distributions_count_each_decade_of_ulps_per_framework_and_dtype(tmp_path):
    ulps = {"float32": [0.5, 0.9, 3.0, 40.0, float("inf")], "float64": [0.0, 2e5]}
    records = [check(f"c{i}", ulp=u, dtype=dtype) for dtype, us in ulps.items() for i, u in enumerate(us)]
    records.append(check("err", status="error", ulp=None, over=None))  # nothing compared: not in the distribution
    matrix = build(read_runs([write(tmp_path / "r.jsonl", records)]))
    by_dtype = {d.dtype: d for d in matrix.distributions()}
    edges = [0, 1, 10, 100, 1e3, 1e4, 1e5, 1e6, np.inf]
    for dtype, us in ulps.items():
        finite = [u for u in us if np.isfinite(u)]
        expected = list(np.histogram(finite, bins=edges)[0]) + [len(us) - len(finite)]
        assert by_dtype[dtype].counts == expected


def test_framework_summary_counts_rate_worst_and_implementation_defined_behaviour(tmp_path):
    records = [check("a", ulp=1.0), check("b", status="fail", ulp=900.0, over=12.0),
               check("odd", ulp=None, over=None, message="implementation-defined: raised IndexError: bad label"),
               check("odd2", ulp=None, over=None, message="implementation-defined: returned number"),
               check("na", status="not-applicable", ulp=None, over=None)]
    (summary,) = build(read_runs([write(tmp_path / "r.jsonl", records)])).frameworks()
    assert summary.checks == 4 and summary.pass_rate == pytest.approx(3 / 4)
    assert summary.ulp.max == 900.0 and summary.ulp.worst == "mean_squared_error[b]"
    assert dict(summary.behaviours) == {"raised IndexError": 1, "returned number": 1}


@pytest.mark.parametrize("fmt", ["md", "csv", "json"])
def test_every_format_from_the_command_line(tmp_path, fmt):
    records = [check("a", ulp=1.0), check("b", status="fail", ulp=900.0, over=12.0, dtype="float64"),
               check("a", op="softmax_cross_entropy", binding="torch.ce", ulp=float("inf"), over=float("inf"),
                     status="definition-difference", classification="definition-difference: log-clamp-100")]
    results = write(tmp_path / "r.jsonl", records)
    out = tmp_path / f"matrix.{fmt}"
    done = cli("matrix", results, "-o", out)  # the format comes from the suffix
    assert done.returncode == 0, done.stderr
    text = out.read_text()
    if fmt == "md":
        assert "### mean_squared_error" in text and "### softmax_cross_entropy" in text
        assert "❌ fail 900 ulp 12× bound" in text and "🔷" in text and "log-clamp-100" in text
    elif fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(text)))
        assert len(rows) == 3
        failing = next(r for r in rows if r["status"] == "fail")
        assert (failing["case"], failing["dtype"], float(failing["ulp_max"])) == ("b", "float64", 900.0)
    else:
        document = json.loads(text)
        assert document["format"] == "loss-conformance-matrix/1" and len(document["cells"]) == 3
        inf_cell = next(c for c in document["cells"] if c["op"] == "softmax_cross_entropy")
        assert inf_cell["ulp_max"] == "inf" and inf_cell["conventions"] == "log-clamp-100"


def test_markdown_escapes_what_comes_from_vectors_and_exceptions(tmp_path):
    nasty = "x|<script>alert(1)</script>"
    results = write(tmp_path / "r.jsonl", [check(nasty, status="fail", ulp=5.0, over=2.0, binding="b|<i>")])
    text = cli("matrix", results, "--rows", "case", "--format", "md").stdout
    assert "<script>" not in text and "<i>" not in text
    assert "x\\|&lt;script&gt;" in text


def test_a_file_that_is_not_results_is_named_with_its_line(tmp_path):
    good = write(tmp_path / "good.jsonl", [check()])
    bad = tmp_path / "bad.jsonl"
    bad.write_text(good.read_text().splitlines()[0] + "\n{not json\n")
    done = cli("matrix", good, bad)
    assert done.returncode == 2 and f"{bad}:2: not a JSON record" in done.stderr
    with pytest.raises(ResultsError, match="no header record"):
        (tmp_path / "headless.jsonl").write_text(json.dumps(check()) + "\n")
        read_run(tmp_path / "headless.jsonl")


def test_a_real_run_makes_a_matrix(tmp_path):
    out = tmp_path / "r.jsonl"
    done = cli("run", "--frameworks", "numpy", "--ops", "sigmoid_cross_entropy", "--cases", "tutorial-*",
               "--out", out, "--quiet")
    assert done.returncode == 0, done.stdout + done.stderr
    matrix = build(read_runs([out]))
    statuses = {cell.status for cell in matrix.cells.values()}
    assert statuses == {"pass"} and {c.dtype for c in matrix.columns} == {"float32", "float64"}
    md = cli("matrix", out).stdout
    assert "conformance.reference.sigmoid_cross_entropy" in md and "numpy" in md


def test_gzipped_results_files_read_like_plain_ones(tmp_path):
    import gzip

    plain = write(tmp_path / "r.jsonl", [check("a", ulp=2.0), check("b", status="fail", ulp=80.0, over=5.0)])
    packed = tmp_path / "r.jsonl.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    assert read_run(packed).checks == read_run(plain).checks
    packed.write_bytes(gzip.compress(plain.read_bytes())[:-30])  # cut short
    with pytest.raises(ResultsError, match="r.jsonl.gz:"):
        read_run(packed)


def test_distributions_of_merged_files_keep_versions_and_devices_apart(tmp_path):
    cpu = write(tmp_path / "cpu.jsonl", [check("a", ulp=1.5)], header({"torch": "2.13.0"}))
    gpu = write(tmp_path / "gpu.jsonl", [check("a", ulp=0.5, device="cuda", version="2.11.0")],
                header({"torch": "2.11.0"}, gpu=["H100, 1"]))
    labels = {d.framework: d.counts for d in build(read_runs([cpu, gpu])).distributions()}
    assert set(labels) == {"torch 2.13.0 cpu", "torch 2.11.0 cuda"}
    assert labels["torch 2.11.0 cuda"][0] == 1 and labels["torch 2.13.0 cpu"][1] == 1
    assert [d.framework for d in build(read_runs([cpu])).distributions()] == ["torch"]


@pytest.mark.parametrize("suffix", ["md", "html"])
def test_run_writes_its_matrix_when_asked(tmp_path, suffix):
    done = cli("run", "--frameworks", "numpy", "--ops", "mean_squared_error", "--cases", "exact*",
               "--out", tmp_path / "r.jsonl", "--matrix", tmp_path / f"m.{suffix}", "--quiet")
    assert done.returncode == 0, done.stdout + done.stderr
    text = (tmp_path / f"m.{suffix}").read_text()
    assert "conformance.reference.mean_squared_error" in text
    assert text.lstrip().startswith("<!DOCTYPE html>" if suffix == "html" else "# ")
