"""``pytest --conformance``: the kit's checks as pytest items, with expectation files and a results file.

Registered by the plugin only when ``--conformance`` is given. Items are
collected under one collector, ``conformance``, so node ids read
``conformance::sigmoid_cross_entropy[tutorial-5x3]-torch.nn...-float32-eager-cpu``
and ``-k``, ``-m conformance``, ``-x``, ``--lf``, ``--junitxml`` and ``-n`` treat
them like any other test. Each item runs one check in its framework's worker
process (``conformance.pytest_driver``); its records travel on the test report,
so the results file and ``--conformance-save`` see them under pytest-xdist too.
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import pytest

from conformance import expectations
from conformance.pytest_driver import Drivers
from conformance.pytest_plan import Check, Plan, plan_checks, vector_location
from conformance.results import FAILING, ResultsWriter, header_record, summary_record
from conformance.summary import Tally, failure_line

XPASS_STRICT = "[XPASS(strict)]"


class CheckFailed(AssertionError):
    """A check failed, errored, crashed or timed out; its message is the kit's own."""


class ConformanceCheck(pytest.Item):
    """One check of the kit as a pytest item."""

    def __init__(self, *, check: Check, run: "ConformanceRun", **kwargs):
        super().__init__(**kwargs)
        self.check = check
        self.run = run
        self.records: list[dict] = list(check.records)  # decided when planned: not applicable, not installed
        self.expectation: int | None = None
        self.add_marker("conformance")
        skip = _skip_reason(check.records)
        if skip and check.task is None:  # known before running: skipped like a skip marker, at the vector's line
            self.add_marker(pytest.mark.skip(reason=skip))
        for word in (check.framework, check.case.op if check.case else None):
            if word:
                self.extra_keyword_matches.add(word)

    def runtest(self) -> None:
        if self.check.problem:
            raise CheckFailed(self.check.problem)
        self.records = self.run.drivers().records(self.check)
        _verdict(self.check, self.records)

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, CheckFailed):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self):
        location = vector_location(self.check.case)
        # pytest needs a line for a skip reported at the item's location
        return (location[0], location[1] or 0, self.name) if location else (self.path, 0, self.name)


def _skip_reason(records: list[dict]) -> str | None:
    """Return why a check is skipped when every record is skipped or not applicable, else None."""
    if not records or any(r["status"] not in ("skipped", "not-applicable") for r in records):
        return None
    first = records[0]
    if first["status"] == "not-applicable":
        return f"not applicable: {first['message']}"
    return f"{first['framework']} skipped: {first['message']}"


def _verdict(check: Check, records: list[dict]) -> None:
    """Return when the check passed; otherwise skip, xfail or fail the item with the kit's message."""
    failing = [r for r in records if r["status"] in FAILING]
    if failing:
        lines = [failure_line(r) for r in failing]
        first = failing[0]
        if first.get("call"):
            lines.append(f"call: {first['call']}")
        if check.case is not None and check.case.file:
            lines.append(f"vector: {check.case.file}:{check.case.line}")
        raise CheckFailed("\n".join(lines))
    skip = _skip_reason(records)
    if skip:
        raise pytest.skip.Exception(skip, _use_item_location=True)  # reported at the vector's line, not here
    statuses = {r["status"] for r in records}
    if "definition-difference" in statuses:
        pytest.xfail(next(r["message"] for r in records if r["status"] == "definition-difference"))


class ConformanceChecks(pytest.Collector):
    """The collector of every kit check: a child of the session named ``conformance``."""

    def __init__(self, *, run: "ConformanceRun", **kwargs):
        super().__init__(**kwargs)
        self.run = run

    def collect(self):
        xdist = self.config.pluginmanager.hasplugin("xdist")
        items = []
        for check in self.run.plan().checks:
            item = ConformanceCheck.from_parent(self, name=check.name, check=check, run=self.run)
            if xdist and check.framework:  # with --dist loadgroup, one xdist worker per framework
                item.add_marker(pytest.mark.xdist_group(check.framework))
            self.run.expect(item)
            items.append(item)
        return items


def _scope(check: Check) -> expectations.CheckScope | None:
    if check.framework is None or check.case is None:
        return None
    return expectations.CheckScope(check.framework, check.version, check.case.op, check.case.id, check.binding,
                                   check.dtype, check.mode, check.device, check.quantity)


class ConformanceRun:
    """The plugin object of a ``--conformance`` run: collection, expectations, results file, summary."""

    def __init__(self, config, settings):
        self.config = config
        self.settings = settings
        try:
            self.entries = expectations.load_files(settings.expectations)
        except expectations.ExpectationError as exc:
            raise pytest.UsageError(str(exc)) from None
        self.worker = hasattr(config, "workerinput")  # a pytest-xdist worker: the controller reports
        self._plan: Plan | None = None
        self._drivers: Drivers | None = None
        self.tally = Tally()
        self.records: list[dict] = []
        self.xpassed: dict[int, list[str]] = {}
        self.writer: ResultsWriter | None = None
        self.started = time.perf_counter()

    def plan(self) -> Plan:
        """Return the plan of this run (made once per process)."""
        if self._plan is None:
            extra: dict[str, str] = {}
            for found in self.config.hook.pytest_conformance_adapters(config=self.config):
                extra.update(found or {})
            self._plan = plan_checks(self.settings.run, self.settings.vectors, extra)
        return self._plan

    def drivers(self) -> Drivers:
        if self._drivers is None:
            self._drivers = Drivers(self.plan().cases, self.settings.run)
        return self._drivers

    def expect(self, item: ConformanceCheck) -> None:
        """Mark ``item`` xfail when an expectation entry covers its check."""
        scope = _scope(item.check)
        index = expectations.first_match(self.entries, scope) if scope else None
        if index is not None:
            item.expectation = index
            item.add_marker(pytest.mark.xfail(reason=self.entries[index].describe(), strict=self.settings.strict))

    @pytest.hookimpl(wrapper=True)
    def pytest_make_collect_report(self, collector):
        report = yield
        if isinstance(collector, pytest.Session) and report.passed:
            report.result.append(ConformanceChecks.from_parent(collector, name="conformance", nodeid="conformance",
                                                               run=self))
        return report

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item, call):
        report = yield
        if not isinstance(item, ConformanceCheck):
            return report
        # a run check reports when called; one skipped when planned never gets that far
        if call.when == "call" or (call.when == "setup" and report.skipped and item.check.task is None):
            report.conformance_records = item.records
            report.conformance_expectation = item.expectation
        return report

    def pytest_report_collectionfinish(self, config, start_path, items):
        if self._plan is None:
            return None
        plan = self._plan
        counts = Counter(check.framework for check in plan.checks if check.framework)
        frameworks = ", ".join(f"{name} ({n})" for name, n in sorted(counts.items())) or "none"
        return [f"conformance: {sum(counts.values())} check(s) of {len(plan.cases)} case(s); frameworks: {frameworks}",
                *(f"conformance: {note}" for note in plan.notes)]

    def pytest_runtest_logreport(self, report) -> None:
        if self.worker or report.when not in ("setup", "call"):
            return
        for record in getattr(report, "conformance_records", None) or []:
            self._write(record)
        index = getattr(report, "conformance_expectation", None)
        xpass = (report.passed and hasattr(report, "wasxfail")) or \
            (report.failed and str(report.longrepr).startswith(XPASS_STRICT))
        if index is not None and xpass:
            self.xpassed.setdefault(index, []).append(report.nodeid)

    def _write(self, record: dict) -> None:
        self.records.append(record)
        self.tally.add(record)
        if self.settings.report is None:
            return
        if self.writer is None:
            self.writer = ResultsWriter(open(self.settings.report, "w", encoding="utf-8"))
            self.writer.write(self._header())
        self.writer.write(record)

    def _header(self) -> dict:
        from conformance import __version__
        from conformance.cli import frameworks_header, gpu_names

        plan = self.plan()
        return header_record(__version__, plan.digest, frameworks_header(list(plan.refs.values())), gpu_names(),
                             list(self.config.invocation_params.args))

    def findings(self) -> dict[str, list[str]]:
        """Return what the expectation files say beyond xfail: entries that now pass, match nothing, or expired."""
        entries = self.entries
        scopes = [s for s in (_scope(c) for c in self.plan().checks) if s] if entries else []
        return {
            "now pass (XPASS)": [f"{entries[i].where}: {entries[i].fields['case']} ({len(ids)} check(s), e.g. "
                                 f"{ids[0]})" for i, ids in sorted(self.xpassed.items())],
            "match no check": [f"{e.where}: {e.fields['case']} {e.fields['framework']}"
                               for e in expectations.unmatched(entries, scopes)],
            "have expired": [f"{e.where}: {e.fields['case']} expired {e.expires}" for e in entries if e.expired()],
        }

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session, exitstatus) -> None:
        if self._drivers is not None:
            self._drivers.close(kill=exitstatus == pytest.ExitCode.INTERRUPTED)
        if self.worker:
            return
        complete = exitstatus not in (pytest.ExitCode.INTERRUPTED,) and not session.shouldstop \
            and not session.shouldfail
        if self.settings.report is not None:
            if self.writer is None:
                self._write_header_only()
            problems = len(self.plan().problems)
            counts = Counter(r["status"] for r in self.records)
            self.writer.write(summary_record(counts, complete, time.perf_counter() - self.started, problems))
            self.writer.stream.close()
        if self.settings.save is not None:
            self._save()
        self.found = self.findings()
        if self.settings.strict and any(self.found.values()) and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def _write_header_only(self) -> None:
        self.writer = ResultsWriter(open(self.settings.report, "w", encoding="utf-8"))
        self.writer.write(self._header())

    def _save(self) -> None:
        failing = [r for r in self.records if r["status"] in FAILING]
        entries = []
        for record in failing:
            scope = expectations.CheckScope(record["framework"], record["framework_version"], record["op"],
                                            record["case"], record["binding"], record["dtype"], record["mode"],
                                            record["device"], record["quantity"] or "value")
            index = expectations.first_match(self.entries, scope)
            entries.append(expectations.entry_for(record, self.entries[index] if index is not None else None))
        Path(self.settings.save).write_text(expectations.dump(entries), encoding="utf-8")

    def pytest_terminal_summary(self, terminalreporter) -> None:
        if self.worker:
            return
        if self.records:
            terminalreporter.write_sep("=", "conformance")
            terminalreporter.write_line(self.tally.table())
        for what, lines in getattr(self, "found", {}).items():
            if lines:
                mode = "failing the run (--conformance-strict)" if self.settings.strict else "warning"
                terminalreporter.write_sep("-", f"conformance expectations that {what}: {mode}")
                for line in lines:
                    terminalreporter.write_line(line)
        for label, path in (("results", self.settings.report), ("expectations saved", self.settings.save)):
            if path is not None:
                terminalreporter.write_line(f"conformance {label}: {path}")
