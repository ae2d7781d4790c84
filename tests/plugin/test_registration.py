"""The plugin as pytest sees it: registered by entry point, one option group, ini keys, lazy, and -p no:conformance."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
import textwrap

import pytest

from conformance.options import RUN_OPTIONS
from conformance.pytest_options import NOT_IN_PLUGIN
from plugin_helpers import quick_inner_runs, FAKE, SIGMOID, write_vectors

pytest_plugins = ["pytester"]
__all__ = ["quick_inner_runs"]  # an autouse fixture

HEAVY = ("numpy", "yaml", "torch", "tensorflow", "jax", "keras", "conformance.runner", "conformance.loader")


def test_registered_through_the_pytest11_entry_point():
    points = {ep.name: ep.value for ep in importlib.metadata.entry_points(group="pytest11")}
    assert points.get("conformance") == "conformance.plugin"


def test_help_shows_one_group_with_every_shared_run_option(pytester):
    out = pytester.runpytest("--help").stdout.str()
    group = out[out.index("loss-conformance (check losses against the kit's vectors):"):]
    for spec in RUN_OPTIONS:
        if spec.name not in NOT_IN_PLUGIN:
            assert f"--conformance-{spec.name}" in group, spec.name
    for flag in ("--conformance ", "--conformance-vectors", "--conformance-expectations", "--conformance-strict",
                 "--conformance-save", "--conformance-report", "--conformance-all-bindings"):
        assert flag in group
    ini = out[out.index("[pytest] configuration options"):]
    assert "conformance_dtypes" in ini and "conformance_expectations" in ini


def test_no_conformance_disables_the_plugin(pytester):
    assert "--conformance-dtypes" not in pytester.runpytest("-p", "no:conformance", "--help").stdout.str()
    result = pytester.runpytest("-p", "no:conformance", "--conformance")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*unrecognized arguments: --conformance*"])


def test_importing_the_plugin_imports_nothing_heavy():
    code = f"import sys, conformance.plugin; print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "[]", done.stderr


def test_a_run_that_does_not_use_the_plugin_loads_nothing_of_the_kit(pytester):
    pytester.makepyfile(test_modules=f"""
        import sys

        def test_nothing_heavy_was_imported():
            loaded = sorted(m for m in {HEAVY!r} if m in sys.modules)
            assert loaded == [], "imported by pytest's start with the conformance plugin on: " + ", ".join(loaded)
    """)
    # a fresh process: this one has imported the kit already
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    # conformance.options imports conformance.dtypes, which imports NumPy at its top: it must import it lazily
    result.assert_outcomes(passed=1)


def test_options_are_read_from_the_ini_file(pytester):
    vectors = write_vectors(pytester, SIGMOID)
    pytester.makeini(f"""
        [pytest]
        conformance = true
        conformance_frameworks = {FAKE}
        conformance_dtypes = float32
        conformance_cases = moderate
        conformance_vectors = {vectors.name}
    """)
    result = pytester.runpytest("--collect-only", "-q")
    result.stdout.fnmatch_lines(["conformance::sigmoid_cross_entropy[[]moderate[]]-fake.good-float32-eager-cpu"])
    assert "float64" not in result.stdout.str() and "[other]" not in result.stdout.str()
    # the command line wins over the ini file
    result = pytester.runpytest("--collect-only", "-q", "--conformance-dtypes=float64")
    assert "-fake.good-float64-eager-cpu" in result.stdout.str() and "float32" not in result.stdout.str()


def test_a_bad_ini_value_is_a_usage_error_naming_the_key(pytester):
    pytester.makeini("""
        [pytest]
        conformance = true
        conformance_dtypes = float33
    """)
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*conformance_dtypes = float33 in *tox.ini: unknown dtype float33; choose from*"])


def test_a_bad_option_value_is_an_argument_error(pytester):
    result = pytester.runpytest("--conformance-ops=softmax,mean_squared_error")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*argument --conformance-ops: unknown op softmax; choose from*"])


@pytest.mark.parametrize("option", ["--conformance-report=r.jsonl", "--conformance-save=e.yaml",
                                    "--conformance-expectations=e.yaml"])
def test_files_of_the_kit_run_need_conformance(pytester, option):
    result = pytester.runpytest(option)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*{option.split('=')[0]} needs --conformance*"])


def test_markers_are_registered_for_strict_markers(pytester):
    result = pytester.runpytest("--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.conformance:*", "@pytest.mark.conformance_cases(*ops*"])


def test_a_conftest_adapter_becomes_a_column(pytester):
    pytester.syspathinsert()  # the worker process finds the adapter's module on the same path
    vectors = write_vectors(pytester, SIGMOID)
    pytester.makepyfile(my_kernel_adapter=textwrap.dedent("""
        from fake_adapter import FakeAdapter
        from conformance.adapter import Binding
        from conformance import reference

        class KernelAdapter(FakeAdapter):
            framework = "kernel"
            bindings = (Binding("kernel.sigmoid", "sigmoid_cross_entropy",
                                lambda fw, inputs, params: reference.compute("sigmoid_cross_entropy", inputs, params),
                                "kernel.sigmoid(x, z)"),)
    """))
    pytester.makeconftest("""
        def pytest_conformance_adapters(config):
            return {"kernel": "my_kernel_adapter:KernelAdapter"}
    """)
    result = pytester.runpytest("--conformance", f"--conformance-vectors={vectors}", "--conformance-frameworks=kernel",
                                "-v")
    result.assert_outcomes(passed=4)  # two cases, two dtypes
    result.stdout.fnmatch_lines(["*sigmoid_cross_entropy[[]moderate[]]-kernel.sigmoid-float32-eager-cpu PASSED*"])


def test_options_are_read_from_pyproject_toml(pytester):
    vectors = write_vectors(pytester, SIGMOID)
    pytester.makepyprojecttoml(f"""
        [tool.pytest.ini_options]
        conformance = true
        conformance_frameworks = "{FAKE}"
        conformance_dtypes = "float64"
        conformance_vectors = ["{vectors.name}"]
        conformance_strict = true
    """)
    result = pytester.runpytest("--collect-only", "-q")
    result.stdout.fnmatch_lines(["conformance::sigmoid_cross_entropy[[]other[]]-fake.sum_only-float64-eager-cpu"])
