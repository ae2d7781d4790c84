"""The progress bar: drawn on a terminal, never into a pipe or with --quiet."""

from __future__ import annotations

import io
import os
import pty
import subprocess
import sys

from conformance.progress import Progress


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_draws_only_after_the_delay_and_clears():
    stream, clock = io.StringIO(), Clock()
    progress = Progress(stream, enabled=True, delay=2.0, clock=clock)
    progress.update({"framework": "torch", "op": "mean_squared_error", "case": "c1", "dtype": "float32",
                     "status": "fail"})
    progress.draw()
    assert stream.getvalue() == ""  # a short run shows nothing
    clock.now = 3.0
    progress.draw()
    assert "1 checks, 1 failing, 3 s  torch: mean_squared_error[c1] float32" in stream.getvalue()
    progress.clear()
    assert stream.getvalue().endswith("\r\033[K") and not progress.shown


def test_off_when_disabled():
    stream, clock = io.StringIO(), Clock()
    progress = Progress(stream, enabled=False, clock=clock)
    clock.now = 100.0
    progress.draw()
    assert stream.getvalue() == ""
    assert not Progress.for_terminal(io.StringIO(), quiet=False).enabled


def _run_on_terminal(tmp_path, *extra):
    """Run the CLI with stderr on a pseudo-terminal; return what the terminal got."""
    leader, follower = pty.openpty()
    # sigmoid cross-entropy under torch takes a few seconds: long enough for the bar
    done = subprocess.run([sys.executable, "-m", "conformance", "run", "--frameworks", "numpy,torch", "--ops",
                           "sigmoid_cross_entropy,softmax_cross_entropy", "--dtypes", "float16,bfloat16,float32,float64",
                           "--out", str(tmp_path / "r.jsonl"), *extra],
                          stdout=subprocess.DEVNULL, stderr=follower, timeout=300)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    return done.returncode, b"".join(chunks).decode(errors="replace")


def test_a_long_run_on_a_terminal_shows_the_bar_and_quiet_hides_it(tmp_path):
    code, seen = _run_on_terminal(tmp_path)
    assert code in (0, 1)
    assert "\r\033[K" in seen and " checks" in seen
    assert "s  torch: " in seen or "s  numpy: " in seen
    code, seen = _run_on_terminal(tmp_path, "--quiet")
    assert " checks" not in seen


def test_no_bar_into_a_pipe(tmp_path):
    done = subprocess.run([sys.executable, "-m", "conformance", "run", "--frameworks", "numpy", "--ops",
                           "sigmoid_cross_entropy", "--out", str(tmp_path / "r.jsonl")],
                          capture_output=True, text=True, timeout=300)
    assert "\033[K" not in done.stderr and "\033[K" not in done.stdout
