"""What ``pytest --conformance`` collects: one :class:`Check` per planned check, each with a stable id.

The plan is the runner's (:func:`conformance.runner.plan`): the same cases,
bindings, dtypes, modes and devices as ``python -m conformance run`` with the
same options. Ids are ``op[case]-binding-dtype-mode-device`` (``-grad`` ends the
id of a gradient check); a binding name that more than one adapter declares
(the Keras bindings, on three backends) is qualified as ``binding@framework``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from conformance.adapter import AdapterError, resolve_adapter
from conformance.cases import Case
from conformance.loader import load_paths
from conformance.runner import LARGE_ELEMENTS, RunOptions, Task, framework_version, plan, registered_frameworks
from conformance.runner import case_selected  # the CLI's own case selection, so both select the same cases

QUANTITY_SUFFIX = {"value": "", "grad": "-grad"}


@dataclass
class Check:
    """One pytest item's worth of work: a planned check, records decided at planning, or a problem to report."""

    name: str
    framework: str | None = None
    version: str | None = None
    ref: str | None = None  # how the worker process finds the adapter
    case: Case | None = None
    binding: str | None = None
    dtype: str | None = None
    mode: str | None = None
    device: str | None = None
    quantity: str = "value"
    task: Task | None = None  # None: the records below are the result, no worker needed
    records: list[dict] = field(default_factory=list)
    problem: str | None = None


@dataclass
class Plan:
    """Every check of the run, the cases the workers need, and what could not be planned."""

    checks: list[Check]
    cases: list[Case]
    digest: str
    refs: dict[str, str]  # framework name as selected -> adapter reference
    adapters: dict[str, object]  # reference -> adapter
    problems: list[str]
    notes: list[str]


def check_name(key: str, label: str, dtype: str, mode: str, device: str, quantity: str = "value") -> str:
    """Return a check's item id: ``op[case]-binding-dtype-mode-device``, then ``-grad`` for a gradient check."""
    return f"{key}-{label}-{dtype}-{mode}-{device}{QUANTITY_SUFFIX.get(quantity, '-' + quantity)}"


def select(cases: list[Case], options: RunOptions) -> tuple[list[Case], list[str]]:
    """Return the cases the options select, and a note on the large ones left out."""
    chosen = [c for c in cases if case_selected(c, options)]
    large = [c for c in chosen if c.size > LARGE_ELEMENTS]
    if large and not options.large:
        return [c for c in chosen if c.size <= LARGE_ELEMENTS], [
            f"{len(large)} case(s) with over {LARGE_ELEMENTS:,} input elements not collected "
            f"(--conformance-large): {', '.join(c.key for c in large)}"]
    return chosen, []


def _shared_names(adapters: list) -> set[str]:
    """Return the binding names declared by more than one of ``adapters`` (by framework)."""
    owners: dict[str, set[str]] = {}
    for adapter in adapters:
        for binding in adapter.bindings:
            owners.setdefault(binding.name, set()).add(adapter.framework)
    return {name for name, frameworks in owners.items() if len(frameworks) > 1}


def _all_registered(chosen: list) -> list:
    """Return ``chosen`` and every other registered adapter that loads, so ids do not depend on the selection."""
    found = list(chosen)
    for name in registered_frameworks():
        try:
            found.append(resolve_adapter(name))
        except AdapterError:
            continue
    return found


def _label(binding: str | None, framework: str, shared: set[str]) -> str:
    if binding is None:
        return framework
    return f"{binding}@{framework}" if binding in shared else binding


def _record_check(record: dict, case: Case, ref: str, shared: set[str]) -> Check:
    label = _label(record["binding"], record["framework"], shared)
    name = check_name(case.key, label, record["dtype"], record["mode"], record["device"], record["quantity"])
    return Check(name, record["framework"], record["framework_version"], ref, case, record["binding"],
                 record["dtype"], record["mode"], record["device"], record["quantity"], records=[record])


def framework_checks(ref: str, adapter, cases: list[Case], options: RunOptions, shared: set[str]) -> list[Check]:
    """Return the checks of one framework in case order; one skipped check when it is not installed."""
    records: list[dict] = []
    tasks = plan(adapter, cases, options, records.append)
    version = framework_version(adapter)
    if records and all(r["status"] == "skipped" and r["binding"] is None for r in records) and not tasks:
        return [Check(adapter.framework, adapter.framework, version, ref, records=records)]
    position = {case.key: index for index, case in enumerate(cases)}
    order = {binding.name: index for index, binding in enumerate(adapter.bindings)}
    checks = [_record_check(r, cases[position[f"{r['op']}[{r['case']}]"]], ref, shared) for r in records]
    for task in tasks:
        b = task.binding
        name = check_name(task.case.key, _label(b.name, adapter.framework, shared), task.dtype, task.mode,
                          task.device, task.quantity)
        checks.append(Check(name, adapter.framework, version, ref, task.case, b.name, task.dtype, task.mode,
                            task.device, task.quantity, task=task))
    dtypes = list(options.dtypes)

    def key(check: Check) -> tuple:  # the runner's order: case, quantity, dtype, mode, device, binding
        return (position[check.case.key], check.quantity != "value",
                dtypes.index(check.dtype) if check.dtype in dtypes else 0, check.mode or "", check.device or "",
                order.get(check.binding, -1))

    return sorted(checks, key=key)


def plan_checks(options: RunOptions, vectors: list[str] | None, extra: dict[str, str]) -> Plan:
    """Return the plan of a ``--conformance`` run; ``extra`` maps conftest-registered adapter names to references."""
    corpus = load_paths(vectors)
    problems = [(f"vectors[{Path(p.file).name}:{p.line or 0}]", f"vector problem: {p}") for p in corpus.problems]
    cases, notes = select(corpus.cases, options)
    names = options.frameworks or sorted(set(registered_frameworks()) | set(extra))
    refs = {name: extra.get(name, name) for name in names}
    chosen, checks = {}, []
    for name, ref in refs.items():
        try:
            chosen[ref] = resolve_adapter(ref)
        except AdapterError as exc:
            problems.append((f"adapter[{name}]", f"adapter problem: {exc}"))
    shared = _shared_names(_all_registered(list(chosen.values())))
    for ref, adapter in chosen.items():
        checks.extend(framework_checks(ref, adapter, cases, options, shared))
    merged: dict[str, list[str]] = {}  # one item per place, however many problems it has
    for name, text in problems:
        merged.setdefault(name, []).append(text)
    checks.extend(Check(name, problem="\n".join(texts)) for name, texts in merged.items())
    return Plan(checks, cases, corpus.digest, refs, chosen, [text for _, text in problems], notes)


def vector_location(case: Case | None) -> tuple[str, int | None] | None:
    """Return (file, 0-based line) of a case in its vector file, for pytest's report of where an item lives."""
    if case is None or not case.file:
        return None
    return str(Path(case.file)), (case.line - 1) if case.line else None
