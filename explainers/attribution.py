"""Attributions (explanations) of a model's logits, computed with zennit on the float64 reference module.

``explain(model, x, method, target)`` returns an array of the same shape as ``x`` (one sample or a batch).
The explained quantity is always the logit of ``target`` (softmax is never part of a model here); when
``target`` is None the arg-max of the float64 reference logits is explained.

Relevance initialisation for LRP: the output relevance is ``one_hot(target) * logit``, so with
conservative rules (LRP-0 / small epsilon, zero biases) the input relevances sum to the explained logit.
Gradient methods use ``one_hot(target)`` as the output gradient.

Calls are serialized by a lock because zennit registers hooks on the (shared) module while it runs.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np
import torch
from zennit.attribution import Gradient

from explainers.errors import InvalidInput
from explainers.methods import MethodSpec, available_methods, check_lrp_support, lrp_composite, parse_method
from explainers.model import LoadedModel
from explainers.validation import as_batch

__all__ = ["available_methods", "explain"]

_LOCK = threading.Lock()


def _targets(target: int | Sequence[int] | None, n: int, num_classes: int) -> list[int] | None:
    if target is None:
        return None
    raw: list[object] = [target] * n if isinstance(target, (int, np.integer)) else list(target)  # type: ignore[arg-type]
    if len(raw) != n:
        raise InvalidInput(f"got {len(raw)} targets for a batch of {n}")
    out: list[int] = []
    for t in raw:
        if isinstance(t, bool) or not isinstance(t, (int, np.integer)):
            raise InvalidInput(f"target must be an integer class index, got {t!r}")
        if not 0 <= int(t) < num_classes:
            raise InvalidInput(f"target {int(t)} out of range [0, {num_classes})")
        out.append(int(t))
    return out


def _run(model: LoadedModel, batch: torch.Tensor, spec: MethodSpec, targets: list[int] | None) -> torch.Tensor:
    def output_relevance(out: torch.Tensor) -> torch.Tensor:
        logits = out.detach()
        index = logits.argmax(dim=1) if targets is None else torch.tensor(targets, device=logits.device)
        one_hot = torch.nn.functional.one_hot(index, logits.shape[1]).to(logits.dtype)
        return one_hot * logits if spec.family == "lrp" else one_hot

    composite = lrp_composite(spec) if spec.family == "lrp" else None
    with Gradient(model=model.torch_module, composite=composite) as attributor:
        _, grad = attributor(batch, output_relevance)
    return grad * batch if spec.family == "gradient_x_input" else grad


def explain(
    model: LoadedModel,
    x: np.ndarray,
    method: str,
    target: int | Sequence[int] | None = None,
) -> np.ndarray:
    """Attribution of ``model``'s target logit w.r.t. ``x`` (float64, same shape as ``x``).

    ``x`` is one sample of ``model.input_shape`` or a batch; ``target`` is None (arg-max), one class index
    (for every sample) or one index per sample. Raises UnknownMethod, InvalidInput or UnsupportedModel.
    """
    spec = parse_method(method)
    batch, single = as_batch(x, model.input_shape)
    targets = _targets(target, batch.shape[0], model.num_classes)
    if spec.family == "lrp":
        check_lrp_support(model.torch_module)
    tensor = torch.from_numpy(batch).to(model.device)
    with _LOCK:
        attribution = _run(model, tensor, spec, targets).detach().cpu().numpy()
    return attribution[0] if single else attribution
