"""The command line: ``python -m conformance run | vectors validate | adapters | matrix | diff | compare | repro``."""

from __future__ import annotations

import argparse
import importlib
import signal
import sys
import time
from collections import Counter
from typing import Sequence

from conformance import __version__
from conformance.adapter import AdapterError, framework_versions, load_adapter, missing_requirement, resolve_adapter
from conformance.loader import load_paths
from conformance.options import RUN_OPTIONS, argtype
from conformance.progress import Progress
from conformance.results import FAILING, ResultsWriter, exit_code, header_record, summary_record
from conformance.runner import RunOptions, registered_frameworks, run
from conformance.summary import ConsoleReporter

EXIT_VECTOR_PROBLEMS = 2
# commands that live in modules of their own: each has add_parser(commands) and main(args) -> int
COMMAND_MODULES = {"matrix": "conformance.matrix_cli", "diff": "conformance.diff_cli", "compare": "conformance.diff_cli",
                   "repro": "conformance.repro_cli"}
INTERMIXED = ("repro",)  # commands whose optional positionals argparse would misread after an option
DEFAULT_OUT = "conformance-results.jsonl"


class Interrupted(Exception):
    """The run was stopped by SIGTERM."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m conformance", description="Loss-function conformance kit")
    parser.add_argument("--version", action="version", version=f"loss-conformance {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    runner = commands.add_parser("run", help="check every framework's loss ops against the float64 reference")
    add_run_options(runner)
    runner.add_argument("--out", default=DEFAULT_OUT, metavar="FILE", help=f"results file, JSON Lines (default: {DEFAULT_OUT})")
    runner.add_argument("--matrix", metavar="FILE", help="also write the compatibility matrix of this run; the "
                        "suffix picks the format: .html, .md, .csv or .json (see the matrix command)")
    vectors = commands.add_parser("vectors", help="work with vector files").add_subparsers(dest="action", required=True)
    validate = vectors.add_parser("validate", help="check vector files; every problem with file, line and case")
    validate.add_argument("paths", nargs="+", metavar="PATH")
    commands.add_parser("adapters", help="list the registered adapters, their bindings and whether they can run here")
    for module in dict.fromkeys(COMMAND_MODULES.values()):
        importlib.import_module(module).add_parser(commands)
    parser.set_defaults(_commands=commands)
    return parser


def add_run_options(parser: argparse.ArgumentParser) -> None:
    """Add what to run (RUN_OPTIONS), --vectors, --all-bindings and --quiet: shared by `run` and `compare`."""
    for spec in RUN_OPTIONS:
        if spec.flag:
            parser.add_argument(f"--{spec.name}", action="store_true", help=spec.help)
        else:
            parser.add_argument(f"--{spec.name}", type=argtype(spec.parse), default=spec.default,
                                metavar=spec.metavar, help=spec.help)
    parser.add_argument("--vectors", nargs="+", metavar="PATH", help="vector files or directories (default: the shipped vectors)")
    parser.add_argument("--all-bindings", action="store_true",
                        help="also run the bindings that run only when asked: the tutorial's hand-written formulas")
    parser.add_argument("--quiet", action="store_true", help="print only the summary table; no progress bar")


def frameworks_header(names: list[str]) -> dict:
    header = {}
    for name in names:
        try:
            adapter = resolve_adapter(name)
        except AdapterError:
            continue
        header[name] = {"versions": framework_versions(adapter), "available": missing_requirement(adapter) is None}
    return header


def gpu_names() -> list[str]:
    """Return the GPUs nvidia-smi lists, without importing any framework."""
    import shutil
    import subprocess

    if not shutil.which("nvidia-smi"):
        return []
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return []
    return [line.strip() for line in out.stdout.splitlines() if line.strip()]


def _on_sigterm(signum, frame):
    raise Interrupted()


def command_run(args: argparse.Namespace, argv: Sequence[str]) -> int:
    corpus = load_paths(args.vectors)
    for problem in corpus.problems:
        print(f"error: {problem}", file=sys.stderr)
    options = RunOptions(frameworks=args.frameworks, ops=args.ops, cases=args.cases, exclude=args.exclude,
                         dtypes=args.dtypes, modes=args.modes, devices=args.devices, all_bindings=args.all_bindings,
                         grad=args.grad, large=args.large, jobs=args.jobs, timeout=args.timeout)
    names = options.frameworks or registered_frameworks()
    reporter = ConsoleReporter(sys.stdout, quiet=args.quiet)
    problems = len(corpus.problems)
    start = time.perf_counter()
    counts: Counter = Counter()
    complete = False
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    progress = Progress.for_terminal(sys.stderr, args.quiet)
    with open(args.out, "w", encoding="utf-8") as stream, progress:
        writer = ResultsWriter(stream)
        writer.write(header_record(__version__, corpus.digest, frameworks_header(names), gpu_names(), list(argv)))

        def emit(record: dict) -> None:
            writer.write(record)
            if record["status"] in FAILING:
                progress.clear()
            reporter(record)
            progress.update(record)

        def emit_problem(message: str) -> None:
            nonlocal problems
            problems += 1
            progress.clear()
            print(f"error: {message}", file=sys.stderr)

        def note(message: str) -> None:
            progress.clear()
            print(f"note: {message}", file=sys.stderr)

        try:
            counts = run(corpus.cases, options, emit, emit_problem, note)
            complete = True
        except (KeyboardInterrupt, Interrupted):
            counts = sum((Counter(fw) for fw in reporter.tally.counts.values()), Counter())
        finally:
            signal.signal(signal.SIGTERM, previous)
            writer.write(summary_record(counts, complete, time.perf_counter() - start, problems))
    reporter.finish(complete, args.out, problems)
    if args.matrix:
        from conformance.matrix_cli import write_matrix

        write_matrix([args.out], args.matrix)
        print(f"matrix: {args.matrix}")
    if not complete:
        return 130
    return exit_code(counts) or (EXIT_VECTOR_PROBLEMS if problems else 0)


def command_validate(args: argparse.Namespace) -> int:
    corpus = load_paths(args.paths)
    for problem in corpus.problems:
        print(problem)
    print(f"{len(corpus.files)} file(s), {len(corpus.cases)} valid case(s), {len(corpus.problems)} problem(s)")
    return 1 if corpus.problems else 0


def command_adapters() -> int:
    for name in registered_frameworks():
        try:
            adapter = load_adapter(name)
        except AdapterError as exc:
            print(f"{name}: cannot load: {exc}")
            continue
        missing = missing_requirement(adapter)
        versions = ", ".join(f"{d} {v}" for d, v in framework_versions(adapter).items() if v) or "-"
        print(f"{name} ({versions}): {'skipped: ' + missing if missing else 'available'}; "
              f"dtypes {','.join(adapter.dtypes)}; modes {','.join(adapter.modes)}; devices {','.join(adapter.devices)}")
        for binding in adapter.bindings:
            note = "" if binding.default else " (only with --all-bindings)"
            print(f"  {binding.op:32} {binding.name}{note}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = _parser()
    if argv and argv[0] in INTERMIXED:  # options may come before, between or after its positionals
        command = parser.get_default("_commands").choices[argv[0]]
        args = command.parse_intermixed_args(argv[1:], namespace=argparse.Namespace(command=argv[0]))
    else:
        args = parser.parse_args(argv)
    if args.command == "run":
        return command_run(args, argv)
    if args.command == "vectors":
        return command_validate(args)
    if args.command in COMMAND_MODULES:
        return importlib.import_module(COMMAND_MODULES[args.command]).main(args)
    return command_adapters()
