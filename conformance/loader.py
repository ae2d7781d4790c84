"""Loading vector files: safe YAML in, checked :class:`Case` objects out.

YAML is only ever read with PyYAML's safe constructor: a tag that would build
a Python object is an error, never code run. Every problem becomes one
:class:`Problem` naming the file, the line and the case; a bad case is dropped
and the rest of the file (and every other file) still loads.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import yaml

from conformance.cases import Case, CaseError, build_case
from conformance.ops import OPS

SCHEMA_ID = "loss-conformance-vectors/1"
MAX_FILE_BYTES = 16 * 1024 * 1024
TOP_KEYS = {"schema", "op", "description", "notes", "groups"}
GROUP_KEYS = {"description", "params", "cases"}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a vector file: where it is and what it is."""

    file: str
    line: int | None
    case: str | None
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        case = f" case {self.case}:" if self.case else ""
        return f"{where}:{case} {self.message}"


@dataclass
class Corpus:
    """The cases loaded from some files, the problems found, and a digest of the bytes read."""

    cases: list[Case] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    digest: str = ""


class _Map(dict):
    """A YAML mapping that remembers the line it started on."""

    line: int = 0


class _LineLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml's parser is ~7x faster
    """PyYAML's safe loader whose mappings carry their 1-based start line."""


def _construct_map(loader: _LineLoader, node: yaml.MappingNode) -> _Map:
    mapping = _Map(loader.construct_mapping(node, deep=True))
    mapping.line = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_map)


def _line(value: Any, default: int | None = None) -> int | None:
    return getattr(value, "line", default)


def _case_at(text: str, line: int | None) -> str | None:
    """Return the id of the case whose mapping spans ``line``, found without constructing anything."""
    if line is None:
        return None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None
    found = None
    for node in _walk(root):  # outer mappings come first, so the innermost with an id wins
        if isinstance(node, yaml.MappingNode) and node.start_mark.line < line <= node.end_mark.line + 1:
            ids = [v.value for k, v in node.value if k.value == "id" and isinstance(v, yaml.ScalarNode)]
            found = ids[0] if ids else found
    return found


def _walk(node):
    yield node
    children = node.value if isinstance(node.value, list) else []
    for child in children:
        for sub in child if isinstance(child, tuple) else (child,):
            yield from _walk(sub)


def parse_yaml(text: str, file: str) -> tuple[Any, Problem | None]:
    """Return the document parsed safely, or None and the problem."""
    try:
        return yaml.load(text, Loader=_LineLoader), None
    except yaml.constructor.ConstructorError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        tag = f" ({exc.problem})" if exc.problem else ""
        msg = f"YAML tag not allowed in vector files{tag}: vectors are data, nothing in them is constructed or run"
        return None, Problem(file, line, _case_at(text, line), msg)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        what = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        return None, Problem(file, line, None, f"malformed YAML: {what}")


def _check_top(doc: Any, file: str) -> list[Problem]:
    if not isinstance(doc, dict):
        return [Problem(file, None, None, "a vector file must be a mapping with schema, op, notes and groups")]
    problems = []
    line = _line(doc, 1)
    if doc.get("schema") != SCHEMA_ID:
        problems.append(Problem(file, line, None, f"schema must be {SCHEMA_ID!r}, got {doc.get('schema')!r}"))
    for key in sorted(set(doc) - TOP_KEYS):
        problems.append(Problem(file, line, None, f"unknown top-level key {key!r}"))
    if doc.get("op") not in OPS:
        problems.append(Problem(file, line, None, f"unknown op {doc.get('op')!r}; known ops: {', '.join(OPS)}"))
    if not isinstance(doc.get("groups"), list):
        problems.append(Problem(file, line, None, "groups must be a list of groups"))
    if not isinstance(doc.get("notes", {}), dict):
        problems.append(Problem(file, line, None, "notes must map each flag to its definition"))
    return problems


def _group_cases(doc: dict, file: str) -> Iterable[tuple[dict, Any, Problem | None]]:
    """Yield (group params, raw case, problem) for every case of every group."""
    for number, group in enumerate(doc.get("groups") or [], start=1):
        if not isinstance(group, dict) or not isinstance(group.get("cases"), list):
            yield {}, None, Problem(file, _line(group), None, f"group {number} must be a mapping with a list of cases")
            continue
        unknown = sorted(set(group) - GROUP_KEYS)
        if unknown:
            yield {}, None, Problem(file, _line(group), None, f"group {number} has unknown keys {unknown}")
        params = group.get("params") or {}
        if not isinstance(params, dict):
            yield {}, None, Problem(file, _line(group), None, f"group {number}: params must be a mapping")
            continue
        for raw in group["cases"]:
            yield params, raw, None


def load_text(text: str, file: str) -> tuple[list[Case], list[Problem]]:
    """Return the good cases of one vector file's text and every problem found in it."""
    doc, problem = parse_yaml(text, file)
    if problem:
        return [], [problem]
    problems = _check_top(doc, file)
    if not isinstance(doc, dict) or not isinstance(doc.get("groups"), list) or doc.get("op") not in OPS:
        return [], problems
    notes = doc.get("notes") if isinstance(doc.get("notes"), dict) else {}
    cases: list[Case] = []
    seen: dict[str, int | None] = {}
    for params, raw, group_problem in _group_cases(doc, file):
        if group_problem:
            problems.append(group_problem)
            continue
        case_id = raw.get("id") if isinstance(raw, dict) else None
        if isinstance(case_id, str) and case_id in seen:
            problems.append(Problem(file, _line(raw), case_id, f"duplicate id (first at line {seen[case_id]})"))
            continue
        try:
            case = build_case(raw, doc.get("op"), params, notes, file, _line(raw))
        except CaseError as exc:
            problems.append(Problem(file, exc.line or _line(raw), exc.case, str(exc)))
            continue
        seen[case.id] = case.line
        cases.append(case)
    return cases, problems


def _read(path: Path) -> tuple[str | None, Problem | None]:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            return None, Problem(str(path), None, None, f"file is {size} bytes; vector files are at most {MAX_FILE_BYTES}")
        return path.read_text(encoding="utf-8"), None
    except (OSError, UnicodeDecodeError) as exc:
        return None, Problem(str(path), None, None, f"cannot read: {exc}")


def vector_files(paths: Iterable[str | Path]) -> list[Path]:
    """Return the YAML files named by ``paths`` (directories are searched, sorted)."""
    files: list[Path] = []
    for entry in paths:
        path = Path(entry)
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml")))
        else:
            files.append(path)
    return files


def default_vector_dir() -> Path:
    """Return the directory of the vectors shipped with the kit."""
    from importlib.resources import files

    try:
        return Path(str(files("conformance.vectors")))
    except ModuleNotFoundError:
        source = Path(__file__).resolve().parent
        raise SystemExit(
            f"error: the shipped vectors (conformance.vectors) are not importable: Python took the package from the "
            f"source checkout {source.parent} (the current directory?), where vectors/ and adapters/ become "
            f"conformance.vectors and conformance.adapters only through an install. Install it editable there "
            f"(pip install -e .) or run from another directory.") from None


def load_paths(paths: Iterable[str | Path] | None = None) -> Corpus:
    """Return every case from the vector files at ``paths`` (default: the shipped vectors)."""
    corpus = Corpus()
    digest = hashlib.sha256()
    for path in vector_files(paths or [default_vector_dir()]):
        text, problem = _read(path)
        corpus.files.append(str(path))
        if problem:
            corpus.problems.append(problem)
            continue
        digest.update(path.name.encode() + b"\0" + text.encode() + b"\0")
        cases, problems = load_text(text, str(path))
        corpus.cases.extend(cases)
        corpus.problems.extend(problems)
    corpus.digest = "sha256:" + digest.hexdigest()
    return corpus
