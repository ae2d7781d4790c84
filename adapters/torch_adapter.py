"""The PyTorch adapter: torch's functional and module loss APIs, on the CPU, eager and torch.compile.

Every native binding passes the canonical reduction straight to torch's own
``reduction=`` argument, so sums and means are torch's, not ours. torch is
imported only in :meth:`TorchAdapter.load`; the bindings below are plain data.

Two facts about torch that the bindings rely on:

* ``binary_cross_entropy_with_logits`` computes
  ``(1 - z) x - (1 + (q - 1) z) log_sigmoid(x)``, which equals the canonical
  ``q z softplus(-x) + (1 - z) softplus(x)``; ``pos_weight`` broadcasts against
  the labels by trailing dimensions, so a 1-D ``pos_weight`` scales the last
  axis, as the canonical op defines it.
* ``cross_entropy`` takes classes on dim 1 (dim 0 for unbatched rank-1
  logits), and chooses probability targets or class-index targets from the
  labels' dtype: float labels of the logits' shape are probabilities, int64
  labels are indices.

The ``compiled`` mode is ``torch.compile(forward, dynamic=False)`` with the
default (inductor) backend; gradients are ``torch.autograd.grad`` of the sum
of the output, through the compiled forward in that mode.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

import numpy as np

from conformance.adapter import Binding
from conformance.dtypes import numpy_dtype, round_to

_F = "torch.nn.functional"
_POS_WEIGHT = "pos_weight=torch.as_tensor(pos_weight, dtype=logits.dtype)"
_BY_REDUCTION = "then torch.sum / torch.mean of all values for reduction='sum' / 'mean'"


def _pos_weight(fw: Any, inputs: Mapping[str, Any], params: Mapping[str, Any]) -> Any:
    """Return pos_weight (a number or a list) as a tensor of the logits' dtype and device."""
    logits = inputs["logits"]
    return fw.as_tensor(params["pos_weight"], dtype=logits.dtype, device=logits.device)


def _bce(fw, inputs, params):
    """Return torch.nn.functional.binary_cross_entropy_with_logits on logits and labels."""
    return fw.nn.functional.binary_cross_entropy_with_logits(
        inputs["logits"], inputs["labels"], reduction=params["reduction"]
    )


def _weighted_bce(fw, inputs, params):
    """Return torch.nn.functional.binary_cross_entropy_with_logits with pos_weight."""
    return fw.nn.functional.binary_cross_entropy_with_logits(
        inputs["logits"], inputs["labels"], pos_weight=_pos_weight(fw, inputs, params), reduction=params["reduction"]
    )


def _bce_module(fw, inputs, params):
    """Return torch.nn.BCEWithLogitsLoss applied to logits and labels."""
    loss = fw.nn.BCEWithLogitsLoss(reduction=params["reduction"])
    return loss(inputs["logits"], inputs["labels"])


def _weighted_bce_module(fw, inputs, params):
    """Return torch.nn.BCEWithLogitsLoss with pos_weight applied to logits and labels."""
    loss = fw.nn.BCEWithLogitsLoss(pos_weight=_pos_weight(fw, inputs, params), reduction=params["reduction"])
    return loss(inputs["logits"], inputs["labels"])


def _cross_entropy(fw, inputs, params):
    """Return torch.nn.functional.cross_entropy; the labels' dtype picks probabilities or indices."""
    return fw.nn.functional.cross_entropy(inputs["logits"], inputs["labels"], reduction=params["reduction"])


def _cross_entropy_module(fw, inputs, params):
    """Return torch.nn.CrossEntropyLoss applied to logits and labels."""
    loss = fw.nn.CrossEntropyLoss(reduction=params["reduction"])
    return loss(inputs["logits"], inputs["labels"])


def _mse(fw, inputs, params):
    """Return torch.nn.functional.mse_loss on predictions and targets."""
    return fw.nn.functional.mse_loss(inputs["predictions"], inputs["targets"], reduction=params["reduction"])


def _mse_module(fw, inputs, params):
    """Return torch.nn.MSELoss applied to predictions and targets."""
    loss = fw.nn.MSELoss(reduction=params["reduction"])
    return loss(inputs["predictions"], inputs["targets"])


def _bce_probabilities(fw, inputs, params):
    """Return torch.nn.functional.binary_cross_entropy on probabilities and labels."""
    return fw.nn.functional.binary_cross_entropy(inputs["probabilities"], inputs["labels"],
                                                 reduction=params["reduction"])


def _bce_probabilities_module(fw, inputs, params):
    """Return torch.nn.BCELoss applied to probabilities and labels."""
    return fw.nn.BCELoss(reduction=params["reduction"])(inputs["probabilities"], inputs["labels"])


def _nll(fw, inputs, params):
    """Return torch.nn.functional.nll_loss on log-probabilities and class indices."""
    return fw.nn.functional.nll_loss(inputs["log_probabilities"], inputs["labels"], reduction=params["reduction"])


def _nll_module(fw, inputs, params):
    """Return torch.nn.NLLLoss applied to log-probabilities and class indices."""
    return fw.nn.NLLLoss(reduction=params["reduction"])(inputs["log_probabilities"], inputs["labels"])


def _reduce(fw, values, reduction: str):
    """Return values reduced with torch.sum or torch.mean, or unchanged for 'none'."""
    if reduction == "sum":
        return fw.sum(values)
    if reduction == "mean":
        return fw.mean(values)
    return values


def _tutorial_softmax(fw, inputs, params):
    """Return the tutorial's -sum(labels * log(softmax(logits)), axis), reduced."""
    logits, labels, axis = inputs["logits"], inputs["labels"], params["axis"]
    values = -fw.sum(labels * fw.log(fw.softmax(logits, dim=axis)), dim=axis)
    return _reduce(fw, values, params["reduction"])


def _tutorial_sigmoid(fw, inputs, params):
    """Return the tutorial's -z log(sigmoid(x)) - (1 - z) log(1 - sigmoid(x)), reduced."""
    x, z = inputs["logits"], inputs["labels"]
    values = -z * fw.log(fw.sigmoid(x)) - (1 - z) * fw.log(1 - fw.sigmoid(x))
    return _reduce(fw, values, params["reduction"])


def _class_dim_rule(name: str):
    """Return a supports() check: the canonical axis must be the dim torch takes classes on."""

    def supports(inputs: Mapping[str, np.ndarray], params: Mapping[str, Any]) -> str | None:
        shape = tuple(np.shape(inputs["logits"] if "logits" in inputs else inputs["log_probabilities"]))
        rank, axis = len(shape), params.get("axis", -1)
        if rank == 0:
            return f"{name} needs logits with a class axis; got scalar logits"
        if not -rank <= axis < rank:
            return f"axis {axis} is out of range for logits of shape {list(shape)}"
        want = 1 if rank >= 2 else 0
        if axis % rank != want:
            return (
                f"{name} takes classes on dim {want} of rank-{rank} logits, "
                f"but axis {axis} is dim {axis % rank} of logits of shape {list(shape)}"
            )
        return None

    return supports


_BCE = f"{_F}.binary_cross_entropy_with_logits"
_CE = f"{_F}.cross_entropy"
_MSE = f"{_F}.mse_loss"

BINDINGS: tuple[Binding, ...] = (
    Binding(_BCE, "sigmoid_cross_entropy", _bce, f"{_BCE}(logits, labels, reduction=reduction)"),
    Binding(
        _BCE,
        "weighted_sigmoid_cross_entropy",
        _weighted_bce,
        f"{_BCE}(logits, labels, {_POS_WEIGHT}, reduction=reduction)",
    ),
    Binding(
        "torch.nn.BCEWithLogitsLoss",
        "sigmoid_cross_entropy",
        _bce_module,
        "torch.nn.BCEWithLogitsLoss(reduction=reduction)(logits, labels)",
    ),
    Binding(
        "torch.nn.BCEWithLogitsLoss",
        "weighted_sigmoid_cross_entropy",
        _weighted_bce_module,
        f"torch.nn.BCEWithLogitsLoss({_POS_WEIGHT}, reduction=reduction)(logits, labels)",
    ),
    Binding(
        _CE,
        "softmax_cross_entropy",
        _cross_entropy,
        f"{_CE}(logits, labels, reduction=reduction) with labels as probabilities of the logits' dtype",
        supports=_class_dim_rule(_CE),
    ),
    Binding(
        _CE,
        "sparse_softmax_cross_entropy",
        _cross_entropy,
        f"{_CE}(logits, labels, reduction=reduction) with labels as torch.int64 class indices",
        supports=_class_dim_rule(_CE),
    ),
    Binding(
        "torch.nn.CrossEntropyLoss",
        "softmax_cross_entropy",
        _cross_entropy_module,
        "torch.nn.CrossEntropyLoss(reduction=reduction)(logits, labels) with labels as probabilities",
        supports=_class_dim_rule("torch.nn.CrossEntropyLoss"),
    ),
    Binding(
        "torch.nn.CrossEntropyLoss",
        "sparse_softmax_cross_entropy",
        _cross_entropy_module,
        "torch.nn.CrossEntropyLoss(reduction=reduction)(logits, labels) with labels as torch.int64 class indices",
        supports=_class_dim_rule("torch.nn.CrossEntropyLoss"),
    ),
    Binding(_MSE, "mean_squared_error", _mse, f"{_MSE}(predictions, targets, reduction=reduction)"),
    Binding(
        "torch.nn.MSELoss",
        "mean_squared_error",
        _mse_module,
        "torch.nn.MSELoss(reduction=reduction)(predictions, targets)",
    ),
    Binding(
        f"{_F}.binary_cross_entropy",
        "binary_cross_entropy",
        _bce_probabilities,
        f"{_F}.binary_cross_entropy(probabilities, labels, reduction=reduction)",
        conventions=("log-clamp-100",),
    ),
    Binding(
        "torch.nn.BCELoss",
        "binary_cross_entropy",
        _bce_probabilities_module,
        "torch.nn.BCELoss(reduction=reduction)(probabilities, labels)",
        conventions=("log-clamp-100",),
    ),
    Binding(
        f"{_F}.nll_loss",
        "nll_loss",
        _nll,
        f"{_F}.nll_loss(log_probabilities, labels, reduction=reduction) with labels as torch.int64 class indices",
        supports=_class_dim_rule(f"{_F}.nll_loss"),
    ),
    Binding(
        "torch.nn.NLLLoss",
        "nll_loss",
        _nll_module,
        "torch.nn.NLLLoss(reduction=reduction)(log_probabilities, labels)",
        supports=_class_dim_rule("torch.nn.NLLLoss"),
    ),
    Binding(
        "composition:torch.log(torch.softmax)",
        "softmax_cross_entropy",
        _tutorial_softmax,
        f"-torch.sum(labels * torch.log(torch.softmax(logits, dim=axis)), dim=axis), {_BY_REDUCTION}",
        kind="composition",
        default=False,
    ),
    Binding(
        "composition:torch.log(torch.sigmoid)",
        "sigmoid_cross_entropy",
        _tutorial_sigmoid,
        "-labels * torch.log(torch.sigmoid(logits)) - (1 - labels) * torch.log(1 - torch.sigmoid(logits)), "
        + _BY_REDUCTION,
        kind="composition",
        default=False,
    ),
)


# Every check of a run compiles the kit's one ``forward`` function, so all
# builds share one code object and dynamo's per-code-object recompile limit (8
# by default) would be hit within the first binding. Past a limit dynamo falls
# back to eager without an error, which would record eager results as
# compiled; so the limits are raised far above any run and hitting one raises.
_DYNAMO_CONFIG = {
    "recompile_limit": 1_000_000,
    "accumulated_recompile_limit": 1_000_000,
    "fail_on_recompile_limit_hit": True,
}


def _configure_compile() -> None:
    """Set dynamo's limits so that every build compiles, and inductor to compile in-process."""
    import torch._dynamo
    import torch._inductor.config

    for name, value in _DYNAMO_CONFIG.items():
        setattr(torch._dynamo.config, name, value)
    # A pool of compile subprocesses per worker would oversubscribe a small machine.
    torch._inductor.config.compile_threads = 1


class TorchAdapter:
    """PyTorch on the CPU: eager and torch.compile, four float dtypes, autograd gradients."""

    framework = "torch"
    requires = ("torch",)
    distributions = ("torch",)
    dtypes = ("float16", "bfloat16", "float32", "float64")
    modes = ("eager", "compiled")
    devices = ("cpu", "cuda")
    gradients = True
    bindings = BINDINGS

    def load(self) -> Any:
        """Return the torch module, limited to one intra-op thread."""
        import torch

        # The runner may run several workers side by side on a small machine;
        # one thread each keeps them from oversubscribing the cores and makes
        # torch's reductions run in one fixed order.
        torch.set_num_threads(1)
        return torch

    def build(self, fw: Any, forward: Callable, mode: str, wrt: str | None) -> Callable:
        """Return inputs -> forward's value in ``mode``, or -> d sum(forward) / d inputs[wrt] when wrt is given."""
        if mode not in self.modes:
            raise ValueError(f"torch adapter: mode {mode!r} is not one of {', '.join(self.modes)}")
        run = forward
        if mode == "compiled":
            _configure_compile()
            run = fw.compile(forward, dynamic=False)
        if wrt is None:
            return run

        def gradient(inputs: dict) -> Any:
            # A detached leaf, so the caller's tensor is left as it was given.
            leaf = inputs[wrt].detach().requires_grad_(True)
            (grad,) = fw.autograd.grad(run({**inputs, wrt: leaf}).sum(), leaf)
            return grad

        return gradient

    def device_available(self, fw: Any, device: str) -> str | None:
        """Return why torch cannot use ``device`` here, or None."""
        if device == "cuda" and not fw.cuda.is_available():
            return f"torch {fw.__version__} sees no CUDA device (torch.cuda.is_available() is False)"
        return None

    def to_framework(self, fw: Any, array: np.ndarray, dtype: str, device: str) -> Any:
        """Return a tensor on ``device``: floating arrays as ``dtype``, integer arrays as torch.int64 labels."""
        if device not in self.devices:
            raise ValueError(f"torch adapter: device {device!r} is not one of {', '.join(self.devices)}")
        array = np.asarray(array)
        if np.issubdtype(array.dtype, np.integer):
            return fw.tensor(array, dtype=fw.int64, device=device)
        if dtype not in self.dtypes:
            raise ValueError(f"torch adapter: dtype {dtype!r} is not one of {', '.join(self.dtypes)}")
        # Rounded by NumPy (a no-op for arrays already in dtype: torch's own
        # float64 -> float16 cast rounds twice, through float32). bfloat16,
        # which torch cannot read from NumPy, moves as its 16 bits: torch's
        # float32 -> bfloat16 cast turns NaN into a negative NaN.
        rounded = round_to(array, dtype)
        if dtype == "bfloat16":
            return fw.tensor(rounded.view(np.int16), device=device).view(fw.bfloat16)
        return fw.tensor(rounded, dtype=getattr(fw, dtype), device=device)

    def to_numpy(self, fw: Any, value: Any) -> np.ndarray:
        """Return a tensor as a NumPy array of the same dtype (bfloat16 as ml_dtypes.bfloat16)."""
        value = value.detach().cpu()
        if value.dtype == fw.bfloat16:
            return value.contiguous().view(fw.int16).numpy().view(numpy_dtype("bfloat16"))
        return value.numpy()

    def repro_source(self, binding: Binding, params: Mapping[str, Any], dtype: str, mode: str, device: str,
                     quantity: str, shapes: Mapping[str, tuple] | None = None) -> Any:
        """Return the binding's check as standalone PyTorch source, for ``python -m conformance repro``."""
        from .torch_repro import repro_source

        return repro_source(binding, params, dtype, mode, device, quantity)
