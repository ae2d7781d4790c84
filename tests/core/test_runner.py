"""The runner: every status, and a worker that crashes, hangs or fails to load."""

from __future__ import annotations

import pytest

from conformance.loader import load_text
from conformance.runner import RunOptions, run_framework
from vector_files import vector_text
from fake_adapter import BrokenLoadAdapter, CrashingAdapter, FakeAdapter, HangingAdapter, MissingAdapter

CASES = """
- id: moderate
  comment: two moderate logits
  source: {inputs: hand-written, expected: reference-float64}
  inputs: {logits: [1.0, -2.0], labels: [0.0, 1.0]}
  expected: [1.3132616875182228, 2.1269280110429727]
"""


def cases(op="sigmoid_cross_entropy", text=CASES):
    loaded, problems = load_text(vector_text(text, op=op), "t.yaml")
    assert not problems
    return loaded


def records_of(adapter_class, loaded, **options):
    records = []
    adapter = adapter_class()
    run_framework(f"fake_adapter:{adapter_class.__name__}", adapter, loaded, RunOptions(**options), records.append)
    return records


def by_binding(records, dtype="float64"):
    return {r["binding"]: r for r in records if r["dtype"] == dtype}


def test_pass_fail_error_and_not_applicable():
    records = by_binding(records_of(FakeAdapter, cases()))
    assert records["fake.good"]["status"] == "pass"
    assert records["fake.good"]["max_ulp"] <= 1
    wrong = records["fake.wrong"]
    assert wrong["status"] == "fail"
    assert wrong["max_rel_err"] == pytest.approx(0.01)
    assert wrong["message"].startswith(
        "2 of 2 elements off; worst at index [0]: expected 1.3132616875182228, got 1.326394304393405 (abs err 0.0131, "
        "rel err 0.01,")
    assert "bound: derived" in wrong["message"]
    assert records["fake.raises"] == {**records["fake.raises"], "status": "error",
                                      "message": "RuntimeError: deliberate failure inside the op"}
    assert records["fake.sum_only"]["status"] == "not-applicable"
    assert records["fake.sum_only"]["message"] == "fake.sum_only takes only reduction=sum"


def test_records_carry_the_standard_fields():
    record = by_binding(records_of(FakeAdapter, cases(), dtypes=["float32"]), "float32")["fake.good"]
    for key in ("case", "op", "framework", "framework_version", "binding", "dtype", "mode", "device", "status",
                "max_abs_err", "max_rel_err", "max_ulp", "message"):
        assert key in record
    assert (record["case"], record["op"], record["framework"], record["mode"], record["device"]) == (
        "moderate", "sigmoid_cross_entropy", "fake", "eager", "cpu")
    assert record["expected_source"] == "vector"  # 1.0, -2.0, 0.0, 1.0 are exact in float32


def test_inexact_inputs_get_a_reference_recomputed_in_float64():
    text = CASES.replace("[1.0, -2.0]", "[0.1, -2.0]").replace("1.3132616875182228", "0.74439666047806815")
    record = by_binding(records_of(FakeAdapter, cases(text=text), dtypes=["float32"]), "float32")["fake.good"]
    assert record["expected_source"] == "reference on float32-rounded inputs"
    assert record["status"] == "pass"


def test_op_without_binding_is_not_applicable():
    text = CASES.replace("logits", "predictions").replace("labels", "targets")
    records = records_of(FakeAdapter, cases("mean_squared_error", text))
    assert {r["status"] for r in records} == {"not-applicable"}
    assert records[0]["binding"] is None and "fake has no native op for mean_squared_error" in records[0]["message"]


def test_undeclared_dtype_is_not_applicable_and_says_whether_it_works_anyway():
    records = by_binding(records_of(FakeAdapter, cases(), dtypes=["float16"]), "float16")
    assert {r["status"] for r in records.values()} == {"not-applicable"}
    # the claim is probed, so a matrix cannot shrink silently: fake.good works in float16 though undeclared
    assert records["fake.good"]["classification"] == "works-unclaimed"
    assert records["fake.good"]["message"] == ("fake adapter declares no dtype float16 (it has float32, float64), "
                                               "yet the check ran and passed: the adapter could claim it")
    assert records["fake.raises"]["classification"] is None
    assert records["fake.raises"]["message"].startswith("fake adapter declares no dtype float16")


def test_missing_framework_is_skipped_with_the_reason():
    records = records_of(MissingAdapter, cases())
    assert {r["status"] for r in records} == {"skipped"}
    assert records[0]["message"] == "no_such_framework_for_conformance_tests is not installed"


def test_framework_that_fails_to_load_gives_errors_not_a_crash_of_the_run():
    records = [r for r in records_of(BrokenLoadAdapter, cases(), dtypes=["float64"]) if r["status"] != "not-applicable"]
    assert len(records) == 3 and {r["status"] for r in records} == {"error"}
    assert "adapter failed to load: ImportError: libcuda.so.1" in records[0]["message"]


def test_crashing_binding_is_recorded_and_the_run_goes_on():
    records = by_binding(records_of(CrashingAdapter, cases(), dtypes=["float64"]))
    assert records["crashing.good"]["status"] == "pass"
    crashed = records["crashing.abort"]
    assert crashed["status"] == "crashed"
    assert "signal 6" in crashed["message"] and "about to abort" in crashed["message"]
    assert records["crashing.after"]["status"] == "pass"


def test_hanging_binding_times_out_and_the_run_goes_on():
    records = by_binding(records_of(HangingAdapter, cases(), dtypes=["float64"], timeout=3))
    assert records["hanging.sleep"]["status"] == "timeout"
    assert records["hanging.sleep"]["message"] == "no result within 3 s; worker restarted"
    assert records["hanging.after"]["status"] == "pass"


def test_device_side_assert_restarts_the_worker_so_later_checks_run_clean():
    from fake_adapter import PoisoningAdapter

    records = by_binding(records_of(PoisoningAdapter, cases(), dtypes=["float64"]))
    assert records["poisoning.assert"]["status"] == "error"
    assert "device-side assert" in records["poisoning.assert"]["message"]
    assert records["poisoning.after"]["status"] == "pass"  # ran in a fresh worker


def test_out_of_memory_kill_and_segfault_are_crashes_named_by_signal():
    from fake_adapter import DyingAdapter

    records = by_binding(records_of(DyingAdapter, cases(), dtypes=["float64"]))
    assert records["dying.oom"]["status"] == "crashed"
    assert "signal 9, SIGKILL: the out-of-memory killer" in records["dying.oom"]["message"]
    assert records["dying.segfault"]["status"] == "crashed"
    assert "signal 11, SIGSEGV" in records["dying.segfault"]["message"]
    assert records["dying.after"]["status"] == "pass"
