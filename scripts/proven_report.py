"""How close the quantized network (QNet) is to the float model: logits, top-1 agreement, explanations.

The float side is the loaded model's float64 torch module (:meth:`LoadedModel.reference_logits`, zennit through
:func:`explainers.attribution.explain`); the fixed-point side is the single definition of the QNet semantics, the
native oracles of ``circuits.qnet`` (``forward``, ``explain``). Only ``scripts/`` and ``tests/`` may import both
packages, so the comparison lives here (used by ``scripts/bench_proven.py`` and ``tests/test_proven_agreement.py``).

Seeds: the same on both sides, so attributions are compared directly (nothing rescaled): the gradient methods start
from ``1.0`` at the target score (zennit's one-hot output gradient), LRP from ``one_hot * logit`` (zkxai's
``explainers.attribution``; the QNet's LRP from ``one_hot * score``, its fixed-point logit). The ReLU derivative
is torch's on both sides (0 at exactly 0).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from circuits.qnet import QNet, explain as q_explain, first_argmax, forward  # noqa: E402
from explainers.attribution import explain  # noqa: E402
from explainers.encoding import SCALE  # noqa: E402
from explainers.model import LoadedModel  # noqa: E402
from explainers.quantize import quantize_input  # noqa: E402

__all__ = ["Agreement", "QuantReport", "explanation_agreement", "float_attribution", "quantization_report"]


@dataclass(frozen=True)
class QuantReport:
    """Quantized vs float logits over ``samples`` inputs."""

    samples: int
    top1_agreement: float  # fraction of inputs where the QNet's first argmax equals the float argmax
    max_abs_logit_diff: float  # max |QNet score / 2**16 - float logit|
    float_accuracy: float | None  # against the labels, when given
    quant_accuracy: float | None
    max_abs_value_bits: int  # bits of the largest |int| the forward pass produced (int32 bound: 31)


@dataclass(frozen=True)
class Agreement:
    """One explanation method: fixed-point vs zennit float attributions (all samples pooled)."""

    method: str
    samples: int
    pearson_r: float  # over all entries of all samples, pooled
    min_sample_r: float  # the worst per-sample correlation
    max_abs_dev: float  # max |fixed / 2**16 - float|
    max_abs_float: float  # max |float|, the scale max_abs_dev is to be read against


def _net(qnet: QNet | dict[str, Any]) -> QNet:
    return qnet if isinstance(qnet, QNet) else QNet.from_json(qnet)


def quantization_report(model: LoadedModel, qnet: QNet | dict[str, Any], x_samples: np.ndarray,
                        labels: np.ndarray | None = None) -> QuantReport:
    """Top-1 agreement and the max logit deviation of the QNet vs the float64 model on ``x_samples``."""
    net = _net(qnet)
    xs = np.asarray(x_samples, dtype=np.float64).reshape(-1, *model.input_shape)
    float_logits = model.reference_logits(xs)
    agree, dev, bits = 0, 0.0, 0
    quant_pred: list[int] = []
    for x, fl in zip(xs, float_logits):
        trace = forward(net, quantize_input(model, x))
        scores = np.array(trace.scores, dtype=np.float64) / SCALE
        quant_pred.append(first_argmax(trace.scores))
        agree += int(quant_pred[-1] == int(np.argmax(fl)))
        dev = max(dev, float(np.max(np.abs(scores - fl))))
        bits = max(bits, max(abs(v).bit_length() for act in trace.activations for v in act))
    float_acc = quant_acc = None
    if labels is not None:
        y = np.asarray(labels).reshape(-1)
        float_acc = float(np.mean(np.argmax(float_logits, axis=1) == y))
        quant_acc = float(np.mean(np.array(quant_pred) == y))
    return QuantReport(len(xs), agree / len(xs), dev, float_acc, quant_acc, bits)


def float_attribution(model: LoadedModel, x: np.ndarray, method: str, target: int) -> np.ndarray:
    """zennit's float64 attribution of ``target`` (``explainers.attribution.explain``, as is), flattened."""
    return np.asarray(explain(model, x, method, target)).reshape(-1)


def _r(a: np.ndarray, b: np.ndarray) -> float:
    if np.std(a) == 0.0 or np.std(b) == 0.0:
        return 1.0 if np.allclose(a, b) else 0.0
    return float(np.corrcoef(a, b)[0, 1])


def explanation_agreement(model: LoadedModel, qnet: QNet | dict[str, Any], x_samples: np.ndarray,
                          method: str) -> Agreement:
    """Fixed-point (``circuits.qnet.explain``) vs float (zennit) attributions of the QNet's predicted class."""
    net = _net(qnet)
    xs = np.asarray(x_samples, dtype=np.float64).reshape(-1, *model.input_shape)
    fixed_all, float_all, per_sample = [], [], []
    for x in xs:
        trace = forward(net, quantize_input(model, x))
        target = first_argmax(trace.scores)
        fixed = np.array(q_explain(net, trace, method, target), dtype=np.float64) / SCALE
        flt = float_attribution(model, x, method, target)
        fixed_all.append(fixed)
        float_all.append(flt)
        per_sample.append(_r(fixed, flt))
    fx, fl = np.concatenate(fixed_all), np.concatenate(float_all)
    return Agreement(method, len(xs), _r(fx, fl), min(per_sample), float(np.max(np.abs(fx - fl))),
                     float(np.max(np.abs(fl))))
