"""own-loss as a loss-conformance adapter: a column of `pytest --conformance` and `python -m conformance run`.

Registered in pyproject.toml under the ``conformance.adapters`` entry-point group.
"""

from __future__ import annotations

import numpy as np

from conformance.adapter import Binding


def _mse(fw, inputs, params):
    return fw.mean_squared_error(inputs["predictions"], inputs["targets"], reduction=params["reduction"])


def _sigmoid(fw, inputs, params):
    return fw.sigmoid_cross_entropy(inputs["logits"], inputs["labels"], reduction=params["reduction"])


class OwnLossAdapter:
    framework = "own-loss"
    requires = ("own_loss",)
    distributions = ("own-loss",)
    dtypes = ("float32", "float64")
    modes = ("eager",)
    devices = ("cpu",)
    bindings = (
        Binding("own_loss.mean_squared_error", "mean_squared_error", _mse,
                "own_loss.mean_squared_error(p, t, reduction)"),
        Binding("own_loss.sigmoid_cross_entropy", "sigmoid_cross_entropy", _sigmoid,
                "own_loss.sigmoid_cross_entropy(x, z, reduction)"),
    )

    def load(self):
        import own_loss

        return own_loss

    def to_framework(self, fw, array, dtype, device):
        return array if np.issubdtype(array.dtype, np.integer) else array.astype(dtype)

    def to_numpy(self, fw, value):
        return np.asarray(value)
