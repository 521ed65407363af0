"""Quantize a loaded model into a QNet (``zkxai.qnet/1``): the fixed-point network the proof levels compute.

The QNet's semantics (what ``dense``/``conv2d``/``relu``/pools compute on integers, and the fixed-point
explanations) are defined once, in ``circuits.qnet``; this module only *produces* the JSON from the float64 torch
module of a :class:`~explainers.model.LoadedModel` (``explainers`` and ``circuits`` do not import each other).

Quantization (scale ``2**16``, the scale of :mod:`explainers.encoding`):

* every weight and bias ``v`` becomes ``rint(float64(v) * 2**16)`` (round half to even, as
  :func:`explainers.encoding.to_fixed`), which must satisfy the format's bound ``|int| < 2**24`` (``|v| < 256``),
  else :class:`UnsupportedModel`; inputs (:func:`quantize_input`) and every computed value are int32 (``|v| < 32768``);
* a ``Linear`` without bias gets zero biases; ``Conv2d`` weights keep their ``(out, in, kh, kw)`` layout.

Accepted layers, in a chain (an ``nn.Sequential``, nested ones included, or a wiring-only ``torch.fx`` graph whose
nodes each feed only the next one; a per-sample ``.pt2`` wrapper is unwrapped): ``Linear``; ``Conv2d`` (groups 1,
dilation 1, square stride and padding, zero padding mode); ``ReLU``; ``Flatten`` and reshapes that flatten a
sample in C order (ONNX ``Reshape``, ``.pt2`` reshapes); ``MaxPool2d`` and ``AvgPool2d`` (square kernel, stride = kernel,
no padding, no ceil mode); ``AdaptiveAvgPool2d(1)`` on a square map (an average pool over the whole map);
``Dropout`` and ``Identity`` (skipped). BatchNorm is folded by the converters before this point; anything left
(a ``BatchNorm``, another activation, a residual sum, a branch) raises :class:`UnsupportedModel` naming the layer.
Such a model keeps working at the ``commitment`` proof level.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch

from explainers.encoding import SCALE, SCALE_BITS, to_fixed
from explainers.errors import InvalidInput, UnsupportedModel
from explainers.graph_layers import origin_of
from explainers.model import LoadedModel
from explainers.onnx_convert import OnnxReshape
from explainers.pt2_layers import PerSample, Reshape

__all__ = ["QNET_FORMAT", "quantize", "quantize_input", "quantize_module"]

QNET_FORMAT = "zkxai.qnet/1"
#: The QNet format bounds weights and biases: ``|int| < 2**24`` (real magnitude < 256), see ``circuits.qnet``.
WEIGHT_BITS = 24
WEIGHT_BOUND = 1 << WEIGHT_BITS
_SKIPPED = (torch.nn.Dropout, torch.nn.Identity)
_RESHAPES = (torch.nn.Flatten, OnnxReshape, Reshape)

Shape = tuple[int, ...]


def _label(name: str, module: torch.nn.Module) -> str:
    origin = origin_of(module)
    return f"layer {name!r} ({type(module).__name__}{', from ' + origin if origin else ''})"


def _chain(module: torch.nn.Module, prefix: str = "") -> Iterator[tuple[str, torch.nn.Module]]:
    """The layers of ``module`` in evaluation order, or UnsupportedModel when it is not a chain."""
    if isinstance(module, PerSample):
        yield from _chain(module.graph, prefix + "graph.")
    elif isinstance(module, torch.nn.Sequential):
        for name, child in module.named_children():
            yield from _chain(child, prefix + name + ".")
    elif isinstance(module, torch.fx.GraphModule):
        yield from _graph_chain(module, prefix)
    else:
        yield prefix.rstrip("."), module


def _graph_chain(gm: torch.fx.GraphModule, prefix: str) -> Iterator[tuple[str, torch.nn.Module]]:
    for node in gm.graph.nodes:  # name a layer that joins branches (a residual sum, a concatenation) first
        if node.op == "call_module" and (len(node.args) != 1 or node.kwargs):
            sub = gm.get_submodule(str(node.target))
            raise UnsupportedModel(f"{_label(str(node.target), sub)} joins {len(node.args)} branches: "
                                   "only chains are quantized")
    previous: torch.fx.Node | None = None
    for node in gm.graph.nodes:
        if node.op == "placeholder":
            if previous is not None:
                raise UnsupportedModel("the graph has more than one input")
            previous = node
        elif node.op == "call_module":
            sub = gm.get_submodule(str(node.target))
            if node.args[0] is not previous or len(previous.users) != 1:
                users = ", ".join(sorted(str(u.target) for u in previous.users)) if previous else ""
                raise UnsupportedModel(f"the output of {previous} feeds several layers ({users}): only chains "
                                       "are quantized")
            yield from _chain(sub, prefix + str(node.target) + ".")
            previous = node
        elif node.op == "output":
            if node.args[0] is not previous:
                raise UnsupportedModel("the graph output is not the last layer of a chain")
        else:
            raise UnsupportedModel(f"graph node {node.name!r} ({node.op} {node.target}) is not a layer of a chain")


def _ints(values: torch.Tensor, what: str) -> Any:
    arr = values.detach().cpu().to(torch.float64).numpy()
    scaled = np.rint(arr * float(SCALE))
    if not np.all(np.isfinite(scaled)) or np.any(np.abs(scaled) >= WEIGHT_BOUND):
        raise UnsupportedModel(f"{what} has a weight or bias outside the QNet range |v| < {WEIGHT_BOUND // SCALE} "
                               f"(|int| < 2**{WEIGHT_BITS})")
    return scaled.astype(np.int64).tolist()


def _square(value: Any, what: str, label: str) -> int:
    pair = (value, value) if isinstance(value, int) else tuple(value)
    if len(pair) != 2 or pair[0] != pair[1]:
        raise UnsupportedModel(f"{label}: {what} must be square, got {value}")
    return int(pair[0])


def _dense(label: str, layer: torch.nn.Linear, shape: Shape) -> tuple[dict[str, Any], Shape]:
    if shape != (layer.in_features,):
        raise UnsupportedModel(f"{label} expects {layer.in_features} features, the chain gives shape {shape}")
    bias = layer.bias if layer.bias is not None else torch.zeros(layer.out_features)
    out = {"op": "dense", "weight": _ints(layer.weight, label), "bias": _ints(bias, label)}
    return out, (layer.out_features,)


def _conv(label: str, layer: torch.nn.Conv2d, shape: Shape) -> tuple[dict[str, Any], Shape]:
    if layer.groups != 1 or tuple(layer.dilation) != (1, 1) or layer.padding_mode != "zeros":
        raise UnsupportedModel(f"{label}: only groups=1, dilation=1 and zero padding are supported")
    if isinstance(layer.padding, str):
        raise UnsupportedModel(f"{label}: padding={layer.padding!r} is not supported (give it as numbers)")
    stride, pad = _square(layer.stride, "stride", label), _square(layer.padding, "padding", label)
    kh, kw = layer.kernel_size
    if len(shape) != 3 or shape[0] != layer.in_channels:
        raise UnsupportedModel(f"{label} expects ({layer.in_channels}, H, W), the chain gives shape {shape}")
    h, w = (shape[1] + 2 * pad - kh) // stride + 1, (shape[2] + 2 * pad - kw) // stride + 1
    if h < 1 or w < 1:
        raise UnsupportedModel(f"{label}: kernel larger than the padded input {shape}")
    bias = layer.bias if layer.bias is not None else torch.zeros(layer.out_channels)
    out = {"op": "conv2d", "weight": _ints(layer.weight, label), "bias": _ints(bias, label),
           "stride": [stride, stride], "padding": [pad, pad]}
    return out, (layer.out_channels, h, w)


def _pool(label: str, op: str, kernel: int, stride: int, shape: Shape) -> tuple[dict[str, Any], Shape]:
    if stride != kernel:
        raise UnsupportedModel(f"{label}: pooling windows must not overlap or skip (stride {stride} != kernel {kernel})")
    if len(shape) != 3:
        raise UnsupportedModel(f"{label} expects (C, H, W), the chain gives shape {shape}")
    h, w = (shape[1] - kernel) // stride + 1, (shape[2] - kernel) // stride + 1
    if h < 1 or w < 1:
        raise UnsupportedModel(f"{label}: kernel {kernel} larger than the input {shape}")
    return {"op": op, "kernel": [kernel, kernel], "stride": [stride, stride]}, (shape[0], h, w)


def _pool_layer(label: str, layer: torch.nn.Module, shape: Shape) -> tuple[dict[str, Any], Shape]:
    if isinstance(layer, torch.nn.AdaptiveAvgPool2d):
        size = layer.output_size
        if _square(size, "output size", label) != 1 or len(shape) != 3 or shape[1] != shape[2]:
            raise UnsupportedModel(f"{label}: only a global average pool over a square map is supported")
        return _pool(label, "avgpool2d", shape[1], shape[1], shape)
    assert isinstance(layer, (torch.nn.MaxPool2d, torch.nn.AvgPool2d))
    if layer.ceil_mode or _square(layer.padding, "padding", label) != 0:
        raise UnsupportedModel(f"{label}: padding and ceil_mode are not supported")
    if isinstance(layer, torch.nn.MaxPool2d) and _square(layer.dilation, "dilation", label) != 1:
        raise UnsupportedModel(f"{label}: dilation is not supported")
    if isinstance(layer, torch.nn.AvgPool2d) and layer.divisor_override is not None:
        raise UnsupportedModel(f"{label}: divisor_override is not supported")
    kernel = _square(layer.kernel_size, "kernel", label)
    stride = _square(layer.stride if layer.stride is not None else kernel, "stride", label)
    op = "maxpool2d" if isinstance(layer, torch.nn.MaxPool2d) else "avgpool2d"
    return _pool(label, op, kernel, stride, shape)


def _flattens(label: str, layer: torch.nn.Module, shape: Shape) -> Shape:
    """The reshape must turn one sample of ``shape`` into a flat vector (C order), checked by running it."""
    with torch.no_grad():
        probe = torch.arange(math.prod(shape), dtype=torch.float64).reshape(1, *shape)
        try:
            out = layer(probe)
        except Exception as exc:
            raise UnsupportedModel(f"{label} cannot reshape a sample of shape {shape}: {exc}") from exc
    if tuple(out.shape) != (1, math.prod(shape)) or not torch.equal(out.reshape(-1), probe.reshape(-1)):
        raise UnsupportedModel(f"{label} reshapes {shape} to {tuple(out.shape[1:])}: only flattening is supported")
    return (math.prod(shape),)


def quantize_module(module: torch.nn.Module, input_shape: Shape, num_classes: int | None = None) -> dict[str, Any]:
    """The QNet JSON of a chain of supported layers taking one sample of ``input_shape`` (see the module doc).

    With ``num_classes`` the chain must end in exactly that many logits.
    """
    shape: Shape = tuple(int(d) for d in input_shape)
    layers: list[dict[str, Any]] = []
    for name, layer in _chain(module):
        label = _label(name, layer)
        if isinstance(layer, _SKIPPED):
            continue
        if isinstance(layer, torch.nn.Linear):
            entry, shape = _dense(label, layer, shape)
        elif isinstance(layer, torch.nn.Conv2d):
            entry, shape = _conv(label, layer, shape)
        elif type(layer) is torch.nn.ReLU:
            entry = {"op": "relu"}
        elif isinstance(layer, _RESHAPES):
            if len(shape) == 1 and isinstance(layer, torch.nn.Flatten):
                continue  # flattening a flat vector: nothing to do
            shape = _flattens(label, layer, shape)
            entry = {"op": "flatten"}
        elif isinstance(layer, (torch.nn.MaxPool2d, torch.nn.AvgPool2d, torch.nn.AdaptiveAvgPool2d)):
            entry, shape = _pool_layer(label, layer, shape)
        else:
            raise UnsupportedModel(f"{label} cannot be quantized for a proof (supported: Linear, Conv2d, ReLU, "
                                   "Flatten, MaxPool2d, AvgPool2d, Dropout, Identity)")
        layers.append(entry)
    if len(shape) != 1 or not any(e["op"] in ("dense", "conv2d") for e in layers):
        raise UnsupportedModel(f"the chain must end in a vector of logits after a Linear/Conv2d, got shape {shape}")
    if num_classes is not None and shape != (num_classes,):
        raise UnsupportedModel(f"the chain ends in shape {shape}, not the model's {num_classes} logits")
    return {"format": QNET_FORMAT, "input_shape": list(input_shape), "scale_bits": SCALE_BITS, "layers": layers}


def quantize(model: LoadedModel) -> dict[str, Any]:
    """The QNet JSON (``zkxai.qnet/1``) of ``model``'s float64 torch module; UnsupportedModel names a bad layer."""
    if model.input_dtype != "float32":
        raise UnsupportedModel("token-id (text) models cannot be quantized for a proof")
    return quantize_module(model.torch_module, model.input_shape, model.num_classes)


def quantize_input(model: LoadedModel, x: np.ndarray) -> list[int]:
    """One sample ``x`` (``model.input_shape``) as the QNet's input: C-order ``rint(x * 2**16)`` int32 values."""
    arr = np.asarray(x, dtype=np.float64)
    if arr.shape != model.input_shape:
        raise InvalidInput(f"expected one sample of shape {model.input_shape}, got {arr.shape}")
    return to_fixed(arr, clamp=False)
