"""Trust metrics per prediction and the two summary scores ``trust_score`` and ``hallucination_risk``.

Per sample (all from the float64 reference module, so they are reproducible):

* ``confidence`` — the largest softmax probability; ``margin`` — top-1 minus top-2 probability.
* ``entropy`` — predictive entropy of the softmax divided by ``log(num_classes)`` (0 = certain, 1 = uniform).
* ``epistemic`` — MC-dropout uncertainty when the model has ``Dropout`` layers: ``passes`` stochastic forward
  passes with dropout active (each sample seeded from ``seed`` alone, so the value does not depend on the
  batch), mutual information ``H(mean p) - mean H(p)`` divided by ``log(num_classes)``. Models without
  dropout report ``uncertainty_method = "none"`` and ``epistemic = None`` (no ensemble is invented).
* ``ood_distance`` / ``ood_percentile`` — Mahalanobis distance on penultimate features and its percentile among
  the calibration's reference data (:mod:`explainers.ood`); ``energy`` / ``energy_percentile`` likewise.
* ``ood_risk = clip((ood_percentile - 0.9) / 0.1, 0, 1)`` — zero for the 90% most typical reference data, rising
  linearly through the last decile, 1 beyond every reference sample.

Summary scores, both in [0, 1]:

* ``hallucination_risk = 1 - (1 - ood_risk) * (1 - epistemic)`` (``epistemic`` taken as 0 when unavailable):
  the chance that the output is not grounded in the training distribution or not stable under the model's own
  uncertainty. Softmax confidence is deliberately *not* part of it: networks are confidently wrong off-distribution.
* ``trust_score = (1 - hallucination_risk) * (1 - entropy)``: grounded *and* decisive.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch

from explainers.locking import MODULE_LOCK
from explainers.model import LoadedModel
from explainers.ood import OodCalibration, score_ood
from explainers.validation import as_batch

__all__ = ["TrustReport", "assess_trust", "mc_dropout_uncertainty", "ood_risk", "softmax"]

OOD_RISK_START = 0.9
DEFAULT_MC_PASSES = 30
UncertaintyMethod = Literal["mc_dropout", "none"]
_DROPOUTS = (torch.nn.Dropout, torch.nn.Dropout1d, torch.nn.Dropout2d, torch.nn.Dropout3d, torch.nn.AlphaDropout)


@dataclass(frozen=True)
class TrustReport:
    """Trust metrics of one prediction (see the module docstring for every definition)."""

    predicted: int
    confidence: float
    margin: float
    entropy: float
    uncertainty_method: UncertaintyMethod
    epistemic: float | None
    ood_distance: float
    ood_percentile: float
    energy: float
    energy_percentile: float
    ood_risk: float
    hallucination_risk: float
    trust_score: float


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise numerically stable softmax."""
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def _entropy(p: np.ndarray) -> np.ndarray:
    return -(p * np.log(np.clip(p, 1e-300, None))).sum(axis=-1)


def ood_risk(percentile: np.ndarray) -> np.ndarray:
    """``clip((percentile - 0.9) / 0.1, 0, 1)``."""
    return np.clip((np.asarray(percentile, dtype=np.float64) - OOD_RISK_START) / (1.0 - OOD_RISK_START), 0.0, 1.0)


def mc_dropout_uncertainty(
    model: LoadedModel, x: np.ndarray, *, passes: int = DEFAULT_MC_PASSES, seed: int = 0
) -> np.ndarray | None:
    """Normalized mutual information under MC dropout per sample, or None when the model has no dropout."""
    module = model.torch_module
    dropouts = [m for m in module.modules() if isinstance(m, _DROPOUTS)]
    if not dropouts:
        return None
    batch, _ = as_batch(x, model.input_shape)
    devices = [model.device.index or 0] if model.device.type == "cuda" else []
    out = np.empty(batch.shape[0])
    with MODULE_LOCK, torch.random.fork_rng(devices=devices), torch.no_grad():
        try:
            for m in dropouts:
                m.train()
            for i in range(batch.shape[0]):
                torch.manual_seed(seed)
                copies = torch.from_numpy(np.repeat(batch[i : i + 1], passes, axis=0)).to(model.device)
                probs = torch.softmax(module(copies), dim=1).cpu().numpy()
                mean = probs.mean(axis=0)
                out[i] = (_entropy(mean) - _entropy(probs).mean()) / np.log(model.num_classes)
        finally:
            for m in dropouts:
                m.eval()
    return np.clip(out, 0.0, 1.0)


def assess_trust(
    model: LoadedModel,
    x: np.ndarray,
    calibration: OodCalibration,
    *,
    mc_passes: int = DEFAULT_MC_PASSES,
    seed: int = 0,
) -> list[TrustReport]:
    """One :class:`TrustReport` per sample of ``x`` (one sample or a batch)."""
    batch, _ = as_batch(x, model.input_shape)
    probs = softmax(model.reference_logits(batch))
    ordered = np.sort(probs, axis=1)
    margin = ordered[:, -1] - (ordered[:, -2] if probs.shape[1] > 1 else 0.0)
    entropy = _entropy(probs) / np.log(probs.shape[1]) if probs.shape[1] > 1 else np.zeros(len(probs))
    epistemic = mc_dropout_uncertainty(model, batch, passes=mc_passes, seed=seed)
    scores = score_ood(model, batch, calibration)
    risk_ood = ood_risk(scores.distance_percentile)
    unstable = epistemic if epistemic is not None else np.zeros(len(probs))
    hallucination = 1.0 - (1.0 - risk_ood) * (1.0 - unstable)
    trust = (1.0 - hallucination) * (1.0 - entropy)
    return [
        TrustReport(
            predicted=int(np.argmax(probs[i])),
            confidence=float(ordered[i, -1]),
            margin=float(margin[i]),
            entropy=float(entropy[i]),
            uncertainty_method="mc_dropout" if epistemic is not None else "none",
            epistemic=None if epistemic is None else float(epistemic[i]),
            ood_distance=float(scores.distance[i]),
            ood_percentile=float(scores.distance_percentile[i]),
            energy=float(scores.energy[i]),
            energy_percentile=float(scores.energy_percentile[i]),
            ood_risk=float(risk_ood[i]),
            hallucination_risk=float(np.clip(hallucination[i], 0.0, 1.0)),
            trust_score=float(np.clip(trust[i], 0.0, 1.0)),
        )
        for i in range(len(probs))
    ]
