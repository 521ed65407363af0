"""Trust and explanation-quality assessment of predictions, as the node reports them.

These figures are measured by the node and reported beside the attestation; they are NOT covered by the
Groth16 proof (the proof binds the model hash, input, prediction and explanation digests). Trust needs an
out-of-distribution calibration fitted on the model's reference data (``POST /v1/models/{hash}/calibration``);
without one, only the softmax-based figures are given.
"""

from __future__ import annotations

import io
from dataclasses import asdict
from typing import Any

import numpy as np

from explainers.model import LoadedModel
from explainers.ood import OodCalibration, fit_ood_calibration
from explainers.quality import deletion_auc, evaluate_explanations, faithfulness_correlation, insertion_auc, sparseness
from explainers.trust import assess_trust, softmax


def calibration_to_bytes(cal: OodCalibration) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, model_hash=np.frombuffer(cal.model_hash, dtype=np.uint8), class_means=cal.class_means,
             precision=cal.precision, reference_distances=cal.reference_distances,
             reference_energies=cal.reference_energies)
    return buf.getvalue()


def calibration_from_bytes(data: bytes) -> OodCalibration:
    with np.load(io.BytesIO(data), allow_pickle=False) as z:
        return OodCalibration(model_hash=bytes(z["model_hash"].tobytes()), class_means=z["class_means"],
                              precision=z["precision"], reference_distances=z["reference_distances"],
                              reference_energies=z["reference_energies"])


def fit_calibration(model: LoadedModel, x: np.ndarray, y: np.ndarray | None) -> OodCalibration:
    return fit_ood_calibration(model, x, y)


def _floats(d: dict[str, Any]) -> dict[str, Any]:
    return {k: (round(float(v), 6) if isinstance(v, (float, np.floating)) else v) for k, v in d.items()}


def trust(model: LoadedModel, x: np.ndarray, calibration: OodCalibration | None) -> list[dict[str, Any]]:
    """Per-sample trust figures; with no calibration, confidence/margin/entropy only."""
    if calibration is not None:
        return [_floats(asdict(r)) for r in assess_trust(model, x, calibration)]
    probs = softmax(model.reference_logits(x))
    ordered = np.sort(probs, axis=1)
    entropy = -(probs * np.log(np.clip(probs, 1e-300, 1))).sum(axis=1) / np.log(probs.shape[1])
    return [_floats({"predicted": int(p.argmax()), "confidence": float(o[-1]), "margin": float(o[-1] - o[-2]),
                     "entropy": float(e), "ood_percentile": None, "trust_score": None, "hallucination_risk": None,
                     "note": "no OOD calibration for this model: POST /v1/models/{hash}/calibration"})
            for p, o, e in zip(probs, ordered, entropy, strict=True)]


def quality(model: LoadedModel, x: np.ndarray, attribution: np.ndarray, targets: list[int]) -> list[dict[str, float]]:
    """Per-sample explanation quality: deletion/insertion AUC, faithfulness correlation, sparseness."""
    dele = deletion_auc(model, x, attribution, targets)
    ins = insertion_auc(model, x, attribution, targets)
    faith = faithfulness_correlation(model, x, attribution, targets)
    sparse = sparseness(attribution)
    return [_floats({"deletion_auc": d, "insertion_auc": i, "faithfulness": f, "sparseness": s})
            for d, i, f, s in zip(dele, ins, faith, sparse, strict=True)]


def evaluate(model: LoadedModel, x: np.ndarray, method: str) -> dict[str, Any]:
    """Batch evaluation of a method on reference inputs, including the model-randomisation sanity check."""
    report = evaluate_explanations(model, x, method)
    return {"method": method, "samples": int(len(x)), "means": _floats(report.summary())}
