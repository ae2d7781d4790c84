"""The pytest plugin, registered through the ``pytest11`` entry point as ``conformance``.

It stays out of the way until it is used: importing this module imports only
pytest; the kit (NumPy, the vectors, the adapters) loads only when a test uses
the ``conformance_case`` fixture or the run is started with ``--conformance``.
``-p no:conformance`` turns it off. What each use does: ``docs/pytest-plugin.md``.
"""

from __future__ import annotations

import pytest

MARKERS = (
    "conformance: a check of the loss-conformance kit, collected by --conformance",
    "conformance_cases(*ops, dtypes=None, cases=None, flags=None, exclude_flags=None, outcomes=('value',), "
    "vectors=None, large=False): parametrize the conformance_case fixture with the kit's cases of these ops",
)


def pytest_addhooks(pluginmanager) -> None:
    from conformance import pytest_hooks

    pluginmanager.add_hookspecs(pytest_hooks)


def pytest_addoption(parser) -> None:
    from conformance.pytest_options import add_options

    add_options(parser)


def pytest_configure(config) -> None:
    for line in MARKERS:
        config.addinivalue_line("markers", line)
    if not _enabled(config):
        for name in ("report", "save", "expectations"):
            if config.getoption(f"conformance_{name}"):
                raise pytest.UsageError(f"--conformance-{name} needs --conformance: it applies to the kit's checks")
        return
    from conformance.pytest_run import ConformanceRun
    from conformance.pytest_options import read_settings

    config.pluginmanager.register(ConformanceRun(config, read_settings(config)), "conformance-run")


def _enabled(config) -> bool:
    """Return whether the kit's checks are collected: ``--conformance`` or ``conformance = true`` in the ini file."""
    return bool(config.getoption("conformance") or config.getini("conformance"))


def pytest_generate_tests(metafunc) -> None:
    if "conformance_case" not in metafunc.fixturenames:
        return
    from conformance.pytest_cases import parametrize_cases

    parametrize_cases(metafunc)


@pytest.fixture
def conformance_case(request):
    """One case of an op in one dtype (a :class:`conformance.testing.ConformanceCase`), from ``conformance_cases``."""
    from conformance.pytest_cases import case_for

    return case_for(request)
