"""Reproducers: one check of a results file as a standalone script for that framework alone.

``python -m conformance repro RESULTS CASE BINDING DTYPE`` finds the check
record, reloads its case from the vector file the record names, recomputes
what the kit's worker compared against (the float64 expected value on the
dtype-rounded inputs, and the bound) and asks the record's adapter how its
call is written (its ``repro_source`` hook, see
:mod:`conformance.repro_source`). The script needs NumPy and the framework
only: inputs inlined (or, for large generated cases, drawn by the same NumPy
calls from the same seed), the call, the expected value and the bound, and
the kit's comparison; it prints ``REPRODUCED`` and exits 1 when the failure
shows, ``NOT REPRODUCED`` and exits 0 when it does not.
"""

from __future__ import annotations

import difflib
import inspect
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from conformance import __version__
from conformance.adapter import Adapter, AdapterError, Binding, resolve_adapter
from conformance.cases import Case
from conformance.check import NotInDtype, expected_for, rounded_inputs
from conformance.compare import Target
from conformance.gradients import differentiable_input
from conformance.loader import Corpus, default_vector_dir, load_paths
from conformance.repro_inputs import InputsTooLarge, input_lines
from conformance.repro_script import Script, array_source, bound_source, render, wrap
from conformance.repro_source import ReproSource, signature
from conformance import resultset
from conformance.results import FAILING

__all__ = ["ReproError", "Selection", "find_record", "read_run", "reproducer"]

KEY = re.compile(r"^(?P<op>[A-Za-z0-9_]+)\[(?P<id>.+)\]$")
RAN = ("pass", "definition-difference")  # statuses of checks that ran and did not fail
EXPECTED_ELEMENTS = 2000  # an expected value (and bound) larger than this is not inlined


class ReproError(ValueError):
    """No reproducer can be written for what was asked; the message says which file and what is wrong."""


@dataclass(frozen=True)
class Selection:
    """Which check to reproduce: the positional arguments and the options that narrow them."""

    case: str
    binding: str
    dtype: str
    mode: str | None = None
    device: str | None = None
    quantity: str | None = None
    force: bool = False


def read_run(path: str | Path) -> tuple[dict, list[dict]]:
    """Return (the header record, the check records) of a results file, or raise ReproError."""
    try:
        run = resultset.read_run(path)
    except resultset.ResultsError as exc:
        raise ReproError(f"{exc} (is {path} a results file of `python -m conformance run`?)") from None
    if not run.checks:
        raise ReproError(f"{path}: holds no check records (is it a results file of `python -m conformance run`?)")
    return run.header, run.checks


def describe(record: dict) -> str:
    """Return one line naming a check record: op[id] binding dtype mode device quantity: status."""
    return (f"{record.get('op')}[{record.get('case')}] {record.get('binding')} {record.get('dtype')} "
            f"{record.get('mode')} {record.get('device')} {record.get('quantity') or 'value'}: {record.get('status')}")


def _listing(records: list[dict], limit: int = 20) -> str:
    lines = [f"  {describe(r)}" for r in records[:limit]]
    if len(records) > limit:
        lines.append(f"  ... and {len(records) - limit} more")
    return "\n".join(lines)


def _by_case(checks: list[dict], case: str, path) -> list[dict]:
    key = KEY.match(case)
    op, case_id = (key["op"], key["id"]) if key else (None, case)
    found = [r for r in checks if r.get("case") == case_id and (op is None or r.get("op") == op)]
    if found:
        return found
    names = sorted({f"{r.get('op')}[{r.get('case')}]" for r in checks} | {str(r.get("case")) for r in checks})
    near = difflib.get_close_matches(case, names, n=6, cutoff=0.6)
    hint = f"; near matches: {', '.join(near)}" if near else ""
    raise ReproError(f"{path}: no check of case {case!r}{hint}")


def _narrowed(found: list[dict], field: str, wanted: str | None, what: str, path) -> list[dict]:
    if wanted is None:
        return found
    kept = [r for r in found if (r.get(field) or ("value" if field == "quantity" else None)) == wanted]
    if not kept:
        have = sorted({str(r.get(field) or ("value" if field == "quantity" else None)) for r in found})
        raise ReproError(f"{path}: no check of {describe_case(found[0])} with {what} {wanted!r}; "
                         f"it has {', '.join(have)}")
    return kept


def describe_case(record: dict) -> str:
    """Return the record's case as op[id]."""
    return f"{record.get('op')}[{record.get('case')}]"


def find_record(checks: list[dict], selection: Selection, path: str | Path) -> dict:
    """Return the one check record the selection names, or raise ReproError listing what matched instead.

    Where several match (modes, devices, value and gradient, or one id under
    several ops), the failing one is taken; if that leaves several, the
    error lists them.
    """
    found = _by_case(checks, selection.case, path)
    for field, wanted, what in (("binding", selection.binding, "binding"), ("dtype", selection.dtype, "dtype"),
                                ("mode", selection.mode, "mode"), ("device", selection.device, "device"),
                                ("quantity", selection.quantity, "quantity")):
        found = _narrowed(found, field, wanted, what, path)
    if len(found) > 1:
        for tier in (FAILING, RAN):
            among = [r for r in found if r.get("status") in tier]
            if len(among) == 1:
                return among[0]
            if among:
                break
        else:
            among = found
        ops, case_id = sorted({str(r.get("op")) for r in among}), among[0].get("case")
        how = (f"name the case as op[id] ({', '.join(f'{op}[{case_id}]' for op in ops)})" if len(ops) > 1
               else "pick one with --mode, --device or --quantity")
        raise ReproError(f"{path}: {len(among)} checks match; {how}:\n" + _listing(among))
    record = found[0]
    if record.get("status") not in FAILING + RAN:
        raise ReproError(f"{path}: {describe(record)} did not run ({record.get('message') or 'no message'}): "
                         "there is no call to reproduce")
    if record.get("status") not in FAILING and not selection.force:
        raise ReproError(f"{path}: {describe(record)} is not failing ({record.get('message') or 'no message'}); "
                         "there is nothing to reproduce (--force writes the script anyway)")
    return record


def failing_records(checks: list[dict]) -> list[dict]:
    """Return the records of every failing, erroring, crashed or timed-out check."""
    return [r for r in checks if r.get("status") in FAILING]


_CORPORA: dict[tuple, Corpus] = {}


def _corpus(sources: tuple[str, ...]) -> Corpus:
    """Return the cases of ``sources``, parsed once per process while the files are unchanged (--all reads many)."""
    stamp = tuple((s, Path(s).stat().st_mtime_ns if Path(s).exists() else None) for s in sources)
    if stamp not in _CORPORA:
        _CORPORA.clear()
        _CORPORA[stamp] = load_paths(sources)
    return _CORPORA[stamp]


def load_case(record: dict, vectors: list[str] | None = None) -> Case:
    """Return the record's case, from ``vectors`` or the vector file the record names (else the shipped ones)."""
    sources = vectors or ([record["file"]] if record.get("file") and Path(record["file"]).is_file() else
                          [str(default_vector_dir())])
    corpus = _corpus(tuple(sources))
    for case in corpus.cases:
        if case.op == record.get("op") and case.id == record.get("case"):
            return case
    problems = [str(p) for p in corpus.problems if p.case == record.get("case")]
    why = f": {'; '.join(problems)}" if problems else ""
    raise ReproError(f"{', '.join(sources)}: no case {describe_case(record)} (the results name "
                     f"{record.get('file') or 'no vector file'}){why}; pass --vectors with the files of the run")


def load_adapter_for(record: dict, header: dict, ref: str | None = None) -> Adapter:
    """Return the adapter that ran the record: ``ref``, the registered one, or one the run's argv named."""
    name = record.get("framework")
    refs = [ref] if ref else [name]
    argv = header.get("argv") or []
    for flag, value in zip(argv, argv[1:]):
        if flag == "--frameworks" and not ref:
            refs += [r for r in value.split(",") if ":" in r]
    errors = []
    for candidate in refs:
        try:
            adapter = resolve_adapter(candidate)
        except AdapterError as exc:
            errors.append(str(exc))
            continue
        if adapter.framework == name or ref:
            return adapter
    raise ReproError(f"no adapter for framework {name!r} ({'; '.join(errors) or 'not registered'}); "
                     "pass --adapter module:Class")


def _binding(adapter: Adapter, record: dict) -> Binding:
    for binding in adapter.bindings:
        if binding.op == record.get("op") and binding.name == record.get("binding"):
            return binding
    raise ReproError(f"the {adapter.framework} adapter has no binding {record.get('binding')!r} for "
                     f"{record.get('op')} (the adapter here may differ from the one that ran)")


def source_for(adapter: Adapter, binding: Binding, case: Case, record: dict) -> ReproSource:
    """Return the adapter's ReproSource for the record's check, or raise ReproError saying why there is none."""
    hook = getattr(adapter, "repro_source", None)
    if not callable(hook):
        raise ReproError(f"the {adapter.framework} adapter gives no reproducer (it has no repro_source method)")
    try:
        parameters = inspect.signature(hook).parameters
    except (TypeError, ValueError):
        parameters = {}
    # the inputs' shapes, for a hook that takes them (a call can depend on the rank, e.g. a default axis left out)
    takes_shapes = "shapes" in parameters or any(p.kind is p.VAR_KEYWORD for p in parameters.values())
    extra = {"shapes": {k: tuple(v.shape) for k, v in case.inputs.items()}} if takes_shapes else {}
    try:
        return hook(binding, dict(case.params), record["dtype"], record["mode"], record["device"],
                    record.get("quantity") or "value", **extra)
    except Exception as exc:  # a third party's hook: whatever it raises, say which adapter and check
        raise ReproError(f"the {adapter.framework} adapter writes no reproducer for {binding.name} "
                         f"({record['dtype']}, {record['mode']}, {record.get('quantity') or 'value'}): "
                         f"{type(exc).__name__}: {exc}") from None


def _target(case: Case, record: dict) -> tuple[Target | None, dict[str, np.ndarray], str]:
    """Return (what the worker compared against or None, the inputs in the dtype, where expected came from)."""
    dtype, quantity = record["dtype"], record.get("quantity") or "value"
    try:
        if case.outcome != "value":
            return None, rounded_inputs(case, dtype)[0], case.outcome
        expected, bound, inputs, source = expected_for(case, dtype, quantity)
    except NotInDtype as exc:
        raise ReproError(f"{case.key} in {dtype}: {exc}") from None
    return Target.of(expected, bound, dtype), inputs, source


def _outcome(case: Case, record: dict) -> str:
    if record.get("status") in ("crashed", "timeout"):
        return "returns"
    return case.outcome


def _expected_lines(target: Target, case: Case) -> list[str]:
    if target.expected.size > EXPECTED_ELEMENTS:
        raise ReproError(f"{case.key}: the expected value has {target.expected.size:,} elements (over "
                         f"{EXPECTED_ELEMENTS:,}): no standalone reproducer is written for a case this large")
    return [array_source("expected", target.expected), bound_source(target.allowed)]


def stale_note(target: Target | None, record: dict) -> str | None:
    """Return a warning when the recomputed expected value differs from the record's (the vectors changed)."""
    worst = record.get("worst") or {}
    if target is None or "index" not in worst or "expected" not in worst or not target.expected.size:
        return None
    try:
        now = float(target.expected[tuple(worst["index"])])
    except (IndexError, TypeError, ValueError):
        return "the expected value now has another shape than in the results file: the vectors changed since the run"
    then = float(worst["expected"])
    if now == then or (np.isnan(now) and np.isnan(then)):
        return None
    return (f"the expected value at {worst['index']} is now {now!r}, the results file says {then!r}: "
            "the vectors changed since the run")


def reproducer(results: str | Path, header: dict, record: dict, vectors: list[str] | None = None,
               adapter_ref: str | None = None) -> tuple[str, list[str]]:
    """Return (the script's source, notes for the user) for one check record."""
    case = load_case(record, vectors)
    adapter = load_adapter_for(record, header, adapter_ref)
    binding = _binding(adapter, record)
    source = source_for(adapter, binding, case, record)
    if case.generator:
        case = case.materialized()
    target, inputs, expected_source = _target(case, record)
    names = signature(case.op)
    integer = {n for n in names if np.issubdtype(inputs[n].dtype, np.integer)}
    outcome = _outcome(case, record)
    try:
        lines, drawn = input_lines(case, inputs, record["dtype"])
    except InputsTooLarge as exc:
        raise ReproError(str(exc)) from None
    script = Script(
        doc=_doc(results, header, record, case, binding, expected_source, target),
        source=source, inputs=lines, names=names, integer=integer, outcome=outcome,
        expected=_expected_lines(target, case) if outcome == "value" else [],
        note=f"loss-conformance recorded {record.get('status')}: {' '.join(str(record.get('message')).split())}",
    )
    notes = [n for n in (stale_note(target, record), drawn) if n]
    return render(script), notes


def _headline(record: dict, binding: Binding, case: Case) -> str:
    status, message = record.get("status"), record.get("message") or ""
    what = {"fail": "returns a value off the float64 reference" if case.outcome == "value"
            else "returns a value where it must raise",
            "error": "raises where a value is expected", "crashed": "crashes the process",
            "timeout": "does not return"}.get(status, f"does not fail this check (status {status}; written with "
                                                      "--force)")
    return f"{binding.name} {what} on {case.key}" + (f": {message}" if message else ".")


def _versions(header: dict, record: dict) -> str:
    entry = (header.get("frameworks") or {}).get(record.get("framework")) or {}
    versions = ", ".join(f"{d} {v}" for d, v in (entry.get("versions") or {}).items() if v)
    return versions or f"{record.get('framework')} {record.get('framework_version')}"


_SOURCES = {"vector": "the case's stored float64 value (its inputs are exact in this dtype)"}


def _doc(results, header: dict, record: dict, case: Case, binding: Binding, expected_source: str,
         target: Target | None) -> str:
    where = Path(case.file).name + (f", line {case.line}" if case.line else "")
    quantity = record.get("quantity") or "value"
    source = ", ".join(f"{k}: {v}" for k, v in case.source.items() if k != "generator")
    gpus = ", ".join(header.get("gpu") or []) or "none"
    if case.outcome == "value" and target is not None:
        expected = f"{_SOURCES.get(expected_source, expected_source)}; bound {target.bound.describe()}"
    elif case.outcome == "raises":
        expected = "the op must raise (the case's outcome is raises)"
    else:
        expected = "none: the case is implementation-defined (any value or error passes)"
    check = "d sum(loss) / d " + differentiable_input(case.op) if quantity == "grad" else "the loss"
    lines = [
        wrap(_headline(record, binding, case)), "",
        wrap(f"{case.key} ({where})", "Case:", 11), wrap(case.comment, "", 11),
        wrap(source, "Source:", 11),
        wrap(f"{binding.name} ({binding.kind}); the kit's call: {record.get('call')}", "Binding:", 11),
        wrap(f"{quantity} ({check}), {record.get('dtype')}, {record.get('mode')}, {record.get('device')}",
             "Check:", 11),
        wrap(expected, "Expected:", 11),
        wrap(f"{_versions(header, record)}; Python {header.get('python', '?')}; {header.get('platform', '?')}; "
             f"CPU {header.get('cpu', '?')}; GPU {gpus}", "Ran with:", 11),
        "",
        wrap(f"Generated by loss-conformance {__version__} from {Path(results).name} (a run of loss-conformance "
             f"{header.get('kit_version', '?')}, started {header.get('started', '?')}). Needs NumPy and the "
             "framework only. Prints REPRODUCED and exits 1 when the failure shows, NOT REPRODUCED and exits 0 "
             "when it does not."),
    ]
    return "\n".join(lines)


def script_name(record: dict) -> str:
    """Return a file name for the record's script, from op, case, binding, dtype, mode, device and quantity."""
    parts = [record.get(k) or "" for k in ("op", "case", "binding", "dtype", "mode", "device")]
    parts.append(record.get("quantity") or "value")
    name = "-".join(re.sub(r"[^A-Za-z0-9._-]+", "_", str(p)).strip("_.-") for p in parts)
    return name[:180] + ".py"


def cell(value: Any) -> str:
    """Return ``value`` as the text of one Markdown table cell: on one line, its pipes escaped."""
    return " ".join(str(value).split()).replace("|", "\\|")


def index_row(cells: list[Any]) -> str:
    """Return a Markdown table row of ``cells``."""
    return "| " + " | ".join(cell(c) for c in cells) + " |"
