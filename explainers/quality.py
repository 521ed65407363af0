"""Explanation quality metrics, per sample (arrays of shape ``(n,)``) and as a batch summary.

* Pixel flipping (Samek et al. 2017 / RISE): features are ranked by attribution (largest first). Deletion
  replaces the top ``k`` features with the baseline (0) for ``k`` on a grid of ``steps + 1`` fractions of all
  features and records the softmax probability of the target; insertion starts from the baseline and inserts
  them. AUC = trapezoid area over the fraction axis [0, 1]. Faithful: low deletion AUC, high insertion AUC.
* Faithfulness correlation (Bhatt et al. 2020): ``runs`` random feature subsets of size ``subset_size`` are set to
  the baseline; Pearson correlation between the summed attribution of the subset and the target-logit drop.
* Sparseness (Chalasani et al. 2020): Gini index of ``|attribution|`` (0 = uniform, -> 1 = one feature).
* Model parameter randomisation (Adebayo et al. 2018): all Linear/Conv weights and biases are redrawn
  (normal, per-layer std of the originals, seeded), the explanation is recomputed, and the Spearman rank
  correlation of ``|attribution|`` before/after is reported. A method that explains the *model* must change:
  low similarity passes the sanity check.

All randomness uses ``numpy.random.default_rng(seed)`` / ``torch.Generator`` seeds: results are reproducible.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from explainers.attribution import explain, resolve_targets
from explainers.errors import InvalidInput
from explainers.model import LoadedModel, load_torch
from explainers.trust import softmax
from explainers.validation import as_batch

__all__ = [
    "QualityReport",
    "deletion_auc",
    "evaluate_explanations",
    "faithfulness_correlation",
    "insertion_auc",
    "randomisation_similarity",
    "randomised_model",
    "sparseness",
]

DEFAULT_STEPS = 16
DEFAULT_RUNS = 32


def _prepare(
    model: LoadedModel, x: np.ndarray, attribution: np.ndarray, target: int | Sequence[int] | None
) -> tuple[np.ndarray, np.ndarray, list[int]]:
    batch, _ = as_batch(x, model.input_shape)
    attr = np.asarray(attribution, dtype=np.float64).reshape(batch.shape[0], -1)
    if attr.shape[1] != batch[0].size:
        raise InvalidInput(f"attribution of shape {np.shape(attribution)} does not match the input {batch.shape}")
    if not np.all(np.isfinite(attr)):
        raise InvalidInput("attribution contains NaN or Inf")
    return batch, attr, resolve_targets(model, batch, target)


def _target_prob(model: LoadedModel, flat: np.ndarray, target: int) -> np.ndarray:
    logits = model.reference_logits(flat.reshape(-1, *model.input_shape))
    return softmax(logits)[:, target]


def _flip_curves(
    model: LoadedModel, x: np.ndarray, attribution: np.ndarray, target: int | Sequence[int] | None, steps: int, insert: bool
) -> np.ndarray:
    batch, attr, targets = _prepare(model, x, attribution, target)
    if steps < 1:
        raise InvalidInput("steps must be >= 1")
    n_features = attr.shape[1]
    counts = np.round(np.linspace(0.0, 1.0, steps + 1) * n_features).astype(int)
    aucs = np.empty(batch.shape[0])
    for i in range(batch.shape[0]):
        flat = batch[i].reshape(-1)
        order = np.argsort(-attr[i], kind="stable")
        variants = np.zeros((steps + 1, n_features)) if insert else np.repeat(flat[None, :], steps + 1, axis=0)
        for row, k in enumerate(counts):
            chosen = order[:k]
            variants[row, chosen] = flat[chosen] if insert else 0.0
        curve = _target_prob(model, variants, targets[i])
        aucs[i] = float(np.sum((curve[1:] + curve[:-1]) * 0.5) / steps)
    return aucs


def deletion_auc(
    model: LoadedModel,
    x: np.ndarray,
    attribution: np.ndarray,
    target: int | Sequence[int] | None = None,
    *,
    steps: int = DEFAULT_STEPS,
) -> np.ndarray:
    """Area under the target-probability curve while deleting the most relevant features (lower = better)."""
    return _flip_curves(model, x, attribution, target, steps, insert=False)


def insertion_auc(
    model: LoadedModel,
    x: np.ndarray,
    attribution: np.ndarray,
    target: int | Sequence[int] | None = None,
    *,
    steps: int = DEFAULT_STEPS,
) -> np.ndarray:
    """Area under the target-probability curve while inserting the most relevant features (higher = better)."""
    return _flip_curves(model, x, attribution, target, steps, insert=True)


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a - a.mean(), b - b.mean()
    denom = float(np.sqrt((a * a).sum() * (b * b).sum()))
    return float((a * b).sum() / denom) if denom > 0.0 else 0.0


def faithfulness_correlation(
    model: LoadedModel,
    x: np.ndarray,
    attribution: np.ndarray,
    target: int | Sequence[int] | None = None,
    *,
    subset_size: int | None = None,
    runs: int = DEFAULT_RUNS,
    seed: int = 0,
) -> np.ndarray:
    """Pearson correlation of subset attribution sums with the target-logit drop (higher = better)."""
    batch, attr, targets = _prepare(model, x, attribution, target)
    n_features = attr.shape[1]
    size = subset_size if subset_size is not None else max(1, n_features // 8)
    if not 1 <= size <= n_features or runs < 2:
        raise InvalidInput(f"subset_size must be in [1, {n_features}] and runs >= 2")
    rng = np.random.default_rng(seed)
    out = np.empty(batch.shape[0])
    for i in range(batch.shape[0]):
        flat = batch[i].reshape(-1)
        subsets = np.stack([rng.choice(n_features, size=size, replace=False) for _ in range(runs)])
        variants = np.repeat(flat[None, :], runs + 1, axis=0)
        for r in range(runs):
            variants[r + 1, subsets[r]] = 0.0
        logits = model.reference_logits(variants.reshape(-1, *model.input_shape))[:, targets[i]]
        out[i] = _pearson(attr[i][subsets].sum(axis=1), logits[0] - logits[1:])
    return out


def sparseness(attribution: np.ndarray) -> np.ndarray:
    """Gini index of ``|attribution|`` per sample (first axis = batch; a 1-D array is one sample)."""
    arr = np.asarray(attribution, dtype=np.float64)
    flat = np.abs(arr.reshape(1, -1) if arr.ndim == 1 else arr.reshape(arr.shape[0], -1))
    n = flat.shape[1]
    ranked = np.sort(flat, axis=1)
    totals = ranked.sum(axis=1)
    index = np.arange(1, n + 1)
    gini = np.where(totals > 0, ((2 * index - n - 1) * ranked).sum(axis=1) / (n * np.where(totals > 0, totals, 1.0)), 0.0)
    return gini


def randomised_model(model: LoadedModel, seed: int = 0) -> LoadedModel:
    """A copy of ``model`` whose Linear/Conv parameters are redrawn from N(0, per-tensor std), seeded."""
    module = copy.deepcopy(model.torch_module).cpu()
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for layer in module.modules():
            if isinstance(layer, (torch.nn.Linear, torch.nn.Conv1d, torch.nn.Conv2d, torch.nn.Conv3d)):
                for p in layer.parameters(recurse=False):
                    std = float(p.std()) if p.numel() > 1 and float(p.std()) > 0 else 0.1
                    p.copy_(torch.randn(p.shape, generator=generator, dtype=p.dtype) * std)
    return load_torch(module.float(), model.input_shape)


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    rank_a = np.argsort(np.argsort(a, kind="stable"), kind="stable").astype(np.float64)
    rank_b = np.argsort(np.argsort(b, kind="stable"), kind="stable").astype(np.float64)
    return _pearson(rank_a, rank_b)


def randomisation_similarity(
    model: LoadedModel,
    x: np.ndarray,
    method: str,
    target: int | Sequence[int] | None = None,
    *,
    seed: int = 0,
) -> np.ndarray:
    """Spearman correlation of ``|attribution|`` on the model vs. a parameter-randomised copy (lower = better)."""
    batch, _ = as_batch(x, model.input_shape)
    targets = resolve_targets(model, batch, target)
    original = np.abs(explain(model, batch, method, targets)).reshape(batch.shape[0], -1)
    randomised = np.abs(explain(randomised_model(model, seed), batch, method, targets)).reshape(batch.shape[0], -1)
    return np.array([_spearman(original[i], randomised[i]) for i in range(batch.shape[0])])


@dataclass(frozen=True, eq=False)
class QualityReport:
    """Per-sample metric arrays (shape ``(n,)``) of one method on one batch, and their means."""

    method: str
    deletion_auc: np.ndarray
    insertion_auc: np.ndarray
    faithfulness: np.ndarray
    sparseness: np.ndarray
    randomisation_similarity: np.ndarray

    def summary(self) -> dict[str, float]:
        """Batch means of every metric."""
        return {
            "deletion_auc": float(self.deletion_auc.mean()),
            "insertion_auc": float(self.insertion_auc.mean()),
            "faithfulness": float(self.faithfulness.mean()),
            "sparseness": float(self.sparseness.mean()),
            "randomisation_similarity": float(self.randomisation_similarity.mean()),
        }


def evaluate_explanations(
    model: LoadedModel,
    x: np.ndarray,
    method: str,
    target: int | Sequence[int] | None = None,
    *,
    steps: int = DEFAULT_STEPS,
    runs: int = DEFAULT_RUNS,
    seed: int = 0,
) -> QualityReport:
    """Explain ``x`` with ``method`` and compute every metric for each sample."""
    batch, _ = as_batch(x, model.input_shape)
    targets = resolve_targets(model, batch, target)
    attribution = explain(model, batch, method, targets)
    return QualityReport(
        method=method,
        deletion_auc=deletion_auc(model, batch, attribution, targets, steps=steps),
        insertion_auc=insertion_auc(model, batch, attribution, targets, steps=steps),
        faithfulness=faithfulness_correlation(model, batch, attribution, targets, runs=runs, seed=seed),
        sparseness=sparseness(attribution),
        randomisation_similarity=randomisation_similarity(model, batch, method, targets, seed=seed),
    )
