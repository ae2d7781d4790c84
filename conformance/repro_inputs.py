"""The inputs of a reproducer: inlined as literals, or, for a large seeded case, drawn by the same NumPy calls.

A case with at most INLINE_ELEMENTS input elements is written out in full,
each value as it was given to the framework (rounded to the dtype, written as
the float64 literal of that value). A larger case whose inputs come from a
seeded generator (``source.generator``: the language-model-scale ``lm-*``
cases, the seeded-random ones) is written as the ``numpy.random`` calls that
draw them, mirroring :mod:`conformance.generate` call for call, then rounded
to the dtype as the kit rounds them; the script checks nothing else of the
kit. Larger inputs without a generator get no script.
"""

from __future__ import annotations

import numpy as np

from conformance.cases import Case
from conformance.dtypes import widen
from conformance.generate import DISTRIBUTIONS, generate_inputs, plan_draws, split_class_axis
from conformance.repro_script import array_source

__all__ = ["INLINE_ELEMENTS", "generator_lines", "input_lines"]

INLINE_ELEMENTS = 2000
VERIFY_ELEMENTS = 5_000_000  # drawn inputs are redrawn from the written code and compared up to this size


class InputsTooLarge(ValueError):
    """The inputs are too large to inline and no seed draws them."""


def _shape(shape: tuple[int, ...]) -> str:
    return repr(tuple(int(n) for n in shape))


def _draw(name: str, draw, spec: dict, shape: tuple, axis: int, dtype: str) -> list[str]:
    """Return the lines that draw one input as generate.py draws it (``rng`` already made)."""
    size = _shape(shape)
    if draw is DISTRIBUTIONS["normal"][1]:
        loc, scale = float(spec["loc"]), float(spec["scale"])
        if dtype == "float64":
            return [f"{name} = rng.normal({loc!r}, {scale!r}, size={size})"]
        return [f"{name} = rng.standard_normal(size={size}, dtype=np.{dtype})", f"{name} *= np.{dtype}({scale!r})",
                f"{name} += np.{dtype}({loc!r})"]
    if draw is DISTRIBUTIONS["uniform"][1]:
        line = f"{name} = rng.uniform({float(spec['low'])!r}, {float(spec['high'])!r}, size={size})"
    elif draw is DISTRIBUTIONS["bernoulli"][1]:
        line = f"{name} = (rng.random(size={size}) < {float(spec['p'])!r}).astype(np.float64)"
    elif draw is DISTRIBUTIONS["integers"][1]:
        return [f"{name} = rng.integers({int(spec['low'])}, {int(spec['high'])}, size={size}, dtype=np.int64)"]
    elif draw is DISTRIBUTIONS["dirichlet"][1]:
        axis, classes, rest = split_class_axis(tuple(shape), axis, name)
        alpha = spec["alpha"] if isinstance(spec["alpha"], list) else [spec["alpha"]] * classes
        line = (f"{name} = np.moveaxis(rng.dirichlet({[float(a) for a in alpha]!r}, size={_shape(rest)}), "
                f"-1, {axis})")
    elif draw is DISTRIBUTIONS["onehot"][1]:
        axis, classes, rest = split_class_axis(tuple(shape), axis, name)
        line = (f"{name} = np.moveaxis(np.eye({classes}, dtype=np.float64)[rng.integers(0, {classes}, "
                f"size={_shape(rest)})], -1, {axis})")
    else:
        raise InputsTooLarge(f"no NumPy source for the distribution of input {name}")
    return [line] + ([f"{name} = {name}.astype(np.{dtype})"] if dtype != "float64" else [])


def generator_lines(op: str, generator: dict, params: dict) -> list[str]:
    """Return the NumPy lines that draw ``generate_inputs(op, generator, params)``, by input name."""
    seed, plan = plan_draws(op, generator, params)
    dtype = generator.get("dtype", "float64")
    lines = [f"rng = np.random.default_rng({int(seed)})"]
    for name, draw, spec, shape, axis in plan:
        lines += _draw(name, draw, spec, shape, axis, dtype)
    return lines


def _rounding(names, inputs: dict[str, np.ndarray], drawn: dict[str, np.ndarray], dtype: str) -> list[str]:
    """Return the lines rounding drawn float inputs to the dtype as the kit does (none where already there)."""
    lines = []
    for name in names:
        if inputs[name].dtype == drawn[name].dtype or np.issubdtype(inputs[name].dtype, np.integer):
            continue
        if dtype == "bfloat16":
            lines.append(f"{name} = {name}.astype(ml_dtypes.bfloat16).astype(np.float32)  # rounded to bfloat16")
        elif dtype in ("float16", "float32"):
            lines.append(f"{name} = {name}.astype(np.{dtype})  # rounded to {dtype}, as the framework gets it")
    return (["import ml_dtypes"] if any("ml_dtypes" in line for line in lines) else []) + lines


def _seeded(case: Case) -> dict | None:
    """Return the generator that draws the case's inputs exactly, or None."""
    if case.generator:
        return case.generator
    spec = case.source.get("generator")
    if not isinstance(spec, dict):
        return None
    try:
        drawn = generate_inputs(case.op, spec, case.params)
    except ValueError:
        return None
    same = set(drawn) == set(case.inputs) and all(
        drawn[k].shape == case.inputs[k].shape and np.array_equal(drawn[k], case.inputs[k], equal_nan=True)
        for k in drawn)
    return spec if same else None


def _verify(lines: list[str], expected: dict[str, np.ndarray]) -> None:
    """Raise InputsTooLarge unless the written lines draw exactly ``expected``."""
    if sum(v.size for v in expected.values()) > VERIFY_ELEMENTS:
        return
    space: dict = {"np": np}
    exec("\n".join(lines), space)  # our own generated text: NumPy calls only
    for name, value in expected.items():
        if not np.array_equal(np.asarray(space[name]), value, equal_nan=True):
            raise InputsTooLarge(f"the NumPy draw written for input {name} does not give the case's inputs")


def input_lines(case: Case, inputs: dict[str, np.ndarray], dtype: str) -> tuple[list[str], str | None]:
    """Return (the lines that set every input as a NumPy array, a note when they are drawn, not inlined)."""
    names = list(inputs)
    size = sum(int(v.size) for v in inputs.values())
    if size <= INLINE_ELEMENTS:
        return [array_source(name, value) for name, value in widen(inputs).items()], None
    generator = _seeded(case)
    if generator is None:
        raise InputsTooLarge(f"{case.key} has {size:,} input elements (over {INLINE_ELEMENTS:,}) and no seed to "
                             "draw them from: no standalone reproducer is written for inputs this large")
    draw = generator_lines(case.op, generator, case.params)
    drawn = generate_inputs(case.op, generator, case.params) if case.generator is None else case.inputs
    _verify(draw, drawn)
    lines = [f"# {size:,} input elements: drawn from seed {generator['seed']} exactly as loss-conformance draws them",
             *draw, *_rounding(names, inputs, drawn, dtype)]
    return lines, f"{case.key}: {size:,} input elements, drawn in the script from seed {generator['seed']}"
