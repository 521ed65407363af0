"""Token-level attributions of a text model (int64 token ids), taken w.r.t. the token *embeddings*.

Token ids are not differentiable, so the gradient methods are applied to the output ``e`` of the model's single
``nn.Embedding`` (shape ``(seq_len, dim)`` per sample): a forward hook on that layer replaces its output with a
tensor we differentiate, then each token's score is the sum over the embedding dimension:

* ``gradient``: ``sum_d dlogit/de[t, d]``;
* ``gradient_x_input``: ``sum_d e[t, d] * dlogit/de[t, d]``;
* ``integrated_gradients[_steps_<n>]``: ``sum_d e[t, d] * mean_{k=1..n} dlogit/de(k/n * e)[t, d]`` (zero-embedding
  baseline, right Riemann sum), so the scores sum to about ``logit(e) - logit(0)`` (completeness).

The attribution has the input's shape ``(seq_len,)`` (or ``(n, seq_len)``). Other methods cannot apply to token
ids and raise :class:`UnsupportedModel`. Samples are explained one at a time.
"""

from __future__ import annotations

import numpy as np
import torch

from explainers.errors import UnsupportedModel
from explainers.methods import MethodSpec

__all__ = ["TOKEN_FAMILIES", "explain_tokens"]

TOKEN_FAMILIES = ("gradient", "gradient_x_input", "integrated_gradients")


def _embedding(module: torch.nn.Module) -> torch.nn.Embedding:
    layers = [m for m in module.modules() if isinstance(m, torch.nn.Embedding)]
    if len(layers) != 1:
        raise UnsupportedModel(f"token attributions need exactly one nn.Embedding, found {len(layers)}")
    return layers[0]


def _embedding_gradient(
    module: torch.nn.Module, layer: torch.nn.Embedding, tokens: torch.Tensor, scale: float, target: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """(embedding output e, d logit[target] / d(scale * e)) for one sample ``tokens`` of shape (1, seq_len)."""
    with torch.no_grad():
        clean = layer(tokens)
    point = (clean * scale).requires_grad_(True)
    handle = layer.register_forward_hook(lambda _m, _i, _o: point)
    try:
        with torch.enable_grad():
            logits = module(tokens)
            (grad,) = torch.autograd.grad(logits[0, target], point)
    finally:
        handle.remove()
    return clean, grad


def explain_tokens(module: torch.nn.Module, batch: np.ndarray, spec: MethodSpec, targets: list[int]) -> np.ndarray:
    """Token attributions (float64, shape of ``batch``) of ``targets`` for int64 ``batch`` (n, seq_len)."""
    if spec.family not in TOKEN_FAMILIES:
        raise UnsupportedModel(
            f"method {spec.name!r} cannot apply to token inputs; token models support "
            f"{', '.join(TOKEN_FAMILIES)} (taken w.r.t. the token embeddings)"
        )
    layer = _embedding(module)
    device = next(iter(module.parameters())).device
    rows = []
    for i, target in enumerate(targets):
        tokens = torch.from_numpy(batch[i : i + 1]).to(device)
        if spec.family == "integrated_gradients":
            steps = int(spec.param("steps"))
            total = None
            for k in range(1, steps + 1):
                clean, grad = _embedding_gradient(module, layer, tokens, k / steps, target)
                total = grad if total is None else total + grad
            assert total is not None
            scores = clean * total / steps
        else:
            clean, grad = _embedding_gradient(module, layer, tokens, 1.0, target)
            scores = grad * clean if spec.family == "gradient_x_input" else grad
        rows.append(scores.sum(dim=-1).detach().cpu().numpy()[0])
    return np.stack(rows).astype(np.float64)
