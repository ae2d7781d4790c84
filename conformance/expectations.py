"""Expectation files: known failures of the kit's checks, kept by the user as data.

    schema: loss-conformance-expectations/1
    expectations:
      - case: sigmoid_cross_entropy[extreme-*]     # op[id]; the id may be a shell-style pattern
        framework: torch
        versions: ">=2.1,<2.14"                   # optional: the framework versions it holds for
        binding: torch.nn.functional.binary_cross_entropy_with_logits   # optional (pattern)
        dtype: float32                           # optional, as are device, mode, quantity (one or a list)
        category: temporary                      # temporary | permanent | unsupported
        reason: log1p(exp(-|x|)) flushes to zero in float32
        link: https://github.com/pytorch/pytorch/issues/0
        expires: 2026-06-30                      # optional

Files are read with YAML's safe loader only. ``docs/pytest-plugin.md`` says how
entries turn checks into xfail and what strict mode fails on.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any, Iterable

import yaml

from conformance.loader import parse_yaml

SCHEMA_ID = "loss-conformance-expectations/1"
CATEGORIES = ("temporary", "permanent", "unsupported")
REQUIRED = ("case", "framework", "category", "reason", "link")
SCOPES = ("dtype", "device", "mode", "quantity")
OPTIONAL = ("versions", "binding", "expires", *SCOPES)
CASE_PATTERN = re.compile(r"^(?P<op>[a-z_]+)\[(?P<id>[^\]]+)\]$")
CLAUSE = re.compile(r"^\s*(==|!=|>=|<=|>|<)\s*([0-9][0-9a-zA-Z.*+]*)\s*$")


class ExpectationError(ValueError):
    """An expectation file is not valid: names the file, line and entry."""


def _release(version: str) -> tuple[int, ...]:
    """Return the numeric release of a version string: ``2.13.0+cpu`` -> (2, 13, 0)."""
    found = re.match(r"\d+(?:\.\d+)*", version)
    return tuple(int(part) for part in found.group(0).split(".")) if found else ()


def _compare(have: tuple[int, ...], want: tuple[int, ...]) -> int:
    width = max(len(have), len(want))
    a, b = have + (0,) * (width - len(have)), want + (0,) * (width - len(want))
    return (a > b) - (a < b)


def version_matches(version: str | None, spec: str) -> bool:
    """Return whether ``version`` satisfies every comma-separated clause of ``spec`` (``==2.13.*`` allowed)."""
    if version is None:
        return False
    for clause in spec.split(","):
        op, want = CLAUSE.match(clause).groups()
        if want.endswith(".*"):
            prefix = _release(want[:-2])
            equal = _release(version)[: len(prefix)] == prefix
            ok = equal if op == "==" else not equal
        else:
            order = _compare(_release(version), _release(want))
            ok = {"==": order == 0, "!=": order != 0, ">=": order >= 0, "<=": order <= 0, ">": order > 0,
                  "<": order < 0}[op]
        if not ok:
            return False
    return True


@dataclass(frozen=True)
class CheckScope:
    """What an expectation is matched against: one check of the run."""

    framework: str
    version: str | None
    op: str
    case: str
    binding: str | None
    dtype: str | None
    mode: str | None
    device: str | None
    quantity: str


@dataclass(frozen=True)
class Entry:
    """One expectation: where it is written, its scope and why."""

    file: str
    line: int | None
    fields: dict

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file

    @property
    def expires(self) -> datetime.date | None:
        return self.fields.get("expires")

    def expired(self, today: datetime.date | None = None) -> bool:
        """Return whether the entry's expiry date has passed."""
        return self.expires is not None and self.expires < (today or datetime.date.today())

    def describe(self) -> str:
        """Return the entry as an xfail reason: category, reason, link and where it is written."""
        f = self.fields
        return f"{f['category']}: {f['reason']} ({f['link']}) [{self.where}]"

    def in_scope(self, check: CheckScope) -> bool:
        """Return whether the entry's framework, versions, op, dtype, device, mode and quantity admit ``check``."""
        f = self.fields
        if f["framework"] != check.framework or CASE_PATTERN.match(f["case"]).group("op") != check.op:
            return False
        if "versions" in f and not version_matches(check.version, f["versions"]):
            return False
        return all(getattr(check, name) in _listed(f[name]) for name in SCOPES if name in f)

    def matches(self, check: CheckScope) -> bool:
        """Return whether the entry covers ``check``."""
        if not self.in_scope(check):
            return False
        case_id = CASE_PATTERN.match(self.fields["case"]).group("id")
        binding = self.fields.get("binding")
        return (_like(check.case, case_id) and (binding is None or (check.binding is not None and
                                                                    _like(check.binding, binding))))


def _like(value: str, pattern: str) -> bool:
    return value == pattern or fnmatchcase(value, pattern)


def _listed(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def _entry_problem(raw: Any) -> str | None:
    if not isinstance(raw, dict):
        return "an entry must be a mapping"
    missing = [key for key in REQUIRED if not raw.get(key)]
    unknown = sorted(set(raw) - set(REQUIRED) - set(OPTIONAL))
    if missing or unknown:
        return "; ".join(filter(None, [missing and f"missing {', '.join(missing)}",
                                       unknown and f"unknown keys {', '.join(unknown)}"]))
    if not isinstance(raw["case"], str) or not CASE_PATTERN.match(raw["case"]):
        return f"case must be op[id] (the id may be a pattern), got {raw['case']!r}"
    if raw["category"] not in CATEGORIES:
        return f"category must be one of {', '.join(CATEGORIES)}, got {raw['category']!r}"
    if "versions" in raw and not all(CLAUSE.match(c) for c in str(raw["versions"]).split(",")):
        return f"versions must be comparisons such as '>=2.1,<2.14' or '==2.13.*', got {raw['versions']!r}"
    if "expires" in raw and not isinstance(raw["expires"], datetime.date):
        return f"expires must be a date, YYYY-MM-DD, got {raw['expires']!r}"
    bad = [name for name in SCOPES if name in raw and not all(isinstance(v, str) for v in _listed(raw[name]))]
    return f"{', '.join(bad)} must be a name or a list of names" if bad else None


def load_text(text: str, file: str) -> list[Entry]:
    """Return the entries of one expectation file's text; raise ExpectationError at the first problem."""
    doc, problem = parse_yaml(text, file)
    if problem:
        raise ExpectationError(str(problem))
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA_ID or not isinstance(doc.get("expectations"), list):
        raise ExpectationError(f"{file}: an expectation file is a mapping with schema: {SCHEMA_ID} and a list "
                               f"of expectations")
    entries = []
    for number, raw in enumerate(doc["expectations"], start=1):
        line = getattr(raw, "line", None)
        problem = _entry_problem(raw)
        if problem:
            where = f"{file}:{line}" if line else file
            raise ExpectationError(f"{where}: expectation {number}: {problem}")
        fields = dict(raw)
        if "versions" in fields:
            fields["versions"] = str(fields["versions"])
        entries.append(Entry(file, line, fields))
    return entries


def load_files(paths: Iterable[str | Path]) -> list[Entry]:
    """Return the entries of every expectation file, in order."""
    entries: list[Entry] = []
    for path in paths:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ExpectationError(f"{path}: cannot read the expectation file: {exc}") from None
        entries.extend(load_text(text, str(path)))
    return entries


def first_match(entries: list[Entry], check: CheckScope) -> int | None:
    """Return the index of the first entry covering ``check``, or None."""
    return next((index for index, entry in enumerate(entries) if entry.matches(check)), None)


def unmatched(entries: list[Entry], checks: list[CheckScope]) -> list[Entry]:
    """Return the entries that are in this run's scope but cover none of its checks (a typo, or a renamed case)."""
    return [e for e in entries if any(e.in_scope(c) for c in checks) and not any(e.matches(c) for c in checks)]


def entry_for(record: dict, previous: Entry | None) -> dict:
    """Return an expectation entry that covers exactly the check of a failing ``record``."""
    entry = {"case": f"{record['op']}[{record['case']}]", "framework": record["framework"]}
    if record.get("framework_version"):
        entry["versions"] = f"=={record['framework_version']}"
    for name in ("binding", "dtype", "mode", "device"):
        if record.get(name) is not None:
            entry[name] = record[name]
    if record.get("quantity") not in (None, "value"):
        entry["quantity"] = record["quantity"]
    kept = previous.fields if previous else {}
    entry["category"] = kept.get("category", "temporary")
    entry["reason"] = kept.get("reason", f"{record['status']}: {record['message']}"[:300])
    entry["link"] = kept.get("link", "TODO: a link to the upstream issue")
    if kept.get("expires"):
        entry["expires"] = kept["expires"]
    return entry


def dump(entries: list[dict]) -> str:
    """Return the text of an expectation file holding ``entries``."""
    head = ("# Known failures of the loss-conformance checks, written by pytest --conformance-save.\n"
            "# Give each entry a reason and a link, and widen its scope (versions, dtype, ...) where it holds.\n")
    return head + yaml.safe_dump({"schema": SCHEMA_ID, "expectations": entries}, sort_keys=False, width=100)
