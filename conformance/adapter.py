"""The adapter contract, and finding adapters through entry points.

An adapter tells the kit how to reach one framework: which distributions and
modules it needs, which dtypes, modes and devices it has, how to move NumPy
arrays in and out, and which native APIs (bindings) implement each op.

Bindings are declared as plain data, so they can be listed without importing
the framework; only :meth:`Adapter.load`, called inside the framework's worker
process, imports it.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Protocol, Sequence, runtime_checkable

import numpy as np

from conformance.conventions import CONVENTIONS
from conformance.ops import OPS, REDUCTIONS

ENTRY_POINT_GROUP = "conformance.adapters"

# fn(fw, inputs, params) -> framework value.  ``fw`` is whatever load() returned.
BindingFn = Callable[[Any, Mapping[str, Any], Mapping[str, Any]], Any]
# supports(inputs, params) -> None, or the reason this binding cannot take the case.
SupportsFn = Callable[[Mapping[str, np.ndarray], Mapping[str, Any]], "str | None"]


def _always(inputs: Mapping[str, np.ndarray], params: Mapping[str, Any]) -> str | None:
    return None


@dataclass(frozen=True)
class Binding:
    """One public API of a framework that implements a canonical op.

    ``name`` is the API's public name as users write it; ``call`` says exactly
    what runs, reductions included (e.g. ``tf.reduce_sum(tf.nn....)``).
    ``kind`` is ``native`` for the framework's own loss op and ``composition``
    for a formula built from smaller ops; a composition is never named as if
    it were a native op. ``default=False`` keeps a binding out of a run unless
    asked for (the tutorial's hand-written formulas, which are meant to fail).
    """

    name: str
    op: str
    fn: BindingFn
    call: str
    kind: str = "native"
    default: bool = True
    reductions: tuple[str, ...] = REDUCTIONS
    supports: SupportsFn = field(default=_always)
    conventions: tuple[str, ...] = ()  # names from conformance.conventions this API follows by design

    def not_applicable(self, inputs: Mapping[str, np.ndarray], params: Mapping[str, Any]) -> str | None:
        """Return why this binding cannot take these inputs and params, or None."""
        reduction = params.get("reduction", "none")
        if reduction not in self.reductions:
            return f"{self.name} has no reduction={reduction!r} (it has {', '.join(self.reductions)})"
        return self.supports(inputs, params)


@runtime_checkable
class Adapter(Protocol):
    """What the kit needs from a framework adapter."""

    framework: str  # short name used in results and on the command line
    requires: tuple[str, ...]  # importable modules that must be present
    distributions: tuple[str, ...]  # distributions whose versions go in the results
    dtypes: tuple[str, ...]
    modes: tuple[str, ...]
    devices: tuple[str, ...]
    bindings: Sequence[Binding]

    def load(self) -> Any:
        """Import the framework; return what binding functions get as ``fw``."""

    def to_framework(self, fw: Any, array: np.ndarray, dtype: str, device: str) -> Any:
        """Return ``array`` as a framework value of ``dtype`` on ``device``."""

    def to_numpy(self, fw: Any, value: Any) -> np.ndarray:
        """Return a framework value as a NumPy array (same dtype where NumPy has it)."""

    # Optional, for adapters with compiled modes or autodiff (declare ``gradients = True``):
    #
    # def build(self, fw, forward, mode, wrt) -> Callable[[dict], Any]
    #     Return inputs -> value: ``forward`` as run in ``mode`` (e.g. wrapped in torch.compile,
    #     tf.function or jax.jit); or, when ``wrt`` names an input, inputs -> the gradient of
    #     sum(forward(inputs)) with respect to that input, computed in ``mode``.


class AdapterError(Exception):
    """An adapter could not be found, loaded or does not keep the contract."""


_REQUIRED = ("framework", "requires", "distributions", "dtypes", "modes", "devices", "bindings")


def check_adapter(adapter: Any, origin: str) -> Adapter:
    """Return ``adapter`` if it keeps the contract, else raise AdapterError naming what is missing."""
    missing = [name for name in _REQUIRED if not hasattr(adapter, name)]
    missing += [name for name in ("load", "to_framework", "to_numpy") if not callable(getattr(adapter, name, None))]
    needs_build = [m for m in getattr(adapter, "modes", ()) if m != "eager"] or getattr(adapter, "gradients", False)
    if needs_build and not callable(getattr(adapter, "build", None)):
        missing.append("build (it declares compiled modes or gradients)")
    if missing:
        raise AdapterError(f"adapter {origin} lacks {', '.join(missing)}")
    for binding in adapter.bindings:
        if not isinstance(binding, Binding):
            raise AdapterError(f"adapter {origin}: bindings must be conformance.Binding, got {binding!r}")
        if binding.op not in OPS:
            raise AdapterError(f"adapter {origin}: binding {binding.name} names unknown op {binding.op!r}")
        unknown = [c for c in binding.conventions if c not in CONVENTIONS or binding.op not in CONVENTIONS[c].ops]
        if unknown:
            raise AdapterError(f"adapter {origin}: binding {binding.name} declares conventions {unknown} that "
                               f"are unknown or do not apply to {binding.op}")
    return adapter


def missing_requirement(adapter: Adapter) -> str | None:
    """Return why the adapter's framework cannot be imported here, without importing it."""
    for module in adapter.requires:
        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            return f"{module} is not installed"
    return None


def framework_versions(adapter: Adapter) -> dict[str, str | None]:
    """Return the installed version of each distribution the adapter names."""
    versions = {}
    for dist in adapter.distributions:
        try:
            versions[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            versions[dist] = None
    return versions


def entry_points() -> dict[str, importlib.metadata.EntryPoint]:
    """Return the adapters registered in the entry-point group, by name."""
    return {ep.name: ep for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)}


def load_adapter(name: str) -> Adapter:
    """Return the adapter registered as ``name`` (instantiated and checked)."""
    points = entry_points()
    if name not in points:
        known = ", ".join(sorted(points)) or "none (is the kit installed?)"
        raise AdapterError(f"no adapter named {name!r} in entry-point group {ENTRY_POINT_GROUP}; known: {known}")
    point = points[name]
    try:
        target = point.load()
    except Exception as exc:  # a broken third-party module must not take the run down
        raise AdapterError(f"adapter {name} ({point.value}) failed to import: {type(exc).__name__}: {exc}") from exc
    adapter = target() if isinstance(target, type) else target
    return check_adapter(adapter, f"{name} ({point.value})")


def resolve_adapter(ref: str) -> Adapter:
    """Return the adapter for an entry-point name or a ``module:attribute`` reference."""
    if ":" not in ref:
        return load_adapter(ref)
    module_name, _, attr = ref.partition(":")
    try:
        target = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise AdapterError(f"adapter {ref} cannot be imported: {type(exc).__name__}: {exc}") from exc
    return check_adapter(target() if isinstance(target, type) else target, ref)
