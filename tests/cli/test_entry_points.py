"""A third-party adapter, registered through the conformance.adapters entry-point group, becomes a column of the run."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

SUPPORT = Path(__file__).resolve().parents[1] / "support"


def install_fake_distribution(site: Path) -> None:
    """Lay out what pip would install for a package declaring an adapter entry point."""
    shutil.copy(SUPPORT / "fake_adapter.py", site / "thirdparty_adapter.py")
    info = site / "thirdparty_losses-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: thirdparty-losses\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        "[conformance.adapters]\nfake = thirdparty_adapter:FakeAdapter\ncrashing = thirdparty_adapter:CrashingAdapter\n")


def test_registered_adapter_is_listed_and_runs(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    install_fake_distribution(site)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}
    listed = subprocess.run([sys.executable, "-m", "conformance", "adapters"], capture_output=True, text=True,
                            env=env, timeout=120)
    assert "fake (numpy " in listed.stdout and "  sigmoid_cross_entropy            fake.wrong" in listed.stdout
    out = tmp_path / "r.jsonl"
    done = subprocess.run([sys.executable, "-m", "conformance", "run", "--frameworks", "fake,crashing", "--ops",
                           "sigmoid_cross_entropy", "--cases", "tutorial-5x3", "--dtypes", "float64", "--out",
                           str(out)], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 1  # fake.wrong fails, crashing.abort crashes: verdicts, not a broken run
    records = [json.loads(line) for line in out.read_text().splitlines()]
    status = {r["binding"]: r["status"] for r in records if r["record"] == "check"}
    assert status == {"fake.good": "pass", "fake.wrong": "fail", "fake.raises": "error",
                      "fake.sum_only": "not-applicable", "crashing.good": "pass", "crashing.abort": "crashed",
                      "crashing.after": "pass"}
    assert records[0]["frameworks"]["fake"]["available"] is True
