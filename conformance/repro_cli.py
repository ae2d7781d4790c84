"""``python -m conformance repro``: a failing check of a results file as a standalone script.

    repro RESULTS CASE BINDING DTYPE [--mode M] [--device D] [--quantity value|grad] [--force] [-o FILE]
    repro RESULTS --all [-o DIR]

The first prints (or writes) one script; the second writes one script per
failing, erroring, crashed or timed-out check and a README.md index, into DIR
(default: beside the results file, ``<results name>-repro/``). Exit code 0
when written, 2 when something is wrong with what was asked (the message
names the file and what is wrong) or, for --all, when some check got no script.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

from conformance.repro import ReproError, Selection, cell, describe, failing_records, find_record, index_row, \
    read_run, reproducer, script_name

__all__ = ["add_parser", "main", "run"]

EXIT_PROBLEM = 2


def add_parser(commands) -> argparse.ArgumentParser:
    """Add the ``repro`` subcommand to ``commands`` (argparse's subparsers object) and return its parser."""
    parser = commands.add_parser(
        "repro", help="write a standalone script that reproduces a failing check of a results file",
        description="Write a standalone Python script (NumPy and the framework only) that reproduces one "
                    "failing check of a results file, for an upstream bug report; or, with --all, one per "
                    "failing check.")
    parser.add_argument("results", metavar="RESULTS", help="results file (JSON Lines) of `python -m conformance run`")
    parser.add_argument("case", metavar="CASE", nargs="?",
                        help="case id, or op[id] when the id exists under several ops")
    parser.add_argument("binding", metavar="BINDING", nargs="?", help="binding name, as in the record's binding field")
    parser.add_argument("dtype", metavar="DTYPE", nargs="?", help="dtype, e.g. float32")
    parser.add_argument("--mode", help="the check's mode, where the case ran in several (eager, compiled, ...)")
    parser.add_argument("--device", help="the check's device, where the case ran on several")
    parser.add_argument("--quantity", choices=("value", "grad"), help="value or gradient check, where both ran")
    parser.add_argument("--force", action="store_true", help="write the script for a check that did not fail too")
    parser.add_argument("--all", action="store_true", dest="all_failing",
                        help="one script per failing, erroring, crashed or timed-out check, and a README.md index")
    parser.add_argument("-o", "--out", metavar="PATH",
                        help="write the script to this file (with --all: into this directory; default "
                             "<results name>-repro/ beside the results file)")
    parser.add_argument("--vectors", nargs="+", metavar="PATH",
                        help="vector files of the run (default: the file each record names, else the shipped vectors)")
    parser.add_argument("--adapter", metavar="REF",
                        help="the adapter (name or module:Class), if not the registered one")
    return parser


def _error(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return EXIT_PROBLEM


def _one(args: argparse.Namespace) -> int:
    missing = [name for name in ("case", "binding", "dtype") if not getattr(args, name)]
    if missing:
        return _error(f"repro needs CASE, BINDING and DTYPE (missing {', '.join(m.upper() for m in missing)}), "
                      "or --all")
    header, checks = read_run(args.results)
    selection = Selection(args.case, args.binding, args.dtype, args.mode, args.device, args.quantity, args.force)
    record = find_record(checks, selection, args.results)
    text, notes = reproducer(args.results, header, record, args.vectors, args.adapter)
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
        print(f"wrote {args.out}: {describe(record)}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def _all(args: argparse.Namespace) -> int:
    if args.case or args.binding or args.dtype:
        return _error("--all takes no CASE, BINDING or DTYPE")
    header, checks = read_run(args.results)
    results = Path(args.results)
    out = Path(args.out) if args.out else results.with_name(results.stem + "-repro")
    out.mkdir(parents=True, exist_ok=True)
    written, skipped, used = [], [], set()
    for record in failing_records(checks):
        try:
            text, notes = reproducer(results, header, record, args.vectors, args.adapter)
        except ReproError as exc:
            skipped.append((record, str(exc)))
            continue
        name = script_name(record)
        stem, number = name[:-3], 2
        while name in used:
            name, number = f"{stem}-{number}.py", number + 1
        used.add(name)
        (out / name).write_text(text, encoding="utf-8")
        written.append((name, record))
    (out / "README.md").write_text(_index(results, written, skipped), encoding="utf-8")
    print(f"wrote {len(written)} script(s) and README.md to {out}", file=sys.stderr)
    for record, why in skipped:
        print(f"error: no script for {describe(record)}: {why}", file=sys.stderr)
    return EXIT_PROBLEM if skipped else 0


def _index(results: Path, written: list, skipped: list) -> str:
    lines = [f"# Reproducers for {results.name}", "",
             "One standalone script per failing check (NumPy and the framework only). Run one with "
             "`python SCRIPT`: it prints REPRODUCED and exits 1 when the failure shows, NOT REPRODUCED and exits 0 "
             "when it does not.", "",
             index_row(["script", "case", "binding", "dtype", "mode", "device", "quantity", "status", "message"]),
             index_row(["---"] * 9)]
    for name, r in written:
        lines.append(index_row([f"[{name}]({name})", f"{r.get('op')}[{r.get('case')}]", r.get("binding"),
                                r.get("dtype"), r.get("mode"), r.get("device"), r.get("quantity") or "value",
                                r.get("status"), (r.get("message") or "")[:160]]))
    if skipped:
        lines += ["", "## Checks without a script", ""]
        lines += [f"- {cell(describe(r))}: {cell(why)}" for r, why in skipped]
    return "\n".join(lines) + "\n"


def main(args: argparse.Namespace) -> int:
    """Run the ``repro`` subcommand with parsed arguments; return the exit code."""
    try:
        return _all(args) if args.all_failing else _one(args)
    except ReproError as exc:
        return _error(str(exc))
    except OSError as exc:
        return _error(f"{exc.filename or args.out}: {exc.strerror or exc}")


def run(argv: Sequence[str]) -> int:
    """Parse ``argv`` (the arguments after ``repro``) and run the subcommand: for tests and ``python -m``."""
    parser = argparse.ArgumentParser(prog="python -m conformance")
    add_parser(parser.add_subparsers(dest="command", required=True))
    return main(parser.parse_args(["repro", *argv]))


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
