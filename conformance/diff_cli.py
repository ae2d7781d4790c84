"""``python -m conformance diff OLD NEW`` and ``python -m conformance compare --python A --python B``."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from conformance.diff import DEFAULT_DRIFT_FACTOR, diff
from conformance.diff_text import render_diff
from conformance.options import RUN_OPTIONS
from conformance.resultset import ResultsError, read_run

EXIT_BAD_INPUT = 2


def _add_report_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--drift-factor", type=float, default=DEFAULT_DRIFT_FACTOR, metavar="F",
                        help=f"a passing check drifts when its error grows more than F times (default {DEFAULT_DRIFT_FACTOR:g})")
    parser.add_argument("--upgraded", metavar="FRAMEWORK",
                        help="the framework being upgraded; a change in anything else is warned about "
                             "(default: the one framework whose version differs)")
    parser.add_argument("--limit", type=int, default=50, metavar="N", help="list at most N changes per class")


def add_parser(commands) -> None:
    parser = commands.add_parser(
        "diff", help="what changed between two results files (before and after an upgrade); exit 1 on a regression",
        description="Classify every change between two results files: regressions, error drift, fixes, behaviour "
                    "changes on implementation-defined cases, checks added or removed. Prints Markdown for a "
                    "pull-request comment; exits 1 when anything regressed.")
    parser.add_argument("old", metavar="OLD.jsonl")
    parser.add_argument("new", metavar="NEW.jsonl")
    parser.add_argument("-o", "--out", metavar="FILE", help="also write the Markdown here")
    _add_report_options(parser)
    compare = commands.add_parser(
        "compare", help="run the kit under two Python interpreters (two environments) and diff them",
        description="May we upgrade? Runs `python -m conformance run` with the same options under each "
                    "interpreter (each a virtual environment with its own framework versions, the kit installed "
                    "in both), then diffs the two results files; exits 1 on a regression.")
    compare.add_argument("--python", action="append", required=True, metavar="PATH",
                         help="an interpreter; give it twice: the current environment first, then the candidate")
    compare.add_argument("--out-dir", default="conformance-compare", metavar="DIR",
                         help="where the two results files and the diff go (default: conformance-compare)")
    _add_report_options(compare)
    compare.set_defaults(out=None)
    from conformance.cli import add_run_options

    add_run_options(compare)


def command_diff(args: argparse.Namespace) -> int:
    try:
        old, new = read_run(args.old, 0), read_run(args.new, 1)
    except ResultsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    return _report([old], [new], args)


def _report(old, new, args: argparse.Namespace) -> int:
    try:
        result = diff(old, new, factor=args.drift_factor, upgraded=args.upgraded)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    text = render_diff(result, limit=args.limit)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")
    return result.exit_code()


def run_argv(args: argparse.Namespace) -> list[str]:
    """Return the `run` options of a compare command as command-line words, for each interpreter."""
    words = []
    for spec in RUN_OPTIONS:
        value = getattr(args, spec.name)
        if spec.flag:
            words += [f"--{spec.name}"] if value else []
        elif value is not None and value != spec.default:
            words += [f"--{spec.name}", ",".join(map(str, value)) if isinstance(value, list) else str(value)]
    if args.vectors:
        words += ["--vectors", *args.vectors]
    if args.all_bindings:
        words.append("--all-bindings")
    return words


def _stderr_fd():
    try:
        return sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):
        return None


def _kit_version(python: str) -> str | None:
    try:
        out = subprocess.run([python, "-c", "import conformance; print(conformance.__version__)"],
                             capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def command_compare(args: argparse.Namespace) -> int:
    if len(args.python) != 2:
        print(f"error: compare takes --python twice (current, then candidate), got {len(args.python)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for python in args.python:
        if _kit_version(python) is None:
            print(f"error: {python} cannot import the kit: install it there (pip install loss-conformance, or "
                  f"pip install -e <this repo>) — it must be installed, not only on PYTHONPATH, so its adapters "
                  f"are registered", file=sys.stderr)
            return EXIT_BAD_INPUT
    paths = []
    for side, python in zip(("a", "b"), args.python):
        path = out_dir / f"results-{side}.jsonl"
        command = [python, "-m", "conformance", "run", *run_argv(args), "--out", str(path)]
        if args.quiet:
            command.append("--quiet")
        print(f"compare: {' '.join(command)}", file=sys.stderr, flush=True)
        finished = subprocess.run(command, stdout=_stderr_fd())  # standard output keeps only the diff
        if finished.returncode not in (0, 1, 2) or not path.exists():
            print(f"error: the run under {python} stopped (exit {finished.returncode}); see its output above",
                  file=sys.stderr)
            return EXIT_BAD_INPUT
        paths.append(path)
    try:
        old, new = read_run(paths[0], 0), read_run(paths[1], 1)
    except ResultsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.out is None:
        args.out = str(out_dir / "diff.md")
    return _report([old], [new], args)


def main(args: argparse.Namespace) -> int:
    return command_compare(args) if args.command == "compare" else command_diff(args)
