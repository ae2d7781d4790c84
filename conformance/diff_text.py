"""A diff as Markdown, fit for a pull-request comment: the verdict first, then each class of change."""

from __future__ import annotations

from collections import defaultdict

from conformance.diff import Diff, key_text
from conformance.matrix import fmt_number
from conformance.matrix_text import md_escape, versions_text
from conformance.resultset import Run

SECTIONS = (
    ("regression", "Regressions", "passed before (or matched a declared convention), fail now; or a new crash"),
    ("drift", "Error drift", "still pass, but the largest error grew more than {factor:g}x (from at least 1 ulp)"),
    ("fix", "Fixes", "failed before, pass now"),
    ("supported", "Newly supported calls", "the binding's API rejected the call before (no such argument or "
                                           "attribute: a `wrong-call` error) and takes it now"),
    ("behaviour", "Behaviour changes", "implementation-defined cases that now do something else, and checks "
                                       "moving to or from a documented convention"),
    ("still-failing", "Still failing", "failed before and fail now"),
)


def _side(runs: list[Run]) -> str:
    seen = []
    for run in runs:
        for name, info in sorted((run.header.get("frameworks") or {}).items()):
            if info.get("available", True):
                text = versions_text(name, info.get("versions") or {})
                if text not in seen:
                    seen.append(text)
    return "; ".join(seen) or "no framework"


def _changed_frameworks(d: Diff) -> str:
    old, new = _side(d.old_runs).split("; "), _side(d.new_runs).split("; ")
    gone, came = [t for t in old if t not in new], [t for t in new if t not in old]
    return f"{', '.join(gone) or 'same'} → {', '.join(came) or 'same'}"


def _rows(changes, limit: int) -> list[str]:
    lines = ["| check | before | after | what changed |", "|---|---|---|---|"]
    for change in changes[:limit]:
        lines.append(f"| {md_escape(key_text(change.key))} | {change.old['status']} | {change.new['status']} | "
                     f"{md_escape(change.why)[:300]} |")
    if len(changes) > limit:
        lines.append(f"| … and {len(changes) - limit} more | | | |")
    return lines


def _keys(keys: list[tuple], limit: int) -> list[str]:
    by_binding: dict[tuple, int] = defaultdict(int)
    for framework, binding, op, *_ in keys:
        by_binding[(framework, binding, op)] += 1
    lines = [f"- `{md_escape(b)}` ({md_escape(f)}, {md_escape(op)}): {n} check(s)"
             for (f, b, op), n in sorted(by_binding.items())[:limit]]
    if len(by_binding) > limit:
        lines.append(f"- … and {len(by_binding) - limit} more bindings")
    return lines


def render_diff(d: Diff, limit: int = 50) -> str:
    """Return the diff as Markdown."""
    regressions = d.regressions
    verdict = (f"❌ **{len(regressions)} regression(s)**" if regressions else "✅ **No regressions**")
    lines = [f"## Conformance diff: {md_escape(_changed_frameworks(d))}", "", verdict, ""]
    lines += [f"> ⚠️ {md_escape(w)}" for w in d.warnings]
    if d.warnings:
        lines.append("")
    lines += ["| before | after |", "|---|---|",
              f"| {md_escape(', '.join(r.label() for r in d.old_runs))} | "
              f"{md_escape(', '.join(r.label() for r in d.new_runs))} |",
              f"| {md_escape(_side(d.old_runs))} | {md_escape(_side(d.new_runs))} |", ""]
    lines += ["| change | checks |", "|---|---|"]
    for kind, title, _ in SECTIONS:
        lines.append(f"| {title.lower()} | {len(d.of(kind))} |")
    lines += [f"| checks added | {len(d.added)} |", f"| checks removed | {len(d.removed)} |",
              f"| unchanged | {d.unchanged} |", ""]
    for kind, title, what in SECTIONS:
        changes = d.of(kind)
        if changes:
            listing = _keys([c.key for c in changes], limit) if kind == "still-failing" else _rows(changes, limit)
            lines += [f"### {title} ({len(changes)})", "", what.format(factor=d.factor) + ".", "", *listing, ""]
    if d.drifts:
        lines += ["### Error of passing checks, per framework and dtype", "",
                  "| framework | dtype | checks | median ulp before → after | p99 ulp before → after |",
                  "|---|---|---|---|---|"]
        for x in d.drifts:
            lines.append(f"| {md_escape(x.framework)} | {x.dtype} | {x.checks} | {fmt_number(x.old_median)} → "
                         f"{fmt_number(x.new_median)} | {fmt_number(x.old_p99)} → {fmt_number(x.new_p99)} |")
        lines.append("")
    if d.added:
        lines += [f"### Added ({len(d.added)} checks that ran only after)", "", *_keys(d.added, limit), ""]
    if d.removed:
        lines += [f"### Removed ({len(d.removed)} checks that ran only before)", "", *_keys(d.removed, limit), ""]
    return "\n".join(lines)
