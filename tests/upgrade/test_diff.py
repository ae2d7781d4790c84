"""The diff between two results files: every class of change, the warnings, the Markdown and the exit codes."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from conformance.diff import classify, diff
from conformance.resultset import read_run
from results_files import check, header, write

INF = float("inf")


def cli(*args):
    return subprocess.run([sys.executable, "-m", "conformance", *map(str, args)], capture_output=True, text=True,
                          timeout=120)


def pair(tmp_path, old: list[dict], new: list[dict], old_head=None, new_head=None):
    a = write(tmp_path / "old.jsonl", old, old_head or header({"torch": "2.12.0"}))
    b = write(tmp_path / "new.jsonl", new, new_head or header({"torch": "2.13.0"}))
    return a, b


@pytest.mark.parametrize("before, after, kind", [
    (check(status="pass"), check(status="fail", ulp=90.0, over=3.0), "regression"),
    (check(status="pass"), check(status="error", ulp=None, over=None), "regression"),
    (check(status="definition-difference"), check(status="fail"), "regression"),
    (check(status="fail"), check(status="crashed", ulp=None, over=None), "regression"),
    (check(status="pass"), check(status="timeout", ulp=None, over=None), "regression"),
    (check(status="fail", ulp=90.0), check(status="pass", ulp=1.0), "fix"),
    (check(status="fail"), check(status="error"), "still-failing"),
    (check(ulp=1.0), check(ulp=4.5), "drift"),
    (check(ulp=0.01), check(ulp=4.5), "drift"),  # measured from one ulp, not from 0.01
    (check(ulp=1.0), check(ulp=3.9), None),
    (check(ulp=0.01), check(ulp=0.9), None),  # both below one ulp: rounding noise
    (check(ulp=2.0), check(ulp=INF), "drift"),
    (check(ulp=None, message="implementation-defined: raised IndexError: x"),
     check(ulp=None, message="implementation-defined: returned number"), "behaviour"),
    (check(ulp=None, message="implementation-defined: returned nan"),
     check(ulp=None, message="implementation-defined: returned nan"), None),
    (check(status="pass"), check(status="definition-difference"), "behaviour"),
])
def test_each_change_falls_in_its_class(before, after, kind):
    found = classify(before, after, factor=4.0)
    assert (found[0] if found else None) == kind


def test_added_removed_unchanged_and_the_exit_code(tmp_path):
    old = [check("same"), check("gone", binding="torch.old"), check("breaks")]
    new = [check("same"), check("new", binding="torch.new"), check("breaks", status="fail", ulp=50.0, over=9.0),
           check("never", status="not-applicable", ulp=None, over=None)]
    a, b = pair(tmp_path, old, new)
    result = diff([read_run(a)], [read_run(b)])
    assert result.unchanged == 1 and len(result.regressions) == 1
    assert [k[1] for k in result.added] == ["torch.new"] and [k[1] for k in result.removed] == ["torch.old"]
    done = cli("diff", a, b)
    assert done.returncode == 1
    assert "❌ **1 regression(s)**" in done.stdout and "mean_squared_error[breaks]" in done.stdout
    done = cli("diff", a, a)
    assert done.returncode == 0 and "✅ **No regressions**" in done.stdout


def test_median_and_p99_drift_per_framework_and_dtype(tmp_path):
    rng = np.random.default_rng(7)
    before, after = rng.uniform(0, 3, 40), rng.uniform(0, 6, 40)
    old = [check(f"c{i}", ulp=float(u)) for i, u in enumerate(before)]
    new = [check(f"c{i}", ulp=float(u)) for i, u in enumerate(after)]
    a, b = pair(tmp_path, old, new)
    (drift,) = diff([read_run(a)], [read_run(b)]).drifts
    assert drift.checks == 40
    assert drift.old_median == pytest.approx(np.median(before)) and drift.new_median == pytest.approx(np.median(after))
    assert drift.new_p99 == pytest.approx(np.percentile(after, 99))


def test_warns_when_more_than_the_upgraded_framework_changed(tmp_path):
    old_head = header({"torch": "2.12.0", "jax": "0.6.2"}, python="3.11.7")
    new_head = header({"torch": "2.13.0", "jax": "0.10.2"}, python="3.12.1")
    a, b = pair(tmp_path, [check()], [check()], old_head, new_head)
    warnings = diff([read_run(a)], [read_run(b)], upgraded="torch").warnings
    assert any("framework jax changed too" in w for w in warnings)
    assert any(w.startswith("Python changed too: 3.11.7 → 3.12.1") for w in warnings)
    assert not any("torch" in w for w in warnings)
    a, b = pair(tmp_path, [check()], [check()])
    assert diff([read_run(a)], [read_run(b)]).warnings == []  # only torch changed: nothing to warn about
    done = cli("diff", *pair(tmp_path, [check()], [check()], old_head, new_head), "--upgraded", "torch")
    assert "> ⚠️ framework jax changed too" in done.stdout


def test_markdown_escapes_and_limits(tmp_path):
    nasty = "c|<img src=x onerror=alert(1)>"
    old = [check(f"{nasty}{i}") for i in range(5)]
    new = [check(f"{nasty}{i}", status="fail", ulp=99.0, over=4.0) for i in range(5)]
    done = cli("diff", *pair(tmp_path, old, new), "--limit", "2", "-o", tmp_path / "diff.md")
    assert done.returncode == 1
    assert "<img" not in done.stdout and "c\\|&lt;img" in done.stdout
    assert "… and 3 more" in done.stdout
    assert (tmp_path / "diff.md").read_text().strip() == done.stdout.strip()


def test_bad_input_exits_2(tmp_path):
    good = write(tmp_path / "good.jsonl", [check()])
    (tmp_path / "bad.jsonl").write_text("nonsense\n")
    done = cli("diff", good, tmp_path / "bad.jsonl")
    assert done.returncode == 2 and "bad.jsonl:1" in done.stderr
    done = cli("diff", good, good, "--drift-factor", "0.5")
    assert done.returncode == 2 and "drift factor" in done.stderr


def test_a_call_the_old_api_rejected_is_newly_supported_not_a_fix():
    old = check(status="error", ulp=None, over=None, classification="wrong-call",
                message="TypeError: f() got an unexpected keyword argument 'axis'")
    assert classify(old, check(status="pass"), 4.0)[0] == "supported"
    assert classify(check(status="pass"), old, 4.0)[0] == "regression"  # an API that drops an argument regresses


def test_warns_when_a_companion_package_changed_beside_the_framework(tmp_path):
    def jax_header(jax: str, optax: str) -> dict:
        head = header({"jax": jax})
        head["frameworks"]["jax"]["versions"].update(jaxlib=jax, optax=optax)
        return head

    a, b = pair(tmp_path, [check()], [check()], jax_header("0.4.30", "0.2.3"), jax_header("0.10.2", "0.2.8"))
    warnings = diff([read_run(a)], [read_run(b)]).warnings
    assert len(warnings) == 1 and warnings[0].startswith("optax changed too (0.2.3 → 0.2.8), beside jax")
    a, b = pair(tmp_path, [check()], [check()], jax_header("0.6.2", "0.2.8"), jax_header("0.10.2", "0.2.8"))
    assert diff([read_run(a)], [read_run(b)]).warnings == []  # jaxlib moved with jax: that is the upgrade
