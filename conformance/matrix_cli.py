"""``python -m conformance matrix RESULTS.jsonl... --format md|html|csv|json [-o FILE]``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from conformance.matrix import build
from conformance.resultset import ResultsError, read_runs

FORMATS = ("md", "html", "csv", "json")
EXIT_BAD_INPUT = 2


def add_parser(commands) -> None:
    parser = commands.add_parser(
        "matrix", help="the compatibility matrix of one or more results files (merged), as md, html, csv or json",
        description="Merge results files (one per machine, CI job or framework version) into one compatibility "
                    "matrix: rows are ops' cases, columns binding x dtype x mode x device, with the framework "
                    "version and machine from each file's header.")
    parser.add_argument("results", nargs="+", metavar="RESULTS.jsonl", help="results files written by `run`")
    parser.add_argument("--format", choices=FORMATS, default=None,
                        help="output format (default: from the -o file's suffix, else md)")
    parser.add_argument("-o", "--out", metavar="FILE", help="write here instead of standard output")
    parser.add_argument("--rows", choices=("case", "op"), default=None,
                        help="one row per case, or per op with each cell aggregating the op's cases (median, p99, "
                             "max, worst case named); default: op for md, case for the others")
    parser.add_argument("--title", help="the report's title")
    parser.add_argument("--include-not-applicable", action="store_true",
                        help="keep rows and columns where no check ran (only not-applicable or skipped)")


def _format(args: argparse.Namespace) -> str:
    if args.format:
        return args.format
    suffix = Path(args.out).suffix.lstrip(".").lower() if args.out else ""
    return {"markdown": "md", "htm": "html"}.get(suffix, suffix) if suffix in (*FORMATS, "markdown", "htm") else "md"


def default_rows(fmt: str) -> str:
    """Rows per op for Markdown (tables cannot be wide), per case for the other formats."""
    return "op" if fmt == "md" else "case"


def render(matrix, fmt: str, title: str | None) -> str:
    """Return the matrix in one of FORMATS."""
    if fmt == "md":
        from conformance.matrix_text import render_markdown
        return render_markdown(matrix, title)
    if fmt == "csv":
        from conformance.matrix_data import render_csv
        return render_csv(matrix)
    if fmt == "json":
        from conformance.matrix_data import render_json
        return render_json(matrix)
    from conformance.matrix_html import render_html
    return render_html(matrix, title)


def write_matrix(results: list[str], out: str, fmt: str | None = None, rows: str | None = None,
                 title: str | None = None) -> None:
    """Write the matrix of these results files to ``out``, the format from its suffix unless given."""
    fmt = fmt or _format(argparse.Namespace(format=None, out=out))
    matrix = build(read_runs(results), rows=rows or default_rows(fmt))
    Path(out).write_text(render(matrix, fmt, title), encoding="utf-8")


def main(args: argparse.Namespace) -> int:
    fmt = _format(args)
    try:
        runs = read_runs(args.results)
    except ResultsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    matrix = build(runs, rows=args.rows or default_rows(fmt),
                   include_not_applicable=args.include_not_applicable)
    text = render(matrix, fmt, args.title)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
        shown = sum(cell.ran for cell in matrix.cells.values())
        print(f"matrix: {len(matrix.rows)} rows x {len(matrix.columns)} columns, {shown} checks run, from "
              f"{len(runs)} file(s) -> {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0
