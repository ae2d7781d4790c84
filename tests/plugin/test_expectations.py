"""Expectation files: known failures become xfail; strict mode fails on XPASS, unmatched and expired entries."""

from __future__ import annotations

import datetime
import textwrap

import pytest
import yaml

from conformance.expectations import CheckScope, ExpectationError, load_text, unmatched, version_matches
from plugin_helpers import FAKE, SIGMOID, conformance_args, quick_inner_runs, write_vectors

pytest_plugins = ["pytester"]
__all__ = ["quick_inner_runs"]  # an autouse fixture


def entries_text(*entries: str) -> str:
    body = "".join(textwrap.indent(textwrap.dedent(e).strip("\n"), "  ") + "\n" for e in entries)
    return "schema: loss-conformance-expectations/1\nexpectations:\n" + body


WRONG = """
- case: sigmoid_cross_entropy[*]
  framework: fake
  binding: fake.wrong
  category: temporary
  reason: multiplies by 1.01
  link: https://example.org/issues/1
"""
RAISES = """
- case: sigmoid_cross_entropy[*]
  framework: fake
  versions: ">=1.0"
  binding: fake.raises
  dtype: [float64]
  category: unsupported
  reason: raises on purpose
  link: https://example.org/issues/2
"""
GOOD = """
- case: sigmoid_cross_entropy[moderate]
  framework: fake
  binding: fake.good
  category: permanent
  reason: believed wrong, but it passes
  link: https://example.org/issues/3
"""
TYPO = """
- case: sigmoid_cross_entropy[moderat]
  framework: fake
  category: temporary
  reason: a typo in the case id matches nothing
  link: https://example.org/issues/4
"""


def scope(**given) -> CheckScope:
    fields = dict(framework="torch", version="2.13.0+cpu", op="sigmoid_cross_entropy", case="extreme-100",
                  binding="torch.nn.BCEWithLogitsLoss", dtype="float32", mode="eager", device="cpu", quantity="value")
    return CheckScope(**{**fields, **given})


@pytest.mark.parametrize("spec, version, holds", [
    (">=2.1,<2.14", "2.13.0+cpu", True), (">=2.1,<2.14", "2.14.0", False), ("==2.13.*", "2.13.2", True),
    ("==2.13.*", "2.130.0", False), ("!=2.13.0", "2.13", False), ("<3", "2.99.1", True), ("==0.4.30", None, False),
])
def test_version_ranges(spec, version, holds):
    assert version_matches(version, spec) is holds


def test_an_entry_matches_by_framework_versions_case_pattern_binding_and_scope():
    (entry,) = load_text(entries_text("""
        - case: sigmoid_cross_entropy[extreme-*]
          framework: torch
          versions: ">=2.1,<2.14"
          dtype: [float32, float16]
          category: temporary
          reason: r
          link: l
    """), "e.yaml")
    assert entry.matches(scope())
    assert not entry.matches(scope(case="tutorial-5x3"))
    assert not entry.matches(scope(dtype="float64"))
    assert not entry.matches(scope(version="2.14.0"))
    assert not entry.matches(scope(framework="tensorflow"))
    assert entry.describe() == "temporary: r (l) [e.yaml:3]"
    # in this run's scope but covering none of its checks: a typo or a renamed case
    assert unmatched([entry], [scope(case="tutorial-5x3")]) == [entry]
    assert unmatched([entry], [scope(dtype="float64", case="x")]) == []  # out of scope: not reported


@pytest.mark.parametrize("entry, message", [
    ("- {case: 'sigmoid_cross_entropy[a]', framework: t, category: c, reason: r, link: l}",
     "e.yaml:3: expectation 1: category must be one of temporary, permanent, unsupported, got 'c'"),
    ("- {case: 'sigmoid_cross_entropy[a]', framework: t, category: temporary, reason: r}",
     "e.yaml:3: expectation 1: missing link"),
    ("- {case: a, framework: t, category: temporary, reason: r, link: l, colour: red}",
     "e.yaml:3: expectation 1: unknown keys colour"),
    ("- {case: a, framework: t, category: temporary, reason: r, link: l}",
     "e.yaml:3: expectation 1: case must be op[id] (the id may be a pattern), got 'a'"),
    ("- {case: 'x[a]', framework: t, category: temporary, reason: r, link: l, expires: soon}",
     "e.yaml:3: expectation 1: expires must be a date, YYYY-MM-DD, got 'soon'"),
    ("- {case: 'x[a]', framework: t, category: temporary, reason: r, link: l, versions: '~2'}",
     "e.yaml:3: expectation 1: versions must be comparisons such as '>=2.1,<2.14' or '==2.13.*', got '~2'"),
])
def test_a_bad_entry_is_an_error_naming_file_line_and_entry(entry, message):
    with pytest.raises(ExpectationError) as caught:
        load_text(entries_text(entry), "e.yaml")
    assert str(caught.value) == message


def test_expectation_files_are_read_safely():
    with pytest.raises(ExpectationError, match="YAML tag not allowed"):
        load_text(entries_text("- !!python/object/apply:os.system ['echo hacked']"), "e.yaml")


def test_matching_checks_become_xfail_and_new_failures_still_fail(pytester):
    vectors = write_vectors(pytester, SIGMOID)
    (pytester.path / "known.yaml").write_text(entries_text(WRONG), encoding="utf-8")
    result = pytester.runpytest(*conformance_args(vectors, FAKE, "--conformance-expectations=known.yaml", "-rx"))
    result.assert_outcomes(passed=2, xfailed=2, failed=2, skipped=2)  # fake.raises is a new failure
    result.stdout.fnmatch_lines(["XFAIL conformance::sigmoid_cross_entropy[[]moderate[]]-fake.wrong-float64-eager-cpu - "
                                 "temporary: multiplies by 1.01 (https://example.org/issues/1) [[]*known.yaml:3[]]"])
    covered = pytester.runpytest(*conformance_args(vectors, FAKE, "--conformance-expectations=known.yaml",
                                                   "--conformance-expectations", str(pytester.path / "raises.yaml")))
    assert covered.ret == pytest.ExitCode.USAGE_ERROR  # a file that cannot be read
    (pytester.path / "raises.yaml").write_text(entries_text(RAISES), encoding="utf-8")
    covered = pytester.runpytest(*conformance_args(vectors, FAKE, "--conformance-expectations=known.yaml",
                                                   "--conformance-expectations=raises.yaml"))
    covered.assert_outcomes(passed=2, xfailed=4, skipped=2)  # numpy 2.x satisfies ">=1.0"
    assert covered.ret == pytest.ExitCode.OK


def test_entries_that_pass_match_nothing_or_expired_are_reported_and_fail_strict_runs(pytester):
    vectors = write_vectors(pytester, SIGMOID)
    yesterday = (datetime.date.today() - datetime.timedelta(days=1)).isoformat()
    expired = WRONG.replace("link: https://example.org/issues/1", f"link: https://example.org/issues/1\n  "
                                                                   f"expires: {yesterday}")
    (pytester.path / "e.yaml").write_text(entries_text(expired, RAISES, GOOD, TYPO), encoding="utf-8")
    lenient = pytester.runpytest(*conformance_args(vectors, FAKE, "--conformance-expectations=e.yaml"))
    lenient.assert_outcomes(xpassed=1, passed=1, xfailed=4, skipped=2)
    assert lenient.ret == pytest.ExitCode.OK
    lenient.stdout.fnmatch_lines([
        "*conformance expectations that now pass (XPASS): warning*",
        "*e.yaml:*: sigmoid_cross_entropy[[]moderate[]] (1 check(s), e.g. "
        "conformance::sigmoid_cross_entropy[[]moderate[]]-fake.good-float64-eager-cpu)",
        "*conformance expectations that match no check: warning*",
        "*e.yaml:*: sigmoid_cross_entropy[[]moderat[]] fake",
        "*conformance expectations that have expired: warning*",
        f"*e.yaml:3: sigmoid_cross_entropy[[]*[]] expired {yesterday}",
    ])
    strict = pytester.runpytest(*conformance_args(vectors, FAKE, "--conformance-expectations=e.yaml",
                                                  "--conformance-strict"))
    strict.assert_outcomes(failed=1, passed=1, xfailed=4, skipped=2)  # XPASS(strict) fails its item
    strict.stdout.fnmatch_lines(["*conformance expectations that match no check: failing the run*"])
    assert strict.ret == pytest.ExitCode.TESTS_FAILED
    (pytester.path / "e.yaml").write_text(entries_text(WRONG, RAISES, TYPO), encoding="utf-8")
    only_unmatched = pytester.runpytest(*conformance_args(vectors, FAKE, "--conformance-expectations=e.yaml",
                                                          "--conformance-strict"))
    only_unmatched.assert_outcomes(passed=2, xfailed=4, skipped=2)  # every item is fine ...
    assert only_unmatched.ret == pytest.ExitCode.TESTS_FAILED  # ... but an entry matches nothing


def test_save_writes_the_current_failures_and_a_rerun_with_them_passes(pytester):
    vectors = write_vectors(pytester, SIGMOID)
    (pytester.path / "known.yaml").write_text(entries_text(WRONG), encoding="utf-8")
    first = pytester.runpytest(*conformance_args(vectors, FAKE, "--conformance-expectations=known.yaml",
                                                 "--conformance-save=saved.yaml"))
    first.stdout.fnmatch_lines(["conformance expectations saved: *saved.yaml"])
    saved = yaml.safe_load((pytester.path / "saved.yaml").read_text())
    assert saved["schema"] == "loss-conformance-expectations/1"
    by_binding = {(e["binding"], e["case"]): e for e in saved["expectations"]}
    assert set(by_binding) == {(b, f"sigmoid_cross_entropy[{c}]") for b in ("fake.wrong", "fake.raises")
                               for c in ("moderate", "other")}
    kept = by_binding[("fake.wrong", "sigmoid_cross_entropy[moderate]")]
    assert (kept["reason"], kept["link"], kept["category"]) == ("multiplies by 1.01", "https://example.org/issues/1",
                                                                "temporary")  # what the user wrote is kept
    new = by_binding[("fake.raises", "sigmoid_cross_entropy[other]")]
    assert new["reason"] == "error: RuntimeError: deliberate failure inside the op"
    assert new["versions"].startswith("==") and new["dtype"] == "float64" and new["device"] == "cpu"
    rerun = pytester.runpytest(*conformance_args(vectors, FAKE, "--conformance-expectations=saved.yaml",
                                                 "--conformance-strict"))
    rerun.assert_outcomes(passed=2, xfailed=4, skipped=2)
    assert rerun.ret == pytest.ExitCode.OK
