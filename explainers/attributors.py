"""Runners: compute one method family on a float64 batch with zennit attributors (CAM methods: :mod:`explainers.cam`).

Every runner takes the reference module, a batch tensor, the parsed spec and an *output function* that maps
the model output to the vector whose vector-Jacobian product is taken (``one_hot(target)`` for gradients,
``one_hot(target) * logit`` for LRP), and returns an attribution of the batch's shape. Callers hold the
attribution lock (zennit registers hooks on the shared module while it runs).
"""

from __future__ import annotations

import hashlib
import struct
from functools import partial

import numpy as np
import torch
from zennit.attribution import Gradient, IntegratedGradients, Occlusion, occlude_independent

from explainers.cam import OutputFn, grad_cam, grad_cam_plus_plus, score_cam
from explainers.errors import InvalidInput, UnsupportedModel
from explainers.methods import MethodSpec
from explainers.rules import composite_for, sign_mu

__all__ = ["OutputFn", "run_method", "noise_seed"]


def _gradient(module: torch.nn.Module, batch: torch.Tensor, spec: MethodSpec, out_fn: OutputFn) -> torch.Tensor:
    with Gradient(model=module, composite=composite_for(spec, module)) as attributor:
        _, grad = attributor(batch, out_fn)
    return grad


def _integrated_gradients(module: torch.nn.Module, batch: torch.Tensor, spec: MethodSpec, out_fn: OutputFn) -> torch.Tensor:
    attributor = IntegratedGradients(model=module, n_iter=int(spec.param("steps")))
    _, attribution = attributor(batch, out_fn)
    return attribution


def noise_seed(seed: int, sample: np.ndarray) -> int:
    """Seed of one sample's SmoothGrad/VarGrad noise: from the method seed and the sample's float64 bytes.

    Depends only on the sample itself, so an explanation does not change with batch size or position.
    """
    data = struct.pack(">Q", seed) + np.ascontiguousarray(sample, dtype=np.float64).tobytes()
    return int.from_bytes(hashlib.sha256(data).digest()[:8], "big") & ((1 << 63) - 1)


def _noisy_gradients(module: torch.nn.Module, batch: torch.Tensor, spec: MethodSpec, out_fn: OutputFn) -> torch.Tensor:
    """Gradients at ``samples`` noisy copies of each input, shape ``(samples, n, *sample_shape)``."""
    samples, level, seed = int(spec.param("samples")), float(spec.param("noise")), int(spec.param("seed"))
    host = batch.detach().cpu().numpy()
    noise = []
    for i in range(batch.shape[0]):
        generator = torch.Generator(device="cpu").manual_seed(noise_seed(seed, host[i]))
        noise.append(torch.randn((samples, *batch.shape[1:]), generator=generator, dtype=torch.float64))
    std = level * (batch.amax(dim=tuple(range(1, batch.ndim))) - batch.amin(dim=tuple(range(1, batch.ndim))))
    eps = torch.stack(noise, dim=1).to(batch) * std.reshape(1, -1, *([1] * (batch.ndim - 1)))
    noisy = (batch.unsqueeze(0) + eps).reshape(samples * batch.shape[0], *batch.shape[1:])
    grads = _gradient(module, noisy, spec, out_fn)
    return grads.reshape(samples, *batch.shape)


def _occlusion(module: torch.nn.Module, batch: torch.Tensor, spec: MethodSpec, out_fn: OutputFn) -> torch.Tensor:
    """Target-logit drop when each window is zeroed (zennit ``Occlusion`` with the window occluded)."""
    window = int(spec.param("window"))
    spatial = batch.shape[2:] if batch.ndim >= 4 else batch.shape[1:]
    if any(d % window for d in spatial):
        raise InvalidInput(f"{spec.name!r}: occlusion window {window} must divide the input dims {tuple(spatial)}")
    windows = (window,) * len(spatial)
    occlude = partial(occlude_independent, fill_fn=torch.zeros_like, invert=True)
    attributor = Occlusion(model=module, occlusion_fn=occlude, window=windows, stride=windows)
    with torch.no_grad():
        full = out_fn(module(batch)).sum(dim=1)
    _, occluded = attributor(batch, out_fn)
    return full.reshape(-1, *([1] * (batch.ndim - 1))) - occluded


_CAMS = {"grad_cam": grad_cam, "grad_cam_plus_plus": grad_cam_plus_plus, "score_cam": score_cam}


def run_method(module: torch.nn.Module, batch: torch.Tensor, spec: MethodSpec, out_fn: OutputFn) -> torch.Tensor:
    """Attribution of ``batch`` for ``spec`` (same shape as ``batch``)."""
    family = spec.family
    if family in ("gradient", "guided_backprop", "deconvnet", "lrp"):
        return _gradient(module, batch, spec, out_fn)
    if family == "gradient_x_input":
        return _gradient(module, batch, spec, out_fn) * batch
    if family == "gradient_x_sign":
        return _gradient(module, batch, spec, out_fn) * sign_mu(batch, float(spec.param("mu")))
    if family == "integrated_gradients":
        return _integrated_gradients(module, batch, spec, out_fn)
    if family == "smoothgrad":
        return _noisy_gradients(module, batch, spec, out_fn).mean(dim=0)
    if family == "vargrad":
        return _noisy_gradients(module, batch, spec, out_fn).var(dim=0, unbiased=False)
    if family == "occlusion":
        return _occlusion(module, batch, spec, out_fn)
    if family in _CAMS:
        return _CAMS[family](module, batch, spec, out_fn)
    raise UnsupportedModel(f"no runner for method family {family!r}")
