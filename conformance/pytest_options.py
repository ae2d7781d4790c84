"""The plugin's options: the kit's run options (``conformance.options``) as ``--conformance-*`` flags and ini keys.

Each option is read from the command line, else from the ini file
(``pytest.ini``, ``[tool.pytest.ini_options]``), else its default. Paths in the
ini file are relative to the ini file; on the command line, to where pytest runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

GROUP = "conformance"
# pytest runs items one at a time; running frameworks side by side is pytest-xdist's -n
NOT_IN_PLUGIN = ("jobs",)
FILE_OPTIONS = (
    ("expectations", "expectation files (YAML): known failures of the kit's checks, each with a reason, a link, a "
                     "category and a scope; matching checks become xfail (repeatable)"),
    ("save", "write an expectation file listing the current failures of the kit's checks, to start from"),
    ("report", "write the results of the kit's checks as a results file (JSON Lines), as the CLI's --out does"),
)


@dataclass
class Settings:
    """The run options of this pytest run, and the plugin's own files."""

    run: object  # conformance.runner.RunOptions
    vectors: list[str] | None = None
    expectations: list[Path] = field(default_factory=list)
    strict: bool = False
    save: Path | None = None
    report: Path | None = None


def _dest(name: str) -> str:
    return "conformance_" + name.replace("-", "_")


def add_options(parser) -> None:
    """Add the ``conformance`` option group and its ini keys to pytest's parser."""
    from conformance.options import RUN_OPTIONS, argtype

    group = parser.getgroup(GROUP, "loss-conformance (check losses against the kit's vectors)")
    group.addoption("--conformance", action="store_true", default=None,
                    help="collect the kit's checks (case x binding x dtype x mode x device) as pytest items")
    parser.addini("conformance", "collect the kit's checks, as --conformance does", type="bool", default=None)
    for spec in RUN_OPTIONS:
        if spec.name in NOT_IN_PLUGIN:
            continue
        _add(parser, group, spec.name, spec.help, spec.flag, spec.metavar, argtype(spec.parse))
    _add(parser, group, "all-bindings", "also run the bindings that run only when asked: the tutorial's "
         "hand-written formulas", flag=True)
    group.addoption("--conformance-vectors", dest="conformance_vectors", action="append", metavar="PATH",
                    help="a vector file or directory instead of the shipped vectors (repeatable)")
    parser.addini("conformance_vectors", "vector files or directories instead of the shipped vectors", type="paths",
                  default=[])
    for name, help_text in FILE_OPTIONS:
        action = "append" if name == "expectations" else "store"
        group.addoption(f"--conformance-{name}", dest=_dest(name), action=action, metavar="FILE", help=help_text)
        parser.addini(_dest(name), help_text, type="paths", default=[])
    _add(parser, group, "strict", "fail the run when an expectation entry now passes (XPASS), matches no check, or "
         "has expired", flag=True)


def _add(parser, group, name: str, help_text: str, flag: bool, metavar: str = "LIST", parse=None) -> None:
    if flag:
        group.addoption(f"--conformance-{name}", dest=_dest(name), action="store_true", default=None, help=help_text)
    else:
        group.addoption(f"--conformance-{name}", dest=_dest(name), type=parse, default=None, metavar=metavar,
                        help=help_text)
    parser.addini(_dest(name), help_text, type="bool" if flag else "string", default=None)


def _value(config, spec):
    """Return one run option's value: command line, else ini file, else the default."""
    given = config.getoption(_dest(spec.name))
    if given is not None:
        return given
    text = config.getini(_dest(spec.name))
    if text is None or text == "":
        return spec.default
    if spec.flag:
        return bool(text)
    try:
        return spec.parse(text)
    except ValueError as exc:
        raise pytest.UsageError(f"{_dest(spec.name)} = {text} in {config.inipath}: {exc}") from None


def _paths(config, name: str) -> list[Path]:
    given = config.getoption(_dest(name))
    if given:
        return [Path(config.invocation_params.dir, p) for p in (given if isinstance(given, list) else [given])]
    return list(config.getini(_dest(name)))


def _flag(config, name: str) -> bool:
    return bool(config.getoption(_dest(name)) or config.getini(_dest(name)))


SETTINGS = pytest.StashKey["Settings"]()


def read_settings(config) -> Settings:
    """Return this run's settings (read once per pytest config; a bad ini value is a usage error)."""
    if SETTINGS in config.stash:
        return config.stash[SETTINGS]
    from conformance.options import RUN_OPTIONS
    from conformance.runner import RunOptions

    values = {spec.name: _value(config, spec) for spec in RUN_OPTIONS if spec.name not in NOT_IN_PLUGIN}
    run = RunOptions(**values, all_bindings=_flag(config, "all-bindings"))
    vectors = [str(p) for p in _paths(config, "vectors")] or None
    single = {name: (_paths(config, name) or [None])[-1] for name in ("save", "report")}
    settings = Settings(run, vectors, _paths(config, "expectations"), _flag(config, "strict"), **single)
    config.stash[SETTINGS] = settings
    return settings
