"""The Keras 3 adapters: ``keras.losses`` on the TensorFlow, PyTorch and JAX backends.

Keras picks its backend once per process, from ``KERAS_BACKEND`` when it is
first imported, so there is one adapter per backend (``keras-tensorflow``,
``keras-torch``, ``keras-jax``); each runs in its own worker process and sets
the variable in :meth:`load` before Keras is imported.

The bindings are the same public classes on every backend, called as users
call them. A Keras loss is not the canonical op under every reduction:

* ``MeanSquaredError`` and ``BinaryCrossentropy`` first average over the LAST
  axis, one value per sample; only ``reduction="sum_over_batch_size"`` (sum /
  number of per-sample values) equals the canonical mean over all elements,
  so ``mean`` is the only reduction these bindings claim.
* ``CategoricalCrossentropy`` and ``SparseCategoricalCrossentropy`` give one
  value per sample, so ``"none"``, ``"sum"`` and ``"sum_over_batch_size"`` are
  the canonical none, sum and mean.
* A Keras loss casts its inputs to its own ``dtype``, ``keras.config.floatx()``
  (float32) unless given: every binding passes ``dtype=`` the run's dtype.
* With ``from_logits=False`` the probabilities are clipped to
  ``[epsilon, 1 - epsilon]`` before the log (the ``keras-epsilon-clip``
  convention), which the probability bindings declare.

Where the backends differ in what they accept, the ``supports`` rules say so:
the TensorFlow and JAX backends take only the last axis as
SparseCategoricalCrossentropy's class axis and fail on 0-d inputs to the
last-axis averages; the torch backend takes both. Where they differ in what
they compute, the results say so, and nothing here hides it: Keras's type
promotion turns float64 into float32 on every backend but TensorFlow, so on
torch and JAX ``keras.ops.mean`` (inside MeanSquaredError and
BinaryCrossentropy) computes float64 in float32, and on torch
``"sum_over_batch_size"`` returns float32 for float64 losses.

Gradients come from each backend's own autodiff (tf.GradientTape,
torch.autograd.grad, jax.grad); only the eager mode is offered. Nothing here
imports Keras or a backend at module level.
"""

from __future__ import annotations

import os
from types import SimpleNamespace
from typing import Any, Callable, Mapping

import numpy as np

from conformance.adapter import Binding
from conformance.dtypes import numpy_dtype, round_to
from conformance.repro_source import ReproSource, autograd_run, jax_run, tape_run

__all__ = ["KerasJaxAdapter", "KerasTensorflowAdapter", "KerasTorchAdapter"]

LABEL_DTYPE = "int32"
DEVICE = "cpu"

# Canonical reduction -> the Keras reduction of the same meaning, for losses
# that already give one value per sample.
_KERAS_REDUCTION = {"none": "none", "sum": "sum", "mean": "sum_over_batch_size"}
_MEAN_ONLY = {"mean": "sum_over_batch_size"}


def _loss_fn(cls: str, scores: str, truth: str, reductions: Mapping[str, str], options: dict, axis: bool) -> Callable:
    """Return fn(fw, inputs, params) -> keras.losses.<cls>(**options, dtype=scores' dtype)(truth, scores)."""

    def fn(fw, inputs, params):
        x = inputs[scores]
        loss = getattr(fw.keras.losses, cls)(
            **options, **({"axis": params["axis"]} if axis else {}), reduction=reductions[params["reduction"]],
            dtype=fw.keras.backend.standardize_dtype(x.dtype),
        )
        return loss(inputs[truth], x)

    fn.__name__ = f"_{cls}"
    fn.__doc__ = f"Return keras.losses.{cls}({options}) of {truth} and {scores}, in {scores}' dtype."
    return fn


def _call(cls: str, args: str, inputs: str, reductions: Mapping[str, str]) -> str:
    """Return the ``call`` text of a Keras loss object under each canonical reduction."""
    dtype = f"{inputs.split(', ')[1]}.dtype"
    return "; ".join(
        f"{ours}: keras.losses.{cls}({args}reduction={theirs!r}, dtype={dtype})({inputs})"
        for ours, theirs in reductions.items()
    )


def _has_last_axis(api: str, name: str, backend: str) -> Callable:
    """Return a supports() check that rejects 0-d inputs, which have no last axis to average."""

    def supports(inputs: Mapping[str, np.ndarray], params: Mapping[str, Any]) -> str | None:
        if np.ndim(inputs[name]) == 0:
            return f"{api} averages over the last axis of each sample and fails on 0-d inputs on the {backend} backend"
        return None

    return supports


def _class_axis_is_last(api: str, backend: str) -> Callable:
    """Return a supports() check that accepts only the last axis as the class axis."""

    def supports(inputs: Mapping[str, np.ndarray], params: Mapping[str, Any]) -> str | None:
        ndim, axis = np.ndim(inputs["logits"]), params["axis"]
        if ndim and axis % ndim != ndim - 1:
            return (f"{api} takes only the last axis as the class axis on the {backend} backend (any other "
                    f"raises ValueError); the class axis here is {axis} of logits with {ndim} dimensions")
        return None

    return supports


def _any(inputs: Mapping[str, np.ndarray], params: Mapping[str, Any]) -> str | None:
    return None


def _spec(cls: str, from_logits: bool, op: str, scores: str, truth: str, per_sample: bool) -> dict:
    """Return the backend-independent fields of one Keras binding."""
    flag = f"from_logits={from_logits}"
    has_flag = cls != "MeanSquaredError"
    reductions = _KERAS_REDUCTION if per_sample else _MEAN_ONLY
    args = (f"{flag}, " if has_flag else "") + ("axis=axis, " if per_sample else "")
    return dict(
        name=f"keras.losses.{cls}({flag})" if has_flag else f"keras.losses.{cls}",
        op=op,
        fn=_loss_fn(cls, scores, truth, reductions, {"from_logits": from_logits} if has_flag else {}, per_sample),
        call=_call(cls, args, f"{truth}, {scores}", reductions),
        reductions=tuple(reductions),
        conventions=() if from_logits or not has_flag else ("keras-epsilon-clip",),
    )


# (class, from_logits, op, scores input, truth input, gives one value per sample)
_LOSSES = (
    ("MeanSquaredError", False, "mean_squared_error", "predictions", "targets", False),
    ("BinaryCrossentropy", True, "sigmoid_cross_entropy", "logits", "labels", False),
    ("CategoricalCrossentropy", True, "softmax_cross_entropy", "logits", "labels", True),
    ("SparseCategoricalCrossentropy", True, "sparse_softmax_cross_entropy", "logits", "labels", True),
    ("BinaryCrossentropy", False, "binary_cross_entropy", "probabilities", "labels", False),
    ("CategoricalCrossentropy", False, "categorical_cross_entropy", "probabilities", "labels", True),
)


def bindings_for(backend: str) -> tuple[Binding, ...]:
    """Return the Keras bindings with the shape rules of ``backend`` ("tensorflow", "torch" or "jax")."""
    found = []
    for cls, from_logits, op, scores, truth, per_sample in _LOSSES:
        spec = _spec(cls, from_logits, op, scores, truth, per_sample)
        supports = _any
        if not per_sample and backend != "torch":
            supports = _has_last_axis(spec["name"], scores, backend)
        elif op == "sparse_softmax_cross_entropy" and backend != "torch":
            supports = _class_axis_is_last(spec["name"], backend)
        found.append(Binding(**spec, supports=supports))
    return tuple(found)


def _tape_gradient(fw: Any, forward: Callable, wrt: str) -> Callable:
    """Return inputs -> d sum(forward(inputs)) / d inputs[wrt], by tf.GradientTape."""
    tf = fw.native

    def gradient(inputs):
        x = inputs[wrt]
        with tf.GradientTape() as tape:
            tape.watch(x)
            total = fw.keras.ops.sum(forward(inputs))
        grad = tape.gradient(total, x)
        if grad is None:
            raise ValueError(f"the loss does not depend on {wrt} (tf.GradientTape gave None)")
        return grad

    return gradient


def _autograd_gradient(fw: Any, forward: Callable, wrt: str) -> Callable:
    """Return inputs -> d sum(forward(inputs)) / d inputs[wrt], by torch.autograd.grad."""

    def gradient(inputs):
        # A detached leaf, so the caller's tensor is left as it was given.
        leaf = inputs[wrt].detach().requires_grad_(True)
        (grad,) = fw.native.autograd.grad(fw.keras.ops.sum(forward({**inputs, wrt: leaf})), leaf)
        return grad

    return gradient


def _jax_gradient(fw: Any, forward: Callable, wrt: str) -> Callable:
    """Return inputs -> d sum(forward(inputs)) / d inputs[wrt], by jax.grad (the other inputs held fixed)."""

    def summed(x, others):
        return fw.keras.ops.sum(forward({**others, wrt: x}))

    grad = fw.native.grad(summed)
    return lambda inputs: grad(inputs[wrt], {k: v for k, v in inputs.items() if k != wrt})


def _repro_loss(binding: Binding, params: Mapping[str, Any], dtype: str) -> tuple[str, ...]:
    """Return the body of the script's loss: the Keras loss object built and called as the binding does."""
    for cls, from_logits, op, scores, truth, per_sample in _LOSSES:
        spec = _spec(cls, from_logits, op, scores, truth, per_sample)
        if (spec["name"], op) != (binding.name, binding.op):
            continue
        reductions = _KERAS_REDUCTION if per_sample else _MEAN_ONLY
        flag = f"from_logits={from_logits}, " if cls != "MeanSquaredError" else ""
        axis = f"axis={params['axis']}, " if per_sample else ""
        return (f"return keras.losses.{cls}({flag}{axis}reduction={reductions[params['reduction']]!r}, "
                f"dtype={dtype!r})({truth}, {scores})",)
    raise NotImplementedError(f"no reproducer source for {binding.name}")


# Per backend, for ``python -m conformance repro``: what _prepare() and load() do, as a script's first lines
# (KERAS_BACKEND before Keras is imported), and the gradient as each backend's autodiff takes it.
_REPRO_PRELUDE = {
    "tensorflow": ("import tensorflow as tf", "",
                   'tf.config.set_visible_devices([], "GPU")  # as loss-conformance runs it: CPU, one thread',
                   "tf.config.threading.set_intra_op_parallelism_threads(1)",
                   "tf.config.threading.set_inter_op_parallelism_threads(1)"),
    "torch": ('os.environ["KERAS_TORCH_DEVICE"] = "cpu"', "import torch", "",
              "torch.set_num_threads(1)  # as loss-conformance runs it: one intra-op thread"),
    "jax": ('os.environ.setdefault("JAX_PLATFORMS", "cpu")', "import jax", "",
            'jax.config.update("jax_enable_x64", True)  # before any array: else float64 is float32'),
}


def _repro_run(backend: str, op: str, quantity: str) -> tuple[str, ...]:
    if backend == "tensorflow":
        return tape_run(op, "eager", quantity, "keras.ops.sum", None)
    if backend == "torch":
        return autograd_run(op, "eager", quantity, None, "keras.ops.sum({call})")
    return jax_run(op, "eager", quantity, "keras.ops.sum", False)


class _KerasAdapter:
    """What the three Keras adapters share; subclasses name the backend and prepare it."""

    backend: str
    dtypes = ("float16", "bfloat16", "float32", "float64")
    modes = ("eager",)
    devices = (DEVICE,)
    gradients = True
    _gradient: Callable[[Any, Callable, str], Callable]

    def _prepare(self) -> Any:
        """Import the backend module, configured for this worker, before Keras; return it."""
        raise NotImplementedError

    def load(self) -> SimpleNamespace:
        """Return keras and its backend module, with Keras on this adapter's backend.

        KERAS_BACKEND is read once, when Keras is first imported: if Keras is
        already in this process on another backend, the adapter cannot run here.
        """
        os.environ["KERAS_BACKEND"] = self.backend
        native = self._prepare()
        import keras

        found = keras.backend.backend()
        if found != self.backend:
            raise RuntimeError(f"Keras runs on the {found!r} backend in this process (it was imported before "
                               f"KERAS_BACKEND could be set); the {self.framework} adapter needs {self.backend!r}")
        return SimpleNamespace(keras=keras, native=native)

    def build(self, fw: Any, forward: Callable, mode: str, wrt: str | None) -> Callable:
        """Return ``forward``, or inputs -> the gradient of its sum w.r.t. ``inputs[wrt]`` by the backend's autodiff."""
        if mode not in self.modes:
            raise ValueError(f"the {self.framework} adapter has no mode {mode!r} (it has {', '.join(self.modes)})")
        return forward if wrt is None else self._gradient(fw, forward, wrt)

    def to_framework(self, fw: Any, array: np.ndarray, dtype: str, device: str) -> Any:
        """Return ``array`` as a backend tensor on the CPU: floats as ``dtype``, integers as int32.

        The conversion is keras.ops.convert_to_tensor, as Keras users make tensors.
        """
        if device != DEVICE:
            raise ValueError(f"the {self.framework} adapter runs on cpu only, not {device!r}")
        array = np.asarray(array)
        if np.issubdtype(array.dtype, np.integer):
            target = LABEL_DTYPE
        else:
            # Rounded by NumPy first: a backend's own float64 -> float16 cast may round twice, through float32.
            array, target = round_to(array, dtype), dtype
        with fw.keras.device(f"{DEVICE}:0"):
            return fw.keras.ops.convert_to_tensor(array, dtype=target)

    def to_numpy(self, fw: Any, value: Any) -> np.ndarray:
        """Return a backend tensor as a NumPy array of the same dtype (bfloat16 as ml_dtypes.bfloat16).

        bfloat16 goes through float32, which holds it exactly: on the
        TensorFlow backend keras.ops.convert_to_numpy fails on a 0-d bfloat16
        tensor ("object __array__ method not producing an array").
        """
        ops = fw.keras.ops
        if fw.keras.backend.standardize_dtype(value.dtype) == "bfloat16":
            return np.asarray(ops.convert_to_numpy(ops.cast(value, "float32"))).astype(numpy_dtype("bfloat16"))
        return np.asarray(ops.convert_to_numpy(value))


    def repro_source(self, binding: Binding, params: Mapping[str, Any], dtype: str, mode: str, device: str,
                     quantity: str, shapes: Mapping[str, tuple] | None = None) -> ReproSource:
        """Return the binding's check as standalone Keras source, for ``python -m conformance repro``."""
        if mode not in self.modes:
            raise ValueError(f"the {self.framework} adapter has no mode {mode!r}")
        return ReproSource(
            prelude=("import os", f'os.environ["KERAS_BACKEND"] = {self.backend!r}  # read when Keras is imported',
                     *_REPRO_PRELUDE[self.backend], "import keras"),
            tensor=f"keras.ops.convert_to_tensor({{name}}, dtype={dtype!r})",
            label_tensor=f"keras.ops.convert_to_tensor({{name}}, dtype={LABEL_DTYPE!r})",
            convert_under=f'with keras.device("{DEVICE}:0"):',
            loss=_repro_loss(binding, params, dtype),
            run=_repro_run(self.backend, binding.op, quantity),
            to_numpy='np.asarray(keras.ops.convert_to_numpy(keras.ops.cast({value}, "float64")))',
        )


class KerasTensorflowAdapter(_KerasAdapter):
    """keras.losses on the TensorFlow backend, on the CPU, single-threaded."""

    framework = "keras-tensorflow"
    backend = "tensorflow"
    requires = ("keras", "tensorflow")
    # Either distribution provides the tensorflow module; the other's version is recorded as None.
    distributions = ("keras", "tensorflow-cpu", "tensorflow")
    bindings = bindings_for("tensorflow")
    _gradient = staticmethod(_tape_gradient)

    def _prepare(self) -> Any:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        import tensorflow as tf

        tf.get_logger().setLevel("ERROR")
        try:
            tf.config.set_visible_devices([], "GPU")  # this adapter is CPU-only; Keras would otherwise use a GPU
            tf.config.threading.set_intra_op_parallelism_threads(1)
            tf.config.threading.set_inter_op_parallelism_threads(1)
        except RuntimeError:
            # The runtime was started earlier in this process; the settings then affect speed, not results.
            pass
        return tf


class KerasTorchAdapter(_KerasAdapter):
    """keras.losses on the PyTorch backend, on the CPU, one intra-op thread."""

    framework = "keras-torch"
    backend = "torch"
    requires = ("keras", "torch")
    distributions = ("keras", "torch")
    bindings = bindings_for("torch")
    _gradient = staticmethod(_autograd_gradient)

    def _prepare(self) -> Any:
        # Read when Keras is imported: without it Keras puts every tensor on a GPU when there is one.
        os.environ["KERAS_TORCH_DEVICE"] = DEVICE
        import torch

        torch.set_num_threads(1)
        return torch


class KerasJaxAdapter(_KerasAdapter):
    """keras.losses on the JAX backend, on the CPU, with float64 enabled."""

    framework = "keras-jax"
    backend = "jax"
    requires = ("keras", "jax")
    distributions = ("keras", "jax", "jaxlib")
    bindings = bindings_for("jax")
    _gradient = staticmethod(_jax_gradient)

    def _prepare(self) -> Any:
        os.environ.setdefault("JAX_PLATFORMS", DEVICE)
        import jax

        # Without x64, JAX (and so Keras) silently turns every float64 tensor into float32.
        jax.config.update("jax_enable_x64", True)
        return jax
