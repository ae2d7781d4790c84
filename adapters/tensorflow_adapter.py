"""The TensorFlow adapter: tf.nn's loss ops, tf.keras.losses, and the tutorial's formulas.

The ``tf.nn`` ops return unreduced values (one per element, or one per sample
for the softmax ops); ``sum`` and ``mean`` are applied here with
``tf.reduce_sum`` / ``tf.reduce_mean`` over all values, as TensorFlow's own
tutorial does, and each binding's ``call`` says so.

``tf.keras.losses`` (Keras 3 on the TensorFlow backend in TF >= 2.16) needs
care, because a Keras loss is not the canonical op under every reduction:

* ``MeanSquaredError`` and ``BinaryCrossentropy`` first average over the LAST
  axis, one value per sample, and only then reduce. Their ``reduction="none"``
  gives per-sample means and ``"sum"`` a sum of means; neither is the
  canonical elementwise result. Only ``"sum_over_batch_size"`` (sum / number
  of per-sample values) equals the canonical mean over all elements, so that
  is the only reduction these bindings claim.
* ``CategoricalCrossentropy`` and ``SparseCategoricalCrossentropy`` already
  give one value per sample, so ``"none"``, ``"sum"`` and
  ``"sum_over_batch_size"`` are the canonical none, sum and mean.
* A Keras loss casts its inputs to its own ``dtype``, which defaults to
  ``keras.config.floatx()`` (float32): float64 inputs would be computed in
  float32 without a word. Every Keras binding passes ``dtype=`` the logits'
  (predictions') dtype, and its ``call`` says so.

Every binding runs in float16, bfloat16, float32 and float64 (the Keras
losses in the run's dtype), eagerly, under ``tf.function`` ("compiled") and
under ``tf.function(jit_compile=True)`` ("compiled-xla"); gradients come from
``tf.GradientTape``, traced inside the same ``tf.function`` in compiled modes.

Nothing here imports TensorFlow at module level: the bindings are plain data,
and only :meth:`TensorflowAdapter.load` (called in the worker process)
imports it.
"""

from __future__ import annotations

import os
from typing import Any, Mapping

import numpy as np

from conformance.adapter import Binding
from conformance.dtypes import numpy_dtype

__all__ = ["TensorflowAdapter"]

# tf.constant gives Python int labels this dtype (as in the tutorial's
# labels=[2, 1]); the sparse ops take int32 or int64.
LABEL_DTYPE = "int32"

# Canonical reduction -> Keras reduction of the same meaning, for losses
# that already give one value per sample.
_KERAS_REDUCTION = {"none": "none", "sum": "sum", "mean": "sum_over_batch_size"}


def _reduce(fw: Any, values: Any, reduction: str) -> Any:
    """Return ``values`` as is, or tf.reduce_sum / tf.reduce_mean of all its elements."""
    if reduction == "sum":
        return fw.reduce_sum(values)
    if reduction == "mean":
        return fw.reduce_mean(values)
    return values


def _reduced(expr: str) -> str:
    """Return the ``call`` text for an unreduced expression and its reductions."""
    return f"none: {expr}; sum: tf.reduce_sum({expr}); mean: tf.reduce_mean({expr})"


def _keras_call(cls: str, args: str, inputs: str, reductions: Mapping[str, str]) -> str:
    """Return the ``call`` text for a Keras loss object under each canonical reduction.

    ``inputs`` is "y_true, y_pred"; the loss's dtype is y_pred's.
    """
    dtype = f"{inputs.split(', ')[1]}.dtype.name"
    return "; ".join(
        f"{ours}: tf.keras.losses.{cls}({args}reduction={theirs!r}, dtype={dtype})({inputs})"
        for ours, theirs in reductions.items()
    )


def _class_axis_is_last(api: str, limit: str):
    """Return a supports() check that accepts only the last axis as the class axis."""

    def supports(inputs: Mapping[str, np.ndarray], params: Mapping[str, Any]) -> str | None:
        ndim = np.ndim(inputs["logits"])
        axis = params["axis"]
        if ndim and axis % ndim != ndim - 1:
            return (
                f"{api} {limit}; the class axis here is {axis} "
                f"of logits with {ndim} dimensions"
            )
        return None

    return supports


def _has_last_axis(api: str, name: str):
    """Return a supports() check that rejects 0-d inputs, which have no last axis to average."""

    def supports(inputs: Mapping[str, np.ndarray], params: Mapping[str, Any]) -> str | None:
        if np.ndim(inputs[name]) == 0:
            return f"{api} averages over the last axis of each sample and fails on 0-d inputs"
        return None

    return supports


def _sigmoid(fw, inputs, params):
    """Return tf.nn.sigmoid_cross_entropy_with_logits(labels, logits), reduced."""
    values = fw.nn.sigmoid_cross_entropy_with_logits(labels=inputs["labels"], logits=inputs["logits"])
    return _reduce(fw, values, params["reduction"])


def _weighted(fw, inputs, params):
    """Return tf.nn.weighted_cross_entropy_with_logits(labels, logits, pos_weight), reduced.

    The op does arithmetic on pos_weight before converting it, so a Python
    list must become a tensor first; the logits' dtype keeps float32 float32.
    """
    logits = inputs["logits"]
    weight = fw.convert_to_tensor(params["pos_weight"], dtype=logits.dtype)
    values = fw.nn.weighted_cross_entropy_with_logits(labels=inputs["labels"], logits=logits, pos_weight=weight)
    return _reduce(fw, values, params["reduction"])


def _softmax(fw, inputs, params):
    """Return tf.nn.softmax_cross_entropy_with_logits(labels, logits, axis), reduced."""
    values = fw.nn.softmax_cross_entropy_with_logits(
        labels=inputs["labels"], logits=inputs["logits"], axis=params["axis"]
    )
    return _reduce(fw, values, params["reduction"])


def _sparse(fw, inputs, params):
    """Return tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits) (last axis), reduced."""
    values = fw.nn.sparse_softmax_cross_entropy_with_logits(labels=inputs["labels"], logits=inputs["logits"])
    return _reduce(fw, values, params["reduction"])


def _square(fw, inputs, params):
    """Return the tutorial's tf.square(predictions - targets), reduced."""
    values = fw.square(inputs["predictions"] - inputs["targets"])
    return _reduce(fw, values, params["reduction"])


def _naive_softmax(fw, inputs, params):
    """Return the tutorial's -reduce_sum(labels * log(softmax(logits)), axis), reduced."""
    axis = params["axis"]
    probabilities = fw.nn.softmax(inputs["logits"], axis=axis)
    values = -fw.reduce_sum(inputs["labels"] * fw.math.log(probabilities), axis=axis)
    return _reduce(fw, values, params["reduction"])


def _naive_sigmoid(fw, inputs, params):
    """Return the tutorial's -z log(sigmoid(x)) - (1 - z) log(1 - sigmoid(x)), reduced."""
    z = inputs["labels"]
    p = fw.sigmoid(inputs["logits"])
    values = -z * fw.math.log(p) - (1 - z) * fw.math.log(1 - p)
    return _reduce(fw, values, params["reduction"])


def _keras_mse(fw, inputs, params):
    """Return tf.keras.losses.MeanSquaredError over the batch (the canonical mean)."""
    predictions = inputs["predictions"]
    loss = fw.keras.losses.MeanSquaredError(reduction="sum_over_batch_size", dtype=predictions.dtype.name)
    return loss(inputs["targets"], predictions)


def _keras_bce(fw, inputs, params):
    """Return tf.keras.losses.BinaryCrossentropy(from_logits=True) over the batch (the canonical mean)."""
    logits = inputs["logits"]
    loss = fw.keras.losses.BinaryCrossentropy(
        from_logits=True, reduction="sum_over_batch_size", dtype=logits.dtype.name
    )
    return loss(inputs["labels"], logits)


def _keras_cce(fw, inputs, params):
    """Return tf.keras.losses.CategoricalCrossentropy(from_logits=True, axis=axis), reduced."""
    logits = inputs["logits"]
    loss = fw.keras.losses.CategoricalCrossentropy(
        from_logits=True, axis=params["axis"], reduction=_KERAS_REDUCTION[params["reduction"]], dtype=logits.dtype.name
    )
    return loss(inputs["labels"], logits)


def _keras_scce(fw, inputs, params):
    """Return tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True) (last axis), reduced."""
    logits = inputs["logits"]
    loss = fw.keras.losses.SparseCategoricalCrossentropy(
        from_logits=True, reduction=_KERAS_REDUCTION[params["reduction"]], dtype=logits.dtype.name
    )
    return loss(inputs["labels"], logits)


_WEIGHTED = "tf.nn.weighted_cross_entropy_with_logits"
_SPARSE = "tf.nn.sparse_softmax_cross_entropy_with_logits"
_KERAS_MEAN = {"mean": "sum_over_batch_size"}

BINDINGS = (
    Binding(
        "tf.nn.sigmoid_cross_entropy_with_logits",
        "sigmoid_cross_entropy",
        _sigmoid,
        _reduced("tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits)"),
    ),
    Binding(
        _WEIGHTED,
        "weighted_sigmoid_cross_entropy",
        _weighted,
        _reduced(
            f"{_WEIGHTED}(labels=labels, logits=logits, "
            "pos_weight=tf.convert_to_tensor(pos_weight, dtype=logits.dtype))"
        ),
    ),
    Binding(
        "tf.nn.softmax_cross_entropy_with_logits",
        "softmax_cross_entropy",
        _softmax,
        _reduced("tf.nn.softmax_cross_entropy_with_logits(labels=labels, logits=logits, axis=axis)"),
    ),
    Binding(
        _SPARSE,
        "sparse_softmax_cross_entropy",
        _sparse,
        _reduced(f"{_SPARSE}(labels=labels, logits=logits)"),
        supports=_class_axis_is_last(_SPARSE, "has no axis argument and always takes the last axis as the class axis"),
    ),
    Binding(
        "composition:tf.square(predictions - targets)",
        "mean_squared_error",
        _square,
        _reduced("tf.square(predictions - targets)"),
        kind="composition",
    ),
    Binding(
        "tf.keras.losses.MeanSquaredError",
        "mean_squared_error",
        _keras_mse,
        _keras_call("MeanSquaredError", "", "targets, predictions", _KERAS_MEAN),
        reductions=("mean",),
        supports=_has_last_axis("tf.keras.losses.MeanSquaredError", "predictions"),
    ),
    Binding(
        "tf.keras.losses.BinaryCrossentropy",
        "sigmoid_cross_entropy",
        _keras_bce,
        _keras_call("BinaryCrossentropy", "from_logits=True, ", "labels, logits", _KERAS_MEAN),
        reductions=("mean",),
        supports=_has_last_axis("tf.keras.losses.BinaryCrossentropy", "logits"),
    ),
    Binding(
        "tf.keras.losses.CategoricalCrossentropy",
        "softmax_cross_entropy",
        _keras_cce,
        _keras_call("CategoricalCrossentropy", "from_logits=True, axis=axis, ", "labels, logits", _KERAS_REDUCTION),
    ),
    Binding(
        "tf.keras.losses.SparseCategoricalCrossentropy",
        "sparse_softmax_cross_entropy",
        _keras_scce,
        _keras_call("SparseCategoricalCrossentropy", "from_logits=True, ", "labels, logits", _KERAS_REDUCTION),
        supports=_class_axis_is_last(
            "tf.keras.losses.SparseCategoricalCrossentropy",
            "takes only axis=-1 on the TensorFlow backend (any other axis raises ValueError)",
        ),
    ),
    Binding(
        "composition:tf.math.log(tf.nn.softmax)",
        "softmax_cross_entropy",
        _naive_softmax,
        _reduced("-tf.reduce_sum(labels * tf.math.log(tf.nn.softmax(logits, axis=axis)), axis=axis)"),
        kind="composition",
        default=False,
    ),
    Binding(
        "composition:tf.math.log(tf.sigmoid)",
        "sigmoid_cross_entropy",
        _naive_sigmoid,
        _reduced("-labels * tf.math.log(tf.sigmoid(logits)) - (1 - labels) * tf.math.log(1 - tf.sigmoid(logits))"),
        kind="composition",
        default=False,
    ),
)


def _gradient_of(fw: Any, forward: Any, wrt: str) -> Any:
    """Return inputs -> d tf.reduce_sum(forward(inputs)) / d inputs[wrt], by tf.GradientTape."""

    def gradient(inputs):
        x = inputs[wrt]
        with fw.GradientTape() as tape:
            tape.watch(x)
            total = fw.reduce_sum(forward(inputs))
        grad = tape.gradient(total, x)
        if grad is None:
            raise ValueError(f"the loss does not depend on {wrt} (tf.GradientTape gave None)")
        return grad

    return gradient


def _set_threads(tf: Any) -> None:
    """Limit TensorFlow to one intra-op and one inter-op thread, where it still can be."""
    threading = tf.config.threading
    try:
        threading.set_intra_op_parallelism_threads(1)
        threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:
        # The runtime was started earlier in this process with other counts;
        # they can no longer change, and they affect speed, not the results.
        pass


class TensorflowAdapter:
    """TensorFlow on the CPU through tf.nn and tf.keras.losses (Keras 3): eager, tf.function and XLA."""

    framework = "tensorflow"
    requires = ("tensorflow",)
    # Either distribution provides the tensorflow module; the results record
    # whichever is installed (the other's version is None).
    distributions = ("tensorflow-cpu", "tensorflow", "keras")
    dtypes = ("float16", "bfloat16", "float32", "float64")
    modes = ("eager", "compiled", "compiled-xla")
    devices = ("cpu",)
    gradients = True
    bindings = BINDINGS

    def load(self) -> Any:
        """Return the tensorflow module, quiet, single-threaded, with tf.keras on the TensorFlow backend.

        KERAS_BACKEND must be set before Keras is first imported: tf.keras is
        Keras 3, and on another backend its losses would not take tf tensors.
        """
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        os.environ["KERAS_BACKEND"] = "tensorflow"
        import tensorflow as tf

        tf.get_logger().setLevel("ERROR")
        _set_threads(tf)
        backend = tf.keras.backend.backend()
        if backend != "tensorflow":
            raise RuntimeError(
                f"tf.keras runs on the {backend!r} backend (Keras was imported before "
                "KERAS_BACKEND could be set); the tf.keras.losses bindings need 'tensorflow'"
            )
        return tf

    def build(self, fw: Any, forward: Any, mode: str, wrt: str | None) -> Any:
        """Return inputs -> ``forward`` (or its gradient w.r.t. ``inputs[wrt]``) run in ``mode``.

        The gradient is that of tf.reduce_sum(forward(inputs)), taken with a
        tf.GradientTape; in the compiled modes the tape runs inside the
        tf.function, so the backward pass is traced (and XLA-compiled) too.
        No input_signature: the kit builds once per shape and dtype, so each
        tf.function traces once.
        """
        if mode not in self.modes:
            raise ValueError(f"the tensorflow adapter has no mode {mode!r} (it has {', '.join(self.modes)})")
        fn = forward if wrt is None else _gradient_of(fw, forward, wrt)
        if mode == "eager":
            return fn
        # jit_compile=False, not the default None (XLA on TPUs): "compiled" is graph mode without XLA.
        return fw.function(fn, jit_compile=mode == "compiled-xla")

    def to_framework(self, fw: Any, array: np.ndarray, dtype: str, device: str) -> Any:
        """Return ``array`` as a tf.Tensor on the CPU: floats as ``dtype``, integers as int32."""
        if device != "cpu":
            raise ValueError(f"the tensorflow adapter runs on cpu only, not {device!r}")
        array = np.asarray(array)
        target = LABEL_DTYPE if np.issubdtype(array.dtype, np.integer) else dtype
        with fw.device("/CPU:0"):
            return fw.constant(array, dtype=fw.as_dtype(target))

    def to_numpy(self, fw: Any, value: Any) -> np.ndarray:
        """Return a tf.Tensor as a NumPy array of the same dtype (bfloat16 as ml_dtypes.bfloat16)."""
        array = np.asarray(value.numpy() if hasattr(value, "numpy") else value)
        if getattr(value, "dtype", None) == fw.bfloat16 and array.dtype != numpy_dtype("bfloat16"):
            # Older TensorFlow releases return a bfloat16 NumPy type of their own; float32 holds every bfloat16 exactly.
            array = np.asarray(fw.cast(value, fw.float32).numpy()).astype(numpy_dtype("bfloat16"))
        return array


    def repro_source(self, binding: Binding, params: Mapping[str, Any], dtype: str, mode: str, device: str,
                     quantity: str, shapes: Mapping[str, tuple] | None = None) -> Any:
        """Return the binding's check as standalone TensorFlow source, for ``python -m conformance repro``."""
        from .tensorflow_repro import repro_source

        return repro_source(binding, params, dtype, mode, quantity)
