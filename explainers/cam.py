"""Class activation maps: Grad-CAM, Grad-CAM++ and Score-CAM at one convolution layer.

Shared conventions (all three):

* The explained score is the target logit ``S`` (``out_fn`` gives its one-hot; see
  :mod:`explainers.attribution`); softmax enters only where a paper defines it (Score-CAM).
* The layer is named by its module path with ``.`` written as ``_`` (``layer4_1_conv2``); by default the
  *last* ``Conv1d``/``Conv2d`` in ``named_modules`` order. Its output must be ``(n, channels, *spatial)``
  with the input's spatial rank (2-D images, 1-D signals).
* The map ``ReLU(sum_k w_k A_k)`` is formed at the layer's resolution, upsampled to the input's spatial
  size (bilinear for 2-D, linear for 1-D, ``align_corners=False``) and repeated over the input channels,
  so an attribution has the input's shape.

Methods:

* **Grad-CAM** (Selvaraju et al. 2017): ``w_k = mean_ij dS/dA_k[ij]``.
* **Grad-CAM++** (Chattopadhay et al. 2018), in the closed form of the paper's exponential score
  ``Y = exp(S)`` (their eq. 19; also pytorch-grad-cam's): with ``g = dS/dA_k[ij]`` the higher derivatives of
  ``exp(S)`` are ``exp(S) g^2`` and ``exp(S) g^3``, so
  ``alpha_k[ij] = g^2 / (2 g^2 + sum_ab A_k[ab] g^3)`` (0 where that denominator is 0, e.g. ``g = 0``;
  no epsilon is added) and ``w_k = sum_ij alpha_k[ij] ReLU(g)``. The common factor ``exp(S)`` of
  ``dY/dA = exp(S) g`` is dropped (it rescales the map per sample and overflows for large logits).
* **Score-CAM** (Wang et al. 2020, Definition 2): each ``A_k`` is upsampled to the input, min-max
  normalized to ``H_k`` in [0, 1] (``H_k = 0`` when ``A_k`` is constant), and
  ``w_k = p(X * H_k) - p(X_b)``: the increase of the target's softmax probability (softmax over the
  model's logits) over the baseline ``X_b = 0`` (the input under an all-zero mask). No softmax over
  channels is applied (pytorch-grad-cam instead uses raw logits normalized by a softmax over channels).
  Masked inputs are evaluated ``batch`` at a time (``score_cam_batch_<n>``, default 32); this changes
  speed and memory, not the definition.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from explainers.errors import UnsupportedModel
from explainers.methods import MethodSpec

OutputFn = Callable[[torch.Tensor], torch.Tensor]

__all__ = ["grad_cam", "grad_cam_plus_plus", "layer_names", "named_layer", "score_cam"]

_CONVS = (torch.nn.Conv1d, torch.nn.Conv2d)


def layer_names(module: torch.nn.Module) -> list[str]:
    """Every submodule's name as a method name spells it (``.`` written as ``_``)."""
    return [n.replace(".", "_") for n, _ in module.named_modules() if n]


def named_layer(module: torch.nn.Module, layer: str, method: str) -> torch.nn.Module:
    """The layer ``layer`` (empty: the last Conv1d/Conv2d); :class:`UnsupportedModel` lists the layers if absent."""
    if not layer:
        convs = [m for _, m in module.named_modules() if isinstance(m, _CONVS)]
        if not convs:
            raise UnsupportedModel(f"{method} needs a Conv1d/Conv2d layer; the model has none")
        return convs[-1]
    hits = [m for n, m in module.named_modules() if n and n.replace(".", "_") == layer]
    if len(hits) != 1:
        state = "is ambiguous" if hits else "not found"
        raise UnsupportedModel(f"{method} layer {layer!r} {state}; layers: {layer_names(module)}")
    return hits[0]


def _activations(
    module: torch.nn.Module, batch: torch.Tensor, spec: MethodSpec, out_fn: OutputFn | None
) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor]:
    """(A, dS/dA or None, logits) of the spec's layer; gradients only when ``out_fn`` is given."""
    layer = named_layer(module, str(spec.param("layer")), spec.name)
    captured: list[torch.Tensor] = []

    def hook(_m: torch.nn.Module, _i: tuple[torch.Tensor, ...], out: torch.Tensor) -> None:
        captured.append(out)

    handle = layer.register_forward_hook(hook)
    try:
        with torch.enable_grad() if out_fn is not None else torch.no_grad():
            output = module(batch.detach().requires_grad_(out_fn is not None))
            if len(captured) != 1 or not isinstance(captured[0], torch.Tensor):
                raise UnsupportedModel(f"{spec.name}: the layer must run exactly once per forward pass")
            act = captured[0]
            if act.ndim != batch.ndim or act.ndim not in (3, 4):
                raise UnsupportedModel(
                    f"{spec.name} needs a layer output (n, channels, *spatial) with the input's spatial rank; "
                    f"got layer output {tuple(act.shape)} for input {tuple(batch.shape)}"
                )
            grad = None
            if out_fn is not None:
                (grad,) = torch.autograd.grad(output, act, grad_outputs=out_fn(output))
    finally:
        handle.remove()
    return act.detach(), grad, output.detach()


def _resize(maps: torch.Tensor, size: tuple[int, ...]) -> torch.Tensor:
    """(m, c, *s) -> (m, c, *size): bilinear (2-D) or linear (1-D), ``align_corners=False``."""
    mode = "bilinear" if maps.ndim == 4 else "linear"
    return torch.nn.functional.interpolate(maps, size=size, mode=mode, align_corners=False)


def _to_input(weights: torch.Tensor, act: torch.Tensor, batch: torch.Tensor) -> torch.Tensor:
    """ReLU(sum_k w_k A_k), upsampled to the input and repeated over its channels."""
    shape = (*weights.shape, *([1] * (act.ndim - 2)))
    cam = torch.relu((weights.reshape(shape) * act).sum(dim=1, keepdim=True))
    spatial = tuple(batch.shape[2:])
    return _resize(cam, spatial).expand(-1, batch.shape[1], *spatial).contiguous()


def grad_cam(module: torch.nn.Module, batch: torch.Tensor, spec: MethodSpec, out_fn: OutputFn) -> torch.Tensor:
    """Grad-CAM: channel weights = spatial mean of dS/dA."""
    act, grad, _ = _activations(module, batch, spec, out_fn)
    assert grad is not None
    return _to_input(grad.mean(dim=tuple(range(2, act.ndim))), act, batch)


def grad_cam_plus_plus(
    module: torch.nn.Module, batch: torch.Tensor, spec: MethodSpec, out_fn: OutputFn
) -> torch.Tensor:
    """Grad-CAM++ (exp-score closed form): ``w_k = sum_ij ReLU(g) g^2 / (2 g^2 + sum_ab A_k[ab] g^3)``."""
    act, grad, _ = _activations(module, batch, spec, out_fn)
    assert grad is not None
    dims = tuple(range(2, act.ndim))
    g2 = grad * grad
    denominator = 2.0 * g2 + act.sum(dim=dims, keepdim=True) * g2 * grad
    nonzero = denominator != 0
    alpha = torch.where(nonzero, g2 / torch.where(nonzero, denominator, torch.ones_like(denominator)), 0.0)
    return _to_input((alpha * torch.relu(grad)).sum(dim=dims), act, batch)


def _target_probability(logits: torch.Tensor, one_hot: torch.Tensor) -> torch.Tensor:
    return (torch.softmax(logits, dim=1) * one_hot).sum(dim=1)


def score_cam(module: torch.nn.Module, batch: torch.Tensor, spec: MethodSpec, out_fn: OutputFn) -> torch.Tensor:
    """Score-CAM: ``w_k`` = target-probability increase of ``X * H_k`` over the zero baseline."""
    act, _, logits = _activations(module, batch, spec, None)
    one_hot = out_fn(logits)
    n, k = act.shape[:2]
    spatial = tuple(batch.shape[2:])
    chunk = int(spec.param("batch"))
    with torch.no_grad():
        base = _target_probability(module(torch.zeros_like(batch)), one_hot)
        flat = act.reshape(n * k, 1, *act.shape[2:])
        scores = torch.empty(n * k, dtype=batch.dtype, device=batch.device)
        for start in range(0, n * k, chunk):
            rows = torch.arange(start, min(start + chunk, n * k), device=batch.device)
            up = _resize(flat[rows], spatial)
            lo = up.amin(dim=tuple(range(2, up.ndim)), keepdim=True)
            hi = up.amax(dim=tuple(range(2, up.ndim)), keepdim=True)
            span = hi - lo
            mask = torch.where(span > 0, (up - lo) / torch.where(span > 0, span, torch.ones_like(span)), 0.0)
            sample = rows // k
            probability = _target_probability(module(batch[sample] * mask), one_hot[sample])
            scores[rows] = probability - base[sample]
    return _to_input(scores.reshape(n, k), act, batch)
