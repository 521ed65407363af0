"""Attribution methods checked against independent oracles (numpy LRP, hand-written gradients, autograd)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from explainers.attribution import available_methods, explain
from explainers.digits import DIGITS_INPUT_SHAPE, digits_samples, export_onnx, train_digits_mlp
from explainers.errors import InvalidInput, UnknownMethod, UnsupportedModel
from explainers.methods import parse_method
from explainers.model import LoadedModel, load_onnx, load_torch


@pytest.fixture(scope="module")
def digits() -> tuple[torch.nn.Sequential, LoadedModel, LoadedModel, np.ndarray]:
    module, _ = train_digits_mlp(seed=0)
    x, _ = digits_samples(16)
    return module, load_torch(module, DIGITS_INPUT_SHAPE), load_onnx(export_onnx(module, DIGITS_INPUT_SHAPE)), x


def _weights(module: torch.nn.Sequential) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    first, second = module[0], module[2]
    return (
        first.weight.detach().double().numpy(),
        first.bias.detach().double().numpy(),
        second.weight.detach().double().numpy(),
        second.bias.detach().double().numpy(),
    )


def _stab(z: np.ndarray, eps: float) -> np.ndarray:
    """zennit's stabilizer: z + eps * sign(z), with sign(0) taken as +1."""
    return z + eps * np.where(z >= 0.0, 1.0, -1.0)


def numpy_lrp_epsilon(module: torch.nn.Sequential, x: np.ndarray, target: int, eps: float) -> np.ndarray:
    """Oracle: LRP-epsilon for Linear -> ReLU -> Linear, written from the rule's definition."""
    w1, b1, w2, b2 = _weights(module)
    z1 = w1 @ x + b1
    h = np.maximum(z1, 0.0)
    out = w2 @ h + b2
    r_out = np.zeros_like(out)
    r_out[target] = out[target]
    r_h = h * (w2.T @ (r_out / _stab(out, eps)))
    return x * (w1.T @ (r_h / _stab(z1, eps)))


def numpy_gradient(module: torch.nn.Sequential, x: np.ndarray, target: int) -> np.ndarray:
    """Oracle: d out[target] / dx = W1^T (relu'(z1) * W2[target])."""
    w1, b1, w2, _ = _weights(module)
    return w1.T @ ((w1 @ x + b1 > 0.0) * w2[target])


def test_method_names_parse() -> None:
    assert parse_method("lrp_epsilon_0_1").epsilon == pytest.approx(0.1)
    assert parse_method("lrp_epsilon_1").epsilon == 1.0
    assert parse_method("lrp_epsilon_0_25").epsilon == pytest.approx(0.25)
    assert parse_method("lrp_epsilon_50").epsilon == 50.0
    assert {"gradient", "gradient_x_input", "lrp_z", "lrp_zplus"} <= set(available_methods())


@pytest.mark.parametrize(
    "name", ["", "saliency", "lrp_epsilon", "lrp_epsilon_", "lrp_epsilon_0", "lrp_epsilon_01", "lrp_epsilon_0_", "LRP_Z",
             "lrp_epsilon_<v>", "lrp_epsilon_1e-3", "gradient "],
)
def test_unknown_methods_raise(digits: tuple, name: str) -> None:
    _, model, _, x = digits
    with pytest.raises(UnknownMethod):
        explain(model, x[0], name)


def test_gradient_matches_oracles(digits: tuple) -> None:
    module, model, _, x = digits
    targets = [int(i % 10) for i in range(len(x))]
    got = explain(model, x, "gradient", targets)
    for i in range(len(x)):
        np.testing.assert_allclose(got[i], numpy_gradient(module, x[i].astype(np.float64), targets[i]), atol=1e-6)
        xt = torch.tensor(x[i : i + 1], dtype=torch.float32, requires_grad=True)
        module(xt)[0, targets[i]].backward()
        np.testing.assert_allclose(got[i], xt.grad[0].numpy(), atol=1e-5)


def test_gradient_x_input_and_single_sample_shape(digits: tuple) -> None:
    _, model, _, x = digits
    grad = explain(model, x[3], "gradient", 7)
    gxi = explain(model, x[3], "gradient_x_input", 7)
    assert grad.shape == x[3].shape and gxi.shape == x[3].shape
    np.testing.assert_allclose(gxi, grad * x[3], atol=1e-12)


@pytest.mark.parametrize("name,eps", [("lrp_epsilon_0_1", 0.1), ("lrp_epsilon_1", 1.0), ("lrp_epsilon_0_001", 0.001)])
def test_lrp_epsilon_matches_numpy_oracle(digits: tuple, name: str, eps: float) -> None:
    module, model, _, x = digits
    logits = model.reference_logits(x)
    got = explain(model, x, name)
    for i in range(len(x)):
        expected = numpy_lrp_epsilon(module, x[i].astype(np.float64), int(np.argmax(logits[i])), eps)
        np.testing.assert_allclose(got[i], expected, rtol=1e-7, atol=1e-9)
    # a different epsilon gives a measurably different explanation (the parameter is really used)
    assert not np.allclose(explain(model, x[0], "lrp_epsilon_1"), explain(model, x[0], "lrp_epsilon_0_001"))


def test_lrp_conservation_without_bias() -> None:
    torch.manual_seed(3)
    module = torch.nn.Sequential(
        torch.nn.Linear(12, 8, bias=False), torch.nn.ReLU(), torch.nn.Linear(8, 4, bias=False)
    )
    model = load_torch(module, (12,))
    x = np.random.default_rng(5).uniform(0.1, 1.0, size=(6, 12))
    logits = model.reference_logits(x)
    for name in ("lrp_z", "lrp_epsilon_0_000001"):
        relevance = explain(model, x, name, 2)
        np.testing.assert_allclose(relevance.sum(axis=1), logits[:, 2], rtol=1e-4)
    # with bias-free ReLU nets LRP-0 equals gradient x input
    np.testing.assert_allclose(explain(model, x, "lrp_z", 2), explain(model, x, "gradient_x_input", 2), atol=1e-6)


def test_lrp_zplus_is_nonnegative_for_nonnegative_inputs(digits: tuple) -> None:
    _, model, _, x = digits
    relevance = explain(model, x, "lrp_zplus")
    assert relevance.shape == x.shape
    assert np.all(relevance >= -1e-12)
    assert not np.allclose(relevance, explain(model, x, "lrp_epsilon_0_1"))


@pytest.mark.parametrize("name", ["gradient", "gradient_x_input", "lrp_epsilon_0_1", "lrp_z", "lrp_zplus"])
def test_onnx_and_torch_attributions_agree(digits: tuple, name: str) -> None:
    _, torch_model, onnx_model, x = digits
    np.testing.assert_allclose(explain(onnx_model, x, name), explain(torch_model, x, name), atol=1e-6)


def test_default_target_is_argmax_and_targets_validated(digits: tuple) -> None:
    _, model, _, x = digits
    argmax = np.argmax(model.reference_logits(x), axis=1).tolist()
    np.testing.assert_array_equal(explain(model, x, "gradient"), explain(model, x, "gradient", argmax))
    with pytest.raises(InvalidInput):
        explain(model, x, "gradient", [0, 1])
    with pytest.raises(InvalidInput):
        explain(model, x[0], "gradient", 10)
    with pytest.raises(InvalidInput):
        explain(model, x[0], "gradient", -1)
    with pytest.raises(InvalidInput):
        explain(model, x[0], "gradient", True)


def test_layer_without_rule_is_rejected_not_degraded() -> None:
    module = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Tanh(), torch.nn.Linear(3, 2))
    model = load_torch(module, (4,))
    x = np.ones(4)
    assert explain(model, x, "gradient").shape == (4,)  # gradients are defined for any differentiable model
    with pytest.raises(UnsupportedModel, match="Tanh"):
        explain(model, x, "lrp_epsilon_0_1")


class _Custom(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = torch.nn.Linear(4, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.sigmoid(x))


def test_custom_container_is_rejected_for_lrp() -> None:
    model = load_torch(_Custom(), (4,))
    with pytest.raises(UnsupportedModel, match="Sequential"):
        explain(model, np.ones(4), "lrp_z")


def test_convolutional_model_onnx_and_torch_agree() -> None:
    torch.manual_seed(1)
    module = torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Flatten(),
        torch.nn.Linear(64, 10),
    ).eval()
    t_model = load_torch(module, (1, 8, 8))
    o_model = load_onnx(export_onnx(module, (1, 8, 8)))
    x = np.random.default_rng(0).uniform(0.0, 1.0, size=(3, 1, 8, 8))
    np.testing.assert_allclose(o_model.predict(x), t_model.predict(x), atol=1e-5)
    for name in ("gradient", "lrp_epsilon_0_1", "lrp_zplus"):
        a = explain(o_model, x, name)
        assert a.shape == x.shape
        np.testing.assert_allclose(a, explain(t_model, x, name), atol=1e-6)
