"""Convert an ONNX graph (a chain or a DAG) into a float64 torch module of standard layers.

Chains become a ``torch.nn.Sequential`` (as :func:`onnx_to_torch` always produced);
any other graph becomes a *wiring-only* ``torch.fx.GraphModule`` (:func:`explainers.graph_layers.is_wiring_only`):
a placeholder, one ``call_module`` node per layer, an output. Modules are named after their ONNX nodes
(``/layer1/layer1.0/conv1/Conv`` -> ``layer1_layer1_0_conv1_Conv``), so ``grad_cam_layer_<name>`` can address them.

Operators: everything the chain converter supports (``Gemm``, ``MatMul``, ``Relu``, ``Flatten``, ``Reshape`` with
a constant shape, 2-D ``Conv`` and ``MaxPool``, ``Identity``, ``Dropout``, ``Constant``) plus

* ``Add`` of two activations -> :class:`explainers.graph_layers.Add` (LRP: zennit's norm rule on the sum);
  ``Add`` of an activation and a constant -> folded into the bias of the directly preceding Gemm/MatMul/Conv
  (when that layer has no other consumer and the constant is one value per output channel), else refused;
* ``BatchNormalization`` (inference) -> folded into the directly preceding Conv/Gemm/MatMul when that layer has
  no other consumer (computed in float64, the precision of the module), else an ``nn.BatchNorm1d/2d`` (which LRP
  refuses: :func:`explainers.rules.check_support`);
* ``Concat`` (not along the batch axis) -> :class:`explainers.graph_layers.Concat`;
* ``GlobalAveragePool`` -> ``nn.AdaptiveAvgPool2d(1)``; ``AveragePool`` (2-D, symmetric pads) -> ``nn.AvgPool2d``.

Every activation a node produces must reach the graph output (no dead branches); constants feed parameters only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import onnx
import torch
from onnx import numpy_helper

from explainers.errors import UnsupportedModel
from explainers.graph_layers import Add, Concat, set_origin
from explainers.onnx_convert import OnnxReshape, _attrs, _conv, _gemm, _linear, _maxpool, _pairs, _sym_pads

__all__ = ["onnx_to_module", "onnx_to_torch"]

_PASS_THROUGH = ("Identity", "Dropout")
#: Names a submodule of the result cannot take (attributes of a GraphModule or of any Module instance).
_RESERVED = frozenset(dir(torch.fx.GraphModule)) | frozenset(vars(torch.nn.Module()))


@dataclass
class _Layer:
    """One ``call_module`` of the result: ``module(*inputs) -> output`` (value names after aliasing)."""

    name: str
    module: torch.nn.Module
    inputs: list[str]
    output: str
    node: onnx.NodeProto


def _sanitize(text: str) -> str:
    name = re.sub(r"_+", "_", re.sub(r"[^0-9A-Za-z_]", "_", text)).strip("_")
    return name


class _Builder:
    """State of one conversion: constants, value aliases, consumer counts and the layers built so far."""

    def __init__(self, model: onnx.ModelProto) -> None:
        graph = model.graph
        self.consts: dict[str, np.ndarray] = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
        data_inputs = [i.name for i in graph.input if i.name not in self.consts]
        if len(data_inputs) != 1 or len(graph.output) != 1:
            raise UnsupportedModel(
                f"expected exactly one data input and one output, got inputs={data_inputs} "
                f"outputs={[o.name for o in graph.output]}"
            )
        self.input = data_inputs[0]
        self.output = graph.output[0].name
        self.nodes = list(graph.node)
        self.alias: dict[str, str] = {}
        self.producer: dict[str, _Layer] = {}
        self.layers: list[_Layer] = []
        self.names: set[str] = set()
        self.ranks = _ranks(model)
        self.consumers: dict[str, int] = {}

    # -- values ---------------------------------------------------------------------------------------------
    def resolve(self, name: str) -> str:
        while name in self.alias:
            name = self.alias[name]
        return name

    def is_activation(self, name: str) -> bool:
        name = self.resolve(name)
        return name == self.input or name in self.producer

    def const(self, name: str, node: onnx.NodeProto) -> np.ndarray:
        if name not in self.consts:
            raise UnsupportedModel(f"{node.op_type} node {node.name!r}: input {name!r} must be a constant")
        return self.consts[name]

    def activation(self, name: str, node: onnx.NodeProto) -> str:
        if not self.is_activation(name):
            raise UnsupportedModel(f"{node.op_type} node {node.name!r}: input {name!r} must be computed from the "
                                   "model input, not a constant")
        return self.resolve(name)

    def count_consumers(self) -> None:
        """Consumers of each activation (graph output included), through Identity/Dropout aliases."""
        known = set(self.consts)
        alias: dict[str, str] = {}
        for node in self.nodes:
            if node.op_type == "Constant":
                known.update(o for o in node.output if o)
            elif node.op_type in _PASS_THROUGH and node.input and node.input[0] in known:
                known.add(node.output[0])
            elif node.op_type in _PASS_THROUGH and node.input:
                alias[node.output[0]] = node.input[0]
            else:
                for name in node.input:
                    if name and name not in known:
                        root = _follow(alias, name)
                        self.consumers[root] = self.consumers.get(root, 0) + 1
        root = _follow(alias, self.output)
        self.consumers[root] = self.consumers.get(root, 0) + 1

    # -- layers ---------------------------------------------------------------------------------------------
    def add(self, node: onnx.NodeProto, module: torch.nn.Module, inputs: list[str]) -> None:
        base = _sanitize(node.name) or node.op_type.lower()
        if base[0].isdigit() or base in _RESERVED:
            base = f"{node.op_type.lower()}_{base}"
        name, k = base, 1
        while name in self.names:
            k += 1
            name = f"{base}_{k}"
        self.names.add(name)
        set_origin(module, f"ONNX node {node.name!r}, op {node.op_type}")
        layer = _Layer(name, module, inputs, node.output[0], node)
        self.layers.append(layer)
        self.producer[layer.output] = layer

    def foldable(self, value: str, kinds: tuple[type[torch.nn.Module], ...]) -> _Layer | None:
        """The layer producing ``value`` when it is one of ``kinds`` and ``value`` has no other consumer."""
        layer = self.producer.get(value)
        if layer is None or type(layer.module) not in kinds or self.consumers.get(value, 0) != 1:
            return None
        return layer

    def absorb(self, layer: _Layer, node: onnx.NodeProto) -> None:
        """``node``'s output is now ``layer``'s output (its computation was folded into ``layer``)."""
        out = node.output[0]
        self.alias[out] = layer.output
        self.consumers[layer.output] = self.consumers.pop(out, 0)
        set_origin(layer.module, f"ONNX node {layer.node.name!r}, op {layer.node.op_type}, with {node.op_type} node "
                   f"{node.name!r} folded in")


def _follow(alias: Mapping[str, str], name: str) -> str:
    while name in alias:
        name = alias[name]
    return name


def _ranks(model: onnx.ModelProto) -> dict[str, int]:
    inferred = onnx.shape_inference.infer_shapes(model, data_prop=True)
    g = inferred.graph
    out: dict[str, int] = {}
    for v in (*g.input, *g.value_info, *g.output):
        if v.type.HasField("tensor_type") and v.type.tensor_type.HasField("shape"):
            out[v.name] = len(v.type.tensor_type.shape.dim)
    return out


def _f64(a: np.ndarray) -> torch.nn.Parameter:
    return torch.nn.Parameter(torch.from_numpy(np.array(a, dtype=np.float64, copy=True)), requires_grad=False)


def _fold_bn(layer: torch.nn.Module, scale: np.ndarray, shift: np.ndarray) -> None:
    """``layer`` followed by ``y * scale + shift`` per output channel, as one layer (in float64)."""
    w = layer.weight.detach().double().numpy()
    b = layer.bias.detach().double().numpy() if layer.bias is not None else np.zeros(w.shape[0])
    layer.weight = _f64(w * scale.reshape(-1, *([1] * (w.ndim - 1))))
    layer.bias = _f64(b * scale + shift)


def _bias_vector(c: np.ndarray, channels: int, rank: int | None, axis: int) -> np.ndarray | None:
    """``c`` as one value per output channel (``axis`` of a rank-``rank`` output), or None if it is not one."""
    if rank is None or c.ndim > rank:
        return None
    shape = (1,) * (rank - c.ndim) + tuple(c.shape)
    if any(d != 1 for i, d in enumerate(shape) if i != axis % rank):
        return None
    per = c.reshape(-1)
    if per.size == 1:
        return np.full(channels, float(per[0]))
    return per.astype(np.float64) if per.size == channels else None


def _add(b: _Builder, node: onnx.NodeProto) -> None:
    acts = [n for n in node.input if b.is_activation(n)]
    if len(acts) == 2:
        b.add(node, Add(), [b.resolve(n) for n in node.input])
        return
    if len(acts) != 1:
        raise UnsupportedModel(f"Add node {node.name!r}: constant + constant should have been folded by the exporter")
    value = b.resolve(acts[0])
    c = b.const(next(n for n in node.input if not b.is_activation(n)), node)
    layer = b.foldable(value, (torch.nn.Linear, torch.nn.Conv2d))
    channel_axis = 1 if isinstance(layer.module if layer else None, torch.nn.Conv2d) else -1
    rank = b.ranks.get(node.output[0])
    bias = None if layer is None else _bias_vector(c, layer.module.weight.shape[0], rank, channel_axis)
    if layer is None or bias is None:
        raise UnsupportedModel(
            f"Add node {node.name!r} (op Add) adds a constant of shape {tuple(c.shape)}: supported only as one value "
            "per output channel of a directly preceding Gemm/MatMul/Conv with no other consumer"
        )
    _fold_bn(layer.module, np.ones(bias.size), bias)
    b.absorb(layer, node)


def _batch_norm(b: _Builder, node: onnx.NodeProto) -> None:
    at = _attrs(node)
    if int(at.get("training_mode", 0)) != 0 or (len(node.output) > 1 and any(node.output[1:])):  # type: ignore[arg-type]
        raise UnsupportedModel(f"BatchNormalization node {node.name!r}: only inference mode (one output) is supported")
    value = b.activation(node.input[0], node)
    gamma, beta, mean, var = (b.const(n, node).astype(np.float64).reshape(-1) for n in node.input[1:5])
    eps = float(at.get("epsilon", 1e-5))  # type: ignore[arg-type]
    scale = gamma / np.sqrt(var + eps)
    rank = b.ranks.get(node.output[0])
    layer = b.foldable(value, (torch.nn.Conv2d,) if rank != 2 else (torch.nn.Linear, torch.nn.Conv2d))
    if layer is not None:
        _fold_bn(layer.module, scale, beta - mean * scale)
        b.absorb(layer, node)
        return
    kinds = {2: torch.nn.BatchNorm1d, 3: torch.nn.BatchNorm1d, 4: torch.nn.BatchNorm2d}
    if rank not in kinds:
        raise UnsupportedModel(f"BatchNormalization node {node.name!r}: input rank {rank} is not supported")
    bn = kinds[rank](gamma.size, eps=eps)
    bn.weight, bn.bias = _f64(gamma), _f64(beta)
    bn.running_mean, bn.running_var = torch.from_numpy(mean.copy()), torch.from_numpy(var.copy())
    b.add(node, bn.eval(), [value])


def _concat(b: _Builder, node: onnx.NodeProto) -> None:
    axis = int(_attrs(node)["axis"])  # type: ignore[arg-type]
    rank = b.ranks.get(node.output[0])
    if rank is None:
        raise UnsupportedModel(f"Concat node {node.name!r}: the rank of its output is unknown")
    if axis % rank == 0:
        raise UnsupportedModel(f"Concat node {node.name!r}: concatenation along the batch axis is not supported")
    b.add(node, Concat(axis % rank), [b.activation(n, node) for n in node.input])


def _avgpool(node: onnx.NodeProto) -> torch.nn.Module:
    at = _attrs(node)
    return torch.nn.AvgPool2d(
        kernel_size=_pairs(at["kernel_shape"], "kernel", node),  # type: ignore[arg-type]
        stride=_pairs(at.get("strides", [1, 1]), "strides", node),  # type: ignore[arg-type]
        padding=_sym_pads(at, node),
        ceil_mode=bool(at.get("ceil_mode", 0)),
        count_include_pad=bool(at.get("count_include_pad", 0)),
    )


def _single(b: _Builder, node: onnx.NodeProto) -> None:
    """Operators with one data input (the first) and one output."""
    op = node.op_type
    if len(node.output) > 1 and any(node.output[1:]):
        raise UnsupportedModel(f"{op} node {node.name!r}: only the first output is supported")
    value = b.activation(node.input[0], node)
    module: torch.nn.Module
    if op == "Gemm":
        module = _gemm(node, b.consts)
    elif op == "MatMul":
        w = b.const(node.input[1], node)
        if w.ndim != 2:
            raise UnsupportedModel(f"MatMul {node.name!r}: weight must be 2-D")
        module = _linear(w.T, None)
    elif op == "Conv":
        module = _conv(node, b.consts)
    elif op == "MaxPool":
        module = _maxpool(node)
    elif op == "AveragePool":
        module = _avgpool(node)
    elif op == "GlobalAveragePool":
        if b.ranks.get(node.input[0]) != 4:
            raise UnsupportedModel(f"GlobalAveragePool node {node.name!r}: only 4-D (N, C, H, W) inputs are supported")
        module = torch.nn.AdaptiveAvgPool2d(1)
    elif op == "Relu":
        module = torch.nn.ReLU()
    elif op == "Flatten":
        axis = int(_attrs(node).get("axis", 1))  # type: ignore[arg-type]
        if axis != 1:
            raise UnsupportedModel(f"Flatten {node.name!r}: only axis=1 is supported, got {axis}")
        module = torch.nn.Flatten(1)
    elif op == "Reshape":
        if int(_attrs(node).get("allowzero", 0)) != 0:  # type: ignore[arg-type]
            raise UnsupportedModel(f"Reshape {node.name!r}: allowzero=1 is not supported")
        module = OnnxReshape(b.const(node.input[1], node).tolist())
    elif op in ("Softmax", "LogSoftmax"):
        raise UnsupportedModel(
            f"{op} node {node.name!r}: explanations are of logits, export the model without the final {op}"
        )
    else:
        raise UnsupportedModel(f"ONNX operator {op!r} (node {node.name!r}) is not supported")
    b.add(node, module, [value])


def _visit(b: _Builder, node: onnx.NodeProto) -> None:
    op = node.op_type
    if node.domain not in ("", "ai.onnx"):
        raise UnsupportedModel(f"operator {node.domain}:{op} is not supported")
    if op == "Constant":
        at = _attrs(node)
        if "value" not in at:
            raise UnsupportedModel(f"Constant {node.name!r}: only tensor 'value' constants are supported")
        b.consts[node.output[0]] = numpy_helper.to_array(at["value"])  # type: ignore[arg-type]
    elif op in _PASS_THROUGH:
        if len(node.output) > 1 and any(node.output[1:]):
            raise UnsupportedModel(f"{op} {node.name!r}: the mask output is not supported")
        if node.input[0] in b.consts:
            b.consts[node.output[0]] = b.consts[node.input[0]]
        else:
            b.alias[node.output[0]] = b.activation(node.input[0], node)
    elif op == "Add":
        _add(b, node)
    elif op == "BatchNormalization":
        _batch_norm(b, node)
    elif op == "Concat":
        _concat(b, node)
    else:
        _single(b, node)


def _check_all_used(b: _Builder, out: str) -> None:
    live = {out}
    for layer in reversed(b.layers):
        if layer.output in live:
            live.update(layer.inputs)
    dead = [layer for layer in b.layers if layer.output not in live]
    if dead:
        node = dead[0].node
        raise UnsupportedModel(
            f"{node.op_type} node {node.name!r}: its output never reaches the graph output (unused branches are "
            "not supported)"
        )


def _is_chain(b: _Builder, out: str) -> bool:
    previous = b.input
    for layer in b.layers:
        if layer.inputs != [previous]:
            return False
        previous = layer.output
    return previous == out


def _graph_module(b: _Builder, out: str) -> torch.fx.GraphModule:
    root = torch.nn.Module()
    graph = torch.fx.Graph()
    env = {b.input: graph.placeholder(_sanitize(b.input) or "input")}
    for layer in b.layers:
        root.add_module(layer.name, layer.module)
        env[layer.output] = graph.call_module(layer.name, tuple(env[i] for i in layer.inputs))
    graph.output(env[out])
    graph.lint()
    return torch.fx.GraphModule(root, graph, class_name="OnnxGraph")


def onnx_to_module(model: onnx.ModelProto) -> torch.nn.Module:
    """Translate a float ONNX graph into a float64 eval-mode module: ``nn.Sequential`` for a chain, else a
    wiring-only ``torch.fx.GraphModule``. Raises :class:`UnsupportedModel` for anything it cannot represent."""
    b = _Builder(model)
    b.count_consumers()
    for node in b.nodes:
        _visit(b, node)
    out = b.resolve(b.output)
    if out == b.input or out not in b.producer:
        raise UnsupportedModel(f"graph output {b.output!r} is not computed by any supported layer")
    _check_all_used(b, out)
    if _is_chain(b, out):
        module: torch.nn.Module = torch.nn.Sequential(*(layer.module for layer in b.layers))
    else:
        module = _graph_module(b, out)
    module = module.to(torch.float64).eval()
    for p in module.parameters():
        p.requires_grad_(False)
    return module


def onnx_to_torch(model: onnx.ModelProto) -> torch.nn.Sequential:
    """Translate a chain-shaped float ONNX graph into a (float64) ``torch.nn.Sequential`` of standard layers.

    Kept for callers that need a chain; :func:`onnx_to_module` converts DAGs as well.
    """
    module = onnx_to_module(model)
    if not isinstance(module, torch.nn.Sequential):
        raise UnsupportedModel("the graph is not a chain (it has branches or residual sums); use onnx_to_module")
    return module
