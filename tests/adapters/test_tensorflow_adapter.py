"""Tests of the TensorFlow adapter: every binding against the float64 reference.

Each binding runs on the TensorFlow tutorial's inputs and on seeded random
ones, in float32 and float64, under every reduction it claims; the expected
values come from ``conformance.reference`` on the inputs rounded to the run's
dtype. The Keras bindings claim fewer reductions than tf.nn; the tests below
show, against the reference, why the others are not the canonical op.

The last part covers precision depth on the tutorial inputs: build() under
tf.function and tf.function(jit_compile=True) against eager, tf.GradientTape
gradients in every mode against ``conformance.gradients``, float16/bfloat16
conversion and results, and one build and one trace per CallCache key.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from conformance import gradients, reference
from conformance.adapter import check_adapter, load_adapter
from conformance.cases import Case
from conformance.check import CallCache, run_check
from conformance.dtypes import numpy_dtype, round_to
from conformance.ops import get_op

pytest.importorskip("tensorflow")
ml_dtypes = pytest.importorskip("ml_dtypes")

from conformance.adapters.tensorflow_adapter import BINDINGS, TensorflowAdapter  # noqa: E402

ADAPTER = TensorflowAdapter()
BY_NAME = {binding.name: binding for binding in BINDINGS}
DTYPES = ("float32", "float64")
RTOL = {"float32": 1e-5, "float64": 1e-12}
SOFTMAX_OPS = ("softmax_cross_entropy", "sparse_softmax_cross_entropy")

TUTORIAL_LABELS = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0], [0, 1, 0]], dtype=np.float64)
TUTORIAL_LOGITS = np.array([[12, 3, 2], [3, 10, 1], [1, 2, 5], [4, 6.5, 1.2], [3, 6, 1]], dtype=np.float64)
SPARSE_LOGITS = np.array([[2, 0.5, 6], [0.1, 0, 3]], dtype=np.float64)
SPARSE_LABELS = np.array([2, 1], dtype=np.int64)


def _random_cases() -> dict[str, list]:
    """Return seeded random (id, inputs, params) cases for each op."""
    rng = np.random.default_rng(20240611)
    logits = rng.normal(scale=3.0, size=(4, 5))
    cube = rng.normal(scale=3.0, size=(2, 3, 4))
    soft = rng.dirichlet(np.ones(5), size=4)
    soft_cube = np.moveaxis(rng.dirichlet(np.ones(3), size=(2, 4)), -1, 1)  # classes on axis 1
    return {
        "mean_squared_error": [
            ("random-2d", {"predictions": rng.normal(size=(4, 5)), "targets": rng.normal(size=(4, 5))}, {}),
            ("random-1d", {"predictions": rng.normal(size=7), "targets": rng.normal(size=7)}, {}),
        ],
        "sigmoid_cross_entropy": [("random-soft", {"logits": logits, "labels": rng.uniform(size=(4, 5))}, {})],
        "weighted_sigmoid_cross_entropy": [
            (
                "random-list",
                {"logits": logits, "labels": rng.uniform(size=(4, 5))},
                {"pos_weight": [0.5, 1, 2, 3, 0.25]},
            ),
        ],
        "softmax_cross_entropy": [
            ("random-soft", {"logits": logits, "labels": soft}, {}),
            ("random-axis1", {"logits": cube, "labels": soft_cube}, {"axis": 1}),
        ],
        "sparse_softmax_cross_entropy": [
            ("random-3d", {"logits": cube, "labels": rng.integers(0, 4, size=(2, 3))}, {}),
        ],
    }


def _tutorial_cases() -> dict[str, list]:
    """Return the tutorial's (id, inputs, params) cases for each op."""
    sigmoid = {"logits": TUTORIAL_LOGITS, "labels": TUTORIAL_LABELS}
    one_hot = {"logits": SPARSE_LOGITS, "labels": np.eye(3)[SPARSE_LABELS]}
    mse = {"predictions": np.array([[1.0, 2, 3], [4, 5, 6]]), "targets": np.array([[1.5, 2, 2], [4, 7, 6.25]])}
    return {
        "mean_squared_error": [("small", mse, {})],
        "sigmoid_cross_entropy": [("tutorial", sigmoid, {})],
        "weighted_sigmoid_cross_entropy": [
            ("tutorial-q2.5", sigmoid, {"pos_weight": 2.5}),
            ("tutorial-list", sigmoid, {"pos_weight": [0.5, 1, 3]}),
        ],
        "softmax_cross_entropy": [
            ("tutorial-one-hot", one_hot, {}),
            ("tutorial-5x3", {"logits": TUTORIAL_LOGITS, "labels": np.eye(3)[[0, 1, 2, 1, 1]]}, {}),
            ("tutorial-one-hot-axis0", {k: v.T for k, v in one_hot.items()}, {"axis": 0}),
        ],
        "sparse_softmax_cross_entropy": [
            ("tutorial", {"logits": SPARSE_LOGITS, "labels": SPARSE_LABELS}, {}),
            ("tutorial-axis1", {"logits": SPARSE_LOGITS, "labels": SPARSE_LABELS}, {"axis": 1}),
        ],
    }


def _cases() -> list:
    """Return one pytest.param per applicable (binding, case, reduction, dtype)."""
    tutorial, random = _tutorial_cases(), _random_cases()
    found = []
    for binding in BINDINGS:
        for case_id, inputs, given in tutorial[binding.op] + random[binding.op]:
            for reduction in binding.reductions:
                params = get_op(binding.op).resolve_params({**given, "reduction": reduction})
                if binding.not_applicable(inputs, params) is not None:
                    continue
                for dtype in DTYPES:
                    name = f"{binding.name}-{case_id}-{reduction}-{dtype}"
                    found.append(pytest.param(binding, inputs, params, dtype, id=name))
    return found


@pytest.fixture(scope="module")
def fw():
    return ADAPTER.load()


def _run(fw, binding, inputs, params, dtype):
    """Return the binding's result on ``inputs`` converted to ``dtype``, as NumPy."""
    values = {name: ADAPTER.to_framework(fw, array, dtype, "cpu") for name, array in inputs.items()}
    return ADAPTER.to_numpy(fw, binding.fn(fw, values, params))


def _expected(op, inputs, params, dtype):
    """Return the float64 reference on the inputs as rounded to ``dtype``."""
    rounded = {
        name: array.astype(dtype).astype(np.float64) if np.issubdtype(array.dtype, np.floating) else array
        for name, array in inputs.items()
    }
    return reference.compute(op, rounded, params)


def _atol(binding, inputs, dtype):
    """Return the absolute tolerance: 0, or one ulp of the largest floating input where TF's formula cancels.

    tf.nn's softmax ops compute a sample's loss as logsumexp(x) - x[label], a
    difference of two numbers near max(x), so a confident sample's tiny loss
    is exact to an ulp of the logits, not to its own size (tutorial sample
    [12, 3, 2] in float32: relative error 7.6e-5, absolute 7.8e-8). The
    tutorial's naive formulas (log(1 - sigmoid(x)), log(softmax)) cancel the
    same way. Every other binding is held to rtol alone.
    """
    if binding.op not in SOFTMAX_OPS and binding.default:
        return 0.0
    floats = [np.abs(a).max() for a in inputs.values() if np.issubdtype(a.dtype, np.floating) and a.size]
    return float(np.finfo(dtype).eps * max(floats, default=0.0))


@pytest.mark.parametrize("binding, inputs, params, dtype", _cases())
def test_binding_matches_reference(fw, binding, inputs, params, dtype):
    got = _run(fw, binding, inputs, params, dtype)
    want = _expected(binding.op, inputs, params, dtype)
    where = f"[{binding.name}, {params}, {dtype}]"
    assert got.dtype == np.dtype(dtype), f"out.dtype={got.dtype}, but should be {dtype} {where}"
    assert got.shape == want.shape, f"out.shape={got.shape}, but should be {want.shape} {where}"
    np.testing.assert_allclose(got, want, rtol=RTOL[dtype], atol=_atol(binding, inputs, dtype), err_msg=where)


def test_every_binding_runs_on_some_case():
    ran = {param.values[0].name for param in _cases()}
    assert ran == set(BY_NAME), f"bindings with no applicable case: {set(BY_NAME) - ran}"


def test_tutorial_softmax_values_without_atol(fw):
    # The hand-worked tutorial values, where no sample is confident enough to cancel.
    binding = BY_NAME["tf.nn.sparse_softmax_cross_entropy_with_logits"]
    params = {"axis": -1, "reduction": "none"}
    got = _run(fw, binding, {"logits": SPARSE_LOGITS, "labels": SPARSE_LABELS}, params, "float64")
    want = [np.log1p(np.exp(-4) + np.exp(-5.5)), np.log(np.exp(0.1) + 1 + np.exp(3))]
    np.testing.assert_allclose(got, want, rtol=1e-14, atol=0)


@pytest.mark.parametrize("name", ["tf.keras.losses.MeanSquaredError", "tf.keras.losses.BinaryCrossentropy"])
def test_keras_averages_the_last_axis_so_only_mean_is_claimed(fw, name):
    # Keras's own reduction='none' and 'sum' give per-sample means over the
    # last axis, not the canonical elementwise values or their sum.
    binding = BY_NAME[name]
    assert binding.reductions == ("mean",)
    if binding.op == "mean_squared_error":
        inputs = _tutorial_cases()["mean_squared_error"][0][1]
        y_true, y_pred, cls = inputs["targets"], inputs["predictions"], fw.keras.losses.MeanSquaredError
        kwargs = {}
    else:
        inputs = {"logits": TUTORIAL_LOGITS, "labels": TUTORIAL_LABELS}
        y_true, y_pred, cls = inputs["labels"], inputs["logits"], fw.keras.losses.BinaryCrossentropy
        kwargs = {"from_logits": True}
    elementwise = reference.compute(binding.op, inputs, {"reduction": "none"})
    per_sample = cls(reduction="none", dtype="float64", **kwargs)(y_true, y_pred).numpy()
    summed = cls(reduction="sum", dtype="float64", **kwargs)(y_true, y_pred).numpy()
    np.testing.assert_allclose(per_sample, elementwise.mean(axis=-1), rtol=1e-12)
    np.testing.assert_allclose(summed, elementwise.sum() / elementwise.shape[-1], rtol=1e-12)
    assert per_sample.shape != elementwise.shape


def test_keras_loss_computes_in_float32_unless_given_dtype(fw):
    # Why every Keras binding passes dtype=: the default is floatx (float32).
    p = fw.constant([1.0, 2.0], dtype=fw.float64)
    t = fw.constant([1.1, 2.3], dtype=fw.float64)
    assert fw.keras.losses.MeanSquaredError()(t, p).dtype == fw.float32
    binding = BY_NAME["tf.keras.losses.MeanSquaredError"]
    got = binding.fn(fw, {"predictions": p, "targets": t}, {"reduction": "mean"})
    assert got.dtype == fw.float64
    assert got.numpy() == pytest.approx((0.1**2 + 0.3**2) / 2, rel=1e-12)


@pytest.mark.parametrize(
    "name, inputs, params, words",
    [
        (
            "tf.nn.sparse_softmax_cross_entropy_with_logits",
            {"logits": SPARSE_LOGITS.T, "labels": SPARSE_LABELS},
            {"axis": 0, "reduction": "none"},
            ("always takes the last axis", "class axis here is 0"),
        ),
        (
            "tf.keras.losses.SparseCategoricalCrossentropy",
            {"logits": np.zeros((3, 2, 4)), "labels": np.zeros((2, 4), dtype=np.int64)},
            {"axis": -3, "reduction": "sum"},
            ("SparseCategoricalCrossentropy", "only axis=-1", "class axis here is -3"),
        ),
        (
            "tf.keras.losses.MeanSquaredError",
            {"predictions": np.ones((2, 3)), "targets": np.ones((2, 3))},
            {"reduction": "none"},
            ("has no reduction='none'", "it has mean"),
        ),
        (
            "tf.keras.losses.BinaryCrossentropy",
            {"logits": np.ones((2, 3)), "labels": np.ones((2, 3))},
            {"reduction": "sum"},
            ("has no reduction='sum'",),
        ),
        (
            "tf.keras.losses.MeanSquaredError",
            {"predictions": np.array(1.0), "targets": np.array(2.0)},
            {"reduction": "mean"},
            ("fails on 0-d inputs",),
        ),
        (
            "tf.keras.losses.BinaryCrossentropy",
            {"logits": np.array(1.0), "labels": np.array(0.0)},
            {"reduction": "mean"},
            ("fails on 0-d inputs",),
        ),
    ],
)
def test_not_applicable_reasons(name, inputs, params, words):
    reason = BY_NAME[name].not_applicable(inputs, params)
    assert reason is not None, f"{name} accepted {params} on shapes {[a.shape for a in inputs.values()]}"
    for word in words:
        assert word in reason, f"{word!r} not in reason {reason!r}"


ZEROS_3X2, ZEROS_2X3X4 = np.zeros((3, 2)), np.zeros((2, 3, 4))


@pytest.mark.parametrize(
    "name, inputs, params",
    [
        ("tf.nn.softmax_cross_entropy_with_logits", {"logits": ZEROS_3X2, "labels": ZEROS_3X2}, {"axis": 0}),
        ("tf.keras.losses.CategoricalCrossentropy", {"logits": ZEROS_2X3X4, "labels": ZEROS_2X3X4}, {"axis": 1}),
        (
            "tf.nn.sparse_softmax_cross_entropy_with_logits",
            {"logits": ZEROS_3X2.T, "labels": np.ones(2, int)},
            {"axis": 1},
        ),
        ("tf.nn.sparse_softmax_cross_entropy_with_logits", {"logits": np.zeros(3), "labels": np.array(1)}, {"axis": 0}),
        ("tf.nn.sigmoid_cross_entropy_with_logits", {"logits": np.array(1.0), "labels": np.array(0.0)}, {}),
    ],
)
def test_what_the_api_can_do_is_applicable(name, inputs, params):
    for reduction in ("none", "sum", "mean"):
        assert BY_NAME[name].not_applicable(inputs, {**params, "reduction": reduction}) is None


GAP_CASES = {
    "softmax_cross_entropy": {"logits": np.array([[800.0, 0.0], [0.0, 800.0]]), "labels": np.eye(2)[[1, 1]]},
    "sigmoid_cross_entropy": {"logits": np.array([800.0, -800.0, 1.0]), "labels": np.array([0.0, 1.0, 1.0])},
}


@pytest.mark.parametrize("name", ["composition:tf.math.log(tf.nn.softmax)", "composition:tf.math.log(tf.sigmoid)"])
def test_naive_compositions_break_at_a_logit_gap_of_800(fw, name):
    binding = BY_NAME[name]
    assert (binding.kind, binding.default) == ("composition", False)
    params = get_op(binding.op).resolve_params({"reduction": "none"})
    got = _run(fw, binding, GAP_CASES[binding.op], params, "float64")
    assert not np.all(np.isfinite(got)), f"{name} stayed finite at a logit gap of 800: {got}"


@pytest.mark.parametrize("op", sorted(GAP_CASES))
def test_native_ops_stay_finite_at_a_logit_gap_of_800(fw, op):
    natives = [b for b in BINDINGS if b.op == op and b.kind == "native"]
    assert natives
    for binding in natives:
        params = get_op(op).resolve_params({"reduction": binding.reductions[-1]})
        got = _run(fw, binding, GAP_CASES[op], params, "float64")
        want = _expected(op, GAP_CASES[op], params, "float64")
        assert np.all(np.isfinite(got)), f"{binding.name} is not finite at a logit gap of 800: {got}"
        np.testing.assert_allclose(got, want, rtol=1e-12, err_msg=binding.name)


def test_compositions_are_named_as_compositions():
    for binding in BINDINGS:
        assert binding.name.startswith("composition:") == (binding.kind == "composition"), binding.name
    mse = BY_NAME["composition:tf.square(predictions - targets)"]
    assert mse.default is True and "tf.reduce_mean(tf.square(predictions - targets))" in mse.call


def test_calls_say_how_sum_and_mean_are_taken():
    for binding in BINDINGS:
        if binding.name.startswith(("tf.nn.", "composition:")):
            assert "sum: tf.reduce_sum(" in binding.call and "mean: tf.reduce_mean(" in binding.call, binding.name
        else:
            assert "reduction='sum_over_batch_size'" in binding.call and "dtype=" in binding.call, binding.name


def test_to_framework_and_back(fw):
    floats = np.array([[1.5, -2.0]])
    for dtype in DTYPES:
        tensor = ADAPTER.to_framework(fw, floats, dtype, "cpu")
        assert tensor.dtype == fw.as_dtype(dtype) and "CPU" in tensor.device
        back = ADAPTER.to_numpy(fw, tensor)
        assert back.dtype == np.dtype(dtype) and np.array_equal(back, floats)
    labels = ADAPTER.to_framework(fw, np.array([2, 1], dtype=np.int64), "float64", "cpu")
    assert labels.dtype == fw.int32
    with pytest.raises(ValueError, match="cpu only"):
        ADAPTER.to_framework(fw, floats, "float32", "gpu")


def test_load_configures_tensorflow(fw):
    assert fw.config.threading.get_intra_op_parallelism_threads() == 1
    assert fw.config.threading.get_inter_op_parallelism_threads() == 1
    assert fw.keras.backend.backend() == "tensorflow"
    assert ADAPTER.load() is fw  # a second load in the same process is harmless


def test_found_through_its_entry_point():
    adapter = load_adapter("tensorflow")
    assert isinstance(adapter, TensorflowAdapter)
    assert check_adapter(ADAPTER, "test") is ADAPTER
    assert {"tensorflow-cpu", "tensorflow", "keras"} <= set(ADAPTER.distributions)


def test_import_does_not_import_tensorflow():
    code = (
        "import sys\n"
        "from conformance.adapters.tensorflow_adapter import TensorflowAdapter\n"
        "names = [b.name for b in TensorflowAdapter().bindings]\n"
        "loaded = [m for m in ('tensorflow', 'keras', 'tf_keras') if m in sys.modules]\n"
        "assert names and not loaded, loaded\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


# --- Precision depth: dtypes, compiled modes, gradients --------------------------------------------------

COMPILED_MODES = ("compiled", "compiled-xla")
HALF_DTYPES = ("float16", "bfloat16")


def _eps(dtype: str) -> float:
    """Return the machine epsilon of ``dtype`` (bfloat16 through ml_dtypes)."""
    return float(ml_dtypes.finfo(numpy_dtype(dtype)).eps)


def _first_tutorial_case(binding):
    """Return (inputs, params) of the binding's first applicable tutorial case, under its last reduction."""
    for _, inputs, given in _tutorial_cases()[binding.op]:
        params = get_op(binding.op).resolve_params({**given, "reduction": binding.reductions[-1]})
        if binding.not_applicable(inputs, params) is None:
            return inputs, params
    raise AssertionError(f"{binding.name}: no applicable tutorial case")


def _converted(fw, inputs, dtype):
    """Return ``inputs`` rounded to ``dtype`` (as the kit does) and converted to tf tensors."""
    return {
        name: ADAPTER.to_framework(fw, round_to(a, dtype) if np.issubdtype(a.dtype, np.floating) else a, dtype, "cpu")
        for name, a in inputs.items()
    }


def _built(fw, binding, params, mode, wrt=None):
    """Return ADAPTER.build() of the binding's forward closed over ``params``."""
    return ADAPTER.build(fw, lambda inputs: binding.fn(fw, inputs, params), mode, wrt)


def test_declares_precision_depth():
    assert ADAPTER.dtypes == ("float16", "bfloat16", "float32", "float64")
    assert ADAPTER.modes == ("eager", "compiled", "compiled-xla")
    assert ADAPTER.gradients is True and callable(ADAPTER.build)


@pytest.mark.parametrize("mode", COMPILED_MODES)
@pytest.mark.parametrize("binding", BINDINGS, ids=lambda b: b.name)
def test_compiled_value_matches_eager(fw, binding, mode):
    inputs, params = _first_tutorial_case(binding)
    values = _converted(fw, inputs, "float32")
    compiled = _built(fw, binding, params, mode)
    assert isinstance(compiled, fw.types.experimental.PolymorphicFunction), type(compiled)
    assert compiled.function_spec.jit_compile is (mode == "compiled-xla")
    got = ADAPTER.to_numpy(fw, compiled(values))
    want = ADAPTER.to_numpy(fw, _built(fw, binding, params, "eager")(values))
    assert got.dtype == want.dtype == np.float32 and got.shape == want.shape
    # XLA may fuse and reorder a reduction: a few float32 ulps, never more.
    np.testing.assert_allclose(got, want, rtol=4 * _eps("float32"), atol=0, err_msg=f"{binding.name} {mode}")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mode", ADAPTER.modes)
@pytest.mark.parametrize("binding", [b for b in BINDINGS if b.default], ids=lambda b: b.name)
def test_gradient_matches_analytic(fw, binding, mode, dtype):
    inputs, params = _first_tutorial_case(binding)
    wrt = gradients.differentiable_input(binding.op)
    got = ADAPTER.to_numpy(fw, _built(fw, binding, params, mode, wrt)(_converted(fw, inputs, dtype)))
    rounded = {k: round_to(a, dtype).astype(np.float64) if a.dtype.kind == "f" else a for k, a in inputs.items()}
    want = gradients.compute(binding.op, rounded, params)
    where = f"[{binding.name}, {params}, {mode}, {dtype}]"
    assert got.dtype == np.dtype(dtype) and got.shape == want.shape, f"grad {got.dtype} {got.shape} {where}"
    # A gradient is a difference (p - z) of numbers up to 1 (times pos_weight, / count for mean).
    scale = max(1.0, float(np.max(params.get("pos_weight", 1.0))))
    np.testing.assert_allclose(got, want, rtol=8 * _eps(dtype), atol=8 * _eps(dtype) * scale, err_msg=where)


@pytest.mark.parametrize("dtype", HALF_DTYPES)
def test_half_precision_round_trips(fw, dtype):
    floats = round_to(np.array([[1.5, -2.0, 0.1, 3.0e-5], [6.0e4, 1 / 3, -0.0, 7.0]]), dtype)
    tensor = ADAPTER.to_framework(fw, floats, dtype, "cpu")
    assert tensor.dtype == fw.as_dtype(dtype)
    back = ADAPTER.to_numpy(fw, tensor)
    assert back.dtype == numpy_dtype(dtype) and back.dtype == floats.dtype
    assert np.array_equal(back.astype(np.float64), floats.astype(np.float64))
    assert np.signbit(back.astype(np.float64)[1, 2])
    # Labels stay integers whatever the float dtype (ml_dtypes.bfloat16 has dtype.kind 'V', not 'f').
    labels = ADAPTER.to_framework(fw, np.array([2, 1], dtype=np.int64), dtype, "cpu")
    assert labels.dtype == fw.int32


@pytest.mark.parametrize("dtype", HALF_DTYPES)
@pytest.mark.parametrize("binding", [b for b in BINDINGS if b.default], ids=lambda b: b.name)
def test_every_binding_runs_in_half_precision(fw, binding, dtype):
    # The Keras losses get the run dtype too: their result is in it, not floatx (float32).
    inputs, params = _first_tutorial_case(binding)
    got = ADAPTER.to_numpy(fw, binding.fn(fw, _converted(fw, inputs, dtype), params))
    want = _expected(binding.op, {k: round_to(a, dtype).astype(np.float64) if a.dtype.kind == "f" else a
                                  for k, a in inputs.items()}, params, "float64")
    assert got.dtype == numpy_dtype(dtype), f"{binding.name} returned {got.dtype} for {dtype} inputs"
    # Loose: a handful of half-precision roundings on small tutorial inputs.
    np.testing.assert_allclose(got.astype(np.float64), want, rtol=16 * _eps(dtype), atol=16 * _eps(dtype))


def test_build_rejects_unknown_mode(fw):
    with pytest.raises(ValueError, match="no mode 'jit'"):
        _built(fw, BINDINGS[0], {"reduction": "none"}, "jit")


def test_weighted_gradient_at_logit_zero_is_wrong_in_tensorflow(fw):
    # A real TensorFlow behaviour the kit reports: weighted_cross_entropy_with_logits is
    # (1-z) x + (1 + (q-1) z) (log1p(exp(-|x|)) + relu(-x)); at x = 0 the subgradients
    # of |x| and relu are both taken as 0, so d/dx = 1 - z instead of (1 - z)/2 - q z/2.
    binding = BY_NAME["tf.nn.weighted_cross_entropy_with_logits"]
    params = {"pos_weight": 2.5, "reduction": "none"}
    inputs = {"logits": np.array([0.0, 0.0, 1e-30]), "labels": np.array([1.0, 0.0, 1.0])}
    want = gradients.compute(binding.op, inputs, params)
    np.testing.assert_allclose(want, [-1.25, 0.5, -1.25], rtol=1e-12)
    got = ADAPTER.to_numpy(fw, _built(fw, binding, params, "eager", "logits")(_converted(fw, inputs, "float64")))
    np.testing.assert_array_equal(got[:2], [0.0, 1.0])
    np.testing.assert_allclose(got[2], want[2], rtol=1e-12)  # just off zero, the gradient is right


def test_call_cache_builds_and_traces_once_per_key(fw):
    binding = BY_NAME["tf.keras.losses.MeanSquaredError"]
    inputs = _tutorial_cases()["mean_squared_error"][0][1]
    params = get_op(binding.op).resolve_params({"reduction": "mean"})
    case = Case("t.yaml", 1, binding.op, "small", "", (), {}, inputs, params, "value")
    built = []

    class Counting(TensorflowAdapter):
        def build(self, fw, forward, mode, wrt):
            built.append((mode, wrt))
            return super().build(fw, forward, mode, wrt)

    adapter, cache = Counting(), CallCache()
    for _ in range(2):
        for mode in ADAPTER.modes:
            for quantity in ("value", "grad"):
                fields = run_check(adapter, fw, binding, case, "float32", mode, "cpu", quantity, cache)
                assert fields["status"] == "pass", (mode, quantity, fields)
    # eager values need no build; every other (mode, quantity) is built once, not once per call.
    assert sorted(built, key=str) == sorted(
        [("eager", "predictions"), ("compiled", None), ("compiled", "predictions"), ("compiled-xla", None),
         ("compiled-xla", "predictions")], key=str)
    fn = cache.get(adapter, fw, binding, case, "float32", "compiled-xla", "grad")
    assert fn.experimental_get_tracing_count() == 1


def test_graph_mode_sigmoid_gradient_cancels_where_eager_and_xla_do_not(fw):
    # A real TensorFlow behaviour the kit reports: under tf.function (no XLA), Grappler's
    # arithmetic optimizer regroups the gradient's sum (1 - z) - s(x) of the composite
    # sigmoid_cross_entropy_with_logits, so 1 - z cancels after s(x) is added: at x = 100,
    # z = 1 the true gradient -e^-100 comes back 0. Eager and XLA keep it. (If this starts
    # failing, TensorFlow changed: rerun the kit and update the report.)
    binding = BY_NAME["tf.nn.sigmoid_cross_entropy_with_logits"]
    params = {"reduction": "sum"}
    inputs = _converted(fw, {"logits": np.array([100.0, 12.0]), "labels": np.array([1.0, 1.0])}, "float64")
    want = -1 / (1 + np.exp([100.0, 12.0]))
    got = {mode: ADAPTER.to_numpy(fw, _built(fw, binding, params, mode, "logits")(inputs)) for mode in ADAPTER.modes}
    for mode in ("eager", "compiled-xla"):
        np.testing.assert_allclose(got[mode], want, rtol=4 * _eps("float64"), err_msg=mode)
    assert got["compiled"][0] == 0.0
    assert abs(got["compiled"][1] / want[1] - 1) > 1e-13  # ~1.2e-12: thousands of ulps
