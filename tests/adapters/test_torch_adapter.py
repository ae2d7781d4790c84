"""Tests of the PyTorch adapter against the float64 NumPy reference."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest

from conformance.adapter import Binding, check_adapter
from conformance.adapters.torch_adapter import TorchAdapter
from conformance.cases import Case
from conformance.check import CallCache, build_callable, expected_for, run_check
from conformance.dtypes import numpy_dtype, round_to
from conformance.gradients import differentiable_input
from conformance.ops import OPS, REDUCTIONS
from conformance.reference import compute

ADAPTER = TorchAdapter()
PROBABILITY_OPS = ("binary_cross_entropy", "categorical_cross_entropy", "nll_loss")
# the logit and MSE bindings; the probability-input ones have tests of their own below
NATIVE = [b for b in ADAPTER.bindings if b.kind == "native" and b.op not in PROBABILITY_OPS]
PROBABILITY = [b for b in ADAPTER.bindings if b.op in PROBABILITY_OPS]
COMPOSITIONS = [b for b in ADAPTER.bindings if b.kind == "composition"]
CLASS_DIM = [b for b in NATIVE if b.op in ("softmax_cross_entropy", "sparse_softmax_cross_entropy")]
RTOL = {"float32": 1e-5, "float64": 1e-12}

TUTORIAL_LOGITS = np.array([[12, 3, 2], [3, 10, 1], [1, 2, 5], [4, 6.5, 1.2], [3, 6, 1]])
TUTORIAL_LABELS = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0], [0, 1, 0]], dtype=float)
SPARSE_LOGITS = np.array([[2, 0.5, 6], [0.1, 0, 3]])
SPARSE_LABELS = np.array([2, 1])
ONE_HOT_LABELS = np.eye(3)[SPARSE_LABELS]


def _soft(rng, shape, axis=-1):
    """Return random probability labels that sum to one along ``axis``."""
    raw = rng.uniform(0.05, 1.0, shape)
    return raw / raw.sum(axis=axis, keepdims=True)


def _cases() -> dict[str, list[tuple[str, dict, dict]]]:
    """Return, per op, (case id, float64/int64 inputs, params without reduction)."""
    rng = np.random.default_rng(20240611)
    binary = rng.integers(0, 2, (4, 3)).astype(float)
    logits3 = rng.normal(0, 1.5, (2, 3, 4))
    sigmoid = [
        ("tutorial", {"logits": TUTORIAL_LOGITS, "labels": TUTORIAL_LABELS}, {}),
        ("random-hard-4x3", {"logits": rng.normal(0, 1.5, (4, 3)), "labels": binary}, {}),
        ("random-soft-2x3x4", {"logits": logits3, "labels": rng.uniform(0, 1, (2, 3, 4))}, {}),
    ]
    weighted = [
        ("tutorial-scalar-q", sigmoid[0][1], {"pos_weight": 3.0}),
        ("tutorial-list-q", sigmoid[0][1], {"pos_weight": [0.5, 2.0, 4.0]}),
        ("random-2x3x4-list-q", sigmoid[2][1], {"pos_weight": [0.25, 1.0, 2.5, 7.0]}),
    ]
    dense = [
        ("tutorial-one-hot", {"logits": SPARSE_LOGITS, "labels": ONE_HOT_LABELS}, {"axis": -1}),
        ("random-soft-4x5", {"logits": rng.normal(0, 2, (4, 5)), "labels": _soft(rng, (4, 5))}, {"axis": 1}),
        ("random-soft-2x4x3-dim1", {"logits": rng.normal(0, 2, (2, 4, 3)), "labels": _soft(rng, (2, 4, 3), 1)},
         {"axis": -2}),
        ("unbatched-5", {"logits": rng.normal(0, 2, 5), "labels": _soft(rng, 5)}, {"axis": -1}),
    ]
    sparse = [
        ("tutorial", {"logits": SPARSE_LOGITS, "labels": SPARSE_LABELS}, {"axis": -1}),
        ("random-4x5", {"logits": rng.normal(0, 2, (4, 5)), "labels": rng.integers(0, 5, 4)}, {"axis": -1}),
        ("random-2x4x3-dim1", {"logits": rng.normal(0, 2, (2, 4, 3)), "labels": rng.integers(0, 4, (2, 3))},
         {"axis": 1}),
        ("unbatched-3", {"logits": SPARSE_LOGITS[0], "labels": np.array(2)}, {"axis": 0}),
    ]
    mse = [
        ("small", {"predictions": np.array([[1.0, 2.0], [3.0, 4.0]]),
                   "targets": np.array([[1.5, 2.0], [2.0, 6.0]])}, {}),
        ("random-3x4", {"predictions": rng.normal(0, 3, (3, 4)), "targets": rng.normal(0, 3, (3, 4))}, {}),
        ("scalar", {"predictions": np.array(1.5), "targets": np.array(-0.25)}, {}),
    ]
    return {
        "sigmoid_cross_entropy": sigmoid,
        "weighted_sigmoid_cross_entropy": weighted,
        "softmax_cross_entropy": dense,
        "sparse_softmax_cross_entropy": sparse,
        "mean_squared_error": mse,
    }


CASES = _cases()


@pytest.fixture(scope="module")
def fw():
    pytest.importorskip("torch")
    return ADAPTER.load()


def _rounded(inputs: dict, dtype: str) -> dict:
    """Return the inputs as the dtype rounds them, widened back to float64 (ints unchanged)."""
    return {
        name: value if np.issubdtype(value.dtype, np.integer) else value.astype(dtype).astype(np.float64)
        for name, value in inputs.items()
    }


def _run(fw, binding: Binding, inputs: dict, params: dict, dtype: str) -> np.ndarray:
    """Return what the binding gives on inputs converted to ``dtype``, as NumPy."""
    converted = {name: ADAPTER.to_framework(fw, value, dtype, "cpu") for name, value in inputs.items()}
    return ADAPTER.to_numpy(fw, binding.fn(fw, converted, params))


def _check_against_reference(fw, binding: Binding, case: tuple, dtype: str, reduction: str, rtol: float):
    """Assert the binding matches the reference on one case, with a message that restates the call."""
    case_id, inputs, given = case
    params = OPS[binding.op].resolve_params({**given, "reduction": reduction})
    where = f"[{binding.name} {binding.op} case={case_id} dtype={dtype} params={params}]"
    assert OPS[binding.op].check_shapes(inputs, params) is None, f"bad test case {where}"
    assert binding.not_applicable(inputs, params) is None, f"binding refused a case it can take {where}"
    want = compute(binding.op, _rounded(inputs, dtype), params)
    got = _run(fw, binding, inputs, params, dtype)
    assert got.dtype == np.dtype(dtype), f"out.dtype={got.dtype}, but should be {dtype} {where}"
    assert got.shape == want.shape, f"out.shape={got.shape}, but should be {want.shape} {where}"
    np.testing.assert_allclose(got, want, rtol=rtol, atol=0, err_msg=where)


def test_import_leaves_torch_unimported():
    code = "import sys, conformance.adapters.torch_adapter; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False", f"importing the adapter imported torch: {out.stdout}{out.stderr}"


def test_adapter_keeps_the_contract():
    assert check_adapter(ADAPTER, "torch") is ADAPTER
    assert (ADAPTER.framework, ADAPTER.requires, ADAPTER.distributions) == ("torch", ("torch",), ("torch",))
    pairs = [(b.name, b.op) for b in ADAPTER.bindings]
    assert len(pairs) == len(set(pairs)), f"duplicate (name, op) bindings: {pairs}"


def test_bindings_are_the_documented_apis():
    expected = {
        ("torch.nn.functional.binary_cross_entropy_with_logits", "sigmoid_cross_entropy"),
        ("torch.nn.functional.binary_cross_entropy_with_logits", "weighted_sigmoid_cross_entropy"),
        ("torch.nn.BCEWithLogitsLoss", "sigmoid_cross_entropy"),
        ("torch.nn.BCEWithLogitsLoss", "weighted_sigmoid_cross_entropy"),
        ("torch.nn.functional.cross_entropy", "softmax_cross_entropy"),
        ("torch.nn.functional.cross_entropy", "sparse_softmax_cross_entropy"),
        ("torch.nn.CrossEntropyLoss", "softmax_cross_entropy"),
        ("torch.nn.CrossEntropyLoss", "sparse_softmax_cross_entropy"),
        ("torch.nn.functional.mse_loss", "mean_squared_error"),
        ("torch.nn.MSELoss", "mean_squared_error"),
        ("torch.nn.functional.binary_cross_entropy", "binary_cross_entropy"),
        ("torch.nn.BCELoss", "binary_cross_entropy"),
        ("torch.nn.functional.nll_loss", "nll_loss"),
        ("torch.nn.NLLLoss", "nll_loss"),
    }
    assert {(b.name, b.op) for b in ADAPTER.bindings if b.kind == "native"} == expected
    assert all(b.default and b.reductions == REDUCTIONS for b in NATIVE)
    assert {b.op for b in COMPOSITIONS} == {"softmax_cross_entropy", "sigmoid_cross_entropy"}
    for binding in COMPOSITIONS:
        assert binding.name.startswith("composition:") and not binding.default, binding


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("binding", NATIVE, ids=lambda b: f"{b.name}-{b.op}")
def test_native_binding_matches_reference(fw, binding, dtype, reduction):
    for case in CASES[binding.op]:
        _check_against_reference(fw, binding, case, dtype, reduction, RTOL[dtype])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("binding", COMPOSITIONS, ids=lambda b: b.name)
def test_composition_matches_reference_on_moderate_logits(fw, binding, reduction):
    # The tutorial's formulas lose digits to cancellation near saturation (the
    # sigmoid one at logit 12), so only moderate random cases are held to the
    # float64 tolerance here.
    for case in CASES[binding.op]:
        if case[0].startswith("random"):
            _check_against_reference(fw, binding, case, "float64", reduction, RTOL["float64"])


def test_pos_weight_scales_the_last_axis(fw):
    binding = next(b for b in NATIVE if b.op == "weighted_sigmoid_cross_entropy")
    logits, labels = np.zeros((2, 3)), np.ones((2, 3))
    got = _run(fw, binding, {"logits": logits, "labels": labels}, {"pos_weight": [1.0, 2.0, 3.0], "reduction": "none"},
               "float64")
    # With z = 1 and x = 0 each loss is q log 2, so columns must scale by q.
    np.testing.assert_allclose(got, np.log(2) * np.array([[1.0, 2.0, 3.0]] * 2), rtol=1e-15)


@pytest.mark.parametrize("binding", CLASS_DIM, ids=lambda b: f"{b.name}-{b.op}")
def test_class_axis_away_from_torch_dim_is_not_applicable(binding):
    labels_for = {
        "softmax_cross_entropy": lambda shape, axis: np.zeros(shape),
        "sparse_softmax_cross_entropy": lambda shape, axis: np.zeros(np.delete(shape, axis), dtype=np.int64),
    }[binding.op]
    refused = [((2, 3), 0, "dim 1"), ((2, 4, 3), -1, "dim 1"), ((2, 4, 3), 0, "dim 1")]
    for shape, axis, needle in refused:
        inputs = {"logits": np.zeros(shape), "labels": labels_for(shape, axis)}
        reason = binding.not_applicable(inputs, {"axis": axis, "reduction": "mean"})
        assert reason is not None and needle in reason and binding.name in reason, (shape, axis, reason)
    taken = [((2, 3), -1), ((2, 3), 1), ((2, 4, 3), -2), ((5,), 0), ((5,), -1)]
    for shape, axis in taken:
        inputs = {"logits": np.zeros(shape), "labels": labels_for(shape, axis)}
        assert binding.not_applicable(inputs, {"axis": axis, "reduction": "mean"}) is None, (shape, axis)


def test_compositions_take_any_class_axis():
    binding = next(b for b in COMPOSITIONS if b.op == "softmax_cross_entropy")
    inputs = {"logits": np.zeros((2, 4, 3)), "labels": np.zeros((2, 4, 3))}
    assert binding.not_applicable(inputs, {"axis": 0, "reduction": "none"}) is None


GAP_CASES = {
    "sigmoid_cross_entropy": ({"logits": np.array([[800.0, -800.0]]), "labels": np.array([[0.0, 1.0]])}, {}),
    "softmax_cross_entropy": ({"logits": np.array([[800.0, 0.0]]), "labels": np.array([[0.0, 1.0]])}, {"axis": -1}),
}


@pytest.mark.parametrize("op", sorted(GAP_CASES))
def test_tutorial_formula_breaks_at_logit_gap_800_where_native_does_not(fw, op):
    inputs, given = GAP_CASES[op]
    params = OPS[op].resolve_params({**given, "reduction": "sum"})
    want = compute(op, inputs, params)
    assert np.isfinite(want), want
    for binding in (b for b in ADAPTER.bindings if b.op == op):
        got = _run(fw, binding, inputs, params, "float64")
        if binding.kind == "composition":
            assert not np.all(np.isfinite(got)), f"{binding.name} stayed finite at a logit gap of 800: {got}"
        else:
            np.testing.assert_allclose(got, want, rtol=1e-12, err_msg=f"{binding.name} {op} at logit gap 800")


def test_conversion_dtypes(fw):
    import torch

    assert ADAPTER.to_framework(fw, np.array([2, 1]), "float32", "cpu").dtype == torch.int64
    assert ADAPTER.to_framework(fw, np.array([2, 1], dtype=np.int32), "float64", "cpu").dtype == torch.int64
    value = ADAPTER.to_framework(fw, np.array([0.1, 0.2]), "float32", "cpu")
    assert value.dtype == torch.float32 and value.device.type == "cpu"
    back = ADAPTER.to_numpy(fw, value)
    assert back.dtype == np.float32 and np.array_equal(back, np.array([0.1, 0.2], dtype=np.float32))
    with pytest.raises(ValueError, match="device 'tpu'"):
        ADAPTER.to_framework(fw, np.array([0.1]), "float32", "tpu")
    if not fw.cuda.is_available():
        assert ADAPTER.device_available(fw, "cuda").endswith("sees no CUDA device (torch.cuda.is_available() is False)")


def test_load_keeps_torch_to_one_thread(fw):
    assert fw.get_num_threads() == 1


# ---- precision depth: dtypes, torch.compile, autograd ----------------------
#
# Compiles take seconds each, so these tests use one input shape per op (the
# tutorial's 5x3) and build through the kit's own build_callable: dynamo keys
# its cache on the kit's one forward function, so a later test with the same
# binding, params, shape and dtype reuses an earlier test's compiled code.

TUTORIAL_SPARSE_LABELS = np.array([0, 1, 2, 1, 1])
TUTORIAL = {
    "sigmoid_cross_entropy": ({"logits": TUTORIAL_LOGITS, "labels": TUTORIAL_LABELS}, {}),
    "weighted_sigmoid_cross_entropy": ({"logits": TUTORIAL_LOGITS, "labels": TUTORIAL_LABELS},
                                       {"pos_weight": [0.5, 2.0, 4.0]}),
    "softmax_cross_entropy": ({"logits": TUTORIAL_LOGITS, "labels": TUTORIAL_LABELS}, {"axis": -1}),
    "sparse_softmax_cross_entropy": ({"logits": TUTORIAL_LOGITS, "labels": TUTORIAL_SPARSE_LABELS}, {"axis": -1}),
    "mean_squared_error": ({"predictions": TUTORIAL_LOGITS, "targets": 4 * TUTORIAL_LABELS}, {}),
}
# (rtol, atol) of a gradient against the analytic one; atol covers elements like
# sigmoid(12) - 1, whose absolute error is about u whatever their size.
GRAD_TOL = {"float32": (1e-5, 1e-6), "float64": (1e-12, 1e-15)}


def _tutorial_case(op: str, reduction: str) -> Case:
    """Return the op's tutorial inputs as a kit Case with the given reduction."""
    inputs, given = TUTORIAL[op]
    params = OPS[op].resolve_params({**given, "reduction": reduction})
    return Case(file="test_torch_adapter.py", line=None, op=op, id=f"tutorial-{reduction}", comment="", flags=(),
                source={}, inputs=inputs, params=params, outcome="value")


def _call_built(fw, binding: Binding, case: Case, dtype: str, mode: str, quantity: str) -> np.ndarray:
    """Return what the kit's callable for (binding, mode, quantity) gives on the case in ``dtype``."""
    fn = build_callable(ADAPTER, fw, binding, dict(case.params), mode, quantity)
    inputs = {name: ADAPTER.to_framework(fw, value, dtype, "cpu") for name, value in case.inputs.items()}
    return ADAPTER.to_numpy(fw, fn(inputs))


def test_adapter_declares_its_precision_depth():
    assert ADAPTER.dtypes == ("float16", "bfloat16", "float32", "float64")
    assert ADAPTER.modes == ("eager", "compiled") and ADAPTER.gradients is True


@pytest.mark.parametrize("binding", NATIVE, ids=lambda b: f"{b.name}-{b.op}")
def test_compiled_values_match_eager(fw, binding):
    case = _tutorial_case(binding.op, "none")
    eager = _call_built(fw, binding, case, "float32", "eager", "value")
    compiled = _call_built(fw, binding, case, "float32", "compiled", "value")
    where = f"[{binding.name} {binding.op} tutorial float32 compiled vs eager]"
    assert compiled.dtype == eager.dtype == np.float32 and compiled.shape == eager.shape, where
    np.testing.assert_allclose(compiled, eager, rtol=1e-6, atol=0, err_msg=where)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("mode", ["eager", "compiled"])
@pytest.mark.parametrize("binding", NATIVE, ids=lambda b: f"{b.name}-{b.op}")
def test_gradient_matches_analytic(fw, binding, mode, dtype):
    case = _tutorial_case(binding.op, "mean")
    expected, _, rounded, _ = expected_for(case, dtype, "grad")
    got = _call_built(fw, binding, case, dtype, mode, "grad")
    where = f"[d sum({binding.name}) / d {differentiable_input(binding.op)} {binding.op} tutorial {dtype} {mode}]"
    assert got.dtype == np.dtype(dtype) and got.shape == rounded[differentiable_input(binding.op)].shape, where
    rtol, atol = GRAD_TOL[dtype]
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=atol, err_msg=where)


def _moderate_case(op: str) -> Case:
    """Return the op's tutorial case with logits (or predictions) divided by 4, so no softmax or sigmoid saturates."""
    case = _tutorial_case(op, "none")
    name = differentiable_input(op)
    return replace(case, id="tutorial-over-4", inputs={**case.inputs, name: case.inputs[name] / 4})


@pytest.mark.parametrize("quantity", ["value", "grad"])
@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("binding", NATIVE, ids=lambda b: f"{b.name}-{b.op}")
def test_low_precision_eager_passes_the_kits_check(fw, binding, dtype, quantity):
    # Eager only: the CLI run covers compiled low precision. Gradients use
    # moderate logits: at the tutorial's logit 12 torch's low-precision
    # gradients are flushed to zero (pinned below).
    case = _tutorial_case(binding.op, "none") if quantity == "value" else _moderate_case(binding.op)
    fields = run_check(ADAPTER, fw, binding, case, dtype, "eager", "cpu", quantity)
    where = f"[{binding.name} {binding.op} {case.id} {dtype} {quantity}]"
    assert fields["status"] == "pass", f"{fields['status']}: {fields['message']} {where}"
    assert fields["result_dtype"] == dtype, f"out.dtype={fields['result_dtype']}, but should be {dtype} {where}"


# The true gradient is a normal number of the dtype there (float16's
# sigmoid(12) - 1 = -6.1e-6 is subnormal, so its flush is within the bound).
FLUSHED = [("sigmoid_cross_entropy", "bfloat16"), ("softmax_cross_entropy", "float16")]


@pytest.mark.parametrize(("op", "dtype"), FLUSHED)
def test_low_precision_gradient_at_logit_12_is_flushed_to_zero(fw, op, dtype):
    # A torch behaviour the kit must report, not an adapter bug: the backward
    # forms sigmoid(x) - z or softmax(x) - z in the dtype, where sigmoid(12)
    # and the top class's softmax (1 - 1.7e-4) round to 1, so the gradient is 0.
    # The textbook formula's rounding allows it (the check passes), but it is counted.
    binding = next(b for b in NATIVE if b.op == op)
    fields = run_check(ADAPTER, fw, binding, _tutorial_case(op, "none"), dtype, "eager", "cpu", "grad")
    assert fields["status"] == "pass" and fields["flushed_to_zero"] >= 1, fields
    assert "flushed to zero where the true value is a normal" in fields["message"]


LOW_PRECISION_SPECIALS = [0.0, -0.0, 1.0 / 3, -2.5, np.inf, -np.inf, np.nan, 1e-7, 6e4, -1e-40]


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_low_precision_conversion_round_trips_bit_for_bit(fw, dtype):
    rounded = round_to(np.array(LOW_PRECISION_SPECIALS), dtype)
    tensor = ADAPTER.to_framework(fw, rounded, dtype, "cpu")
    assert tensor.dtype == getattr(fw, dtype), f"to_framework gave {tensor.dtype} for {dtype}"
    back = ADAPTER.to_numpy(fw, tensor)
    assert back.dtype == numpy_dtype(dtype), f"to_numpy gave {back.dtype} for a {dtype} tensor"
    # Bits, not values: -0.0, NaN and subnormals must survive unchanged.
    assert np.array_equal(back.view(np.uint16), rounded.view(np.uint16)), (dtype, rounded, back)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_float64_arrays_are_rounded_as_the_kit_rounds(fw, dtype):
    # torch's own float64 -> float16 cast rounds twice (through float32), NumPy's once.
    values = np.array([1 + 2.0**-11 + 2.0**-40, 1 + 2.0**-8 + 2.0**-30, 0.1])
    back = ADAPTER.to_numpy(fw, ADAPTER.to_framework(fw, values, dtype, "cpu"))
    assert np.array_equal(back.view(np.uint16), round_to(values, dtype).view(np.uint16)), (dtype, back)


class _CountingAdapter:
    """The torch adapter, counting its build() calls."""

    def __init__(self):
        self.builds = 0

    def __getattr__(self, name):
        return getattr(ADAPTER, name)

    def build(self, fw, forward, mode, wrt):
        self.builds += 1
        return ADAPTER.build(fw, forward, mode, wrt)


def test_compiled_callables_are_built_once_per_key(fw):
    from torch._dynamo.utils import counters

    counting, cache = _CountingAdapter(), CallCache()
    binding = next(b for b in NATIVE if b.op == "mean_squared_error")
    case = _tutorial_case("mean_squared_error", "none")
    first = run_check(counting, fw, binding, case, "float32", "compiled", "cpu", "value", cache)
    graphs = counters["stats"]["unique_graphs"]
    again = run_check(counting, fw, binding, case, "float32", "compiled", "cpu", "value", cache)
    assert first["status"] == again["status"] == "pass", (first, again)
    assert counting.builds == 1, f"build() ran {counting.builds} times for one key"
    assert counters["stats"]["unique_graphs"] == graphs, "the second call of a built callable recompiled"
    run_check(counting, fw, binding, case, "float32", "compiled", "cpu", "grad", cache)
    run_check(counting, fw, binding, case, "float32", "eager", "cpu", "grad", cache)
    assert counting.builds == 3, f"value and gradient, compiled and eager need 3 builds, got {counting.builds}"


def test_compiling_raises_dynamos_recompile_limit(fw):
    # Every check compiles the kit's one forward function; at dynamo's default
    # limit of 8 it would silently run eager while the results say compiled.
    binding = next(b for b in NATIVE if b.op == "mean_squared_error")
    build_callable(ADAPTER, fw, binding, {"reduction": "none"}, "compiled", "value")
    config = fw._dynamo.config
    assert config.recompile_limit >= 100_000 and config.accumulated_recompile_limit >= 100_000
    assert config.fail_on_recompile_limit_hit is True


def test_build_refuses_an_unknown_mode(fw):
    with pytest.raises(ValueError, match="mode 'compiled-xla'"):
        ADAPTER.build(fw, lambda inputs: inputs, "compiled-xla", None)


@pytest.mark.parametrize("binding", PROBABILITY, ids=lambda b: f"{b.name}-{b.op}")
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_probability_bindings_match_the_reference_away_from_0_and_1(fw, binding, dtype):
    rng = np.random.default_rng(5)
    if binding.op == "binary_cross_entropy":
        inputs = {"probabilities": rng.uniform(0.01, 0.99, (4, 3)), "labels": rng.uniform(0, 1, (4, 3))}
    else:
        inputs = {"log_probabilities": np.log(_soft(rng, (4, 3))), "labels": np.array([0, 2, 1, 2])}
    for reduction in ("none", "sum", "mean"):
        params = {"reduction": reduction, **({"axis": -1} if binding.op == "nll_loss" else {})}
        rounded = {k: round_to(v, dtype) if v.dtype.kind == "f" else v for k, v in inputs.items()}
        converted = {k: ADAPTER.to_framework(fw, v, dtype, "cpu") for k, v in rounded.items()}
        got = ADAPTER.to_numpy(fw, binding.fn(fw, converted, params))
        widened = {k: v.astype(np.float64) if v.dtype.kind == "f" else v for k, v in rounded.items()}
        want = compute(binding.op, widened, params)
        np.testing.assert_allclose(got, want, rtol=RTOL[dtype], atol=0)


def test_bce_clamps_its_log_at_minus_100_as_declared(fw):
    binding = next(b for b in PROBABILITY if b.name == "torch.nn.functional.binary_cross_entropy")
    assert binding.conventions == ("log-clamp-100",)
    converted = {"probabilities": ADAPTER.to_framework(fw, np.array([0.0, 1.0]), "float64", "cpu"),
                 "labels": ADAPTER.to_framework(fw, np.array([1.0, 0.0]), "float64", "cpu")}
    got = ADAPTER.to_numpy(fw, binding.fn(fw, converted, {"reduction": "none"}))
    assert got.tolist() == [100.0, 100.0]  # the canonical loss is infinite for both
