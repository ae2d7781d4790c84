"""An interrupted run keeps every finished record, closes its file and says it is incomplete."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

SUPPORT = Path(__file__).resolve().parents[1] / "support"


def test_sigterm_keeps_finished_records_and_marks_the_run_incomplete(tmp_path):
    out = tmp_path / "r.jsonl"
    process = subprocess.Popen(
        [sys.executable, "-m", "conformance", "run", "--frameworks", "numpy,fake_adapter:FinishThenHangAdapter", "--ops",
         "sigmoid_cross_entropy", "--cases", "tutorial-5x3", "--dtypes", "float64", "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={"PYTHONPATH": str(SUPPORT), "PATH": "/usr/bin"})
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # wait until the worker is busy in the hanging check
        time.sleep(0.5)
        if out.exists() and '"finishthenhang.good"' in out.read_text():
            time.sleep(1)
            break
    process.send_signal(signal.SIGTERM)
    stdout, _ = process.communicate(timeout=60)
    assert process.returncode == 130
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert records[0]["record"] == "header"
    finished = [(r["binding"], r["status"]) for r in records[1:-1]]
    # numpy ran beside the hanging framework and finished; nothing after the interrupt is made up
    assert ("finishthenhang.good", "pass") in finished
    assert ("conformance.reference.sigmoid_cross_entropy", "pass") in finished
    assert {status for _, status in finished} == {"pass"}
    assert records[-1]["record"] == "summary" and records[-1]["complete"] is False
    assert records[-1]["counts"]["pass"] == len(finished)
    assert "RUN INCOMPLETE" in stdout
