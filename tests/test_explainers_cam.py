"""Grad-CAM, Grad-CAM++ and Score-CAM against independent computations (r >= 0.99), plus names, errors, determinism.

Grad-CAM is checked against captum's ``LayerGradCam`` (+ ``LayerAttribution.interpolate``). Grad-CAM++ and
Score-CAM are checked against references written here from the papers' formulas with numpy loops, including a
numpy (bi)linear resize: nothing is shared with :mod:`explainers.cam` except the torch model itself (whose
activations and gradients the references read with their own hooks).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torchvision
from captum.attr import LayerAttribution, LayerGradCam

from explainers.attribution import explain
from explainers.encoding import to_fixed
from explainers.errors import UnknownMethod, UnsupportedModel
from explainers.methods import available_methods, parse_method
from explainers.model import LoadedModel, load_torch

R_MIN = 0.99


def _small_cnn() -> torch.nn.Module:
    torch.manual_seed(3)
    return torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(8, 12, 3, padding=1), torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(12 * 8 * 8, 5),
    ).eval()


def _signal_cnn() -> torch.nn.Module:
    torch.manual_seed(4)
    return torch.nn.Sequential(
        torch.nn.Conv1d(2, 6, 5, padding=2), torch.nn.ReLU(), torch.nn.Conv1d(6, 8, 3, padding=1), torch.nn.ReLU(),
        torch.nn.MaxPool1d(2), torch.nn.Flatten(), torch.nn.Linear(8 * 16, 4),
    ).eval()


@pytest.fixture(scope="module")
def cnn() -> tuple[LoadedModel, np.ndarray, str]:
    x = np.random.default_rng(0).uniform(0.0, 1.0, size=(3, 3, 16, 16))
    return load_torch(_small_cnn(), (3, 16, 16)), x, "3"


@pytest.fixture(scope="module")
def signal() -> tuple[LoadedModel, np.ndarray, str]:
    x = np.random.default_rng(0).normal(size=(3, 2, 32))  # seed 1: one all-zero Score-CAM map
    return load_torch(_signal_cnn(), (2, 32)), x, "2"


@pytest.fixture(scope="module")
def resnet() -> tuple[LoadedModel, np.ndarray, str]:
    torch.manual_seed(5)
    module = torchvision.models.resnet18(weights=None, num_classes=10).eval()
    x = np.random.default_rng(2).uniform(0.0, 1.0, size=(2, 3, 64, 64))
    return load_torch(module, (3, 64, 64)), x, "layer4.1.conv2"


# ---- independent reference pieces (numpy loops, own hooks) ---------------------------------------------------


def _resize_axis(a: np.ndarray, axis: int, out: int) -> np.ndarray:
    """Linear resize of one axis with half-pixel centres (align_corners=False; source clamped at 0)."""
    size = a.shape[axis]
    rows = []
    for o in range(out):
        src = max((o + 0.5) * size / out - 0.5, 0.0)
        i0 = int(np.floor(src))
        i1 = min(i0 + 1, size - 1)
        lam = src - i0
        rows.append((1.0 - lam) * np.take(a, i0, axis=axis) + lam * np.take(a, i1, axis=axis))
    return np.stack(rows, axis=axis)


def _resize(a: np.ndarray, size: tuple[int, ...]) -> np.ndarray:
    for axis, out in enumerate(size):
        a = _resize_axis(a, axis, out)
    return a


def _layer(model: LoadedModel, dotted: str) -> torch.nn.Module:
    return dict(model.torch_module.named_modules())[dotted]


def _act_and_grad(model: LoadedModel, dotted: str, x: np.ndarray, target: int) -> tuple[np.ndarray, np.ndarray]:
    """One sample's layer output A (k, *s) and d logit[target] / dA, via a forward hook and retain_grad."""
    store: dict[str, torch.Tensor] = {}

    def hook(_m: torch.nn.Module, _i: object, out: torch.Tensor) -> None:
        out.retain_grad()
        store["a"] = out

    handle = _layer(model, dotted).register_forward_hook(hook)
    try:
        inp = torch.tensor(x[None], dtype=torch.float64, requires_grad=True)
        model.torch_module(inp)[0, target].backward()
    finally:
        handle.remove()
    return store["a"][0].detach().numpy(), store["a"].grad[0].numpy()


def _heatmap(weights: list[float], act: np.ndarray, x: np.ndarray) -> np.ndarray:
    cam = np.zeros(act.shape[1:])
    for k, w in enumerate(weights):
        cam += w * act[k]
    return np.broadcast_to(_resize(np.maximum(cam, 0.0), x.shape[1:]), x.shape)


def reference_grad_cam_plus_plus(model: LoadedModel, dotted: str, x: np.ndarray, target: int) -> np.ndarray:
    """Chattopadhay et al. 2018, eq. 19 with Y = exp(S) (the exp(S) factor of dY/dA dropped)."""
    act, grad = _act_and_grad(model, dotted, x, target)
    weights = []
    for k in range(act.shape[0]):
        total = act[k].sum()
        w = 0.0
        for idx in np.ndindex(*act.shape[1:]):
            g = grad[k][idx]
            denominator = 2.0 * g**2 + total * g**3
            alpha = g**2 / denominator if denominator != 0.0 else 0.0
            w += alpha * max(g, 0.0)
        weights.append(w)
    return _heatmap(weights, act, x)


def _probability(model: LoadedModel, batch: np.ndarray, target: int) -> np.ndarray:
    with torch.no_grad():
        logits = model.torch_module(torch.from_numpy(np.ascontiguousarray(batch))).numpy()
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e[:, target] / e.sum(axis=1)


def reference_score_cam(model: LoadedModel, dotted: str, x: np.ndarray, target: int) -> np.ndarray:
    """Wang et al. 2020, Definition 2: w_k = p_target(X * H_k) - p_target(0), H_k the min-max normalized map."""
    act, _ = _act_and_grad(model, dotted, x, target)
    masked = []
    for k in range(act.shape[0]):
        up = _resize(act[k], x.shape[1:])
        lo, hi = up.min(), up.max()
        h = (up - lo) / (hi - lo) if hi > lo else np.zeros_like(up)
        masked.append(x * h[None])
    probabilities = np.concatenate([_probability(model, np.stack(masked[i : i + 64]), target)
                                    for i in range(0, len(masked), 64)])
    base = _probability(model, np.zeros_like(x)[None], target)[0]
    return _heatmap([float(p - base) for p in probabilities], act, x)


def _r(a: np.ndarray, b: np.ndarray) -> float:
    assert np.ptp(a) > 0 and np.ptp(b) > 0, "a constant map would make the correlation meaningless"
    return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])


def _targets(model: LoadedModel, x: np.ndarray) -> list[int]:
    return [int(t) for t in np.argmax(model.reference_logits(x), axis=1)]


# ---- agreement -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["cnn", "signal", "resnet"])
def test_grad_cam_matches_captum(request: pytest.FixtureRequest, which: str) -> None:
    model, x, dotted = request.getfixturevalue(which)
    targets = _targets(model, x)
    ours = explain(model, x, "grad_cam", targets)
    layer_attr = LayerGradCam(model.torch_module, _layer(model, dotted)).attribute(
        torch.from_numpy(x), target=targets, relu_attributions=True
    )
    mode = "bilinear" if x.ndim == 4 else "linear"
    theirs = LayerAttribution.interpolate(layer_attr, x.shape[2:], mode).detach().numpy()
    for i in range(len(x)):
        assert _r(ours[i, 0], theirs[i, 0]) >= R_MIN
        np.testing.assert_array_equal(ours[i], np.broadcast_to(ours[i, :1], ours[i].shape))  # channel repeat
    np.testing.assert_allclose(ours[:, :1], theirs, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("which", ["cnn", "signal", "resnet"])
def test_grad_cam_plus_plus_matches_the_paper(request: pytest.FixtureRequest, which: str) -> None:
    model, x, dotted = request.getfixturevalue(which)
    targets = _targets(model, x)
    ours = explain(model, x, "grad_cam_plus_plus", targets)
    for i in range(len(x)):
        reference = reference_grad_cam_plus_plus(model, dotted, x[i], targets[i])
        assert _r(ours[i], reference) >= R_MIN
        np.testing.assert_allclose(ours[i], reference, rtol=1e-7, atol=1e-10)
    assert not np.allclose(ours, explain(model, x, "grad_cam", targets))


@pytest.mark.parametrize("which,name", [("cnn", "score_cam"), ("signal", "score_cam_batch_5"),
                                        ("resnet", "score_cam_layer_layer3_1_conv2_batch_64")])
def test_score_cam_matches_the_paper(request: pytest.FixtureRequest, which: str, name: str) -> None:
    model, x, dotted = request.getfixturevalue(which)
    if which == "resnet":
        x, dotted = x[:1], "layer3.1.conv2"  # 256 masked forward passes per sample on CPU
    targets = _targets(model, x)
    ours = explain(model, x, name, targets)
    for i in range(len(x)):
        reference = reference_score_cam(model, dotted, x[i], targets[i])
        assert _r(ours[i], reference) >= R_MIN
        np.testing.assert_allclose(ours[i], reference, rtol=1e-7, atol=1e-12)


# ---- names, errors, determinism ------------------------------------------------------------------------------


def test_names_parse_and_are_listed() -> None:
    assert parse_method("grad_cam_plus_plus").family == "grad_cam_plus_plus"
    assert parse_method("grad_cam_plus_plus_layer_layer4_1").param("layer") == "layer4_1"
    spec = parse_method("score_cam_layer_layer4_1_conv2_batch_8")
    assert (spec.family, spec.param("layer"), spec.param("batch")) == ("score_cam", "layer4_1_conv2", 8)
    assert parse_method("score_cam").params == (("batch", 32), ("layer", ""))
    listed = set(available_methods())
    assert {"grad_cam_plus_plus", "grad_cam_plus_plus_layer_<name>", "score_cam[_layer_<name>][_batch_<n>]"} <= listed
    for bad in ("score_cam_batch_0", "score_cam_layer_", "grad_cam_plus_plus_layer_", "grad_cam_plus", "score_cam_"):
        with pytest.raises(UnknownMethod):
            parse_method(bad)


@pytest.mark.parametrize("name", ["grad_cam", "grad_cam_plus_plus", "score_cam"])
def test_model_without_conv_is_refused(name: str) -> None:
    torch.manual_seed(0)
    mlp = load_torch(torch.nn.Sequential(torch.nn.Linear(8, 4), torch.nn.ReLU(), torch.nn.Linear(4, 3)), (8,))
    with pytest.raises(UnsupportedModel, match="Conv1d/Conv2d"):
        explain(mlp, np.ones(8), name)


@pytest.mark.parametrize("name", ["grad_cam_layer_nope", "grad_cam_plus_plus_layer_nope", "score_cam_layer_nope"])
def test_bad_layer_name_lists_the_layers(resnet: tuple, name: str) -> None:
    model, x, _ = resnet
    with pytest.raises(UnsupportedModel, match=r"'nope' not found; layers: \[.*'layer4_1_conv2'"):
        explain(model, x[:1], name)


def test_non_spatial_layer_is_refused(cnn: tuple) -> None:
    model, x, _ = cnn
    with pytest.raises(UnsupportedModel, match="spatial rank"):
        explain(model, x, "grad_cam_plus_plus_layer_6")  # the Linear layer


@pytest.mark.parametrize("name", ["grad_cam_plus_plus", "score_cam"])
def test_deterministic_and_batch_invariant(cnn: tuple, name: str) -> None:
    model, x, _ = cnn
    first = explain(model, x, name)
    np.testing.assert_array_equal(first, explain(model, x, name))
    assert np.all(first >= 0) and np.any(first > 0)
    assert to_fixed(explain(model, x[1], name)) == to_fixed(first[1])
    if name == "score_cam":
        assert to_fixed(explain(model, x, "score_cam_batch_1")) == to_fixed(first)
        assert to_fixed(explain(model, x, "score_cam_batch_1000")) == to_fixed(first)
    layer = explain(model, x, f"{name}_layer_0")
    assert layer.shape == x.shape and not np.allclose(layer, first)
    np.testing.assert_array_equal(first, explain(model, x, f"{name}_layer_3"))  # the default is the last conv
