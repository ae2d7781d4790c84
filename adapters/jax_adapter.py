"""The JAX adapter: optax's loss functions, plus compositions from jax.nn.

optax returns unreduced values (one per element, or one per sample for the
softmax losses); the ``sum`` and ``mean`` reductions are applied here with
``jnp.sum`` / ``jnp.mean`` over all elements, and each binding's ``call`` says
so. optax has no weighted (``pos_weight``) sigmoid cross-entropy, so that op
is a composition of ``jax.nn.log_sigmoid``, named as one. ``optax.l2_loss`` is
``0.5 * (p - t)**2``, not the mean squared error, so it has no binding.

Every binding runs in float16, bfloat16, float32 and float64, eagerly or
under ``jax.jit`` (the ``compiled`` mode), and is differentiated with
``jax.grad`` (``jax.jit(jax.grad(...))`` when compiled).

Nothing here imports JAX at module level: the bindings are plain data, and
only :meth:`JaxAdapter.load` (called in the worker process) imports it.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, Callable, Mapping

import numpy as np

from conformance.adapter import Binding
from conformance.repro_source import ReproSource, jax_run, literal, reduced

__all__ = ["JaxAdapter"]

# JAX's usual label dtype: its default integer when float64 mode is off, which
# is how almost all JAX code runs. load() turns x64 on, and then jnp would
# default to int64; we keep int32 so the labels look like a user's labels.
LABEL_DTYPE = "int32"


def _reduce(fw: Any, values: Any, reduction: str) -> Any:
    """Return ``values`` as is, or jnp.sum / jnp.mean of all its elements."""
    if reduction == "sum":
        return fw.jnp.sum(values)
    if reduction == "mean":
        return fw.jnp.mean(values)
    return values


def _reduced(expr: str) -> str:
    """Return the ``call`` text for an unreduced expression and its reductions."""
    return f"none: {expr}; sum: jnp.sum({expr}); mean: jnp.mean({expr})"


def _class_axis_is_last(inputs: Mapping[str, np.ndarray], params: Mapping[str, Any]) -> str | None:
    """Return why safe_softmax_cross_entropy cannot take the class axis, or None."""
    ndim = np.ndim(inputs["logits"])
    axis = params["axis"]
    if ndim and axis % ndim != ndim - 1:
        return (
            f"optax.safe_softmax_cross_entropy has no axis argument and always uses the "
            f"last axis; the class axis here is {axis} of logits with {ndim} dimensions"
        )
    return None


def _squared_error(fw, inputs, params):
    """Return optax.squared_error(predictions, targets), reduced."""
    values = fw.optax.squared_error(inputs["predictions"], inputs["targets"])
    return _reduce(fw, values, params["reduction"])


def _sigmoid_binary_cross_entropy(fw, inputs, params):
    """Return optax.sigmoid_binary_cross_entropy(logits, labels), reduced."""
    values = fw.optax.sigmoid_binary_cross_entropy(inputs["logits"], inputs["labels"])
    return _reduce(fw, values, params["reduction"])


def _weighted_log_sigmoid(fw, inputs, params):
    """Return q z (-log_sigmoid(x)) + (1 - z)(-log_sigmoid(-x)), reduced.

    -log_sigmoid(x) is softplus(-x) computed stably, so both terms are
    non-negative and nothing cancels. A pos_weight list is cast to the logits'
    dtype first: as a float64 array it would promote float32 logits.
    """
    x, z = inputs["logits"], inputs["labels"]
    weight = params["pos_weight"]
    if isinstance(weight, list):
        weight = fw.jnp.asarray(weight, dtype=x.dtype)
    log_sigmoid = fw.jax.nn.log_sigmoid
    values = weight * z * -log_sigmoid(x) + (1 - z) * -log_sigmoid(-x)
    return _reduce(fw, values, params["reduction"])


def _axis(inputs, params) -> dict:
    """Return {'axis': axis} unless the class axis is the last one, optax's default.

    optax before 0.2.4 has no ``axis`` argument; leaving out the default keeps those releases checkable
    (for framework-upgrade validation) and changes nothing on newer ones."""
    ndim, axis = inputs["logits"].ndim, params["axis"]
    return {} if ndim and axis % ndim == ndim - 1 else {"axis": axis}


def _softmax_cross_entropy(fw, inputs, params):
    """Return optax.softmax_cross_entropy(logits, labels, axis=axis), reduced."""
    values = fw.optax.softmax_cross_entropy(inputs["logits"], inputs["labels"], **_axis(inputs, params))
    return _reduce(fw, values, params["reduction"])


def _safe_softmax_cross_entropy(fw, inputs, params):
    """Return optax.safe_softmax_cross_entropy(logits, labels) (last axis), reduced."""
    values = fw.optax.safe_softmax_cross_entropy(inputs["logits"], inputs["labels"])
    return _reduce(fw, values, params["reduction"])


def _integer_labels(fw, inputs, params):
    """Return optax.softmax_cross_entropy_with_integer_labels(logits, labels, axis=axis), reduced."""
    values = fw.optax.softmax_cross_entropy_with_integer_labels(inputs["logits"], inputs["labels"], **_axis(inputs, params))
    return _reduce(fw, values, params["reduction"])


def _naive_softmax(fw, inputs, params):
    """Return the tutorial's -sum(labels * log(softmax(logits)), axis), reduced."""
    jnp, axis = fw.jnp, params["axis"]
    values = -jnp.sum(inputs["labels"] * jnp.log(fw.jax.nn.softmax(inputs["logits"], axis=axis)), axis=axis)
    return _reduce(fw, values, params["reduction"])


def _naive_sigmoid(fw, inputs, params):
    """Return the tutorial's -z log(sigmoid(x)) - (1 - z) log(1 - sigmoid(x)), reduced."""
    jnp, z = fw.jnp, inputs["labels"]
    p = fw.jax.nn.sigmoid(inputs["logits"])
    values = -z * jnp.log(p) - (1 - z) * jnp.log(1 - p)
    return _reduce(fw, values, params["reduction"])


BINDINGS = (
    Binding(
        "optax.squared_error",
        "mean_squared_error",
        _squared_error,
        _reduced("optax.squared_error(predictions, targets)"),
    ),
    Binding(
        "optax.sigmoid_binary_cross_entropy",
        "sigmoid_cross_entropy",
        _sigmoid_binary_cross_entropy,
        _reduced("optax.sigmoid_binary_cross_entropy(logits, labels)"),
    ),
    Binding(
        "composition:jax.nn.log_sigmoid[pos_weight]",
        "weighted_sigmoid_cross_entropy",
        _weighted_log_sigmoid,
        _reduced(
            "pos_weight * labels * -jax.nn.log_sigmoid(logits)"
            " + (1 - labels) * -jax.nn.log_sigmoid(-logits)"
        ),
        kind="composition",
    ),
    Binding(
        "optax.softmax_cross_entropy",
        "softmax_cross_entropy",
        _softmax_cross_entropy,
        _reduced("optax.softmax_cross_entropy(logits, labels, axis=axis) (axis left out where it is the last)"),
    ),
    Binding(
        "optax.safe_softmax_cross_entropy",
        "softmax_cross_entropy",
        _safe_softmax_cross_entropy,
        _reduced("optax.safe_softmax_cross_entropy(logits, labels)"),
        supports=_class_axis_is_last,
    ),
    Binding(
        "optax.softmax_cross_entropy_with_integer_labels",
        "sparse_softmax_cross_entropy",
        _integer_labels,
        _reduced("optax.softmax_cross_entropy_with_integer_labels(logits, labels, axis=axis) (axis left out where it is the last)"),
    ),
    Binding(
        "composition:jnp.log(jax.nn.softmax)",
        "softmax_cross_entropy",
        _naive_softmax,
        _reduced("-jnp.sum(labels * jnp.log(jax.nn.softmax(logits, axis=axis)), axis=axis)"),
        kind="composition",
        default=False,
    ),
    Binding(
        "composition:jnp.log(jax.nn.sigmoid)",
        "sigmoid_cross_entropy",
        _naive_sigmoid,
        _reduced("-labels * jnp.log(jax.nn.sigmoid(logits)) - (1 - labels) * jnp.log(1 - jax.nn.sigmoid(logits))"),
        kind="composition",
        default=False,
    ),
)


# The calls as a user writes them, for ``python -m conformance repro`` (see conformance/repro_source.py):
# binding function -> the loss body, given the reduction and the params, as source lines.
def _repro(expr: str, setup: tuple[str, ...] = ()) -> Callable:
    def body(reduction: str, params: Mapping[str, Any], axis_arg: str) -> tuple[str, ...]:
        return (*setup, f"return {reduced(expr.format(**params, axis_arg=axis_arg), reduction, 'jnp.sum', 'jnp.mean')}")

    return body


def _repro_weighted(r: str, p: Mapping[str, Any], axis: str) -> tuple[str, ...]:
    weight = p["pos_weight"]
    # as the binding does: a list becomes an array of the logits' dtype, a number stays a Python number
    setup = f"pos_weight = jnp.asarray({literal(weight)}, dtype=logits.dtype)" if isinstance(weight, list) \
        else f"pos_weight = {literal(weight)}"
    return _repro("pos_weight * labels * -jax.nn.log_sigmoid(logits) + (1 - labels) * -jax.nn.log_sigmoid(-logits)",
                  (setup,))(r, p, axis)


_REPRO_CALLS: dict[Callable, Callable] = {
    _squared_error: _repro("optax.squared_error(predictions, targets)"),
    _sigmoid_binary_cross_entropy: _repro("optax.sigmoid_binary_cross_entropy(logits, labels)"),
    _weighted_log_sigmoid: _repro_weighted,
    _softmax_cross_entropy: _repro("optax.softmax_cross_entropy(logits, labels{axis_arg})"),
    _safe_softmax_cross_entropy: _repro("optax.safe_softmax_cross_entropy(logits, labels)"),
    _integer_labels: _repro("optax.softmax_cross_entropy_with_integer_labels(logits, labels{axis_arg})"),
    _naive_softmax: _repro("-jnp.sum(labels * jnp.log(jax.nn.softmax(logits, axis={axis})), axis={axis})"),
    _naive_sigmoid: _repro("-labels * jnp.log(p) - (1 - labels) * jnp.log(1 - p)", ("p = jax.nn.sigmoid(logits)",)),
}


class JaxAdapter:
    """JAX on the CPU, float64 enabled, through optax and jax.nn; jax.jit and jax.grad."""

    framework = "jax"
    requires = ("jax", "optax")
    distributions = ("jax", "jaxlib", "optax")
    dtypes = ("float16", "bfloat16", "float32", "float64")
    modes = ("eager", "compiled")
    devices = ("cpu", "cuda")
    gradients = True
    bindings = BINDINGS

    def load(self) -> SimpleNamespace:
        """Return jax, jax.numpy and optax, with float64 on.

        x64 must be set before any array exists: without it JAX silently
        turns every float64 input into float32. Every input is placed on the
        check's device explicitly, so JAX's default platform does not matter.
        """
        import jax

        jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp
        import optax

        return SimpleNamespace(jax=jax, jnp=jnp, optax=optax)

    def build(self, fw: Any, forward: Callable, mode: str, wrt: str | None) -> Callable:
        """Return ``forward`` as run in ``mode``, or inputs -> d sum(forward(inputs)) / d inputs[wrt].

        The gradient is jax.grad of the summed loss in the differentiable input
        alone (labels held fixed, integer labels included); in the compiled
        mode jax.jit wraps the gradient function itself, as users write
        ``jax.jit(jax.grad(loss))``, so XLA compiles forward and backward together.
        """
        if mode not in self.modes:
            raise ValueError(f"jax adapter has no mode {mode!r} (it has {', '.join(self.modes)})")
        jax, jnp = fw.jax, fw.jnp
        if wrt is None:
            return jax.jit(forward) if mode == "compiled" else forward

        def summed(x, others):
            return jnp.sum(forward({**others, wrt: x}))

        grad = jax.grad(summed)
        if mode == "compiled":
            grad = jax.jit(grad)
        return lambda inputs: grad(inputs[wrt], {k: v for k, v in inputs.items() if k != wrt})

    def device_available(self, fw: Any, device: str) -> str | None:
        """Return why JAX cannot place arrays on ``device`` here, or None."""
        try:
            fw.jax.devices(device)
        except RuntimeError as exc:
            return f"jax has no {device} device here ({' '.join(str(exc).split())[:200]})"
        return None

    def to_framework(self, fw: Any, array: np.ndarray, dtype: str, device: str) -> Any:
        """Return ``array`` as a jax.Array on ``device``: floats as ``dtype``, integers as int32.

        bfloat16 arrives as an ml_dtypes array (dtype kind "V"), which JAX
        takes as is: integer-ness is the only test that tells labels apart.
        """
        array = np.asarray(array)
        target = LABEL_DTYPE if np.issubdtype(array.dtype, np.integer) else dtype
        return fw.jax.device_put(fw.jnp.asarray(array, dtype=target), fw.jax.devices(device)[0])

    def to_numpy(self, fw: Any, value: Any) -> np.ndarray:
        """Return a jax.Array as a NumPy array of the same dtype (bfloat16 as ml_dtypes.bfloat16)."""
        return np.asarray(value)


    def repro_source(self, binding: Binding, params: Mapping[str, Any], dtype: str, mode: str, device: str,
                     quantity: str, shapes: Mapping[str, tuple] | None = None) -> ReproSource:
        """Return the binding's check as standalone JAX source, for ``python -m conformance repro``."""
        body = _REPRO_CALLS.get(binding.fn)
        if body is None:
            raise NotImplementedError(f"no reproducer source for {binding.name}")
        # as _axis() calls optax: no axis argument where the class axis is the last one
        logits = SimpleNamespace(ndim=len((shapes or {}).get("logits", ())))
        axis = f", axis={params['axis']}" if "axis" in params and _axis({"logits": logits}, params) else ""
        return ReproSource(
            prelude=("import jax", "", "jax.config.update(\"jax_enable_x64\", True)  # before any array: else float64 "
                     "is float32", "import jax.numpy as jnp", "import optax"),
            tensor=f"jax.device_put(jnp.asarray({{name}}, dtype=jnp.{dtype}), jax.devices({device!r})[0])",
            label_tensor=f"jax.device_put(jnp.asarray({{name}}, dtype=jnp.{LABEL_DTYPE}), jax.devices({device!r})[0])",
            loss=body(params["reduction"], params, axis),
            run=jax_run(binding.op, mode, quantity, "jnp.sum", mode == "compiled"),
            to_numpy="np.asarray({value}, dtype=np.float64)",
        )
