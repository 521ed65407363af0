"""explainers.quantize: the QNet JSON of supported chains (exact integers, shapes, every layer kind), the same QNet
from the torch module, its ONNX export and its .pt2 program (an fx graph), and UnsupportedModel naming the layer for everything else."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from explainers.digits import DIGITS_CNN_INPUT_SHAPE, digits_cnn, digits_mlp, export_onnx
from explainers.encoding import SCALE
from explainers.errors import InvalidInput, UnsupportedModel
from explainers.model import load_onnx, load_torch
from explainers.pt2 import export_pt2, load_pt2
from explainers.quantize import QNET_FORMAT, quantize, quantize_input


def _seeded(module: torch.nn.Module) -> torch.nn.Module:
    torch.manual_seed(3)
    for p in module.parameters():
        torch.nn.init.uniform_(p, -0.7, 0.7)
    return module.eval()


def test_mlp_integers_are_rounded_weights() -> None:
    module = _seeded(digits_mlp())
    qnet = quantize(load_torch(module, (64,)))
    assert qnet["format"] == QNET_FORMAT and qnet["input_shape"] == [64] and qnet["scale_bits"] == 16
    assert [layer["op"] for layer in qnet["layers"]] == ["dense", "relu", "dense"]
    w = module[0].weight.detach().double().numpy()
    assert qnet["layers"][0]["weight"] == np.rint(w * SCALE).astype(int).tolist()
    assert qnet["layers"][2]["bias"] == np.rint(module[2].bias.detach().double().numpy() * SCALE).astype(int).tolist()
    assert json.loads(json.dumps(qnet)) == qnet  # plain JSON: ints and lists only


def test_onnx_export_gives_the_same_qnet() -> None:
    module = _seeded(digits_cnn())
    from_torch = quantize(load_torch(module, DIGITS_CNN_INPUT_SHAPE))
    from_onnx = quantize(load_onnx(export_onnx(module, DIGITS_CNN_INPUT_SHAPE)))
    assert [layer["op"] for layer in from_torch["layers"]] == ["conv2d", "relu", "maxpool2d", "flatten", "dense"]
    conv = from_torch["layers"][0]
    assert conv["stride"] == [1, 1] and conv["padding"] == [1, 1] and np.array(conv["weight"]).shape == (4, 1, 3, 3)
    assert from_torch["layers"][2] == {"op": "maxpool2d", "kernel": [2, 2], "stride": [2, 2]}
    assert from_onnx == from_torch  # float32 weights round to the same integers either way
    from_pt2 = quantize(load_pt2(export_pt2(module, torch.zeros(1, *DIGITS_CNN_INPUT_SHAPE))))  # an fx graph chain
    assert from_pt2 == from_torch


def test_pools_dropout_identity_and_global_average() -> None:
    module = _seeded(torch.nn.Sequential(
        torch.nn.Conv2d(2, 3, (3, 1), stride=2), torch.nn.Dropout(0.5), torch.nn.ReLU(), torch.nn.AvgPool2d(2),
        torch.nn.Identity(), torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(3, 4, bias=False),
    ))
    qnet = quantize(load_torch(module, (2, 9, 7)))  # conv -> (3, 4, 4), avgpool -> (3, 2, 2), global -> (3, 1, 1)
    assert [layer["op"] for layer in qnet["layers"]] == ["conv2d", "relu", "avgpool2d", "avgpool2d", "flatten", "dense"]
    assert qnet["layers"][2] == {"op": "avgpool2d", "kernel": [2, 2], "stride": [2, 2]}
    assert qnet["layers"][3] == {"op": "avgpool2d", "kernel": [2, 2], "stride": [2, 2]}
    assert qnet["layers"][5]["bias"] == [0, 0, 0, 0]


@pytest.mark.parametrize(
    ("layers", "shape", "named"),
    [
        ([torch.nn.Linear(4, 3), torch.nn.Sigmoid(), torch.nn.Linear(3, 2)], (4,), "'1' (Sigmoid"),
        ([torch.nn.Conv2d(2, 2, 3, groups=2), torch.nn.Flatten(), torch.nn.Linear(8, 2)], (2, 4, 4), "'0' (Conv2d"),
        ([torch.nn.Conv2d(1, 2, 3, dilation=2), torch.nn.Flatten(), torch.nn.Linear(2, 2)], (1, 5, 5), "dilation"),
        ([torch.nn.Conv2d(1, 2, 3, stride=(1, 2)), torch.nn.Flatten(), torch.nn.Linear(8, 2)], (1, 4, 5), "square"),
        ([torch.nn.Conv2d(1, 2, 3), torch.nn.BatchNorm2d(2), torch.nn.Flatten(), torch.nn.Linear(8, 2)], (1, 4, 4),
         "'1' (BatchNorm2d"),
        ([torch.nn.Conv2d(1, 2, 1), torch.nn.MaxPool2d(2, padding=1), torch.nn.Flatten(), torch.nn.Linear(18, 2)],
         (1, 4, 4), "padding"),
        ([torch.nn.Linear(4, 3), torch.nn.LeakyReLU(), torch.nn.Linear(3, 2)], (4,), "LeakyReLU"),
        ([torch.nn.Conv2d(1, 2, 1), torch.nn.AvgPool2d(2, 1), torch.nn.Flatten(), torch.nn.Linear(18, 2)], (1, 4, 4),
         "must not overlap"),
    ],
)
def test_unsupported_layers_are_named(layers: list[torch.nn.Module], shape: tuple[int, ...], named: str) -> None:
    model = load_torch(_seeded(torch.nn.Sequential(*layers)), shape)
    with pytest.raises(UnsupportedModel, match=named.replace("(", r"\(")):
        quantize(model)


def test_residual_graph_is_refused_naming_the_sum() -> None:
    class Residual(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc1, self.fc2 = torch.nn.Linear(4, 4), torch.nn.Linear(4, 2)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.fc2(torch.relu(self.fc1(x)) + x)

    model = load_onnx(export_onnx(_seeded(Residual()), (4,)))
    with pytest.raises(UnsupportedModel, match=r"Add.*joins 2 branches"):
        quantize(model)


def test_weight_out_of_range_and_input_encoding() -> None:
    module = _seeded(torch.nn.Sequential(torch.nn.Linear(2, 2)))
    model = load_torch(module, (2,))
    assert quantize_input(model, np.array([0.5, -1.25])) == [SCALE // 2, -(SCALE + SCALE // 4)]
    with pytest.raises(InvalidInput):
        quantize_input(model, np.zeros(3))
    with torch.no_grad():
        module[0].weight[0, 0] = 256.0
    with pytest.raises(UnsupportedModel, match="QNet range"):
        quantize(load_torch(module, (2,)))
