"""The quantized network agrees with the float model: logits within quantization error, the same top-1 class, and
the fixed-point explanations of ``circuits.qnet`` agree with zennit's float64 attributions (r >= 0.999), compared
directly: the same seeds (LRP from ``one_hot * logit``) and the same ReLU derivative, nothing rescaled.

Models: the digits MLP 64-32-10 (trained, exported to ONNX, loaded with ``load_onnx``) and the small digits CNN
(conv-relu-maxpool-dense on 1x8x8, trained briefly, same path). The figures are printed (``pytest -s``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

from proven_report import explanation_agreement, quantization_report  # noqa: E402

from explainers.digits import (  # noqa: E402
    DIGITS_CNN_INPUT_SHAPE,
    DIGITS_INPUT_SHAPE,
    digits_samples,
    export_onnx,
    train_digits_cnn,
    train_digits_mlp,
)
from explainers.model import LoadedModel, load_onnx  # noqa: E402
from explainers.quantize import quantize  # noqa: E402

METHODS = ("gradient", "gradient_x_input", "lrp_epsilon_0_1")
#: 1.0 / 2**7: far above the fixed-point error (weights rounded to 2**-17, one floor of 2**-16 per layer) and far
#: below the logit margins that decide a class.
LOGIT_TOLERANCE = 2.0**-7


@pytest.fixture(scope="module", params=["mlp", "cnn"])
def model(request: pytest.FixtureRequest) -> tuple[str, LoadedModel]:
    if request.param == "mlp":
        return "mlp", load_onnx(export_onnx(train_digits_mlp()[0], DIGITS_INPUT_SHAPE))
    return "cnn", load_onnx(export_onnx(train_digits_cnn()[0], DIGITS_CNN_INPUT_SHAPE))


def test_logits_within_quantization_error(model: tuple[str, LoadedModel]) -> None:
    name, loaded = model
    xs, ys = digits_samples(450)
    report = quantization_report(loaded, quantize(loaded), xs.reshape(-1, *loaded.input_shape), ys)
    print(f"\n{name}: {report}")
    assert report.max_abs_logit_diff < LOGIT_TOLERANCE
    assert report.top1_agreement >= 0.99
    assert report.quant_accuracy is not None and report.float_accuracy is not None
    assert abs(report.quant_accuracy - report.float_accuracy) <= 0.01
    assert report.max_abs_value_bits <= 31


@pytest.mark.parametrize("method", METHODS)
def test_explanations_agree_with_zennit(model: tuple[str, LoadedModel], method: str) -> None:
    name, loaded = model
    xs, _ = digits_samples(40)
    figures = explanation_agreement(loaded, quantize(loaded), xs.reshape(-1, *loaded.input_shape), method)
    print(f"\n{name}: {figures}")
    assert figures.pearson_r >= 0.999 and figures.min_sample_r >= 0.999
    assert figures.max_abs_dev <= 1e-3 * max(1.0, figures.max_abs_float)
    assert np.isfinite(figures.max_abs_dev)


def test_proven_lrp_is_explainers_explain_as_is(model: tuple[str, LoadedModel]) -> None:
    """``explainers.explain(model, x, "lrp_epsilon_0_1")`` (default target: the float argmax, zennit's seed) against
    the proven LRP of the quantized class, per input, without any rescaling: the relevances sum to about the target
    logit on both sides, and agree entry by entry."""
    import explainers
    from circuits.qnet import QNet, explain as q_explain, first_argmax, forward
    from explainers.quantize import quantize_input

    name, loaded = model
    net = QNet.from_json(quantize(loaded))
    xs, _ = digits_samples(10)
    worst = 0.0
    for x in xs.reshape(-1, *loaded.input_shape):
        trace = forward(net, quantize_input(loaded, x))
        target = first_argmax(trace.scores)
        flt = np.asarray(explainers.explain(loaded, x, "lrp_epsilon_0_1")).reshape(-1)
        assert target == int(np.argmax(loaded.reference_logits(x[None])[0]))
        fixed = np.array(q_explain(net, trace, "lrp_epsilon_0_1", target), dtype=np.float64) / 2**16
        assert np.corrcoef(fixed, flt)[0, 1] >= 0.999
        assert abs(fixed.sum() - flt.sum()) <= 1e-2 * max(1.0, abs(flt.sum()))  # floors: up to 2**-16 each
        worst = max(worst, float(np.max(np.abs(fixed - flt))) / max(1.0, float(np.max(np.abs(flt)))))
    print(f"\n{name}: proven LRP vs explainers.explain, worst max|dev| / max|float| = {worst:.2e}")
    assert worst <= 1e-3


def test_every_layer_kind_parses_and_runs() -> None:
    """conv (stride 2, padding), avgpool, global average, dropout/identity skipped, a bias-free dense: the QNet that
    quantize emits is valid for circuits.qnet and its forward pass tracks the float logits."""
    import torch

    from explainers.model import load_torch

    torch.manual_seed(5)
    module = torch.nn.Sequential(
        torch.nn.Conv2d(2, 3, 3, stride=2, padding=1), torch.nn.Dropout(0.5), torch.nn.ReLU(), torch.nn.AvgPool2d(2),
        torch.nn.Identity(), torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(3, 4, bias=False),
    ).eval()
    loaded = load_torch(module, (2, 7, 7))
    xs = np.random.default_rng(0).uniform(0.0, 1.0, size=(20, 2, 7, 7))
    report = quantization_report(loaded, quantize(loaded), xs)
    assert report.max_abs_logit_diff < LOGIT_TOLERANCE and report.top1_agreement >= 0.95
