"""The runner: plans every (case, binding, dtype, mode, device) check and runs each
framework's checks in a worker process of its own, streaming records as they come.

A worker that dies mid-check (segfault, abort, out of memory) gives that check a
``crashed`` record; one silent past the per-check timeout gives ``timeout``. The
worker is then restarted and the run goes on with the next check.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from fnmatch import fnmatchcase
from itertools import product
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Iterable

from conformance.adapter import Adapter, AdapterError, entry_points, framework_versions, missing_requirement, resolve_adapter
from conformance.cases import Case
from conformance.results import check_record
from conformance.worker import serve

Emit = Callable[[dict], None]
LARGE_ELEMENTS = 1_000_000
LOG_TAIL = 2000


@dataclass
class RunOptions:
    """What to run: frameworks, ops, dtypes, modes, devices, vectors, and limits."""

    frameworks: list[str] | None = None  # None: every registered adapter
    ops: list[str] | None = None
    cases: list[str] | None = None  # shell-style patterns on the case id or op[id]
    exclude: list[str] | None = None  # patterns of cases to leave out
    dtypes: list[str] = field(default_factory=lambda: ["float32", "float64"])
    modes: list[str] = field(default_factory=lambda: ["eager"])
    devices: list[str] = field(default_factory=lambda: ["cpu"])
    all_bindings: bool = False  # also the bindings that run only when asked (default=False)
    grad: bool = False  # also check gradients
    large: bool = False  # also run cases with more than LARGE_ELEMENTS input elements
    jobs: int | None = None  # frameworks run side by side (default: one per CPU core)
    timeout: float = 120.0  # seconds a single check may take
    load_timeout: float = 300.0  # seconds a framework may take to import


@dataclass
class Task:
    """One planned check that needs a worker."""

    number: int
    case_index: int
    case: Case
    binding: object
    dtype: str
    mode: str
    device: str
    quantity: str = "value"
    unclaimed: str | None = None  # why the adapter does not claim this dtype/mode/device; run anyway to see


def registered_frameworks() -> list[str]:
    """Return the names of every adapter registered through entry points."""
    return sorted(entry_points())


def framework_version(adapter: Adapter) -> str | None:
    """Return the version of the adapter's first installed distribution."""
    return next((v for v in framework_versions(adapter).values() if v), None)


def _base(case: Case, adapter: Adapter, version: str | None) -> dict:
    return {"case": case.id, "op": case.op, "file": case.file, "framework": adapter.framework,
            "framework_version": version}


def _unsupported(adapter: Adapter, dtype: str, mode: str, device: str) -> str | None:
    for what, value, have in (("dtype", dtype, adapter.dtypes), ("mode", mode, adapter.modes),
                              ("device", device, adapter.devices)):
        if value not in have:
            return f"{adapter.framework} adapter declares no {what} {value} (it has {', '.join(have) or 'none'})"
    return None


def expand_modes(adapter: Adapter, modes: list[str]) -> list[str]:
    """Return the modes to run: ``compiled`` stands for every compiled mode the adapter has."""
    expanded: list[str] = []
    for mode in modes:
        matches = [m for m in adapter.modes if m.startswith("compiled")] if mode == "compiled" else []
        expanded.extend(m for m in (matches or [mode]) if m not in expanded)
    return expanded


def _grad_reason(adapter: Adapter, binding, case: Case) -> str | None:
    if case.generator:
        return "no gradient check for generated cases: it would hold several copies of a model-scale gradient"
    if case.outcome != "value":
        return f"no gradient check: the case's outcome is {case.outcome}"
    if not getattr(adapter, "build", None) or not getattr(adapter, "gradients", False):
        return f"{adapter.framework} adapter declares no gradients"
    return None


def plan(adapter: Adapter, cases: list[Case], options: RunOptions, emit: Emit) -> list[Task]:
    """Return the tasks for one framework, emitting skipped/not-applicable records for the rest."""
    version = framework_version(adapter)
    missing = missing_requirement(adapter)
    quantities = ("value", "grad") if options.grad else ("value",)
    tasks: list[Task] = []
    for index, case in enumerate(cases):
        base = _base(case, adapter, version)
        bindings = [b for b in adapter.bindings if b.op == case.op and (b.default or options.all_bindings)]
        devices = list(adapter.devices) if "all" in options.devices else options.devices
        for quantity, dtype, mode, device in product(quantities, options.dtypes, expand_modes(adapter, options.modes),
                                                     devices):
            where = {"quantity": quantity, "dtype": dtype, "mode": mode, "device": device}
            if missing:
                emit(check_record(**base, **where, status="skipped", message=missing))
                continue
            if not bindings:
                reason = f"{adapter.framework} has no native op for {case.op}"
                emit(check_record(**base, **where, status="not-applicable", message=reason))
                continue
            for binding in bindings:
                named = {**base, **where, "binding": binding.name, "call": binding.call, "kind": binding.kind}
                reason = (binding.not_applicable(case.inputs, case.params)
                          or (_grad_reason(adapter, binding, case) if quantity == "grad" else None))
                if reason:
                    emit(check_record(**named, status="not-applicable", message=reason))
                else:
                    unclaimed = _unsupported(adapter, dtype, mode, device)
                    tasks.append(Task(len(tasks), index, case, binding, dtype, mode, device, quantity, unclaimed))
    return tasks


def _unclaimed_result(task: Task, fields: dict) -> dict:
    """Return the fields of a check the adapter does not claim: not applicable, saying whether it worked anyway."""
    if fields["status"] in ("pass", "definition-difference"):
        outcome = "passed" if fields["status"] == "pass" else "matched a declared convention"
        return {**fields, "status": "not-applicable", "classification": "works-unclaimed",
                "message": f"{task.unclaimed}, yet the check ran and {outcome}: the adapter could claim it"}
    return {"status": "not-applicable", "message": task.unclaimed}


def _task_record(task: Task, adapter: Adapter, version: str | None, fields: dict) -> dict:
    if task.unclaimed:
        fields = _unclaimed_result(task, fields)
    b = task.binding
    return check_record(**_base(task.case, adapter, version), binding=b.name, call=b.call, kind=b.kind,
                        quantity=task.quantity, dtype=task.dtype, mode=task.mode, device=task.device, **fields)


_LIVE: set = set()  # workers running now, so an interrupt can stop them all
_STOPPING = threading.Event()


class Worker:
    """A running worker process, its pipe and its log file."""

    def __init__(self, ref: str):
        ctx = multiprocessing.get_context("spawn")
        self.log = tempfile.NamedTemporaryFile(prefix="conformance-worker-", suffix=".log", delete=False)
        self.log.close()
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=serve, args=(child, ref, self.log.name), daemon=True)
        self.process.start()
        child.close()
        _LIVE.add(self)

    def receive(self, timeout: float):
        """Return the next message, ``("timeout", None)`` or ``("died", exitcode)``."""
        try:
            if not self.conn.poll(timeout):
                return ("timeout", None)
            return self.conn.recv()
        except (EOFError, ConnectionError, OSError):
            self.process.join(5)
            return ("died", self.process.exitcode)

    def log_tail(self) -> str:
        try:
            with open(self.log.name, "rb") as stream:
                stream.seek(0, os.SEEK_END)
                stream.seek(max(0, stream.tell() - LOG_TAIL))
                return " ".join(stream.read().decode("utf-8", "replace").split())
        except OSError:
            return ""

    def close(self, kill: bool = False) -> None:
        _LIVE.discard(self)
        if not kill:
            try:
                self.conn.send(("stop", None))
            except (OSError, ValueError):
                kill = True
        self.process.join(0 if kill else 10)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(5)
        self.conn.close()
        try:
            os.unlink(self.log.name)
        except OSError:
            pass


SIGNALS = {6: "SIGABRT: an abort", 9: "SIGKILL: the out-of-memory killer, or kill -9", 11: "SIGSEGV: a segfault"}


def _stopped_from_outside(kind: str, exitcode) -> bool:
    """Return whether a worker was ended by SIGTERM/SIGINT/SIGHUP: the whole run is being stopped, not the check."""
    if kind == "died" and exitcode in (-signal.SIGTERM, -signal.SIGINT, -signal.SIGHUP):
        _STOPPING.set()
        return True
    return False


def describe_death(exitcode: int | None, tail: str) -> str:
    if exitcode is not None and exitcode < 0:
        how = f"signal {-exitcode}" + (f", {SIGNALS[-exitcode]}" if -exitcode in SIGNALS else "")
    else:
        how = f"exit code {exitcode}"
    return f"worker process died ({how}) during this check" + (f"; its last output: {tail[-600:]}" if tail else "")


def run_framework(ref: str, adapter: Adapter, cases: list[Case], options: RunOptions, emit: Emit) -> None:
    """Run every check of one framework, restarting its worker after a crash or a timeout."""
    tasks = plan(adapter, cases, options, emit)
    version = framework_version(adapter)
    pending = list(tasks)
    while pending and not _STOPPING.is_set():
        worker = Worker(ref)
        try:
            pending = _drive(worker, adapter, version, cases, pending, options, emit)
        finally:
            worker.close(kill=bool(pending))


def _drive(worker: Worker, adapter, version, cases, pending: list[Task], options: RunOptions, emit: Emit) -> list[Task]:
    """Feed ``pending`` to one worker; return the tasks left when it had to be abandoned."""
    kind, payload = worker.receive(options.load_timeout)
    if _STOPPING.is_set() or _stopped_from_outside(kind, payload):
        return []
    if kind != "ready":
        why = payload if kind == "load-error" else describe_death(payload, worker.log_tail()) if kind == "died" \
            else f"framework did not load within {options.load_timeout:.0f} s"
        for task in pending:
            emit(_task_record(task, adapter, version, {"status": "error", "message": f"adapter failed to load: {why}"}))
        return []
    worker.conn.send(("cases", [case.for_worker() for case in cases]))
    worker.conn.send(("run", [(t.number, (t.case_index, t.binding.op, t.binding.name, t.dtype, t.mode, t.device,
                                          t.quantity)) for t in pending]))
    by_number = {t.number: t for t in pending}
    while by_number:
        kind, *payload = worker.receive(options.timeout)
        if _STOPPING.is_set() or _stopped_from_outside(kind, payload[0] if payload else None):
            return []
        if kind == "record":
            number, fields = payload
            emit(_task_record(by_number.pop(number), adapter, version, fields))
            continue
        if kind == "poisoned":  # the worker said its process is unusable: restart it for the rest
            return sorted(by_number.values(), key=lambda t: t.number)
        current = by_number.pop(min(by_number))
        if kind == "timeout":
            fields = {"status": "timeout", "message": f"no result within {options.timeout:g} s; worker restarted"}
        else:
            fields = {"status": "crashed", "message": describe_death(payload[0] if payload else None, worker.log_tail())}
        emit(_task_record(current, adapter, version, fields))
        return sorted(by_number.values(), key=lambda t: t.number)
    return []


def selected_adapters(options: RunOptions, emit_problem: Callable[[str], None]) -> list[tuple[str, Adapter]]:
    """Return (name, adapter) for each selected framework; report the ones that cannot load."""
    chosen = []
    for name in options.frameworks or registered_frameworks():
        try:
            chosen.append((name, resolve_adapter(name)))
        except AdapterError as exc:
            emit_problem(str(exc))
    return chosen


def case_chosen(case: Case, patterns: list[str] | None) -> bool:
    # exact names first: op[id] holds brackets, which a shell pattern reads as a character class
    return not patterns or any(p in (case.id, case.key) or fnmatchcase(case.id, p) or fnmatchcase(case.key, p)
                               for p in patterns)


def case_selected(case: Case, options: RunOptions) -> bool:
    """Whether the options' --ops, --cases and --exclude select this case."""
    return ((not options.ops or case.op in options.ops) and case_chosen(case, options.cases)
            and not (options.exclude and case_chosen(case, options.exclude)))


def run(cases: Iterable[Case], options: RunOptions, emit: Emit, emit_problem: Callable[[str], None],
        notify: Callable[[str], None] = lambda message: None) -> Counter:
    """Run the selected frameworks over ``cases``; return the count of each status."""
    counts: Counter = Counter()
    selected = [c for c in cases if case_selected(c, options)]
    large = [c for c in selected if c.size > LARGE_ELEMENTS]
    if large and not options.large:
        notify(f"{len(large)} case(s) with over {LARGE_ELEMENTS:,} input elements not run "
                     f"(use --large): {', '.join(c.key for c in large)}")
        selected = [c for c in selected if c.size <= LARGE_ELEMENTS]

    def counting(record: dict) -> None:
        counts[record["status"]] += 1
        emit(record)

    adapters = selected_adapters(options, emit_problem)
    lock = threading.Lock()

    def locked(record: dict) -> None:
        with lock:
            counting(record)

    jobs = max(1, min(options.jobs or os.cpu_count() or 1, len(adapters) or 1))
    # each framework's work is in its worker process; these threads only wait on pipes
    pool = ThreadPoolExecutor(max_workers=jobs)
    try:
        emit_to = counting if jobs == 1 else locked
        futures = [pool.submit(run_framework, n, a, selected, options, emit_to) for n, a in adapters]
        for future in futures:
            future.result()
        if _STOPPING.is_set():  # a worker was terminated from outside: the run did not finish
            raise KeyboardInterrupt("a worker was terminated by a signal")
        return counts
    except BaseException:
        _STOPPING.set()  # interrupted: no worker restarts, every live worker killed, threads return
        for worker in list(_LIVE):
            worker.process.kill()
        raise
    finally:
        pool.shutdown(wait=True)
        _STOPPING.clear()
