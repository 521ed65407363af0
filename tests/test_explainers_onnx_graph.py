"""ONNX graphs beyond chains: hand-built residual graphs (Add, BatchNormalization, Concat, pooling) convert to a
wiring-only fx graph that agrees with onnxruntime, and unsupported wiring is refused with clear errors."""

from __future__ import annotations

from collections import Counter

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from onnx import TensorProto, helper, numpy_helper

from explainers.attribution import explain
from explainers.errors import UnsupportedModel
from explainers.graph_layers import is_wiring_only
from explainers.model import LoadedModel, load_onnx, load_torch
from explainers.onnx_guard import ALLOWED_OPS


def _model(nodes: list[onnx.NodeProto], inits: list[onnx.TensorProto], in_shape: list, out_dim: int) -> bytes:
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, in_shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", out_dim])], initializer=inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString()


def _t(name: str, a: np.ndarray) -> onnx.TensorProto:
    return numpy_helper.from_array(np.asarray(a, dtype=np.float32), name)


def _bn_inits(prefix: str, rng: np.random.Generator, c: int) -> list[onnx.TensorProto]:
    return [_t(f"{prefix}_g", rng.uniform(0.5, 1.5, c)), _t(f"{prefix}_b", rng.uniform(-0.3, 0.3, c)),
            _t(f"{prefix}_m", rng.uniform(-0.3, 0.3, c)), _t(f"{prefix}_v", rng.uniform(0.5, 1.5, c))]


def _bn(name: str, x: str, prefix: str, y: str) -> onnx.NodeProto:
    return helper.make_node("BatchNormalization", [x, f"{prefix}_g", f"{prefix}_b", f"{prefix}_m", f"{prefix}_v"],
                            [y], name=name, epsilon=1e-3)


def _residual(unfoldable_bn: bool = False, seed: int = 0) -> bytes:
    """conv-BN-relu, conv + skip Add, relu, [BN], two convs concatenated, avg pool, conv + const bias, GAP, Gemm."""
    rng = np.random.default_rng(seed)
    r2 = "r2n" if unfoldable_bn else "r2"
    nodes = [
        helper.make_node("Conv", ["x", "w1"], ["c1"], name="/stem/conv", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        _bn("/stem/bn", "c1", "bn1", "b1"),
        helper.make_node("Relu", ["b1"], ["r1"], name="/stem/relu"),
        helper.make_node("Conv", ["r1", "w2", "cb2"], ["c2"], name="/block/conv", kernel_shape=[3, 3],
                         pads=[1, 1, 1, 1]),
        helper.make_node("Add", ["c2", "r1"], ["s"], name="/block/Add"),
        helper.make_node("Relu", ["s"], ["r2"], name="/block/relu"),
        *([_bn("/block/bn_after_relu", "r2", "bn2", "r2n")] if unfoldable_bn else []),
        helper.make_node("Conv", [r2, "w3"], ["c3"], name="/branch_a/conv", kernel_shape=[1, 1]),
        helper.make_node("Conv", [r2, "w4"], ["c4"], name="/branch_b/conv", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Concat", ["c3", "c4"], ["cat"], name="/cat", axis=1),
        helper.make_node("AveragePool", ["cat"], ["ap"], name="/pool", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Conv", ["ap", "w5"], ["c5"], name="/head/conv", kernel_shape=[1, 1]),
        helper.make_node("Add", ["c5", "bias5"], ["c5b"], name="/head/bias"),
        helper.make_node("Relu", ["c5b"], ["r5"], name="/head/relu"),
        helper.make_node("GlobalAveragePool", ["r5"], ["g"], name="/gap"),
        helper.make_node("Flatten", ["g"], ["f"], name="/flatten"),
        helper.make_node("Gemm", ["f", "w6", "b6"], ["y"], name="/fc", transB=1),
    ]
    inits = [
        _t("w1", rng.normal(0, 0.4, (4, 3, 3, 3))), *_bn_inits("bn1", rng, 4), _t("w2", rng.normal(0, 0.3, (4, 4, 3, 3))),
        _t("cb2", rng.normal(0, 0.1, 4)), *_bn_inits("bn2", rng, 4), _t("w3", rng.normal(0, 0.5, (2, 4, 1, 1))),
        _t("w4", rng.normal(0, 0.3, (3, 4, 3, 3))), _t("w5", rng.normal(0, 0.5, (5, 5, 1, 1))),
        _t("bias5", rng.normal(0, 0.1, (1, 5, 1, 1))), _t("w6", rng.normal(0, 0.5, (3, 5))), _t("b6", rng.normal(0, 0.1, 3)),
    ]
    return _model(nodes, inits, ["N", 3, 8, 8], 3)


def _inputs(seed: int = 1, n: int = 4) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0.0, 1.0, size=(n, 3, 8, 8))


def _kinds(model: LoadedModel) -> Counter[str]:
    return Counter(type(m).__name__ for _, m in model.torch_module.named_children())


def test_new_operators_are_allowed_by_the_guard() -> None:
    assert {"BatchNormalization", "Concat", "GlobalAveragePool", "AveragePool", "Add"} <= ALLOWED_OPS


def test_residual_graph_converts_to_wiring_only_graph_and_agrees_with_onnxruntime() -> None:
    data = _residual()
    model = load_onnx(data)
    assert isinstance(model.torch_module, torch.fx.GraphModule) and is_wiring_only(model.torch_module)
    # BN folded into its conv, the constant Add folded into the head conv's bias: no BatchNorm, one (residual) Add.
    assert _kinds(model) == Counter({"Conv2d": 5, "ReLU": 3, "Add": 1, "Concat": 1, "AvgPool2d": 1,
                                     "AdaptiveAvgPool2d": 1, "Flatten": 1, "Linear": 1})
    x = _inputs()
    expected = ort.InferenceSession(data, providers=["CPUExecutionProvider"]).run(None, {"x": x.astype(np.float32)})[0]
    np.testing.assert_allclose(model.reference_logits(x), expected, rtol=1e-5, atol=1e-5)
    names = dict(model.torch_module.named_children())
    assert {"stem_conv", "block_Add", "cat", "pool", "gap", "fc"} <= set(names)


def test_unfoldable_batch_norm_is_kept_and_lrp_names_it_and_the_methods_that_apply() -> None:
    data = _residual(unfoldable_bn=True)
    model = load_onnx(data)
    assert _kinds(model)["BatchNorm2d"] == 1
    x = _inputs()
    expected = ort.InferenceSession(data, providers=["CPUExecutionProvider"]).run(None, {"x": x.astype(np.float32)})[0]
    np.testing.assert_allclose(model.reference_logits(x), expected, rtol=1e-5, atol=1e-5)
    with pytest.raises(UnsupportedModel) as info:
        explain(model, x, "lrp_epsilon_0_1")
    message = str(info.value)
    for part in ("block_bn_after_relu", "'/block/bn_after_relu'", "op BatchNormalization", "methods that apply: ",
                 "gradient_x_input", "integrated_gradients", "smoothgrad", "grad_cam", "guided_backprop"):
        assert part in message
    assert "lrp_" not in message.split("methods that apply: ")[1]
    for method in ("gradient", "gradient_x_input", "guided_backprop"):
        assert np.all(np.isfinite(explain(model, x, method)))


def test_lrp_gradients_and_grad_cam_run_on_a_residual_graph() -> None:
    model = load_onnx(_residual())
    x = _inputs()
    for method in ("lrp_epsilon_0_1", "epsilon_plus", "lrp_alpha_2_beta_1", "gradient", "integrated_gradients_steps_8",
                   "smoothgrad_samples_3"):
        a = explain(model, x, method, 1)
        assert a.shape == x.shape and np.all(np.isfinite(a)) and np.any(a != 0), method
    default = explain(model, x, "grad_cam")
    np.testing.assert_array_equal(default, explain(model, x, "grad_cam_layer_head_conv"))  # the last conv
    assert not np.allclose(default, explain(model, x, "grad_cam_layer_stem_conv"))


def test_chain_with_batch_norm_stays_sequential_with_the_norm_folded() -> None:
    rng = np.random.default_rng(3)
    nodes = [
        helper.make_node("Conv", ["x", "w1", "cb"], ["c1"], name="conv", kernel_shape=[3, 3]),
        _bn("bn", "c1", "bn1", "b1"),
        helper.make_node("Relu", ["b1"], ["r1"]),
        helper.make_node("Flatten", ["r1"], ["f"]),
        helper.make_node("Gemm", ["f", "w2"], ["y"], transB=1),
    ]
    inits = [_t("w1", rng.normal(size=(2, 3, 3, 3))), _t("cb", rng.normal(size=2)), *_bn_inits("bn1", rng, 2),
             _t("w2", rng.normal(size=(4, 72)))]
    model = load_onnx(_model(nodes, inits, ["N", 3, 8, 8], 4))
    assert isinstance(model.torch_module, torch.nn.Sequential)
    assert [type(m).__name__ for m in model.torch_module] == ["Conv2d", "ReLU", "Flatten", "Linear"]
    assert np.all(np.isfinite(explain(model, _inputs(), "lrp_epsilon_0_1")))


@pytest.mark.parametrize("bias_shape", [(4, 6, 6), (1, 1, 6, 1)])
def test_constant_add_that_is_not_a_channel_bias_is_refused(bias_shape: tuple[int, ...]) -> None:
    rng = np.random.default_rng(4)
    nodes = [
        helper.make_node("Conv", ["x", "w1"], ["c1"], name="conv", kernel_shape=[3, 3]),
        helper.make_node("Add", ["c1", "k"], ["a"], name="odd_add"),
        helper.make_node("Relu", ["a"], ["r"]),
        helper.make_node("GlobalAveragePool", ["r"], ["g"]),
        helper.make_node("Flatten", ["g"], ["y"]),
    ]
    inits = [_t("w1", rng.normal(size=(4, 3, 3, 3))), _t("k", rng.normal(size=bias_shape))]
    with pytest.raises(UnsupportedModel, match="'odd_add'.*per output channel"):
        load_onnx(_model(nodes, inits, ["N", 3, 8, 8], 4))


def test_constant_add_after_a_relu_and_concat_on_the_batch_axis_are_refused() -> None:
    rng = np.random.default_rng(5)
    after_relu = [
        helper.make_node("Gemm", ["x", "w"], ["h"], transB=1),
        helper.make_node("Relu", ["h"], ["r"]),
        helper.make_node("Add", ["r", "k"], ["y"], name="shift"),
    ]
    with pytest.raises(UnsupportedModel, match="'shift'"):
        load_onnx(_model(after_relu, [_t("w", rng.normal(size=(3, 4))), _t("k", rng.normal(size=3))], ["N", 4], 3))
    batch_concat = [
        helper.make_node("Gemm", ["x", "w"], ["h"], transB=1),
        helper.make_node("Relu", ["h"], ["r"]),
        helper.make_node("Concat", ["h", "r"], ["y"], name="stack_rows", axis=0),
    ]
    graph = helper.make_graph(batch_concat, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])],
                              initializer=[_t("w", rng.normal(size=(3, 4)))])
    data = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString()
    with pytest.raises(UnsupportedModel, match="batch axis"):
        load_onnx(data)


def test_sequential_rejections_list_the_methods_that_apply() -> None:
    model = load_torch(torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Tanh(), torch.nn.Linear(3, 2)), (4,))
    with pytest.raises(UnsupportedModel, match=r"Tanh.*methods that apply: gradient, gradient_x_input") as info:
        explain(model, np.ones(4), "lrp_epsilon_0_1")
    tail = str(info.value).split("methods that apply: ")[1]
    assert "occlusion" in tail and "lrp" not in tail and "guided_backprop" not in tail and "grad_cam" not in tail


def test_module_names_are_sanitized_unique_and_never_shadow_module_attributes() -> None:
    rng = np.random.default_rng(6)
    nodes = [
        helper.make_node("Gemm", ["x", "w1"], ["h"], name="training", transB=1),
        helper.make_node("Relu", ["h"], ["r"], name="graph"),
        helper.make_node("Gemm", ["r", "w2"], ["g"], name="1st/fc.0", transB=1),
        helper.make_node("Add", ["g", "h"], ["s"]),
        helper.make_node("Gemm", ["s", "w3"], ["y"], transB=1),
    ]
    inits = [_t("w1", rng.normal(size=(3, 4))), _t("w2", rng.normal(size=(3, 3))), _t("w3", rng.normal(size=(2, 3)))]
    model = load_onnx(_model(nodes, inits, ["N", 4], 2))
    names = [n for n, _ in model.torch_module.named_children()]
    assert names == ["gemm_training", "relu_graph", "gemm_1st_fc_0", "add", "gemm"]
    assert model.torch_module.training is False
