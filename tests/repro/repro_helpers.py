"""Helpers of the repro tests: run the kit, the repro command and a script, and read what a script printed."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

from conformance import repro_cli

SUPPORT = Path(__file__).resolve().parents[1] / "support"


def kit_run(out: Path, *args: str, timeout: int = 600) -> Path:
    """Run ``python -m conformance run ARGS --out OUT`` (the fake adapters importable); return OUT."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(SUPPORT), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run([sys.executable, "-m", "conformance", "run", *args, "--out", str(out), "--quiet"],
                          capture_output=True, text=True, env=env, timeout=timeout)
    assert done.returncode in (0, 1), done.stdout + done.stderr
    return out


def records(path: Path) -> list[dict]:
    """Return the check records of a results file."""
    return [r for r in map(json.loads, Path(path).read_text().splitlines()) if r["record"] == "check"]


def repro(*argv: str) -> tuple[int, str, str]:
    """Run ``repro ARGV`` in this process; return (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = repro_cli.run(list(argv))
    return code, out.getvalue(), err.getvalue()


def run_alone(script: Path, cwd: Path, timeout: int = 300) -> subprocess.CompletedProcess:
    """Run a script with this interpreter from ``cwd``, as a user would: no PYTHONPATH, nothing of the repo."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP")}
    return subprocess.run([sys.executable, "-I", str(script)], capture_output=True, text=True, cwd=cwd, env=env,
                          timeout=timeout)


WORST = re.compile(r"^worst element: index (?P<index>\[[^\]]*\]); expected (?P<expected>\S+); actual (?P<actual>\S+); "
                   r"abs error (?P<abs_err>\S+); bound (?P<bound>\S+)$", re.M)
MAX_ABS = re.compile(r"^max abs error: (?P<value>\S+)$", re.M)


def printed(stdout: str) -> dict:
    """Return the worst element and max abs error a script printed, as numbers ({} when it printed none)."""
    found = WORST.search(stdout)
    if not found:
        return {}
    values = {k: float(v) for k, v in found.groupdict().items() if k != "index"}
    values["index"] = json.loads(found["index"])
    values["max_abs_err"] = float(MAX_ABS.search(stdout)["value"])
    return values


def same_number(a, b) -> bool:
    """Return whether two numbers (floats or the results file's "nan"/"inf" strings) are the same float."""
    a, b = float(a), float(b)
    return a == b or (a != a and b != b)
