"""``--conformance-report``: the pytest run's results file, record for record what the CLI writes."""

from __future__ import annotations

import os
import subprocess
import sys

from plugin_helpers import FAKE, SIGMOID, SUPPORT, conformance_args, quick_inner_runs, read_records, write_vectors

pytest_plugins = ["pytester"]
__all__ = ["quick_inner_runs"]  # an autouse fixture

VOLATILE = ("seconds", "peak_rss_mb")


def checks_by_key(records: list[dict]) -> dict[tuple, dict]:
    return {(r["framework"], r["binding"], r["case"], r["dtype"]): {k: v for k, v in r.items() if k not in VOLATILE}
            for r in records if r["record"] == "check"}


def test_the_report_holds_the_same_records_as_the_cli(pytester, tmp_path):
    vectors = write_vectors(pytester, SIGMOID)
    result = pytester.runpytest(*conformance_args(vectors, f"{FAKE},numpy", "--conformance-report=r.jsonl"))
    result.stdout.fnmatch_lines(["conformance results: *r.jsonl"])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SUPPORT), os.environ.get("PYTHONPATH", "")])}
    cli = subprocess.run([sys.executable, "-m", "conformance", "run", "--frameworks", f"{FAKE},numpy", "--vectors",
                          str(vectors), "--dtypes", "float64", "--out", str(tmp_path / "cli.jsonl")],
                         capture_output=True, text=True, env=env, timeout=300)
    assert cli.returncode == 1, cli.stderr  # fake.wrong fails: a verdict
    ours, theirs = read_records(pytester.path / "r.jsonl"), read_records(tmp_path / "cli.jsonl")
    assert ours[0]["record"] == "header" and ours[0]["format"] == theirs[0]["format"]
    assert ours[0]["vectors_digest"] == theirs[0]["vectors_digest"]
    assert set(ours[0]["frameworks"]) == set(theirs[0]["frameworks"]) == {FAKE, "numpy"}
    assert ours[0]["argv"][0] == "--conformance"
    assert checks_by_key(ours) == checks_by_key(theirs)  # same verdicts, same messages, same numbers
    assert len(checks_by_key(ours)) == 10  # 2 cases x (4 fake bindings + the reference run by numpy)
    assert ours[-1]["record"] == "summary" and ours[-1]["counts"] == theirs[-1]["counts"]
    assert ours[-1]["complete"] is True


def test_a_run_stopped_by_x_says_it_is_incomplete(pytester):
    vectors = write_vectors(pytester, SIGMOID)
    pytester.runpytest(*conformance_args(vectors, FAKE, "-x", "--conformance-report=r.jsonl"))
    records = read_records(pytester.path / "r.jsonl")
    assert [r["record"] for r in records] == ["header", "check", "check", "summary"]  # stopped at fake.wrong
    assert records[-1]["complete"] is False
