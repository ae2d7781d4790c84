"""The worker process: loads one framework's adapter and runs checks sent to it.

Each framework runs in a worker of its own, so a framework that crashes, hangs
or poisons its process (a CUDA device-side assert) takes only its worker down;
the runner restarts it and goes on. The worker's stdout and stderr go to a log
file, whose tail the runner attaches to a crash record.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from conformance.adapter import resolve_adapter
from conformance.check import CallCache, TargetCache, run_check


def peak_rss_mb() -> float:
    """Return this process's peak resident memory so far, in MiB."""
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (1024 * 1024 if sys.platform == "darwin" else 1024), 1)


def _redirect_output(log_path: str | None) -> None:
    if not log_path:
        return
    log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)


def serve(conn: Any, ref: str, log_path: str | None = None) -> None:
    """Run the checks the runner sends over ``conn`` until told to stop."""
    _redirect_output(log_path)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        adapter = resolve_adapter(ref)
        fw = adapter.load()
    except BaseException as exc:  # report any load failure, then exit: nothing else can run here
        conn.send(("load-error", f"{type(exc).__name__}: {exc}"))
        return
    bindings = {(b.op, b.name): b for b in adapter.bindings}
    conn.send(("ready", None))
    cases: list = []
    cache, targets = CallCache(), TargetCache()
    current: tuple = (None, None)
    while True:
        message = conn.recv()
        if message[0] == "stop":
            return
        if message[0] == "cases":
            cases = message[1]
            continue
        for number, (case_index, op, name, dtype, mode, device, quantity) in message[1]:
            if cases[case_index].generator and current[0] != case_index:
                current = (case_index, cases[case_index].materialized())  # draw once, keep only one at a time
            case = current[1] if current[0] == case_index else cases[case_index]
            fields = run_check(adapter, fw, bindings[(op, name)], case, dtype, mode, device, quantity, cache,
                               targets)
            fields["peak_rss_mb"] = peak_rss_mb()
            poisoned = fields.pop("poisoned", False)
            conn.send(("record", number, fields))
            if poisoned:  # e.g. a CUDA device-side assert: this process can run nothing more
                conn.send(("poisoned", None))
                return
        conn.send(("done", None))
