"""Upgrade validation: what changed between two results files (before and after a framework upgrade).

Checks are matched on what was checked — op, case, quantity, framework,
binding, dtype, mode, device — not on versions or machines, which are what
changed. Every matched change falls in one class:

* regression: a check that passed (or matched a declared convention) now
  fails, errors, crashes or times out; and any new crash or timeout;
* drift: a check that still passes but whose error grew more than a set factor;
* fix: a failing check that now passes;
* supported: a call the binding's API rejected before (no such argument) that it now takes;
* behaviour: an implementation-defined case now does something else (raises
  where it returned a number, ...), or a check moved to or from a convention;
* still failing, and unchanged.

Checks present on one side only are bindings (or dtypes, modes, devices)
added or removed.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field

from conformance.matrix import dtype_order, is_implementation_defined, quantile
from conformance.results import WRONG_CALL
from conformance.resultset import Run, number

FAILING = ("fail", "error", "crashed", "timeout")
GOOD = ("pass", "definition-difference")
RAN = (*GOOD, *FAILING)
DEFAULT_DRIFT_FACTOR = 4.0
ULP_FLOOR = 1.0  # errors below one ulp are rounding noise: drift is measured from at least this
KEY_FIELDS = ("framework", "binding", "op", "case", "quantity", "dtype", "mode", "device")


def check_key(record: dict) -> tuple:
    return tuple(record.get(k) or ("value" if k == "quantity" else "-") for k in KEY_FIELDS)


def key_text(key: tuple) -> str:
    framework, binding, op, case, quantity, dtype, mode, device = key
    grad = " gradient" if quantity == "grad" else ""
    return f"{op}[{case}]{grad} {binding} {dtype} {mode} {device}"


@dataclass
class Change:
    """One matched check whose result moved: the class, the two records, and a word on why."""

    kind: str  # regression / drift / fix / behaviour / still-failing
    key: tuple
    old: dict
    new: dict
    why: str


@dataclass
class Drift:
    """Median and p99 of the ulp error of passing checks per framework and dtype, before and after."""

    framework: str
    dtype: str
    checks: int
    old_median: float | None
    new_median: float | None
    old_p99: float | None
    new_p99: float | None


@dataclass
class Diff:
    """Everything that changed between two sets of runs."""

    old_runs: list[Run]
    new_runs: list[Run]
    factor: float
    changes: list[Change] = field(default_factory=list)
    added: list[tuple] = field(default_factory=list)  # keys that ran only in the new results
    removed: list[tuple] = field(default_factory=list)
    unchanged: int = 0
    drifts: list[Drift] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def of(self, kind: str) -> list[Change]:
        return [c for c in self.changes if c.kind == kind]

    @property
    def regressions(self) -> list[Change]:
        return self.of("regression")

    def exit_code(self) -> int:
        """1 when anything regressed, else 0."""
        return 1 if self.regressions else 0


def _ulp(record: dict) -> float | None:
    value = number(record.get("max_ulp"))
    return None if value is None or math.isnan(value) else value


def _behaviour(record: dict) -> str:
    if is_implementation_defined(record):
        return str(record["message"]).split(":", 1)[1].strip()
    return record.get("behaviour") or record["status"]


def classify(old: dict, new: dict, factor: float) -> tuple[str, str] | None:
    """Return (class, why) for a matched pair of records, or None when nothing that matters changed."""
    before, after = old["status"], new["status"]
    if after in ("crashed", "timeout") and before not in ("crashed", "timeout"):
        return "regression", f"new {after}: {new.get('message') or ''}"
    if before in GOOD and after in FAILING:
        return "regression", f"{before} → {after}: {new.get('message') or ''}"
    if before == "error" and old.get("classification") == WRONG_CALL and after in GOOD:
        return "supported", f"the API rejected the call before ({old.get('message') or ''}); takes it now"
    if before in FAILING and after == "pass":
        return "fix", f"{before} → pass"
    if before in FAILING and after in FAILING:
        return "still-failing", f"{before} → {after}"
    if is_implementation_defined(old) or is_implementation_defined(new):
        if _behaviour(old) != _behaviour(new):
            return "behaviour", f"{_behaviour(old)} → {_behaviour(new)}"
        return None
    if {before, after} == {"pass", "definition-difference"}:
        return "behaviour", f"{before} → {after}: {new.get('message') or old.get('message') or ''}"
    if before == after == "pass":
        old_ulp, new_ulp = _ulp(old), _ulp(new)
        if old_ulp is not None and new_ulp is not None and new_ulp > factor * max(old_ulp, ULP_FLOOR):
            return "drift", f"max error {old_ulp:.3g} → {new_ulp:.3g} ulp ({new_ulp / max(old_ulp, ULP_FLOOR):.3g}x)"
    return None


def _index(runs: list[Run]) -> dict[tuple, dict]:
    """Return the records that ran (not skipped or not applicable), by key; a later file wins."""
    index = {}
    for run in runs:
        for record in run.checks:
            if record["status"] in RAN:
                index[check_key(record)] = record
    return index


def _drifts(pairs: list[tuple[dict, dict]]) -> list[Drift]:
    by: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
    for old, new in pairs:
        if old["status"] == new["status"] == "pass":
            a, b = _ulp(old), _ulp(new)
            if a is not None and b is not None:
                by[(old["framework"], old["dtype"])].append((a, b))
    drifts = []
    for (framework, dtype), values in sorted(by.items(), key=lambda kv: (kv[0][0], dtype_order(kv[0][1]))):
        olds, news = [a for a, _ in values], [b for _, b in values]
        drifts.append(Drift(framework, dtype, len(values), quantile(olds, 0.5), quantile(news, 0.5),
                            quantile(olds, 0.99), quantile(news, 0.99)))
    return drifts


def header_warnings(old_runs: list[Run], new_runs: list[Run], upgraded: str | None = None) -> list[str]:
    """Return a warning for everything besides the upgraded framework that differs between the two sides."""
    def facts(runs: list[Run]) -> dict[str, set]:
        out: dict[str, set] = defaultdict(set)
        for run in runs:
            h = run.header
            for name in ("python", "kit_version", "vectors_digest", "cpu"):
                out[name].add(str(h.get(name)))
            out["gpu"].add(", ".join(h.get("gpu") or []) or "none")
            for framework, info in (h.get("frameworks") or {}).items():
                versions = ", ".join(f"{d} {v}" for d, v in sorted((info.get("versions") or {}).items()))
                out[f"framework {framework}"].add(versions if info.get("available", True) else "not installed")
        return out

    old, new = facts(old_runs), facts(new_runs)
    changed = {name: (old.get(name, {"absent"}), new.get(name, {"absent"})) for name in sorted(set(old) | set(new))
               if old.get(name, {"absent"}) != new.get(name, {"absent"})}
    frameworks = [name.split(" ", 1)[1] for name in changed if name.startswith("framework ")]
    warnings = []
    if upgraded is None and len(frameworks) == 1:
        upgraded = frameworks[0]
    for name, (a, b) in changed.items():
        if name == f"framework {upgraded}":
            continue
        what = {"vectors_digest": "the vectors", "kit_version": "the kit", "cpu": "the CPU", "gpu": "the GPU",
                "python": "Python"}.get(name, name)
        warnings.append(f"{what} changed too: {' / '.join(sorted(a))} → {' / '.join(sorted(b))}")
    if f"framework {upgraded}" in changed:
        warnings += _companion_warnings(old_runs, new_runs, upgraded)
    if not frameworks:
        warnings.append("no framework version differs between the two results files")
    return warnings


def _versions(runs: list[Run], framework: str) -> dict[str, str | None]:
    versions: dict[str, str | None] = {}
    for run in runs:
        versions.update(run.versions(framework))
    return versions


def _companion_warnings(old_runs: list[Run], new_runs: list[Run], upgraded: str) -> list[str]:
    """Warn about a package the upgraded framework's adapter also uses (optax for jax, keras for tensorflow)
    that changed on its own: not in lockstep with the framework (jaxlib moving with jax is the upgrade)."""
    old, new = _versions(old_runs, upgraded), _versions(new_runs, upgraded)
    main = (old.get(upgraded), new.get(upgraded))
    return [f"{dist} changed too ({old.get(dist)} → {new.get(dist)}), beside {upgraded} "
            f"({main[0]} → {main[1]}): a difference may come from either"
            for dist in sorted(set(old) | set(new))
            if dist != upgraded and old.get(dist) != new.get(dist) and (old.get(dist), new.get(dist)) != main]


def diff(old_runs: list[Run], new_runs: list[Run], factor: float = DEFAULT_DRIFT_FACTOR,
         upgraded: str | None = None) -> Diff:
    """Return every change from the old results to the new."""
    if not factor > 1:
        raise ValueError(f"the drift factor must be above 1, got {factor}")
    old, new = _index(old_runs), _index(new_runs)
    result = Diff(old_runs, new_runs, factor, warnings=header_warnings(old_runs, new_runs, upgraded))
    pairs = []
    for key in old.keys() & new.keys():
        pairs.append((old[key], new[key]))
        found = classify(old[key], new[key], factor)
        if found is None:
            result.unchanged += 1
        else:
            result.changes.append(Change(found[0], key, old[key], new[key], found[1]))
    result.changes.sort(key=lambda c: c.key)
    result.added = sorted(new.keys() - old.keys())
    result.removed = sorted(old.keys() - new.keys())
    result.drifts = _drifts(pairs)
    return result
