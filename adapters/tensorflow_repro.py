"""The TensorFlow adapter's reproducers: each binding's call as a user writes it, for
``python -m conformance repro`` (see conformance/repro_source.py). Plain text; imports no TensorFlow."""

from __future__ import annotations

from typing import Any, Callable, Mapping

from conformance.adapter import Binding
from conformance.repro_source import ReproSource, literal, reduced, tape_run

from .tensorflow_adapter import (
    _KERAS_MEAN, _KERAS_REDUCTION, _SPARSE, _WEIGHTED, LABEL_DTYPE, _keras_bce, _keras_cce, _keras_mse, _keras_scce,
    _naive_sigmoid, _naive_softmax, _sigmoid, _softmax, _sparse, _square, _weighted,
)


# The calls as a user writes them, for ``python -m conformance repro`` (see conformance/repro_source.py):
# binding function -> (the loss body, given reduction, params and dtype, as source lines; whether it uses tf.keras).
def _repro_tf(expr: str) -> Callable:
    return lambda r, p, d: (f"return {reduced(expr.format(**p), r, 'tf.reduce_sum', 'tf.reduce_mean')}",)


def _repro_keras(cls: str, args: str, inputs: str, reductions: Mapping[str, str]) -> Callable:
    return lambda r, p, d: (f"return tf.keras.losses.{cls}({args.format(**p)}reduction={reductions[r]!r}, "
                            f"dtype={d!r})({inputs})",)


def _repro_weighted(r: str, p: Mapping[str, Any], d: str) -> tuple[str, ...]:
    expr = (f"{_WEIGHTED}(labels=labels, logits=logits, "
            f"pos_weight=tf.convert_to_tensor({literal(p['pos_weight'])}, dtype=logits.dtype))")
    return (f"return {reduced(expr, r, 'tf.reduce_sum', 'tf.reduce_mean')}",)


def _repro_naive_sigmoid(r: str, p: Mapping[str, Any], d: str) -> tuple[str, ...]:
    values = "-labels * tf.math.log(p) - (1 - labels) * tf.math.log(1 - p)"
    return ("p = tf.sigmoid(logits)", f"return {reduced(values, r, 'tf.reduce_sum', 'tf.reduce_mean')}")


_REPRO_CALLS: dict[Callable, Callable] = {
    _sigmoid: _repro_tf("tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits)"),
    _weighted: _repro_weighted,
    _softmax: _repro_tf("tf.nn.softmax_cross_entropy_with_logits(labels=labels, logits=logits, axis={axis})"),
    _sparse: _repro_tf(f"{_SPARSE}(labels=labels, logits=logits)"),
    _square: _repro_tf("tf.square(predictions - targets)"),
    _naive_softmax: _repro_tf("-tf.reduce_sum(labels * tf.math.log(tf.nn.softmax(logits, axis={axis})), axis={axis})"),
    _naive_sigmoid: _repro_naive_sigmoid,
    _keras_mse: _repro_keras("MeanSquaredError", "", "targets, predictions", _KERAS_MEAN),
    _keras_bce: _repro_keras("BinaryCrossentropy", "from_logits=True, ", "labels, logits", _KERAS_MEAN),
    _keras_cce: _repro_keras("CategoricalCrossentropy", "from_logits=True, axis={axis}, ", "labels, logits",
                             _KERAS_REDUCTION),
    _keras_scce: _repro_keras("SparseCategoricalCrossentropy", "from_logits=True, ", "labels, logits",
                              _KERAS_REDUCTION),
}

_REPRO_PRELUDE = (
    "import tensorflow as tf",
    "",
    "# as loss-conformance runs TensorFlow: one intra-op and one inter-op thread",
    "tf.config.threading.set_intra_op_parallelism_threads(1)",
    "tf.config.threading.set_inter_op_parallelism_threads(1)",
)




def repro_source(binding: Binding, params: Mapping[str, Any], dtype: str, mode: str, quantity: str) -> ReproSource:
    """Return the binding's check as standalone TensorFlow source."""
    body = _REPRO_CALLS.get(binding.fn)
    if body is None:
        raise NotImplementedError(f"no reproducer source for {binding.name}")
    keras = binding.name.startswith("tf.keras.")
    # tf.keras is Keras 3: it must be on the TensorFlow backend, which is read when Keras is first imported.
    env = ("import os", 'os.environ["KERAS_BACKEND"] = "tensorflow"') if keras else ()
    return ReproSource(
        prelude=(*env, *_REPRO_PRELUDE),
        tensor=f"tf.constant({{name}}, dtype=tf.{dtype})",
        label_tensor=f"tf.constant({{name}}, dtype=tf.{LABEL_DTYPE})",
        convert_under='with tf.device("/CPU:0"):',
        loss=body(params["reduction"], params, dtype),
        run=tape_run(binding.op, mode, quantity, "tf.reduce_sum",
                     None if mode == "eager" else mode == "compiled-xla"),
        to_numpy="tf.cast({value}, tf.float64).numpy()",
    )
