"""Attributions (explanations) of a model's logits, computed with zennit on the float64 reference module.

``explain(model, x, method, target)`` returns an array of the same shape as ``x`` (one sample or a batch).
The explained quantity is always the logit of ``target`` (softmax is never part of a loaded model; see
:mod:`explainers.softmax` for stripping one); when ``target`` is None the arg-max of the float64 reference
logits of the *clean* input is explained (also for methods that evaluate perturbed inputs).

Relevance initialisation for LRP: the output relevance is ``one_hot(target) * logit``, so with
conservative rules (LRP-0 / small epsilon, zero biases) the input relevances sum to the explained logit.
Occlusion scores windows with the same ``one_hot(target) * logit`` (i.e. the target logit); all other
methods use ``one_hot(target)`` as the output gradient.

``layout`` states how ``x`` is laid out: ``"model"`` (default, exactly ``model.input_shape``),
``"channels_first"`` (the same for our NCHW models) or ``"channels_last"`` (``(H, W, C)`` for a model
taking ``(C, H, W)``); the attribution is returned in the caller's layout.

Text models (``model.input_dtype == "int64"``, token ids of shape ``(seq_len,)``): ``gradient``,
``gradient_x_input`` and ``integrated_gradients`` are taken w.r.t. the token embeddings (a forward hook on the
model's ``nn.Embedding`` output; IG with a zero-embedding baseline) and reduced to one score per token by summing
over the embedding dimension, so the attribution has the input's shape ``(seq_len,)``; see
:mod:`explainers.token_attribution`. Other methods raise UnsupportedModel for token inputs.

Calls are serialized by a lock because zennit registers hooks on the (shared) module while it runs.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from explainers.attributors import OutputFn, run_method
from explainers.errors import InvalidInput
from explainers.locking import MODULE_LOCK
from explainers.layout import Layout, from_model_layout, to_model_layout
from explainers.methods import MethodSpec, available_methods, parse_method
from explainers.model import LoadedModel
from explainers.rules import check_support
from explainers.token_attribution import explain_tokens
from explainers.validation import as_batch

__all__ = ["available_methods", "explain", "resolve_targets"]

def _checked_targets(target: int | Sequence[int] | None, n: int, num_classes: int) -> list[int] | None:
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


def resolve_targets(model: LoadedModel, batch: np.ndarray, target: int | Sequence[int] | None) -> list[int]:
    """Validated per-sample targets; None means the arg-max of the float64 reference logits."""
    checked = _checked_targets(target, batch.shape[0], model.num_classes)
    if checked is not None:
        return checked
    return [int(i) for i in np.argmax(model.reference_logits(batch), axis=1)]


_SINGLE_PASS = ("gradient", "gradient_x_input", "gradient_x_sign", "guided_backprop", "deconvnet", "lrp")


def _output_fn(targets: torch.Tensor | None, scaled: bool) -> OutputFn:
    """Output weighting for a batch whose rows are copies (sample-major blocks) of the targets' samples.

    ``targets`` None (single-pass methods only: the output *is* the clean input's) means arg-max.
    """

    def fn(out: torch.Tensor) -> torch.Tensor:
        logits = out.detach()
        if targets is None:
            index = logits.argmax(dim=1)
        else:
            index = targets.repeat(logits.shape[0] // targets.shape[0])
        one_hot = torch.nn.functional.one_hot(index, logits.shape[1]).to(logits.dtype)
        return one_hot * logits if scaled else one_hot

    return fn


def explain(
    model: LoadedModel,
    x: np.ndarray,
    method: str,
    target: int | Sequence[int] | None = None,
    *,
    layout: Layout = "model",
) -> np.ndarray:
    """Attribution of ``model``'s target logit w.r.t. ``x`` (float64, same shape and layout as ``x``).

    ``x`` is one sample or a batch; ``target`` is None (arg-max), one class index (for every sample) or
    one index per sample. Raises UnknownMethod, InvalidInput or UnsupportedModel.
    """
    spec = parse_method(method)
    if model.input_dtype == "int64":
        return _explain_tokens(model, x, spec, target)
    moved = to_model_layout(x, model.input_shape, layout)
    batch, single = as_batch(moved, model.input_shape)
    checked = _checked_targets(target, batch.shape[0], model.num_classes)
    if checked is None and spec.family not in _SINGLE_PASS:
        checked = resolve_targets(model, batch, None)
    check_support(model.torch_module, spec)
    tensor = torch.from_numpy(batch).to(model.device)
    target_tensor = None if checked is None else torch.tensor(checked, device=model.device)
    out_fn = _output_fn(target_tensor, spec.family in ("lrp", "occlusion"))
    with MODULE_LOCK:
        attribution = run_method(model.torch_module, tensor, spec, out_fn).detach().cpu().numpy()
    result = attribution[0] if single else attribution
    return from_model_layout(result, model.input_shape, layout)


def _explain_tokens(model: LoadedModel, x: np.ndarray, spec: MethodSpec, target: int | Sequence[int] | None) -> np.ndarray:
    batch, single = model.batch(x)
    checked = _checked_targets(target, batch.shape[0], model.num_classes)
    targets = checked if checked is not None else resolve_targets(model, batch, None)
    with MODULE_LOCK:
        scores = explain_tokens(model.torch_module, batch, spec, targets)
    return scores[0] if single else scores
