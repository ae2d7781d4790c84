"""Deliberately faulty adapters for the runner's tests: one binding per way to go wrong."""

from __future__ import annotations

import os
import time

import numpy as np

from conformance import reference
from conformance.adapter import Binding


def _good(fw, inputs, params):
    return reference.compute("sigmoid_cross_entropy", inputs, params)


def _wrong(fw, inputs, params):
    return reference.compute("sigmoid_cross_entropy", inputs, params) * 1.01


def _raises(fw, inputs, params):
    raise RuntimeError("deliberate failure inside the op")


def _crash(fw, inputs, params):
    print("about to abort", flush=True)
    os.abort()


def _hang(fw, inputs, params):
    time.sleep(600)


def _sum_only(inputs, params):
    return None if params["reduction"] == "sum" else "fake.sum_only takes only reduction=sum"


OP = "sigmoid_cross_entropy"


class FakeAdapter:
    framework = "fake"
    requires = ("numpy",)
    distributions = ("numpy",)
    dtypes = ("float32", "float64")
    modes = ("eager",)
    devices = ("cpu",)
    bindings = (
        Binding("fake.good", OP, _good, "reference"),
        Binding("fake.wrong", OP, _wrong, "reference * 1.01"),
        Binding("fake.raises", OP, _raises, "raise RuntimeError"),
        Binding("fake.sum_only", OP, _good, "reference", supports=_sum_only),
    )

    def load(self):
        return np

    def to_framework(self, fw, array, dtype, device):
        return np.asarray(array)

    def to_numpy(self, fw, value):
        return np.asarray(value)


class CrashingAdapter(FakeAdapter):
    framework = "crashing"
    bindings = (
        Binding("crashing.good", OP, _good, "reference"),
        Binding("crashing.abort", OP, _crash, "os.abort()"),
        Binding("crashing.after", OP, _good, "reference"),
    )


class HangingAdapter(FakeAdapter):
    framework = "hanging"
    bindings = (Binding("hanging.sleep", OP, _hang, "time.sleep(600)"), Binding("hanging.after", OP, _good, "reference"))


class MissingAdapter(FakeAdapter):
    framework = "missing"
    requires = ("no_such_framework_for_conformance_tests",)
    distributions = ("no_such_framework_for_conformance_tests",)


class BrokenLoadAdapter(FakeAdapter):
    framework = "brokenload"

    def load(self):
        raise ImportError("libcuda.so.1: cannot open shared object file")


class FinishThenHangAdapter(FakeAdapter):
    framework = "finishthenhang"
    bindings = (Binding("finishthenhang.good", OP, _good, "reference"),
                Binding("finishthenhang.sleep", OP, _hang, "time.sleep(600)"))


_POISONED = []


def _device_assert(fw, inputs, params):
    _POISONED.append(True)
    raise RuntimeError("CUDA error: device-side assert triggered")


def _after_assert(fw, inputs, params):
    if _POISONED:  # as CUDA does: once the context is poisoned, every later call fails
        raise RuntimeError("CUDA error: device-side assert triggered (an earlier kernel failed)")
    return _good(fw, inputs, params)


class PoisoningAdapter(FakeAdapter):
    framework = "poisoning"
    bindings = (Binding("poisoning.assert", OP, _device_assert, "raises a CUDA device-side assert"),
                Binding("poisoning.after", OP, _after_assert, "reference, unless the process is poisoned"))


def _exhaust_memory(fw, inputs, params):
    import signal

    os.kill(os.getpid(), signal.SIGKILL)  # what the kernel's out-of-memory killer does to a process


def _segfault(fw, inputs, params):
    import ctypes

    ctypes.string_at(0)


class DyingAdapter(FakeAdapter):
    framework = "dying"
    bindings = (Binding("dying.oom", OP, _exhaust_memory, "SIGKILL, as the OOM killer sends"),
                Binding("dying.segfault", OP, _segfault, "reads address 0"),
                Binding("dying.after", OP, _good, "reference"))


# An adapter with a reproducer hook, for the repro tests: plain NumPy, so its scripts need no framework.
NASTY_BINDING = 'repro.nasty """ \'\'\' \\ "quoted"\nname'


def _softplus_form(fw, inputs, params):
    x, z = inputs["logits"], inputs["labels"]
    values = np.maximum(x, 0) - x * z + np.log1p(np.exp(-np.abs(x)))
    return {"none": values, "sum": np.sum(values), "mean": np.mean(values)}[params["reduction"]]


def _softplus_form_off(fw, inputs, params):
    return _softplus_form(fw, inputs, params) * 1.01


def _softplus_or_raise(fw, inputs, params):
    raise ValueError("the fake op refuses: 'quotes' \"\"\" and \\ backslashes")


_REPRO_BODY = {
    _softplus_form: "values",
    _softplus_form_off: "values * 1.01",
}


class ReproAdapter(FakeAdapter):
    framework = "reproducible"
    bindings = (
        Binding("reproducible.softplus", OP, _softplus_form, "max(x, 0) - x z + log1p(exp(-|x|))"),
        Binding("reproducible.off", OP, _softplus_form_off, "the same * 1.01"),
        Binding(NASTY_BINDING, OP, _softplus_form_off, 'the same * 1.01, named """badly"""'),
        Binding("reproducible.raises", OP, _softplus_or_raise, "raise ValueError"),
    )

    def to_framework(self, fw, array, dtype, device):
        return np.asarray(array) if np.issubdtype(array.dtype, np.integer) else np.asarray(array).astype(dtype)

    def repro_source(self, binding, params, dtype, mode, device, quantity):
        from conformance.repro_source import ReproSource

        if binding.fn is _softplus_or_raise:
            body = ("raise ValueError(\"the fake op refuses: 'quotes' \\\"\\\"\\\" and \\\\ backslashes\")",)
        else:
            reduce = {"none": "{}", "sum": "np.sum({})", "mean": "np.mean({})"}[params["reduction"]]
            body = ("values = np.maximum(logits, 0) - logits * labels + np.log1p(np.exp(-np.abs(logits)))",
                    "return " + reduce.format(_REPRO_BODY[binding.fn]))
        return ReproSource(prelude=(), tensor=f"{{name}}.astype(np.{dtype})", label_tensor=None, loss=body,
                           run=("result = loss(logits, labels)",), to_numpy="np.asarray({value}, dtype=np.float64)")


class CrashingReproAdapter(ReproAdapter):
    framework = "crashingrepro"
    bindings = (Binding("crashingrepro.abort", OP, _crash, "os.abort()"),)

    def repro_source(self, binding, params, dtype, mode, device, quantity):
        from dataclasses import replace

        source = super().repro_source(Binding("x", OP, _softplus_form, ""), params, dtype, mode, device, quantity)
        return replace(source, prelude=("import os",), loss=("os.abort()",))
