"""The run options, defined once: the CLI and the pytest plugin both build theirs from this table."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any, Callable

from conformance.dtypes import DTYPES
from conformance.ops import OPS


MODES = ("eager", "compiled", "compiled-xla")


def comma_list(text: str) -> list[str]:
    """Return the non-empty items of a comma-separated list."""
    return [item.strip() for item in text.split(",") if item.strip()]


def _choices(allowed: tuple[str, ...], what: str) -> Callable[[str], list[str]]:
    def parse(text: str) -> list[str]:
        items = comma_list(text)
        bad = [item for item in items if item not in allowed]
        if bad:
            raise ValueError(f"unknown {what} {', '.join(bad)}; choose from {', '.join(allowed)}")
        return items

    return parse


def argtype(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    """Return ``parse`` as an argparse type: its ValueError becomes argparse's usage error."""

    def convert(text: str):
        try:
            return parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    convert.__name__ = getattr(parse, "__name__", "value")
    return convert


@dataclass(frozen=True)
class OptionSpec:
    """One run option: its name (``--NAME`` on the CLI), how to parse it, its default and help."""

    name: str
    parse: Callable[[str], Any]
    default: Any
    help: str
    metavar: str = "LIST"
    flag: bool = False  # a switch: present means True


RUN_OPTIONS = (
    OptionSpec("frameworks", comma_list, None, "frameworks to run: adapter entry-point names or module:Class references (default: every registered adapter), e.g. numpy,torch,tensorflow,jax"),
    OptionSpec("ops", _choices(tuple(OPS), "op"), None, f"ops to run (default: all): {', '.join(OPS)}"),
    OptionSpec("cases", comma_list, None, "case ids or op[id] names to run, shell-style patterns (default: all), "
               "e.g. 'tutorial-*'", "PATTERNS"),
    OptionSpec("exclude", comma_list, None, "case ids or op[id] names to leave out, shell-style patterns "
               "(default: none), e.g. 'nan-probability*' for cases known to take a GPU process down", "PATTERNS"),
    OptionSpec("dtypes", _choices(DTYPES, "dtype"), ["float32", "float64"], "dtypes to check (default: float32,float64)"),
    OptionSpec("modes", _choices(MODES, "mode"), ["eager"],
               "modes to run (default: eager); compiled means each framework's compiled modes: torch.compile, "
               "jax.jit, tf.function and tf.function(jit_compile=True) (compiled-xla)"),
    OptionSpec("devices", _choices(("cpu", "cuda", "all"), "device"), ["cpu"],
               "devices to run on (default: cpu); all means every device an adapter declares; a device that is "
               "not present is skipped with the reason"),
    OptionSpec("grad", bool, False, "also check the gradient of each loss against the analytic float64 gradient",
               flag=True),
    OptionSpec("large", bool, False, "also run the cases with over a million input elements (the generated "
               "language-model-scale ones: minutes and GBs of memory)", flag=True),
    OptionSpec("jobs", int, None, "frameworks to run side by side, each in its worker process (default: one per "
               "CPU core)", "N"),
    OptionSpec("timeout", float, 120.0, "seconds one check may take before it is recorded as a timeout", "SECONDS"),
)
