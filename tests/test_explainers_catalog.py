"""The method catalog: name parsing, every method on an MLP and a BatchNorm CNN, determinism, rules, layouts."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
import torch

from explainers.attribution import explain
from explainers.encoding import to_fixed
from explainers.digits import DIGITS_INPUT_SHAPE, digits_samples, export_onnx, train_digits_mlp
from explainers.errors import InvalidInput, UnknownMethod, UnsupportedModel
from explainers.methods import parse_method
from explainers.model import LoadedModel, load_onnx, load_torch

CATALOG = [
    "gradient", "gradient_x_input", "gradient_x_sign", "gradient_x_sign_mu_0_5", "integrated_gradients_steps_8",
    "smoothgrad_samples_4", "vargrad_samples_4", "occlusion", "occlusion_window_2", "guided_backprop", "deconvnet",
    "lrp_z", "lrp_epsilon_0_1", "lrp_z_plus", "lrp_zplus", "lrp_gamma", "lrp_gamma_0_5", "lrp_alpha_1_beta_0",
    "lrp_alpha_2_beta_1", "lrp_flat", "lrp_w_square", "lrp_zbox", "lrp_zbox_low_neg_1_high_1",
    "lrp_sequential_composite_a", "lrp_sequential_composite_b", "lrpsign_z", "lrpsign_epsilon_0_1",
    "lrpsign_alpha_1_beta_0", "lrpsign_sequential_composite_b", "epsilon_plus", "epsilon_gamma_box",
    "epsilon_plus_flat", "epsilon_alpha2_beta1", "epsilon_alpha2_beta1_flat", "excitation_backprop",
]


def _cnn(batch_norm: bool) -> torch.nn.Sequential:
    torch.manual_seed(7)
    layers: list[torch.nn.Module] = [torch.nn.Conv2d(1, 6, 3, padding=1)]
    if batch_norm:
        layers.append(torch.nn.BatchNorm2d(6))
    layers += [
        torch.nn.ReLU(), torch.nn.Conv2d(6, 6, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(96, 10),
    ]
    module = torch.nn.Sequential(*layers)
    if batch_norm:
        with torch.no_grad():
            bn = module[1]
            bn.running_mean.uniform_(-0.5, 0.5)
            bn.running_var.uniform_(0.5, 2.0)
            bn.weight.uniform_(0.5, 1.5)
            bn.bias.uniform_(-0.2, 0.2)
    return module.eval()


@pytest.fixture(scope="module")
def mlp() -> tuple[LoadedModel, np.ndarray]:
    module, _ = train_digits_mlp(seed=0)
    return load_torch(module, DIGITS_INPUT_SHAPE), digits_samples(6)[0].astype(np.float64)


@pytest.fixture(scope="module")
def cnn() -> tuple[LoadedModel, np.ndarray]:
    x = digits_samples(4)[0].reshape(4, 1, 8, 8).astype(np.float64)
    return load_torch(_cnn(batch_norm=True), (1, 8, 8)), x


def test_parameters_are_parsed() -> None:
    assert parse_method("gradient_x_sign_mu_neg_0_5").param("mu") == -0.5
    assert parse_method("integrated_gradients").param("steps") == 50
    assert parse_method("integrated_gradients_steps_32").param("steps") == 32
    spec = parse_method("vargrad_samples_8_noise_0_2_seed_3")
    assert (spec.param("samples"), spec.param("noise"), spec.param("seed")) == (8, 0.2, 3)
    assert parse_method("lrp_alpha_2_beta_1").params == (("alpha", 2.0), ("beta", 1.0))
    assert parse_method("lrp_zbox_low_neg_1_high_2").params == (("high", 2.0), ("low", -1.0))
    assert parse_method("lrpsign_epsilon_0_25").sign_first and parse_method("lrpsign_epsilon_0_25").epsilon == 0.25
    assert parse_method("lrp_z_plus").rule == parse_method("lrp_zplus").rule == "zplus"
    assert parse_method("grad_cam_layer_features_3").param("layer") == "features_3"
    assert parse_method("epsilon_gamma_box").params == parse_method("epsilon_gamma_box_low_0_high_1").params


@pytest.mark.parametrize(
    "name",
    ["lrp_alpha_2_beta_0", "lrp_alpha_1_beta_neg_0", "lrpsign_zbox", "lrp_gamma_0", "smoothgrad_samples_0",
     "vargrad_samples_1", "integrated_gradients_steps_0", "gradient_x_sign_mu", "lrp_zbox_low_1_high_0",
     "smoothgrad_noise_0_1_samples_4", "occlusion_window_0", "epsilon_plus_x", "lrp_sequential_composite_c",
     "grad_cam_layer_", "lrpsign_", "lrp_z_plus_plus"],
)
def test_malformed_names_raise(name: str) -> None:
    with pytest.raises(UnknownMethod):
        parse_method(name)


@pytest.mark.parametrize("name", CATALOG)
def test_every_method_runs_on_mlp_and_batchnorm_cnn(mlp: tuple, cnn: tuple, name: str) -> None:
    for model, x in (mlp, cnn):
        a = explain(model, x, name)
        assert a.shape == x.shape and a.dtype == np.float64 and np.all(np.isfinite(a))
        assert np.any(a != 0.0)
        assert to_fixed(explain(model, x[1], name)) == to_fixed(a[1])  # digest batch-invariant, incl. noisy methods


def test_randomized_methods_are_seeded(mlp: tuple) -> None:
    model, x = mlp
    for family in ("smoothgrad", "vargrad"):
        first = explain(model, x, f"{family}_samples_8")
        np.testing.assert_array_equal(first, explain(model, x, f"{family}_samples_8_seed_0"))
        assert not np.allclose(first, explain(model, x, f"{family}_samples_8_seed_1"))
    # zero noise: smoothgrad is the gradient, vargrad vanishes
    np.testing.assert_allclose(explain(model, x, "smoothgrad_noise_0"), explain(model, x, "gradient"), atol=1e-12)
    np.testing.assert_allclose(explain(model, x, "vargrad_noise_0"), 0.0, atol=1e-20)


def test_sign_methods(mlp: tuple) -> None:
    model, x = mlp
    grad = explain(model, x, "gradient")
    np.testing.assert_allclose(explain(model, x, "gradient_x_sign"), grad * np.where(x >= 0, 1.0, -1.0))
    np.testing.assert_allclose(explain(model, x, "gradient_x_sign_mu_0_5"), grad * np.where(x >= 0.5, 1.0, -1.0))
    # on ReLU nets LRP-0 is gradient x input, so SIGN-first LRP-0 is gradient x sign (zeros get relevance)
    np.testing.assert_allclose(explain(model, x, "lrpsign_z"), explain(model, x, "gradient_x_sign"), atol=1e-6)
    assert np.any(explain(model, x, "lrpsign_epsilon_0_1")[x == 0] != 0)
    assert np.all(explain(model, x, "lrp_epsilon_0_1")[x == 0] == 0)


def test_occlusion_matches_direct_computation(mlp: tuple) -> None:
    model, x = mlp
    got = explain(model, x[0], "occlusion", 3)
    base = model.reference_logits(x[0])[0, 3]
    expected = np.empty(64)
    for i in range(64):
        masked = x[0].copy()
        masked[i] = 0.0
        expected[i] = base - model.reference_logits(masked)[0, 3]
    np.testing.assert_allclose(got, expected, atol=1e-9)
    with pytest.raises(InvalidInput):
        explain(model, x[0], "occlusion_window_5")


def test_integrated_gradients_completeness(mlp: tuple) -> None:
    model, x = mlp
    a = explain(model, x, "integrated_gradients_steps_256", 4)
    gap = model.reference_logits(x)[:, 4] - model.reference_logits(np.zeros_like(x))[:, 4]
    np.testing.assert_allclose(a.sum(axis=1), gap, rtol=0.02, atol=0.02)


def test_grad_cam_layers(cnn: tuple, mlp: tuple) -> None:
    model, x = cnn
    default = explain(model, x, "grad_cam")
    np.testing.assert_array_equal(default, explain(model, x, "grad_cam_layer_3"))  # last conv
    assert np.all(default >= 0)
    assert not np.allclose(default, explain(model, x, "grad_cam_layer_0"))
    with pytest.raises(UnsupportedModel, match="not found"):
        explain(model, x, "grad_cam_layer_99")
    with pytest.raises(UnsupportedModel, match="Conv"):
        explain(mlp[0], mlp[1], "grad_cam")


def test_batchnorm_is_merged_for_lrp(cnn: tuple) -> None:
    model, x = cnn
    folded = _cnn(batch_norm=True).double()
    conv, bn = folded[0], folded[1]
    with torch.no_grad():
        scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
        conv.weight.mul_(scale.reshape(-1, 1, 1, 1))
        conv.bias.copy_((conv.bias - bn.running_mean) * scale + bn.bias)
    # folded in float64, stored in float32 (load_torch probes with float32 inputs)
    plain = load_torch(torch.nn.Sequential(conv, *list(folded)[2:]).float().eval(), (1, 8, 8))
    for name in ("lrp_epsilon_0_1", "lrp_alpha_2_beta_1", "epsilon_plus"):
        merged, reference = explain(model, x, name), explain(plain, x, name)
        np.testing.assert_allclose(merged, reference, rtol=1e-4, atol=1e-6 * np.abs(reference).max())
    bad = load_torch(torch.nn.Sequential(torch.nn.BatchNorm1d(4), torch.nn.Linear(4, 2)).eval(), (4,))
    with pytest.raises(UnsupportedModel, match="BatchNorm1d"):
        explain(bad, np.ones(4), "lrp_z")
    assert explain(bad, np.ones(4), "gradient").shape == (4,)


@pytest.mark.parametrize("name", ["guided_backprop", "deconvnet", "lrp_gamma", "epsilon_plus", "lrpsign_z"])
def test_modified_backward_rejects_non_relu(name: str) -> None:
    model = load_torch(torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Tanh(), torch.nn.Linear(3, 2)), (4,))
    with pytest.raises(UnsupportedModel, match="Tanh"):
        explain(model, np.ones(4), name)


def test_channels_last_layout(cnn: tuple) -> None:
    model, x = cnn
    rgb = load_torch(torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.ReLU(), torch.nn.Flatten(),
                                         torch.nn.Linear(4 * 6 * 10, 5)).eval(), (3, 8, 12))
    xc = np.random.default_rng(0).uniform(size=(2, 3, 8, 12))
    xl = np.moveaxis(xc, 1, -1)
    for name in ("gradient", "lrp_epsilon_0_1"):
        first = explain(rgb, xc, name)
        last = explain(rgb, xl, name, layout="channels_last")
        assert last.shape == (2, 8, 12, 3)
        np.testing.assert_array_equal(np.moveaxis(last, -1, 1), first)
        np.testing.assert_array_equal(explain(rgb, xl[0], name, layout="channels_last"), last[0])
        np.testing.assert_array_equal(explain(rgb, xc, name, layout="channels_first"), first)
    with pytest.raises(InvalidInput):
        explain(rgb, xc, "gradient", layout="channels_last")
    with pytest.raises(InvalidInput):
        explain(rgb, xc, "gradient", layout="nhwc")  # type: ignore[arg-type]


def test_softmax_is_stripped_on_request() -> None:
    torch.manual_seed(0)
    logits_net = torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3)).eval()
    with_softmax = torch.nn.Sequential(*logits_net, torch.nn.Softmax(dim=1)).eval()
    x = np.random.default_rng(1).uniform(size=(4, 5))
    reference = load_torch(logits_net, (5,))
    stripped = load_torch(with_softmax, (5,), strip_softmax=True)
    np.testing.assert_array_equal(stripped.reference_logits(x), reference.reference_logits(x))
    np.testing.assert_array_equal(explain(stripped, x, "lrp_z"), explain(reference, x, "lrp_z"))
    onnx_bytes = export_onnx(with_softmax, (5,))
    with pytest.raises(UnsupportedModel, match="Softmax"):
        load_onnx(onnx_bytes)
    o_model = load_onnx(onnx_bytes, strip_softmax=True)
    np.testing.assert_allclose(o_model.predict(x), reference.predict(x), atol=1e-6)
    assert o_model.model_hash == hashlib.sha256(onnx_bytes).digest()
    inner = torch.nn.Sequential(torch.nn.Linear(5, 3), torch.nn.Softmax(dim=1), torch.nn.Linear(3, 2))
    with pytest.raises(UnsupportedModel, match="not the final"):
        load_torch(inner, (5,), strip_softmax=True)
