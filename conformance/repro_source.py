"""What an adapter gives the ``repro`` command: its call written as a standalone script's source.

An adapter that can be reproduced outside the kit has a method

    repro_source(binding, params, dtype, mode, device, quantity, shapes=None) -> ReproSource

which says, in the framework's public API, what its worker ran for that
check: the imports and settings, how a NumPy array becomes an input of the
dtype on the device, the loss call (params written in as literals), how the
mode and the quantity wrap it (compiled, gradient of the sum) and how the
result comes back as float64. It imports no framework: it only writes text.
``shapes`` (the inputs' shapes by name) is passed to a hook that has the
parameter, for a call that depends on the rank. The helpers below are the
wrappings our adapters share.
"""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from conformance.gradients import differentiable_input
from conformance.ops import get_op

__all__ = ["ReproSource", "autograd_run", "inline_functions", "jax_run", "literal", "reduced", "signature",
           "tape_run"]


@dataclass(frozen=True)
class ReproSource:
    """One binding's call as the lines of a standalone script.

    ``prelude``: statements run first, in order (environment variables before
    the imports they steer, thread counts, x64). ``tensor`` / ``label_tensor``:
    an expression making the NumPy array ``{name}`` (float64 or float32 values
    exact in the dtype; int64 labels) the framework's input; ``label_tensor``
    None leaves labels as they are. ``convert_under``: a statement such as
    ``with tf.device("/CPU:0"):`` the conversions run under, or None.
    ``loss``: the body of ``def loss(<inputs in the op's order>)``, ending in
    a return. ``run``: statements that set ``result`` from the converted
    inputs through ``loss``, in the check's mode and quantity. ``to_numpy``:
    an expression making ``{value}`` a float64 NumPy array, exactly.
    """

    prelude: tuple[str, ...]
    tensor: str
    label_tensor: str | None
    loss: tuple[str, ...]
    run: tuple[str, ...]
    to_numpy: str
    convert_under: str | None = None


def signature(op: str) -> tuple[str, ...]:
    """Return the op's input names, in order: the parameters of the script's ``loss``."""
    return get_op(op).input_names


def literal(value: Any) -> str:
    """Return Python source for a param value (number, string, bool, None or list of them)."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return repr(value)
    if isinstance(value, int):
        return repr(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "float('nan')"
        if math.isinf(value):
            return "float('inf')" if value > 0 else "-float('inf')"
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    raise ValueError(f"cannot write the param value {value!r} as a literal")


def reduced(expr: str, reduction: str, sum_fn: str, mean_fn: str) -> str:
    """Return ``expr`` reduced as the kit's binding reduces it (its own sum / mean of all elements)."""
    if reduction == "sum":
        return f"{sum_fn}({expr})"
    if reduction == "mean":
        return f"{mean_fn}({expr})"
    return expr


def _args(op: str) -> tuple[str, str, str]:
    """Return (the inputs in order, the differentiated input, the inputs with it first)."""
    names = signature(op)
    wrt = differentiable_input(op)
    return ", ".join(names), wrt, ", ".join([wrt, *(n for n in names if n != wrt)])


def autograd_run(op: str, mode: str, quantity: str, compile_expr: str | None, sum_expr: str) -> tuple[str, ...]:
    """Return PyTorch-style run lines: ``loss`` compiled by ``compile_expr`` in compiled modes; the gradient
    by ``torch.autograd.grad`` of ``sum_expr`` (``{call}`` the loss call) with respect to the differentiable input."""
    args, wrt, _ = _args(op)
    lines = [f"loss = {compile_expr.format(fn='loss')}"] if mode != "eager" and compile_expr else []
    if quantity == "value":
        return (*lines, f"result = loss({args})")
    total = sum_expr.format(call=f"loss({args})")
    return (*lines, f"{wrt}.requires_grad_(True)", f"(result,) = torch.autograd.grad({total}, {wrt})")


def tape_run(op: str, mode: str, quantity: str, sum_fn: str, jit_compile: bool | None) -> tuple[str, ...]:
    """Return TensorFlow-style run lines: tf.GradientTape for the gradient, the function (the gradient's, when
    asked) wrapped in tf.function(jit_compile=...) unless ``jit_compile`` is None (eager)."""
    args, wrt, _ = _args(op)
    wrap = None if jit_compile is None else f"tf.function({{fn}}, jit_compile={jit_compile})"
    if quantity == "value":
        lines = [f"loss = {wrap.format(fn='loss')}"] if wrap else []
        return (*lines, f"result = loss({args})")
    lines = ["", "", f"def grad_of_sum({args}):", "    with tf.GradientTape() as tape:", f"        tape.watch({wrt})",
             f"        total = {sum_fn}(loss({args}))", f"    return tape.gradient(total, {wrt})", "", ""]
    if wrap:
        lines.append(f"grad_of_sum = {wrap.format(fn='grad_of_sum')}")
    return (*lines, f"result = grad_of_sum({args})")


def jax_run(op: str, mode: str, quantity: str, sum_fn: str, jit: bool) -> tuple[str, ...]:
    """Return JAX-style run lines: jax.grad of the summed loss in the differentiable input; jax.jit around
    the function (the gradient function, when asked) when ``jit``."""
    args, wrt, wrt_first = _args(op)
    if quantity == "value":
        return (*(["loss = jax.jit(loss)"] if jit else []), f"result = loss({args})")
    lines = [f"grad_of_sum = jax.grad(lambda {wrt_first}: {sum_fn}(loss({args})))"]
    if jit:
        lines.append("grad_of_sum = jax.jit(grad_of_sum)")
    return (*lines, f"result = grad_of_sum({wrt_first})")


def _helpers(fn: Callable, module: Any, seen: set[str]) -> Iterable[Callable]:
    """Yield the module-level functions of ``module`` that ``fn`` uses, helpers before users."""
    codes = [fn.__code__]
    while codes:
        code = codes.pop()
        codes.extend(c for c in code.co_consts if inspect.iscode(c))
        for name in code.co_names:
            found = getattr(module, name, None)
            if name not in seen and inspect.isfunction(found) and found.__module__ == module.__name__:
                seen.add(name)
                yield from _helpers(found, module, seen)
                yield found


def inline_functions(*functions: Callable) -> tuple[str, ...]:
    """Return the source of ``functions`` and of every module-level function they use, in source order.

    For code that is itself the framework (the NumPy adapter runs the kit's
    own reference): the script carries it, so it needs nothing of the kit.
    """
    seen: set[str] = set()
    found: dict[str, Callable] = {}
    for fn in functions:
        module = inspect.getmodule(fn)
        for helper in [*_helpers(fn, module, seen), fn]:
            found[helper.__name__] = helper
    ordered = sorted(found.values(), key=lambda f: f.__code__.co_firstlineno)
    lines: list[str] = []
    for fn in ordered:
        lines += [*inspect.getsource(fn).rstrip("\n").splitlines(), "", ""]
    return tuple(lines[:-1])
