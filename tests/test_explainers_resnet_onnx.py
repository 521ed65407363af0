"""A torchvision ResNet-18 (random weights) exported to ONNX converts, agrees with onnxruntime and torchvision, and its
LRP agrees with zennit applied to the *original* torchvision module with zennit's ``ResNetCanonizer`` (the oracle).

The BatchNorm layers get random statistics (identity norms would hide folding mistakes) and ``eps = 1e-12``: zennit's
merge leaves each BatchNorm computing ``x / sqrt(1 + eps)`` instead of ``x``, a 5e-6 relative error per norm that
compounds to ~1e-4 over a ResNet-18 with the default eps; with a tiny eps the oracle is exact and the comparison can
be tight. Two exports: BatchNorm folded by torch's exporter (in float32), and BatchNorm kept (folded by
:mod:`explainers.onnx_graph` in float64).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torchvision
from zennit.attribution import Gradient
from zennit.composites import EpsilonPlus, LayerMapComposite
from zennit.core import Composite
from zennit.layer import Sum
from zennit.rules import Epsilon, Norm, Pass
from zennit.torchvision import ResNetCanonizer
from zennit.types import AvgPool, Convolution

from explainers.attribution import explain
from explainers.graph_layers import is_wiring_only
from explainers.model import LoadedModel, load_onnx
from explainers.onnx_export import export_onnx

SHAPE = (3, 64, 64)
TARGET = 3


@pytest.fixture(scope="module")
def resnet() -> tuple[torch.nn.Module, dict[str, LoadedModel], np.ndarray]:
    torch.manual_seed(0)
    native = torchvision.models.resnet18(weights=None, num_classes=10).eval()
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for m in native.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.eps = 1e-12
                m.running_mean.uniform_(-0.2, 0.2, generator=g)
                m.running_var.uniform_(0.5, 1.5, generator=g)
                m.weight.uniform_(0.5, 1.5, generator=g)
                m.bias.uniform_(-0.2, 0.2, generator=g)
    models = {
        "bn_kept": load_onnx(export_onnx(native, SHAPE, constant_folding=False)),
        "bn_folded_by_exporter": load_onnx(export_onnx(native, SHAPE)),
    }
    x = np.random.default_rng(2).uniform(0.0, 1.0, size=(2, *SHAPE))
    return native.double(), models, x


def _out(o: torch.Tensor) -> torch.Tensor:
    return torch.nn.functional.one_hot(torch.full((o.shape[0],), TARGET), o.shape[1]).to(o) * o


def _oracle(native: torch.nn.Module, x: np.ndarray, composite: Composite) -> np.ndarray:
    with Gradient(model=native, composite=composite) as attributor:
        _, relevance = attributor(torch.from_numpy(x), _out)
    return relevance.numpy()


ORACLES = {
    "lrp_epsilon_0_1": lambda: LayerMapComposite(
        layer_map=[(torch.nn.ReLU, Pass()), (AvgPool, Norm()), (Sum, Norm()), (Convolution, Epsilon(0.1)),
                   (torch.nn.Linear, Epsilon(0.1))],
        canonizers=[ResNetCanonizer()],
    ),
    "epsilon_plus": lambda: EpsilonPlus(canonizers=[ResNetCanonizer()]),
}


@pytest.mark.parametrize("export", ["bn_kept", "bn_folded_by_exporter"])
def test_resnet18_converts_and_agrees_with_onnxruntime_and_torchvision(resnet: tuple, export: str) -> None:
    native, models, x = resnet
    model = models[export]
    assert is_wiring_only(model.torch_module)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in model.torch_module.modules())
    assert sum(type(m).__name__ == "Add" for m in model.torch_module.modules()) == 8
    reference = model.reference_logits(x)
    np.testing.assert_allclose(model.predict(x), reference, rtol=1e-4, atol=1e-5)
    with torch.no_grad():
        expected = native(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(reference, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("method", sorted(ORACLES))
def test_resnet18_lrp_matches_zennit_resnet_canonizer_on_torchvision(resnet: tuple, method: str) -> None:
    native, models, x = resnet
    expected = _oracle(native, x, ORACLES[method]())
    scale = float(np.abs(expected).max())
    exact = explain(models["bn_kept"], x, method, TARGET)
    np.testing.assert_allclose(exact, expected, rtol=1e-6, atol=1e-9 * scale)
    rounded = explain(models["bn_folded_by_exporter"], x, method, TARGET)  # float32 folding by the exporter
    assert np.corrcoef(rounded.ravel(), expected.ravel())[0, 1] >= 0.9999
    assert float(np.abs(rounded - expected).max()) <= 1e-4 * scale


def test_resnet18_gradient_family_on_the_graph(resnet: tuple) -> None:
    native, models, x = resnet
    model = models["bn_kept"]
    inputs = torch.from_numpy(x).requires_grad_(True)
    native(inputs)[:, TARGET].sum().backward()
    np.testing.assert_allclose(explain(model, x, "gradient", TARGET), inputs.grad.numpy(), rtol=1e-7, atol=1e-12)
    for method in ("gradient_x_input", "integrated_gradients_steps_4", "smoothgrad_samples_2", "guided_backprop"):
        a = explain(model, x, method, TARGET)
        assert a.shape == x.shape and np.all(np.isfinite(a)) and np.any(a != 0), method


def test_resnet18_grad_cam_default_layer_is_the_last_conv(resnet: tuple) -> None:
    native, models, x = resnet
    model = models["bn_kept"]
    default = explain(model, x, "grad_cam", TARGET)
    np.testing.assert_array_equal(default, explain(model, x, "grad_cam_layer_layer4_layer4_1_conv2_Conv", TARGET))
    # Oracle: the folded conv's output is torchvision's layer4[1].bn2 output; Grad-CAM from the papers' formula there.
    captured: list[torch.Tensor] = []

    def keep(_m: torch.nn.Module, _i: tuple[torch.Tensor, ...], out: torch.Tensor) -> torch.Tensor:
        captured.append(out)
        return out.clone()  # torchvision's block adds the skip in place (``out += identity``) after bn2

    handle = native.layer4[1].bn2.register_forward_hook(keep)
    try:
        logits = native(torch.from_numpy(x))
        (grad,) = torch.autograd.grad(logits[:, TARGET].sum(), captured[0])
    finally:
        handle.remove()
    cam = torch.relu((grad.mean(dim=(2, 3), keepdim=True) * captured[0].detach()).sum(dim=1, keepdim=True))
    up = torch.nn.functional.interpolate(cam, size=SHAPE[1:], mode="bilinear", align_corners=False)
    np.testing.assert_allclose(default, up.expand(-1, 3, -1, -1).numpy(), rtol=1e-7, atol=1e-12)
