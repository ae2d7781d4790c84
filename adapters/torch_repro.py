"""The PyTorch adapter's reproducers: each binding's call as a user writes it, for
``python -m conformance repro`` (see conformance/repro_source.py). Plain text; imports no torch."""

from __future__ import annotations

from typing import Any, Callable, Mapping

from conformance.adapter import Binding
from conformance.repro_source import ReproSource, autograd_run, literal, reduced

from .torch_adapter import (
    _BCE, _CE, _F, _MSE, _bce, _bce_module, _bce_probabilities, _bce_probabilities_module, _cross_entropy,
    _cross_entropy_module, _mse, _mse_module, _nll, _nll_module, _tutorial_sigmoid, _tutorial_softmax, _weighted_bce,
    _weighted_bce_module,
)


# The calls as a user writes them, for ``python -m conformance repro`` (see conformance/repro_source.py):
# binding function -> the loss expression, given the reduction and the params, as source text.
def _repro_pos_weight(params: Mapping[str, Any]) -> str:
    return f"pos_weight=torch.as_tensor({literal(params['pos_weight'])}, dtype=logits.dtype, device=logits.device)"


_REPRO_CALLS: dict[Callable, Callable[[str, Mapping[str, Any]], str]] = {
    _bce: lambda r, p: f"{_BCE}(logits, labels, reduction={r!r})",
    _weighted_bce: lambda r, p: f"{_BCE}(logits, labels, {_repro_pos_weight(p)}, reduction={r!r})",
    _bce_module: lambda r, p: f"torch.nn.BCEWithLogitsLoss(reduction={r!r})(logits, labels)",
    _weighted_bce_module: lambda r, p: (f"torch.nn.BCEWithLogitsLoss({_repro_pos_weight(p)}, "
                                        f"reduction={r!r})(logits, labels)"),
    _cross_entropy: lambda r, p: f"{_CE}(logits, labels, reduction={r!r})",
    _cross_entropy_module: lambda r, p: f"torch.nn.CrossEntropyLoss(reduction={r!r})(logits, labels)",
    _mse: lambda r, p: f"{_MSE}(predictions, targets, reduction={r!r})",
    _mse_module: lambda r, p: f"torch.nn.MSELoss(reduction={r!r})(predictions, targets)",
    _bce_probabilities: lambda r, p: f"{_F}.binary_cross_entropy(probabilities, labels, reduction={r!r})",
    _bce_probabilities_module: lambda r, p: f"torch.nn.BCELoss(reduction={r!r})(probabilities, labels)",
    _nll: lambda r, p: f"{_F}.nll_loss(log_probabilities, labels, reduction={r!r})",
    _nll_module: lambda r, p: f"torch.nn.NLLLoss(reduction={r!r})(log_probabilities, labels)",
    _tutorial_softmax: lambda r, p: _repro_reduced(
        f"-torch.sum(labels * torch.log(torch.softmax(logits, dim={p['axis']})), dim={p['axis']})", r),
    _tutorial_sigmoid: lambda r, p: _repro_reduced(
        "-labels * torch.log(torch.sigmoid(logits)) - (1 - labels) * torch.log(1 - torch.sigmoid(logits))", r),
}


def _repro_reduced(expr: str, reduction: str) -> str:
    return reduced(expr, reduction, "torch.sum", "torch.mean")



def repro_source(binding: Binding, params: Mapping[str, Any], dtype: str, mode: str, device: str,
                 quantity: str) -> ReproSource:
    """Return the binding's check as standalone PyTorch source."""
    call = _REPRO_CALLS.get(binding.fn)
    if call is None:
        raise NotImplementedError(f"no reproducer source for {binding.name}")
    return ReproSource(
        prelude=("import torch", "", "torch.set_num_threads(1)  # as loss-conformance runs torch: one thread"),
        tensor=f"torch.tensor({{name}}, dtype=torch.{dtype}, device={device!r})",
        label_tensor=f"torch.tensor({{name}}, dtype=torch.int64, device={device!r})",
        loss=(f"return {call(params['reduction'], params)}",),
        run=autograd_run(binding.op, mode, quantity, "torch.compile({fn}, dynamic=False)", "{call}.sum()"),
        to_numpy="{value}.detach().cpu().double().numpy()",
    )
