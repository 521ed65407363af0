"""Out-of-distribution scoring calibrated on reference data: Mahalanobis distance on penultimate features.

Fit (:func:`fit_ood_calibration`): the penultimate features are the input of the model's last ``Linear``
layer (float64 reference module). Class means and one shared covariance (shrunk towards
``SHRINKAGE * mean variance * I`` so dead ReLU units do not make it singular) are estimated on the fit
data (Lee et al., 2018). The score of a sample is the squared Mahalanobis distance to the nearest class
mean. Reference scores are computed on held-out reference data (by default every ``HOLDOUT_EVERY``-th fit
sample is held out instead of used for fitting), sorted, and kept in the calibration object.

Percentile: the fraction of reference scores strictly below the score (0 = more typical than all
reference data, 1 = beyond all of it). The energy score ``-logsumexp(logits)`` is reported alongside,
calibrated the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from explainers.errors import InvalidInput, UnsupportedModel
from explainers.locking import MODULE_LOCK
from explainers.model import LoadedModel
from explainers.validation import as_batch

__all__ = ["OodCalibration", "OodScores", "fit_ood_calibration", "penultimate_features", "score_ood"]

SHRINKAGE = 1e-3
HOLDOUT_EVERY = 5
MIN_REFERENCE = 20


@dataclass(frozen=True, eq=False)
class OodCalibration:
    """Mahalanobis statistics and sorted reference scores fitted for one model (``model_hash``)."""

    model_hash: bytes
    class_means: np.ndarray
    precision: np.ndarray
    reference_distances: np.ndarray
    reference_energies: np.ndarray


@dataclass(frozen=True, eq=False)
class OodScores:
    """Per-sample OOD scores (arrays of shape ``(n,)``)."""

    distance: np.ndarray
    distance_percentile: np.ndarray
    energy: np.ndarray
    energy_percentile: np.ndarray


def _last_linear(module: torch.nn.Module) -> torch.nn.Linear:
    linears = [m for m in module.modules() if isinstance(m, torch.nn.Linear)]
    if not linears:
        raise UnsupportedModel("OOD features need a final torch.nn.Linear layer; the model has none")
    return linears[-1]


def penultimate_features(model: LoadedModel, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(features (n, d), logits (n, classes))``: the input of the last Linear layer and the reference logits."""
    captured: list[torch.Tensor] = []
    layer = _last_linear(model.torch_module)
    with MODULE_LOCK:
        handle = layer.register_forward_hook(lambda _m, inp, _o: captured.append(inp[0]))
        try:
            with torch.no_grad():
                logits = model.torch_module(torch.from_numpy(batch).to(model.device))
        finally:
            handle.remove()
    return captured[0].reshape(batch.shape[0], -1).cpu().numpy(), logits.cpu().numpy()


def _energy(logits: np.ndarray) -> np.ndarray:
    top = logits.max(axis=1)
    return -(top + np.log(np.exp(logits - top[:, None]).sum(axis=1)))


def _distances(features: np.ndarray, means: np.ndarray, precision: np.ndarray) -> np.ndarray:
    diff = features[:, None, :] - means[None, :, :]
    return np.einsum("nkd,de,nke->nk", diff, precision, diff).min(axis=1)


def _percentile(reference: np.ndarray, scores: np.ndarray) -> np.ndarray:
    return np.searchsorted(reference, scores, side="left") / float(len(reference))


def fit_ood_calibration(
    model: LoadedModel,
    x_fit: np.ndarray,
    y_fit: np.ndarray | None = None,
    x_reference: np.ndarray | None = None,
) -> OodCalibration:
    """Fit the calibration on training data ``x_fit`` (labels ``y_fit``; predicted classes when None)."""
    batch, _ = as_batch(x_fit, model.input_shape)
    if y_fit is not None and np.asarray(y_fit).shape != (batch.shape[0],):
        raise InvalidInput(f"y_fit must have shape ({batch.shape[0]},)")
    labels = np.asarray(y_fit, dtype=np.int64) if y_fit is not None else None
    if x_reference is None:
        held = np.arange(batch.shape[0]) % HOLDOUT_EVERY == HOLDOUT_EVERY - 1
        reference, batch = batch[held], batch[~held]
        labels = labels[~held] if labels is not None else None
    else:
        reference, _ = as_batch(x_reference, model.input_shape)
    if len(reference) < MIN_REFERENCE:
        raise InvalidInput(f"need at least {MIN_REFERENCE} reference samples, got {len(reference)}")
    features, logits = penultimate_features(model, batch)
    if labels is None:
        labels = logits.argmax(axis=1)
    classes = [c for c in range(model.num_classes) if np.any(labels == c)]
    if len(classes) < 1:
        raise InvalidInput("no fit samples")
    means = np.stack([features[labels == c].mean(axis=0) for c in classes])
    centred = features - means[np.searchsorted(classes, labels)]
    cov = centred.T @ centred / max(1, len(features) - 1)
    cov += SHRINKAGE * max(float(np.trace(cov)) / cov.shape[0], 1e-12) * np.eye(cov.shape[0])
    precision = np.linalg.inv(cov)
    ref_features, ref_logits = penultimate_features(model, reference)
    return OodCalibration(
        model_hash=model.model_hash,
        class_means=means,
        precision=precision,
        reference_distances=np.sort(_distances(ref_features, means, precision)),
        reference_energies=np.sort(_energy(ref_logits)),
    )


def score_ood(model: LoadedModel, x: np.ndarray, calibration: OodCalibration) -> OodScores:
    """Mahalanobis distance, energy and their percentiles among the calibration's reference scores."""
    if calibration.model_hash != model.model_hash:
        raise InvalidInput("the OOD calibration was fitted for a different model")
    batch, _ = as_batch(x, model.input_shape)
    features, logits = penultimate_features(model, batch)
    distance = _distances(features, calibration.class_means, calibration.precision)
    energy = _energy(logits)
    return OodScores(
        distance=distance,
        distance_percentile=_percentile(calibration.reference_distances, distance),
        energy=energy,
        energy_percentile=_percentile(calibration.reference_energies, energy),
    )
