"""Console reporting: a line per failing check as it happens, a table per framework at the end."""

from __future__ import annotations

from collections import defaultdict
from typing import IO

from conformance.results import FAILING, STATUSES

COLUMNS = ("pass", "definition-difference", "fail", "error", "crashed", "timeout", "not-applicable", "skipped")


def failure_line(record: dict) -> str:
    """Return the one-line report of a failing check: where, then what."""
    where = f"{record['op']}[{record['case']}] {record['binding'] or '-'} {record['dtype']} {record['mode']} {record['device']}"
    kind = f" [{record['classification']}]" if record.get("classification") else ""
    return f"{record['status'].upper()}{kind} {where}: {record['message']}"


class Tally:
    """Counts statuses per framework and keeps the worst error seen."""

    def __init__(self) -> None:
        self.counts: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(STATUSES, 0))
        self.versions: dict[str, str | None] = {}
        self.worst_ulp: dict[str, float] = defaultdict(float)

    def add(self, record: dict) -> None:
        framework = record["framework"]
        self.counts[framework][record["status"]] += 1
        self.versions.setdefault(framework, record.get("framework_version"))
        if record["status"] == "pass" and isinstance(record.get("max_ulp"), (int, float)):
            self.worst_ulp[framework] = max(self.worst_ulp[framework], record["max_ulp"])

    def table(self) -> str:
        """Return the per-framework summary as an aligned text table."""
        head = ("framework", "version", *COLUMNS, "worst ulp (pass)")
        rows = [head]
        for framework in sorted(self.counts):
            counts = self.counts[framework]
            ulp = self.worst_ulp.get(framework, 0.0)
            rows.append((framework, self.versions.get(framework) or "-", *(str(counts[c]) for c in COLUMNS),
                         f"{ulp:.3g}"))
        widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
        lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]
        lines.insert(1, "  ".join("-" * width for width in widths))
        return "\n".join(lines)


class ConsoleReporter:
    """Prints failing checks as they arrive and the table at the end."""

    def __init__(self, stream: IO[str], quiet: bool = False):
        self.stream = stream
        self.quiet = quiet
        self.tally = Tally()

    def __call__(self, record: dict) -> None:
        self.tally.add(record)
        if record["status"] in FAILING and not self.quiet:
            print(failure_line(record), file=self.stream, flush=True)

    def finish(self, complete: bool, results_path: str | None, problems: int) -> None:
        print("", file=self.stream)
        print(self.tally.table(), file=self.stream)
        if problems:
            print(f"\n{problems} problem(s) in vector files or adapters (listed above); their cases did not run",
                  file=self.stream)
        if not complete:
            print("\nRUN INCOMPLETE: interrupted; every finished check is in the results file", file=self.stream)
        if results_path:
            print(f"\nresults: {results_path}", file=self.stream)
