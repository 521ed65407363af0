"""Model loading, hashing, ONNX conversion/export and input validation."""

from __future__ import annotations

import hashlib

import numpy as np
import onnx
import pytest
import torch
from onnx import TensorProto, helper, numpy_helper

from explainers.digits import DIGITS_INPUT_SHAPE, digits_samples, export_onnx, train_digits_mlp
from explainers.errors import ExplainerError, InvalidInput, ModelLoadError, UnsupportedModel
from explainers.model import LoadedModel, load_onnx, load_torch
from explainers.torch_bytes import TORCH_MAGIC, canonical_torch_bytes


@pytest.fixture(scope="module")
def trained() -> tuple[torch.nn.Sequential, float, bytes]:
    module, accuracy = train_digits_mlp(seed=0)
    return module, accuracy, export_onnx(module, DIGITS_INPUT_SHAPE)


def test_training_is_accurate_and_deterministic(trained: tuple) -> None:
    module, accuracy, onnx_bytes = trained
    assert accuracy > 0.9
    again, accuracy_again = train_digits_mlp(seed=0)
    assert accuracy_again == accuracy
    assert canonical_torch_bytes(again) == canonical_torch_bytes(module)
    assert export_onnx(again, DIGITS_INPUT_SHAPE) == onnx_bytes


def test_export_is_byte_identical_opset17(trained: tuple) -> None:
    module, _, onnx_bytes = trained
    assert export_onnx(module, DIGITS_INPUT_SHAPE) == onnx_bytes
    proto = onnx.load_model_from_string(onnx_bytes)
    assert [o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")] == [17]
    assert proto.producer_name == "zkxai"


def test_digits_samples() -> None:
    x, y = digits_samples(5)
    assert x.shape == (5, 64) and x.dtype == np.float32 and y.shape == (5,)
    assert 0.0 <= x.min() and x.max() <= 1.0
    with pytest.raises(InvalidInput):
        digits_samples(0)
    with pytest.raises(InvalidInput):
        digits_samples(3, split="validation")  # type: ignore[arg-type]


def test_onnx_and_torch_logits_agree(trained: tuple) -> None:
    module, _, onnx_bytes = trained
    o_model, t_model = load_onnx(onnx_bytes), load_torch(module, DIGITS_INPUT_SHAPE)
    x, y = digits_samples(64)
    for m in (o_model, t_model):
        assert m.input_shape == (64,) and m.num_classes == 10
    assert (o_model.kind, t_model.kind) == ("onnx", "torch")
    np.testing.assert_allclose(o_model.predict(x), t_model.predict(x), atol=1e-5)
    np.testing.assert_allclose(o_model.predict(x), o_model.reference_logits(x), atol=1e-5)
    with torch.no_grad():
        np.testing.assert_allclose(t_model.predict(x), module(torch.from_numpy(x)).numpy(), atol=1e-6)
    assert np.mean(np.argmax(o_model.predict(x), axis=1) == y) > 0.85
    assert o_model.predict(x[0]).shape == (1, 10)


def test_onnx_hash_is_sha256_of_registered_bytes(trained: tuple) -> None:
    module, _, onnx_bytes = trained
    assert load_onnx(onnx_bytes).model_hash == hashlib.sha256(onnx_bytes).digest()
    assert load_onnx(onnx_bytes).model_hash == load_onnx(onnx_bytes).model_hash
    changed = torch.nn.Sequential(*[torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 10)])
    changed.load_state_dict(module.state_dict())
    with torch.no_grad():
        changed[2].bias[3] += 1e-3
    assert load_onnx(export_onnx(changed, DIGITS_INPUT_SHAPE)).model_hash != load_onnx(onnx_bytes).model_hash


def test_torch_hash_stable_and_sensitive(trained: tuple) -> None:
    module, _, _ = trained
    first, second = load_torch(module, DIGITS_INPUT_SHAPE), load_torch(module, DIGITS_INPUT_SHAPE)
    assert len(first.model_hash) == 32 and first.model_hash == second.model_hash
    assert first.model_hash == hashlib.sha256(canonical_torch_bytes(module)).digest()
    assert canonical_torch_bytes(module).startswith(TORCH_MAGIC)
    changed = train_digits_mlp(seed=0)[0]
    with torch.no_grad():
        changed[0].weight[5, 7] = torch.nextafter(changed[0].weight[5, 7], torch.tensor(1.0))  # one ulp
    assert load_torch(changed, DIGITS_INPUT_SHAPE).model_hash != first.model_hash
    # the loaded model is a copy: mutating the caller's module later does not change it
    x = digits_samples(4)[0]
    before = first.predict(x)
    with torch.no_grad():
        changed[2].bias += 5.0
    np.testing.assert_array_equal(load_torch(module, DIGITS_INPUT_SHAPE).predict(x), before)


@pytest.mark.parametrize(
    "bad",
    [
        np.full((64,), np.nan),
        np.concatenate([np.zeros(63), [np.inf]]),
        np.zeros((63,)),
        np.zeros((2, 8, 8)),
        np.zeros((0, 64)),
        np.zeros((64,), dtype=np.complex128),
        np.zeros((64,), dtype=bool),
        np.array(["a"] * 64),
    ],
)
def test_invalid_inputs_rejected(trained: tuple, bad: np.ndarray) -> None:
    model = load_onnx(trained[2])
    with pytest.raises(InvalidInput):
        model.predict(bad)
    with pytest.raises(InvalidInput):
        model.reference_logits(bad)


def test_non_array_and_integer_inputs(trained: tuple) -> None:
    model = load_onnx(trained[2])
    with pytest.raises(InvalidInput):
        model.predict([0.0] * 64)  # type: ignore[arg-type]
    assert model.predict(np.zeros(64, dtype=np.int64)).shape == (1, 10)


def _graph_model(nodes: list[onnx.NodeProto], inits: list[onnx.TensorProto], in_shape: list, out_dim: int) -> bytes:
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, in_shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", out_dim])],
        initializer=inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    return model.SerializeToString()


def _init(name: str, rng: np.random.Generator, *shape: int) -> onnx.TensorProto:
    return numpy_helper.from_array(rng.normal(size=shape).astype(np.float32), name)


def test_converter_handles_conv_pool_reshape_matmul_add() -> None:
    rng = np.random.default_rng(2)
    nodes = [
        helper.make_node("Conv", ["x", "cw", "cb"], ["c"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c"], ["r"]),
        helper.make_node("MaxPool", ["r"], ["p"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Constant", [], ["shape"], value=numpy_helper.from_array(np.array([0, -1], np.int64))),
        helper.make_node("Reshape", ["p", "shape"], ["f"]),
        helper.make_node("MatMul", ["f", "w"], ["m"]),
        helper.make_node("Add", ["m", "b"], ["y"]),
    ]
    inits = [_init("cw", rng, 2, 1, 3, 3), _init("cb", rng, 2), _init("w", rng, 18, 3), _init("b", rng, 3)]
    model = load_onnx(_graph_model(nodes, inits, ["N", 1, 6, 6], 3))
    assert model.input_shape == (1, 6, 6) and model.num_classes == 3
    x = rng.uniform(size=(5, 1, 6, 6))
    np.testing.assert_allclose(model.predict(x), model.reference_logits(x), atol=1e-5)
    kinds = [type(m).__name__ for m in model.torch_module]
    assert kinds == ["Conv2d", "ReLU", "MaxPool2d", "OnnxReshape", "Linear"]


def test_fixed_batch_one_graph_runs_per_sample() -> None:
    rng = np.random.default_rng(4)
    nodes = [helper.make_node("Gemm", ["x", "w", "b"], ["y"], transB=1)]
    data = _graph_model(nodes, [_init("w", rng, 2, 5), _init("b", rng, 2)], [1, 5], 2)
    model = load_onnx(data)
    x = rng.uniform(size=(3, 5))
    np.testing.assert_allclose(model.predict(x), model.reference_logits(x), atol=1e-5)


@pytest.mark.parametrize("op", ["Sigmoid", "Softmax", "Tanh"])
def test_unsupported_onnx_op_fails_loudly(op: str) -> None:
    rng = np.random.default_rng(0)
    nodes = [helper.make_node("Gemm", ["x", "w"], ["h"], transB=1), helper.make_node(op, ["h"], ["y"])]
    with pytest.raises(UnsupportedModel, match=op):
        load_onnx(_graph_model(nodes, [_init("w", rng, 3, 4)], ["N", 4], 3))


def test_residual_graph_converts_and_dead_branch_is_rejected() -> None:
    rng = np.random.default_rng(0)
    residual = [
        helper.make_node("Gemm", ["x", "w"], ["h"], transB=1),
        helper.make_node("Relu", ["h"], ["r"]),
        helper.make_node("Add", ["r", "h"], ["y"]),
    ]
    model = load_onnx(_graph_model(residual, [_init("w", rng, 3, 4)], ["N", 4], 3))
    assert isinstance(model.torch_module, torch.fx.GraphModule)
    x = rng.uniform(-1.0, 1.0, size=(5, 4))
    np.testing.assert_allclose(model.predict(x), model.reference_logits(x), atol=1e-5)
    branching = [
        helper.make_node("Gemm", ["x", "w"], ["h"], transB=1),
        helper.make_node("Gemm", ["x", "w"], ["y"], transB=1),
    ]
    with pytest.raises(UnsupportedModel, match="never reaches the graph output"):
        load_onnx(_graph_model(branching, [_init("w", rng, 3, 4)], ["N", 4], 3))


def test_garbage_bytes_and_bad_modules() -> None:
    with pytest.raises(ModelLoadError):
        load_onnx(b"not an onnx file")
    with pytest.raises(ModelLoadError):
        load_onnx(b"")
    with pytest.raises(ModelLoadError):
        load_torch("module", (4,))  # type: ignore[arg-type]
    with pytest.raises(ModelLoadError):
        load_torch(torch.nn.Linear(4, 2), (5,))
    with pytest.raises(UnsupportedModel, match="softmax"):
        load_torch(torch.nn.Sequential(torch.nn.Linear(4, 2), torch.nn.Softmax(dim=1)), (4,))
    assert issubclass(UnsupportedModel, ExplainerError) and issubclass(InvalidInput, ExplainerError)


def test_loaded_model_is_frozen(trained: tuple) -> None:
    model: LoadedModel = load_onnx(trained[2])
    with pytest.raises(AttributeError):
        model.model_hash = b"x"  # type: ignore[misc]
