"""Tests of the Keras adapters: keras.losses on the TensorFlow, PyTorch and JAX backends.

Keras takes its backend once per process, so no adapter is loaded in the test
process. One ``python -m conformance run`` over the three backends (each in
its own worker process) checks a few shipped cases and a small vector file of
probabilities written here, in every dtype, values and gradients; the tests
read its records. Expected values come from the kit's float64 reference, never
from Keras. The rest checks the bindings as data, without any framework.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

from conformance import reference
from conformance.adapter import check_adapter, load_adapter
from conformance.adapters.keras_adapter import KerasJaxAdapter, KerasTensorflowAdapter, KerasTorchAdapter
from conformance.loader import default_vector_dir, load_paths
from vector_files import vector_text

pytest.importorskip("keras")

ADAPTERS = {"keras-tensorflow": KerasTensorflowAdapter, "keras-torch": KerasTorchAdapter, "keras-jax": KerasJaxAdapter}
LOGIT_OPS = ("mean_squared_error", "sigmoid_cross_entropy", "softmax_cross_entropy", "sparse_softmax_cross_entropy")
PROBABILITY_OPS = ("binary_cross_entropy", "categorical_cross_entropy")
DTYPES = ("float16", "bfloat16", "float32", "float64")
CASES = "tutorial*,exact-2x3*,axis1-tutorial-1x3x2*,empty-batch-0x3-sum,probs-*"
CLIP = "definition-difference: keras-epsilon-clip"

# (id, comment, probabilities, labels); all exact in every dtype.
BINARY = [
    ("probs-interior", "inside (0, 1)", [[0.875, 0.25, 0.625], [0.375, 0.75, 0.0625]], [[1, 0, 1], [0, 1, 0]]),
    ("probs-certain-wrong", "0 and 1 against the other label: inf", [[0.0, 1.0, 0.625], [0.5, 0.5, 0.5]],
     [[1, 0, 1], [0, 1, 0]]),
    ("probs-certain-right", "0 and 1 on their own label: 0", [[0.0, 1.0], [1.0, 0.0]], [[0, 1], [1, 0]]),
]
CATEGORICAL = [
    ("probs-interior", "summing to 1", [[0.5, 0.25, 0.25], [0.125, 0.375, 0.5]], [[1, 0, 0], [0, 0, 1]]),
    ("probs-zero-on-label", "probability 0 on the label: inf", [[0.0, 0.5, 0.5], [0.25, 0.25, 0.5]],
     [[1, 0, 0], [0, 1, 0]]),
    ("probs-not-normalized", "summing to 0.75", [[0.25, 0.25, 0.25]], [[1, 0, 0]]),
]


def _yaml_number(value: float) -> str:
    """Return a float as YAML 1.1 reads it back exactly (a dot and a signed exponent)."""
    if np.isinf(value):
        return ".inf" if value > 0 else "-.inf"
    return f"{value:.17e}"


def _yaml_array(array) -> str:
    array = np.asarray(array, dtype=np.float64)
    if array.ndim == 0:
        return _yaml_number(float(array))
    return "[" + ", ".join(_yaml_array(row) for row in array) + "]"


def _probability_file(op: str, reduction: str, cases: list) -> str:
    """Return a vector file for ``op`` whose expected values are the kit's float64 reference."""
    params = {"reduction": reduction} | ({"axis": -1} if op == "categorical_cross_entropy" else {})
    body = []
    for case_id, comment, probabilities, labels in cases:
        expected = reference.compute(op, {"probabilities": np.array(probabilities, float),
                                          "labels": np.array(labels, float)}, params)
        body.append(f"- id: {case_id}\n  comment: '{comment}'\n"
                    "  source: {inputs: hand-written, expected: reference-float64}\n"
                    f"  inputs:\n    probabilities: {_yaml_array(probabilities)}\n"
                    f"    labels: {_yaml_array(labels)}\n"
                    f"  outcome: value\n  expected: {_yaml_array(expected)}\n")
    return vector_text("".join(body), op=op, params=f"{{reduction: {reduction}}}")


@pytest.fixture(scope="module")
def vector_dir(tmp_path_factory):
    """Return a folder with the shipped files of the logit ops and the probability files written here."""
    folder = tmp_path_factory.mktemp("keras-vectors")
    for op in LOGIT_OPS:
        shutil.copy(default_vector_dir() / f"{op}.yaml", folder)
    (folder / "binary_cross_entropy.yaml").write_text(_probability_file("binary_cross_entropy", "mean", BINARY))
    (folder / "categorical_cross_entropy.yaml").write_text(
        _probability_file("categorical_cross_entropy", "none", CATEGORICAL))
    return folder


@pytest.fixture(scope="module")
def records(vector_dir):
    """Return the check records of one run of the three Keras adapters."""
    out = vector_dir / "results.jsonl"
    done = subprocess.run(
        [sys.executable, "-m", "conformance", "run", "--frameworks", ",".join(ADAPTERS), "--vectors", str(vector_dir),
         "--cases", CASES, "--dtypes", ",".join(DTYPES), "--grad", "--out", str(out), "--quiet"],
        capture_output=True, text=True, timeout=900)
    assert done.returncode in (0, 1), done.stdout + done.stderr  # 1: some check failed, as Keras does below
    return [r for r in map(json.loads, out.read_text().splitlines()) if r["record"] == "check"]


@pytest.fixture(scope="module")
def reductions(vector_dir):
    """Return each case's reduction, keyed (op, case id)."""
    return {(case.op, case.id): case.params["reduction"] for case in load_paths([vector_dir]).cases}


def _select(records, framework=None, ops=None, quantity=None, dtypes=None, case=None):
    """Return the records that match every given field."""
    return [r for r in records
            if (framework is None or r["framework"] == framework) and (ops is None or r["op"] in ops)
            and (case is None or r["case"] == case) and (quantity is None or r["quantity"] == quantity)
            and (dtypes is None or r["dtype"] in dtypes)]


def _where(record) -> str:
    return f"[{record['framework']} {record['binding']} {record['op']}[{record['case']}] {record['quantity']} " \
           f"{record['dtype']}: {record['status']}: {record['message'][:300]}]"


# --- The run's records -----------------------------------------------------------------------------------


def test_every_binding_runs_on_some_case_in_every_dtype_value_and_gradient(records):
    for framework, adapter in ADAPTERS.items():
        for dtype in DTYPES:
            for quantity in ("value", "grad"):
                ran = {r["binding"] for r in _select(records, framework, quantity=quantity, dtypes=(dtype,))
                       if r["status"] in ("pass", "fail", "definition-difference")}
                missing = {b.name for b in adapter.bindings} - ran
                assert not missing, f"{framework} {dtype} {quantity}: bindings that ran on no case: {sorted(missing)}"


def test_nothing_raises_crashes_or_is_skipped(records):
    bad = [r for r in _select(records) if r["status"] in ("error", "crashed", "timeout", "skipped")]
    assert not bad, "\n".join(map(_where, bad))


def test_tensorflow_backend_passes_every_logit_check_in_its_dtype(records):
    # The one backend whose float64 stays float64 throughout (see the float64 test below).
    checks = [r for r in _select(records, "keras-tensorflow", LOGIT_OPS) if r["status"] != "not-applicable"]
    assert checks
    bad = [r for r in checks if r["status"] != "pass" and r["case"] != "empty-batch-0x3-sum"]
    assert not bad, "\n".join(map(_where, bad))
    values = [r for r in checks if r["quantity"] == "value" and r["status"] == "pass"]
    assert all(r["result_dtype"] == r["dtype"] for r in values), "a loss did not compute in the dtype it was given"


def test_torch_and_jax_backends_pass_every_logit_check_but_float64_means(records, reductions):
    for framework in ("keras-torch", "keras-jax"):
        checks = [r for r in _select(records, framework, LOGIT_OPS) if r["status"] != "not-applicable"
                  and r["case"] != "empty-batch-0x3-sum"]
        below = [r for r in checks if r["dtype"] != "float64" or reductions[(r["op"], r["case"])] != "mean"]
        assert below and all(r["status"] == "pass" for r in below), "\n".join(
            _where(r) for r in below if r["status"] != "pass")


def test_float64_means_are_only_float32_accurate_on_torch_and_jax(records, reductions):
    # Keras's type promotion maps float64 to float32 on every backend but TensorFlow
    # (keras.src.backend.common.dtypes.BIT64_TO_BIT32_DTYPE): keras.ops.mean computes
    # float64 in float32 (torch, JAX), and divide_no_nan, which "sum_over_batch_size"
    # uses, returns float32 on torch.
    means = {fw: [r for r in _select(records, fw, LOGIT_OPS, "value", ("float64",))
                  if r["status"] != "not-applicable" and reductions[(r["op"], r["case"])] == "mean"]
             for fw in ADAPTERS}
    assert all(r["status"] == "pass" and r["result_dtype"] == "float64" for r in means["keras-tensorflow"])
    for framework in ("keras-torch", "keras-jax"):
        failed = [r for r in means[framework] if r["status"] != "pass"]
        assert failed, f"{framework}: every float64 mean passed: has Keras stopped computing them in float32?"
        for r in failed:
            assert r["status"] == "fail" and 1e-12 < r["max_rel_err"] < 2**-22, _where(r)
    per_sample = [r for r in means["keras-torch"] if r["op"] in LOGIT_OPS[2:]]
    assert per_sample and {r["result_dtype"] for r in per_sample} == {"float32"}, "\n".join(map(_where, per_sample))
    assert {r["result_dtype"] for r in means["keras-jax"]} == {"float64"}


def test_sparse_class_axis_other_than_last_runs_on_torch_only(records):
    found = {fw: _select(records, fw, ("sparse_softmax_cross_entropy",), "value", case="axis1-tutorial-1x3x2")
             for fw in ADAPTERS}
    assert found["keras-torch"] and all(r["status"] == "pass" for r in found["keras-torch"]), found["keras-torch"]
    for framework in ("keras-tensorflow", "keras-jax"):
        assert found[framework]
        for r in found[framework]:
            assert r["status"] == "not-applicable" and "only the last axis" in r["message"], _where(r)


def test_a_reduced_empty_batch_comes_back_empty(records):
    # keras.losses reduce_values returns values of shape (0,) unreduced, not the sum 0.
    per_sample = ("softmax_cross_entropy", "sparse_softmax_cross_entropy")
    found = _select(records, ops=per_sample, quantity="value", case="empty-batch-0x3-sum")
    assert len(found) == 2 * 3 * len(DTYPES)
    for r in found:
        assert r["status"] == "fail" and "shape [0] where [] was expected" in r["message"], _where(r)


# --- from_logits=False: the keras-epsilon-clip convention ---------------------------------------------------


def test_probabilities_inside_the_interval_pass(records):
    for framework in ADAPTERS:
        found = _select(records, framework, PROBABILITY_OPS, "value", ("float16", "bfloat16", "float32"),
                        case="probs-interior")
        found += _select(records, framework, ("categorical_cross_entropy",), "value", ("float64",), "probs-interior")
        assert len(found) == 7, found
        assert all(r["status"] == "pass" for r in found), "\n".join(map(_where, found))


@pytest.mark.parametrize("op, case, dtypes", [
    ("binary_cross_entropy", "probs-certain-wrong", ("float32",)),
    ("categorical_cross_entropy", "probs-zero-on-label", DTYPES),
    ("categorical_cross_entropy", "probs-not-normalized", DTYPES),
])
def test_probabilities_at_0_and_1_follow_the_epsilon_clip(records, op, case, dtypes):
    # The canonical loss is inf (or -log 0.25 for unnormalized probabilities); Keras clips to
    # [1e-7, 1 - 1e-7] and rescales, and the kit names the convention rather than failing.
    for framework in ADAPTERS:
        found = _select(records, framework, (op,), "value", dtypes, case)
        assert len(found) == len(dtypes)
        for r in found:
            assert r["status"] == "definition-difference" and r["classification"] == CLIP, _where(r)


def test_tensorflow_backend_clip_holds_in_float64(records):
    found = _select(records, "keras-tensorflow", ("binary_cross_entropy",), "value", ("float64",))
    clipped = [r for r in found if r["case"] != "probs-interior"]
    assert len(clipped) == 2 and all(r["classification"] == CLIP for r in clipped), "\n".join(map(_where, found))


def test_float16_clip_bound_rounds_to_one(records):
    # 1 - 1e-7 is 1.0 in float16, so p = 1 is not clipped: with label 1, (1 - z) * log(1 - p)
    # is 0 * -inf = nan on TensorFlow and JAX; torch's binary_cross_entropy clamps the log at -100,
    # which gives 0 here and 100 (not inf) for p = 1 against label 0.
    for framework in ("keras-tensorflow", "keras-jax"):
        (right,) = _select(records, framework, ("binary_cross_entropy",), "value", ("float16",), "probs-certain-right")
        assert right["behaviour"] == "nan", _where(right)
    (right,) = _select(records, "keras-torch", ("binary_cross_entropy",), "value", ("float16",), "probs-certain-right")
    assert right["status"] == "pass", _where(right)
    (wrong,) = _select(records, "keras-torch", ("binary_cross_entropy",), "value", ("float16",), "probs-certain-wrong")
    assert wrong["behaviour"] == "number" and wrong["status"] == "fail", _where(wrong)


def test_categorical_gradient_carries_the_rescaling(records):
    # Keras divides p by sum(p) before the log, so d/dp of -sum(z log(p / sum p)) is
    # -z/p + sum(z)/sum(p): on probabilities summing to 1 and one-hot labels, every element
    # is the canonical -z/p plus exactly 1. No convention covers gradients, so these fail.
    found = _select(records, ops=("categorical_cross_entropy",), quantity="grad", dtypes=("float32", "float64"),
                    case="probs-interior")
    assert len(found) == 3 * 2
    for r in found:
        assert r["status"] == "fail" and abs(r["max_abs_err"] - 1.0) < 1e-6, _where(r)


# --- The bindings as data, without a framework --------------------------------------------------------------


def test_found_through_entry_points_and_keep_the_contract():
    for name, cls in ADAPTERS.items():
        adapter = load_adapter(name)
        assert isinstance(adapter, cls) and adapter.framework == name
        assert check_adapter(cls(), name) is not None
        assert adapter.requires == ("keras", cls.backend) and adapter.distributions[0] == "keras"
        assert adapter.dtypes == DTYPES and adapter.modes == ("eager",) and adapter.gradients is True


def test_binding_names_say_from_logits_and_probability_bindings_declare_the_clip():
    for cls in ADAPTERS.values():
        by_name = {b.name: b for b in cls.bindings}
        assert len(by_name) == len(cls.bindings) == 6
        assert {b.op for b in cls.bindings} == set(LOGIT_OPS + PROBABILITY_OPS)
        for binding in cls.bindings:
            logits = "from_logits=True" in binding.name
            assert binding.name.startswith("keras.losses."), binding.name
            assert logits == (binding.op in LOGIT_OPS[1:]), binding.name
            assert ("from_logits=False" in binding.name) == (binding.op in PROBABILITY_OPS), binding.name
            assert binding.conventions == (("keras-epsilon-clip",) if binding.op in PROBABILITY_OPS else ())
            assert "dtype=" in binding.call and "sum_over_batch_size" in binding.call, binding.call


@pytest.mark.parametrize("op", ["mean_squared_error", "sigmoid_cross_entropy", "binary_cross_entropy"])
def test_last_axis_averages_claim_only_mean(op):
    for cls in ADAPTERS.values():
        (binding,) = [b for b in cls.bindings if b.op == op]
        assert binding.reductions == ("mean",)
        first = {"mean_squared_error": "predictions", "sigmoid_cross_entropy": "logits"}.get(op, "probabilities")
        other = "targets" if op == "mean_squared_error" else "labels"
        scalar = {first: np.array(0.5), other: np.array(1.0)}
        reason = binding.not_applicable(scalar, {"reduction": "mean"})
        if cls is KerasTorchAdapter:
            assert reason is None  # torch's mean over dim -1 takes a 0-d tensor
        else:
            assert reason and "fails on 0-d inputs" in reason and cls.backend in reason


def test_sparse_class_axis_rule_per_backend():
    cube = {"logits": np.zeros((2, 3, 4)), "labels": np.zeros((2, 4), dtype=np.int64)}
    for cls in ADAPTERS.values():
        (binding,) = [b for b in cls.bindings if b.op == "sparse_softmax_cross_entropy"]
        assert binding.not_applicable(cube, {"axis": -1 % 3, "reduction": "sum"}) is None
        reason = binding.not_applicable(cube, {"axis": 1, "reduction": "sum"})
        assert (reason is None) == (cls is KerasTorchAdapter), reason


def test_import_imports_no_framework():
    code = (
        "import sys\n"
        "from conformance.adapters import keras_adapter\n"
        "names = [b.name for a in (keras_adapter.KerasTensorflowAdapter, keras_adapter.KerasTorchAdapter,\n"
        "         keras_adapter.KerasJaxAdapter) for b in a.bindings]\n"
        "loaded = [m for m in ('keras', 'tensorflow', 'torch', 'jax') if m in sys.modules]\n"
        "assert names and not loaded, loaded\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_load_refuses_keras_already_on_another_backend():
    code = (
        "import os\n"
        "os.environ['KERAS_BACKEND'] = 'jax'; os.environ['JAX_PLATFORMS'] = 'cpu'\n"
        "import keras\n"
        "from conformance.adapters.keras_adapter import KerasTorchAdapter\n"
        "try:\n"
        "    KerasTorchAdapter().load()\n"
        "except RuntimeError as exc:\n"
        "    print(exc)\n"
        "else:\n"
        "    raise SystemExit('load() accepted Keras on the jax backend')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "'jax' backend" in done.stdout and "needs 'torch'" in done.stdout, done.stdout
