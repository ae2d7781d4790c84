"""Seeded random inputs for an op, from a small declarative generator spec.

A spec names a seed, the shape of the op's first input and one distribution
per input; the inputs are drawn in the op's input order from one
``numpy.random.default_rng(seed)``, so a spec stored in a vector file
regenerates its inputs exactly (on the same NumPy bit-stream, see
``docs/vectors.md``). The same function later builds large cases at run time.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from conformance.ops import get_op

__all__ = ["DISTRIBUTIONS", "generate_inputs"]

GENERATOR_KEYS = ("seed", "shape", "distributions")
OPTIONAL_KEYS = ("dtype",)  # float32: draw float inputs in float32 (half the memory of a large generated case)
FLOAT_DTYPES = ("float32", "float64")


def _number(spec: dict, key: str, where: str) -> float:
    value = spec[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value):
        raise ValueError(f"{where}: {key} must be a finite number, got {value!r}")
    return float(value)


def _integer(spec: dict, key: str, where: str) -> int:
    value = spec[key]
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{where}: {key} must be an integer, got {value!r}")
    return int(value)


def _normal(rng, spec, shape, axis, where, dtype="float64"):
    loc, scale = _number(spec, "loc", where), _number(spec, "scale", where)
    if scale < 0:
        raise ValueError(f"{where}: scale must be >= 0, got {scale!r}")
    if dtype == "float64":
        return rng.normal(loc, scale, size=shape)
    values = rng.standard_normal(size=shape, dtype=np.dtype(dtype))
    values *= np.dtype(dtype).type(scale)
    values += np.dtype(dtype).type(loc)
    return values


def _uniform(rng, spec, shape, axis, where):
    low, high = _number(spec, "low", where), _number(spec, "high", where)
    if not low < high:
        raise ValueError(f"{where}: uniform needs low < high, got low={low!r}, high={high!r}")
    return rng.uniform(low, high, size=shape)


def _bernoulli(rng, spec, shape, axis, where):
    p = _number(spec, "p", where)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{where}: p must lie in [0, 1], got {p!r}")
    return (rng.random(size=shape) < p).astype(np.float64)


def _integers(rng, spec, shape, axis, where):
    low, high = _integer(spec, "low", where), _integer(spec, "high", where)
    if not low < high:
        raise ValueError(f"{where}: integers needs low < high (high is exclusive), got low={low}, high={high}")
    return rng.integers(low, high, size=shape, dtype=np.int64)


def split_class_axis(shape: tuple[int, ...], axis: int, where: str) -> tuple[int, int, tuple[int, ...]]:
    """Return (class axis >= 0, number of classes, shape without the class axis)."""
    if isinstance(axis, bool) or not isinstance(axis, int):
        raise ValueError(f"{where}: the class axis must be an integer, got {axis!r}")
    if not shape or not -len(shape) <= axis < len(shape):
        raise ValueError(f"{where}: class axis {axis} is out of range for shape {list(shape)}")
    axis %= len(shape)
    if shape[axis] < 1:
        raise ValueError(f"{where}: the class axis of shape {list(shape)} has no classes")
    return axis, shape[axis], shape[:axis] + shape[axis + 1 :]


def _dirichlet(rng, spec, shape, axis, where):
    axis, classes, rest = split_class_axis(shape, axis, where)
    alpha = spec["alpha"]
    if isinstance(alpha, list):
        if len(alpha) != classes:
            raise ValueError(f"{where}: alpha has {len(alpha)} entries but there are {classes} classes")
        values = [_number({"alpha": a}, "alpha", where) for a in alpha]
    else:
        values = [_number(spec, "alpha", where)] * classes
    if min(values) <= 0:
        raise ValueError(f"{where}: alpha must be > 0, got {alpha!r}")
    return np.moveaxis(rng.dirichlet(values, size=rest), -1, axis)


def _onehot(rng, spec, shape, axis, where):
    axis, classes, rest = split_class_axis(shape, axis, where)
    picked = rng.integers(0, classes, size=rest)
    return np.moveaxis(np.eye(classes, dtype=np.float64)[picked], -1, axis)


Draw = Callable[[np.random.Generator, dict, tuple, int, str], np.ndarray]

# name -> (the parameters it takes, the function that draws it)
DISTRIBUTIONS: dict[str, tuple[tuple[str, ...], Draw]] = {
    "normal": (("loc", "scale"), _normal),
    "uniform": (("low", "high"), _uniform),
    "bernoulli": (("p",), _bernoulli),
    "integers": (("low", "high"), _integers),
    "dirichlet": (("alpha",), _dirichlet),
    "onehot": ((), _onehot),
}


def _check_generator(op: str, generator: Any) -> tuple[int, tuple[int, ...], dict]:
    """Return (seed, shape, distributions) of a generator spec, or raise ValueError."""
    if not isinstance(generator, dict):
        raise ValueError(f"generator for {op} must be a mapping with {', '.join(GENERATOR_KEYS)}, got {generator!r}")
    missing = [key for key in GENERATOR_KEYS if key not in generator]
    unknown = sorted(set(generator) - set(GENERATOR_KEYS) - set(OPTIONAL_KEYS))
    if missing or unknown:
        raise ValueError(f"generator for {op}: missing keys {missing}, unknown keys {unknown}")
    seed, shape = generator["seed"], generator["shape"]
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"generator for {op}: seed must be a non-negative integer, got {seed!r}")
    if not isinstance(shape, list) or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape):
        raise ValueError(f"generator for {op}: shape must be a list of non-negative integers, got {shape!r}")
    if generator.get("dtype", "float64") not in FLOAT_DTYPES:
        raise ValueError(f"generator for {op}: dtype must be one of {', '.join(FLOAT_DTYPES)}, got {generator['dtype']!r}")
    if not isinstance(generator["distributions"], dict):
        raise ValueError(f"generator for {op}: distributions must map each input to a distribution")
    return seed, tuple(shape), generator["distributions"]


def _check_distribution(spec: Any, where: str) -> Draw:
    """Return the draw function of one distribution spec, or raise ValueError."""
    if not isinstance(spec, dict) or "dist" not in spec:
        raise ValueError(f"{where}: a distribution is a mapping with a 'dist' key, got {spec!r}")
    name = spec["dist"]
    if not isinstance(name, str) or name not in DISTRIBUTIONS:
        raise ValueError(f"{where}: unknown distribution {name!r}; known: {', '.join(DISTRIBUTIONS)}")
    takes, draw = DISTRIBUTIONS[name]
    missing = [key for key in takes if key not in spec]
    unknown = sorted(set(spec) - set(takes) - {"dist"})
    if missing or unknown:
        raise ValueError(f"{where}: {name} takes {list(takes)}; missing {missing}, unknown {unknown}")
    return draw


def plan_draws(op: str, generator: dict, params: dict) -> tuple[int, list[tuple[str, Draw, dict, tuple, int]]]:
    """Return the seed and, per input in order, (name, draw, spec, shape, class axis); raise ValueError if bad."""
    try:
        spec = get_op(op)
    except KeyError as exc:
        raise ValueError(exc.args[0]) from None
    seed, shape, distributions = _check_generator(op, generator)
    names = spec.input_names
    if set(distributions) != set(names):
        raise ValueError(
            f"generator for {op}: distributions must name exactly the inputs {list(names)}, got {sorted(distributions)}"
        )
    axis = spec.resolve_params(params or {}).get("axis", -1)
    plan = []
    for item in spec.inputs:
        where = f"generator for {op}, input {item.name}"
        draw = _check_distribution(distributions[item.name], where)
        dist = distributions[item.name]["dist"]
        if (item.kind == "int") != (dist == "integers"):
            want = "integers" if item.kind == "int" else "a float distribution (not integers)"
            raise ValueError(f"{where}: {item.name} is {item.kind}-valued and needs {want}, got {dist}")
        own_shape = split_class_axis(shape, axis, where)[2] if item.kind == "int" else shape
        plan.append((item.name, draw, distributions[item.name], own_shape, axis))
    return seed, plan


def generate_inputs(op: str, generator: dict, params: dict) -> dict[str, np.ndarray]:
    """Return the inputs of ``op`` drawn from ``generator``, by input name, in the op's input order.

    Float inputs come back as float64 and integer inputs as int64. Every input
    has the generator's shape, except integer class labels, which drop the
    class axis (``params['axis']``, default -1); dirichlet and onehot draw
    along that axis too. Raises ValueError naming the problem in a bad spec.
    """
    seed, plan = plan_draws(op, generator, params)
    rng = np.random.default_rng(seed)
    dtype = generator.get("dtype", "float64")
    inputs = {}
    for name, draw, spec, shape, axis in plan:
        where = f"generator for {op}, input {name}"
        if dtype != "float64" and draw is _normal:
            inputs[name] = draw(rng, spec, shape, axis, where, dtype)
        else:
            value = np.asarray(draw(rng, spec, shape, axis, where))
            inputs[name] = value.astype(dtype) if value.dtype.kind == "f" and dtype != "float64" else value
    return inputs


def input_shapes(op: str, generator: dict, params: dict) -> dict[str, tuple[int, ...]]:
    """Return the shape each input will have, without drawing anything (raises ValueError on a bad spec)."""
    return {name: shape for name, _, _, shape, _ in plan_draws(op, generator, params)[1]}
