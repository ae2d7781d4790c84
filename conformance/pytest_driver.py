"""Running ``--conformance`` items: one check at a time, in the framework's own worker process.

The pytest process never imports a framework: each framework's checks run in a
worker process of its own (the runner's), started when its first item runs and
kept for the items that follow, so the framework loads once per pytest process
(once per pytest-xdist worker with ``-n``). A worker that crashes or hangs
costs one item (``crashed`` / ``timeout``) and is restarted for the next.
"""

from __future__ import annotations

from conformance.pytest_plan import Check
from conformance.results import check_record
from conformance.runner import RunOptions, describe_death, Worker


class FrameworkDriver:
    """One framework's worker process, fed one check per item."""

    def __init__(self, ref: str, cases: list, options: RunOptions):
        self.ref = ref
        self.cases = cases
        self.options = options
        self.worker: Worker | None = None
        self.load_error: str | None = None

    def _start(self) -> None:
        worker = Worker(self.ref)
        kind, payload = worker.receive(self.options.load_timeout)
        if kind == "ready":
            worker.conn.send(("cases", [case.for_worker() for case in self.cases]))
            self.worker = worker
            return
        if kind == "load-error":
            why = payload
        elif kind == "died":
            why = describe_death(payload, worker.log_tail())
        else:
            why = f"framework did not load within {self.options.load_timeout:.0f} s"
        worker.close(kill=True)
        self.load_error = f"adapter failed to load: {why}"

    def run(self, task) -> dict:
        """Return the result fields of one planned task (status, errors, message)."""
        if self.worker is None and self.load_error is None:
            self._start()
        if self.load_error:
            return {"status": "error", "message": self.load_error}
        t = task
        self.worker.conn.send(("run", [(t.number, (t.case_index, t.binding.op, t.binding.name, t.dtype, t.mode,
                                                   t.device, t.quantity))]))
        kind, *payload = self.worker.receive(self.options.timeout)
        if kind == "record":
            fields = payload[1]
            if self.worker.receive(self.options.timeout)[0] != "done":  # poisoned (or dying): restart next time
                self.close(kill=True)
            return fields
        if kind == "timeout":
            fields = {"status": "timeout", "message": f"no result within {self.options.timeout:g} s; worker restarted"}
        else:
            fields = {"status": "crashed",
                      "message": describe_death(payload[0] if payload else None, self.worker.log_tail())}
        self.close(kill=True)
        return fields

    def close(self, kill: bool = False) -> None:
        if self.worker is not None:
            self.worker.close(kill=kill)
            self.worker = None


class Drivers:
    """The drivers of one pytest process, one per framework, started on first use."""

    def __init__(self, cases: list, options: RunOptions):
        self.cases = cases
        self.options = options
        self.by_ref: dict[str, FrameworkDriver] = {}

    def records(self, check: Check) -> list[dict]:
        """Return the records of one check: run in its framework's worker, or decided when planned."""
        if check.task is None:
            return check.records
        driver = self.by_ref.setdefault(check.ref, FrameworkDriver(check.ref, self.cases, self.options))
        fields = driver.run(check.task)
        b = check.task.binding
        return [check_record(case=check.case.id, op=check.case.op, file=check.case.file, framework=check.framework,
                             framework_version=check.version, binding=b.name, call=b.call, kind=b.kind,
                             quantity=check.quantity, dtype=check.dtype, mode=check.mode, device=check.device,
                             **fields)]

    def close(self, kill: bool = False) -> None:
        for driver in self.by_ref.values():
            driver.close(kill=kill)
