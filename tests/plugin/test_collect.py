"""Use 2: ``pytest --conformance`` collects the kit's checks as items that pytest's own options treat as usual."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET

import pytest

from plugin_helpers import FAKE, SIGMOID, SUPPORT, conformance_args, quick_inner_runs, read_records, write_vectors

pytest_plugins = ["pytester"]
__all__ = ["quick_inner_runs"]  # an autouse fixture

TORCH_ID = ("conformance::sigmoid_cross_entropy[[]tutorial-5x3[]]-torch.nn.functional.binary_cross_entropy_with_logits"
            "-float32-eager-cpu")


def test_ids_name_case_binding_dtype_mode_and_device(pytester):
    result = pytester.runpytest("--conformance", "--collect-only", "-q", "--conformance-frameworks=torch,numpy",
                                "--conformance-ops=sigmoid_cross_entropy", "--conformance-cases=tutorial-5x3")
    result.stdout.fnmatch_lines([
        TORCH_ID,
        "conformance::sigmoid_cross_entropy[[]tutorial-5x3[]]-torch.nn.BCEWithLogitsLoss-float32-eager-cpu",
        "conformance::sigmoid_cross_entropy[[]tutorial-5x3[]]-conformance.reference.sigmoid_cross_entropy"
        "-float64-eager-cpu",
    ])


def test_gradient_checks_end_in_grad_and_shared_binding_names_say_their_framework(pytester):
    result = pytester.runpytest("--conformance", "--collect-only", "-q", "--conformance-grad",
                                "--conformance-frameworks=torch,keras-jax,keras-torch", "--conformance-dtypes=float64",
                                "--conformance-ops=sigmoid_cross_entropy", "--conformance-cases=tutorial-5x3-mean")
    result.stdout.fnmatch_lines([
        "*[[]tutorial-5x3-mean[]]-torch.nn.BCEWithLogitsLoss-float64-eager-cpu-grad",
        "*[[]tutorial-5x3-mean[]]-keras.losses.BinaryCrossentropy(from_logits=True)@keras-jax-float64-eager-cpu",
        "*[[]tutorial-5x3-mean[]]-keras.losses.BinaryCrossentropy(from_logits=True)@keras-torch-float64-eager-cpu",
    ])


def test_each_status_becomes_a_pytest_outcome_with_the_kits_message(pytester):
    vectors = write_vectors(pytester, SIGMOID)
    result = pytester.runpytest(*conformance_args(vectors, FAKE, "--conformance-cases=moderate", "-rs"))
    # fake.good passes, fake.wrong fails, fake.raises errors, fake.sum_only takes only reduction=sum
    result.assert_outcomes(passed=1, failed=2, skipped=1)
    result.stdout.fnmatch_lines([
        "FAIL [[]bug[]] sigmoid_cross_entropy[[]moderate[]] fake.wrong float64 eager cpu: 2 of 2 elements off; worst at index "
        "[[]0[]]: expected 1.3132616875182228, got 1.326394304393405 (abs err 0.0131, rel err 0.01, *",
        "call: reference * 1.01",
        f"vector: {vectors / 'v0.yaml'}:*",
        "ERROR sigmoid_cross_entropy[[]moderate[]] fake.raises float64 eager cpu: RuntimeError: deliberate failure "
        "inside the op",
        "SKIPPED [[]1[]] vectors/v0.yaml: not applicable: fake.sum_only takes only reduction=sum",
    ])
    assert "Traceback" not in result.stdout.str()


def test_crashes_and_timeouts_cost_one_item_each(pytester):
    vectors = write_vectors(pytester, SIGMOID)
    result = pytester.runpytest(*conformance_args(vectors, "fake_adapter:CrashingAdapter,fake_adapter:HangingAdapter",
                                                  "--conformance-cases=moderate", "--conformance-timeout=2"))
    result.assert_outcomes(passed=3, failed=2)  # crashing.good/.after and hanging.after run on a new worker
    result.stdout.fnmatch_lines([
        "CRASHED * crashing.abort float64 eager cpu: worker process died (signal 6, SIGABRT: an abort) during this "
        "check; its last output: about to abort",
        "TIMEOUT * hanging.sleep float64 eager cpu: no result within 2 s; worker restarted",
    ])


def test_missing_frameworks_skip_and_broken_ones_fail(pytester):
    vectors = write_vectors(pytester, "schema: loss-conformance-vectors/1\nop: nope\n", SIGMOID)
    result = pytester.runpytest(*conformance_args(vectors, "fake_adapter:MissingAdapter,nope", "-rs", "-v"))
    result.assert_outcomes(skipped=1, failed=2)
    result.stdout.fnmatch_lines([
        "conformance::missing SKIPPED (missing skipped: *",
        "conformance::vectors[[]v0.yaml:1[]] FAILED*",
        "conformance::adapter[[]nope[]] FAILED*",
    ])
    result.stdout.fnmatch_lines(["vector problem: *v0.yaml:1: unknown op 'nope'; known ops: *",
                                 "vector problem: *v0.yaml:1: groups must be a list of groups",
                                 "adapter problem: no adapter named 'nope' in entry-point group conformance.adapters*",
                                 "SKIPPED [[]1[]] .: missing skipped: no_such_framework_for_conformance_tests is not "
                                 "installed"])


def test_k_m_and_x_select_and_stop_as_usual(pytester):
    vectors = write_vectors(pytester, SIGMOID)
    pytester.makepyfile("def test_users_own(): pass")
    everything = pytester.runpytest(*conformance_args(vectors))
    everything.assert_outcomes(passed=3, failed=4, skipped=2)  # the user's test and two cases of the fake adapter
    pytester.runpytest(*conformance_args(vectors, FAKE, "-m", "conformance")).assert_outcomes(passed=2, failed=4,
                                                                                                skipped=2)
    pytester.runpytest(*conformance_args(vectors, FAKE, "-k", "other and good")).assert_outcomes(passed=1)
    pytester.runpytest(*conformance_args(vectors, FAKE, "-k", "fake")).assert_outcomes(passed=2, failed=4, skipped=2)
    stopped = pytester.runpytest(*conformance_args(vectors, FAKE, "-x", "-m", "conformance"))
    stopped.assert_outcomes(passed=1, failed=1)


def test_last_failed_reruns_only_the_failed_checks(pytester):
    vectors = write_vectors(pytester, SIGMOID)
    pytester.runpytest(*conformance_args(vectors)).assert_outcomes(passed=2, failed=4, skipped=2)
    again = pytester.runpytest(*conformance_args(vectors, FAKE, "--lf", "-v"))
    again.assert_outcomes(failed=4)
    again.stdout.fnmatch_lines(["run-last-failure: rerun previous 4 failures*"])


def test_junitxml_names_each_check_and_carries_the_message(pytester):
    vectors = write_vectors(pytester, SIGMOID)
    pytester.runpytest(*conformance_args(vectors, FAKE, "--conformance-cases=moderate", "--junitxml=junit.xml"))
    cases = {case.get("name"): case for case in ET.parse(pytester.path / "junit.xml").iter("testcase")}
    wrong = cases["sigmoid_cross_entropy[moderate]-fake.wrong-float64-eager-cpu"]
    assert wrong.get("classname") == "conformance"
    assert wrong.find("failure").text.startswith("FAIL [bug] sigmoid_cross_entropy[moderate] fake.wrong float64 eager cpu: "
                                                 "2 of 2 elements off;")
    assert cases["sigmoid_cross_entropy[moderate]-fake.sum_only-float64-eager-cpu"].find("skipped") is not None


def test_xdist_workers_each_drive_their_own_workers_and_the_report_sees_every_check(pytester):
    pytest.importorskip("xdist")
    # xdist's workers import the fake adapter too: importing the rootdir's conftest puts the rootdir on their path
    shutil.copy(SUPPORT / "fake_adapter.py", pytester.path / "fake_adapter.py")
    pytester.makeconftest("")
    vectors = write_vectors(pytester, SIGMOID)
    result = pytester.runpytest(*conformance_args(vectors, FAKE, "-n", "2", "--dist", "loadgroup",
                                                  "--conformance-report=r.jsonl"))
    result.assert_outcomes(passed=2, failed=4, skipped=2)
    records = read_records(pytester.path / "r.jsonl")
    assert [r["record"] for r in records] == ["header"] + ["check"] * 8 + ["summary"]
    assert records[-1]["counts"]["pass"] == 2 and records[-1]["counts"]["fail"] == 2
    assert records[-1]["complete"] is True


def test_frameworks_stay_out_of_the_pytest_process(pytester):
    pytest.importorskip("torch")
    pytester.makeconftest("""
        import sys

        def pytest_sessionfinish(session):
            with open("modules.txt", "w") as out:
                out.write(" ".join(m for m in ("torch", "tensorflow", "jax") if m in sys.modules))
    """)
    result = pytester.runpytest_subprocess("--conformance", "--conformance-frameworks=torch",
                                           "--conformance-ops=sigmoid_cross_entropy", "--conformance-cases=tutorial-5x3",
                                           "--conformance-dtypes=float64", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
    assert (pytester.path / "modules.txt").read_text() == ""


def test_a_definition_difference_is_an_expected_failure_naming_the_convention():
    from conformance.pytest_plan import Check
    from conformance.pytest_run import _verdict

    record = {"status": "definition-difference", "message": "follows keras-epsilon-clip (Keras clips p)"}
    with pytest.raises(pytest.xfail.Exception, match=r"follows keras-epsilon-clip \(Keras clips p\)"):
        _verdict(Check("x"), [record])
