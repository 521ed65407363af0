"""Independent oracle: captum (gradient, integrated gradients, LRP-epsilon) on the digits MLP and a VGG-style CNN,
LRP conservation, and ONNX-vs-torch agreement of the CNN's attributions."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from captum.attr import LRP, IntegratedGradients, Saliency
from captum.attr._utils.lrp_rules import EpsilonRule

from explainers.attribution import explain
from explainers.digits import DIGITS_INPUT_SHAPE, digits_samples, export_onnx, train_digits_mlp
from explainers.model import LoadedModel, load_onnx, load_torch


def vgg_style() -> torch.nn.Sequential:
    """conv-conv-pool-conv-pool-dense-dense on 1x8x8 (a miniature VGG), random but fixed weights."""
    torch.manual_seed(11)
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 8, 3, padding=1), torch.nn.ReLU(),
        torch.nn.Conv2d(8, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(8, 16, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 10),
    ).eval()


@pytest.fixture(scope="module")
def models() -> dict[str, tuple[torch.nn.Module, LoadedModel, np.ndarray]]:
    mlp, _ = train_digits_mlp(seed=0)
    x, _ = digits_samples(8)
    cnn = vgg_style()
    return {
        "mlp": (mlp, load_torch(mlp, DIGITS_INPUT_SHAPE), x.astype(np.float64)),
        "cnn": (cnn, load_torch(cnn, (1, 8, 8)), x.reshape(-1, 1, 8, 8).astype(np.float64)),
        "cnn_onnx": (cnn, load_onnx(export_onnx(cnn, (1, 8, 8))), x.reshape(-1, 1, 8, 8).astype(np.float64)),
    }


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a.reshape(-1), b.reshape(-1))[0, 1])


def _captum(kind: str, module: torch.nn.Module, x: np.ndarray, targets: list[int], eps: float = 0.1) -> np.ndarray:
    net = copy.deepcopy(module).double().eval()
    inputs = torch.from_numpy(x).requires_grad_(True)
    target = torch.tensor(targets)
    if kind == "gradient":
        out = Saliency(net).attribute(inputs, target=target, abs=False)
    elif kind == "ig":
        out = IntegratedGradients(net).attribute(inputs, target=target, n_steps=32, method="riemann_right")
    else:
        for layer in net.modules():
            if isinstance(layer, (torch.nn.Linear, torch.nn.Conv2d)):
                layer.rule = EpsilonRule(epsilon=eps)  # type: ignore[assignment]
            elif isinstance(layer, (torch.nn.MaxPool2d, torch.nn.Flatten)):  # zennit: plain gradient (winner/reshape)
                layer.rule = EpsilonRule(epsilon=1e-12)  # type: ignore[assignment]
        out = LRP(net).attribute(inputs, target=target)
    return out.detach().numpy()


@pytest.mark.parametrize("arch", ["mlp", "cnn"])
@pytest.mark.parametrize("ours,theirs", [("gradient", "gradient"), ("integrated_gradients_steps_32", "ig"),
                                         ("lrp_epsilon_0_1", "lrp")])
def test_matches_captum(models: dict, arch: str, ours: str, theirs: str) -> None:
    module, model, x = models[arch]
    targets = [int(t) for t in np.argmax(model.reference_logits(x), axis=1)]
    got = explain(model, x, ours, targets)
    expected = _captum(theirs, module, x, targets)
    for i in range(len(x)):
        assert _pearson(got[i], expected[i]) >= 0.999, (arch, ours, i)
    if theirs != "lrp":  # identical definitions: equal, not only correlated
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("name", ["lrp_z", "lrp_z_plus", "lrp_alpha_1_beta_0", "lrp_gamma", "lrp_flat", "lrp_w_square",
                                  "lrp_epsilon_0_000001", "epsilon_plus"])
def test_lrp_conservation_without_bias(name: str) -> None:
    """With zero biases, conservative rules move the whole target logit to the input layer (sum rule).

    Not listed on purpose: alpha2-beta1 loses the beta share of neurons without negative contributions, and the
    SIGN input rule is not conservative by design.
    """
    torch.manual_seed(5)
    module = torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3, padding=1, bias=False), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(64, 12, bias=False), torch.nn.ReLU(), torch.nn.Linear(12, 3, bias=False),
    ).eval()
    model = load_torch(module, (1, 8, 8))
    x = np.random.default_rng(2).uniform(0.05, 1.0, size=(5, 1, 8, 8))
    logits = model.reference_logits(x)
    target = [int(t) for t in np.argmax(logits, axis=1)]
    relevance = explain(model, x, name, target)
    kept = relevance.reshape(5, -1).sum(axis=1)
    explained = logits[np.arange(5), target]
    # every rule here is conservative; the only loss is zennit's 1e-6 stabilizer in the denominators
    np.testing.assert_allclose(kept, explained, rtol=2e-4)
    assert not np.allclose(relevance, 0.0)


@pytest.mark.parametrize("name", ["gradient", "integrated_gradients_steps_8", "lrp_epsilon_0_1", "lrp_alpha_2_beta_1",
                                  "epsilon_plus_flat", "guided_backprop", "grad_cam", "grad_cam_plus_plus",
                                  "score_cam", "occlusion_window_2"])
def test_cnn_onnx_and_torch_attributions_agree(models: dict, name: str) -> None:
    _, t_model, x = models["cnn"]
    o_model = models["cnn_onnx"][1]
    np.testing.assert_allclose(o_model.predict(x), t_model.predict(x), atol=1e-5)
    np.testing.assert_allclose(explain(o_model, x, name), explain(t_model, x, name), rtol=1e-6, atol=1e-9)
