"""Hooks the plugin adds to pytest; implement them in a ``conftest.py``."""

from __future__ import annotations


def pytest_conformance_adapters(config) -> dict[str, str]:
    """Return adapters to add to a ``--conformance`` run, as ``{name: "module:Class"}``.

    Each name becomes a column of the run like an adapter registered through the
    ``conformance.adapters`` entry-point group: it runs by default and can be
    named in ``--conformance-frameworks``. The class must be importable by that
    reference in a fresh process, since each framework runs in a worker process
    of its own (a module of your package, or one on ``sys.path``).
    """
