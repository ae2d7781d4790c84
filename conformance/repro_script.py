"""Writing a reproducer script: literals, the docstring, the inputs, the call and the check, as plain text.

The script imports NumPy and the framework only. Every number is a Python
literal that parses to the exact float64 (``repr``), non-finite ones as
``np.inf`` / ``np.nan``; every piece of text taken from a vector or results
file goes into the docstring escaped, so no quote, backslash or control
character in it can end the string or change what the script does.
"""

from __future__ import annotations

import math
import re
import textwrap
from dataclasses import dataclass, field

import numpy as np

from conformance.repro_source import ReproSource

WIDTH = 100


def number(value: float | int, integer: bool = False) -> str:
    """Return a float64 (or int64) value as a literal that reads back exactly."""
    if integer:
        return str(int(value))
    value = float(value)
    if math.isnan(value):
        return "np.nan"
    if math.isinf(value):
        return "np.inf" if value > 0 else "-np.inf"
    return repr(value)


def _flat(items: list[str], indent: int) -> str:
    """Return ``[a, b, ...]`` wrapped at WIDTH, continuation lines under the first item."""
    lines, line = [], "["
    for k, item in enumerate(items):
        piece = item + (", " if k < len(items) - 1 else "]")
        if len(line) + len(piece.rstrip()) > WIDTH - indent and line.strip() != "[":
            lines.append(line.rstrip())
            line = " " * (indent + 1)
        line += piece
    lines.append(line if items else "[]")
    return "\n".join(lines)


def _nested(array: np.ndarray, indent: int, integer: bool) -> str:
    if array.ndim == 1:
        return _flat([number(v, integer) for v in array.tolist()], indent)
    inner = [_nested(sub, indent + 1, integer) for sub in array]
    return "[" + (",\n" + " " * (indent + 1)).join(inner) + "]"


def array_source(name: str, array: np.ndarray) -> str:
    """Return ``name = np.array(...)`` holding ``array`` exactly (floats as float64, integers as int64)."""
    array = np.asarray(array)
    integer = np.issubdtype(array.dtype, np.integer)
    dtype = ", dtype=np.int64" if integer else ""
    if array.size == 0:
        return f"{name} = np.zeros({tuple(array.shape)!r}{dtype})"
    values = np.asarray(array, dtype=np.int64 if integer else np.float64)
    if values.ndim == 0:
        return f"{name} = np.array({number(values.item(), integer)}{dtype})"
    prefix = f"{name} = np.array("
    return prefix + _nested(values, len(prefix), integer) + f"{dtype})"


def bound_source(bound: np.ndarray) -> str:
    """Return ``bound = ...``: one number when every element has the same bound, else the array."""
    bound = np.asarray(bound, dtype=np.float64)
    if bound.size and np.all(bound == bound.reshape(-1)[0]):
        return f"bound = {number(bound.reshape(-1)[0])}"
    return array_source("bound", bound)


def docstring(text: str) -> str:
    """Return ``text`` as a triple-quoted string literal that holds exactly ``text`` + a final newline."""
    escaped, previous = [], ""
    for char in text + "\n":
        if char == "\\":
            escaped.append("\\\\")
        elif char == '"' and previous == '"':
            escaped.append('\\"')  # no run of quotes can close the literal
        elif char != "\n" and not char.isprintable():
            escaped.append(char.encode("unicode_escape").decode("ascii"))
        else:
            escaped.append(char)
        previous = char
    return '"""' + "".join(escaped) + '"""'


def wrap(text: str, label: str = "", indent: int = 0) -> str:
    """Return ``label`` + ``text`` on lines of at most WIDTH characters, later lines indented by ``indent``.

    Whitespace in ``text``, newlines included, becomes single spaces.
    """
    return textwrap.fill(" ".join(str(text).split()), WIDTH, initial_indent=label.ljust(indent),
                         subsequent_indent=" " * indent, break_long_words=False, break_on_hyphens=False)


@dataclass
class Script:
    """The parts of one reproducer, before they are written out."""

    doc: str
    source: ReproSource
    inputs: list[str]  # lines that set each input as a NumPy array (literals or seeded draws)
    names: tuple[str, ...]  # the op's inputs, in order
    integer: set[str]  # which of them are integer labels
    outcome: str  # value | raises | implementation-defined | returns (crashed / timeout: only run it)
    expected: list[str] = field(default_factory=list)  # lines setting expected and bound (outcome value)
    note: str = ""  # what the kit recorded, for the crashed/timeout ending


_CHECK = '''\
if actual.shape != expected.shape:
    print(f"REPRODUCED: result of shape {list(actual.shape)} where shape {list(expected.shape)} was expected")
    sys.exit(1)
bound = np.broadcast_to(bound, expected.shape)
# loss-conformance's comparison: a non-finite expected value is matched only by the same value
with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
    error = np.abs(actual - expected)
    same = (np.isnan(expected) & np.isnan(actual)) | (np.isinf(expected) & (actual == expected))
    error = np.where(same, 0.0, np.where(np.isnan(error), np.inf, error))
    ratio = np.where(error == 0, 0.0, error / bound)
off = int(np.count_nonzero(ratio > 1))
if expected.size:
    at = np.unravel_index(int(np.argmax(ratio)), expected.shape)
    print(f"worst element: index {[int(i) for i in at]}; expected {float(expected[at])!r}; "
          f"actual {float(actual[at])!r}; abs error {float(error[at])!r}; bound {float(bound[at])!r}")
    print(f"max abs error: {float(error.max())!r}")
if off:
    print(f"REPRODUCED: {off} of {expected.size} element(s) off by more than the bound")
    sys.exit(1)
print(f"NOT REPRODUCED: all {expected.size} element(s) within the bound")
'''

_RESULT = 'print(f"result: dtype {result.dtype}, shape {list(actual.shape)}")'


def _call_lines(script: Script) -> list[str]:
    """Return the conversions, the run and ``actual``: the part that may raise."""
    src = script.source
    conversions = []
    for name in script.names:
        template = src.label_tensor if name in script.integer else src.tensor
        if template is not None:
            conversions.append(f"{name} = {template.format(name=name)}")
    if src.convert_under and conversions:
        conversions = [src.convert_under, *("    " + line for line in conversions)]
    return [*conversions, *src.run, f"actual = {src.to_numpy.format(value='result')}"]


def _ending(script: Script) -> list[str]:
    """Return what follows the loss definition: the call and the check the outcome asks for."""
    call = _call_lines(script)
    if script.outcome == "raises":
        return ["try:", *("    " + line if line else "" for line in call),
                "except Exception as exc:  # the op must raise",
                '    print(f"NOT REPRODUCED: raised {type(exc).__name__}: {exc}")', "    sys.exit(0)", _RESULT,
                'print(f"REPRODUCED: returned {actual!r} where an error must be raised")', "sys.exit(1)"]
    if script.outcome == "implementation-defined":
        return [*call, _RESULT, 'print(f"actual: {actual!r}")',
                'print("NOT REPRODUCED: the case is implementation-defined: any value or error is allowed")']
    if script.outcome == "returns":
        return [*call, _RESULT, f"print({('NOT REPRODUCED: the call returned; ' + script.note)!r})"]
    return [*call, _RESULT, "", "# float64 expected value and the largest absolute error allowed per element",
            *script.expected, "", *_CHECK.splitlines()]


def render(script: Script) -> str:
    """Return the whole script's source text."""
    src = script.source
    lines = [docstring(script.doc), "import sys", "", "import numpy as np", *src.prelude, "", ""]
    lines += ["# the inputs, as the framework got them (values exact in the dtype)", *script.inputs, "", ""]
    lines += [f"def loss({', '.join(script.names)}):", *("    " + line if line else "" for line in src.loss), "", ""]
    lines += _ending(script)
    return re.sub(r"\n{4,}", "\n\n\n", "\n".join(lines)).rstrip("\n") + "\n"
