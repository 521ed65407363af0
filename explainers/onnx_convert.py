"""Convert a *sequential* ONNX graph into an equivalent ``torch.nn.Sequential`` for attribution.

Why our own converter: zennit attaches LRP rules to standard ``torch.nn`` layers (``Linear``, ``Conv2d``,
``ReLU`` ...). A generic converter produces opaque wrapper modules on which rules would silently not apply.
This converter emits only standard layers, so every layer either gets a known rule or is rejected.

Supported operators (anything else raises :class:`UnsupportedModel`, never a best-effort fallback):
``Gemm``, ``MatMul`` (optionally followed by ``Add`` with a constant bias), ``Relu``, ``Flatten``,
``Reshape`` (constant shape), ``Conv`` (2-D, group 1, symmetric pads), ``MaxPool`` (2-D, symmetric pads),
``Identity``, ``Dropout`` (inference: identity), ``Constant`` (as a parameter source).

The graph must be a chain: every compute node takes the previous node's output as its only data input;
all other inputs are initializers or ``Constant`` outputs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import onnx
import torch
from onnx import numpy_helper

from explainers.errors import UnsupportedModel


class OnnxReshape(torch.nn.Module):
    """ONNX ``Reshape`` with a constant target shape (``0`` copies the input dim, ``-1`` is inferred)."""

    def __init__(self, shape: Sequence[int]) -> None:
        super().__init__()
        self.shape: tuple[int, ...] = tuple(int(d) for d in shape)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        target = [x.shape[i] if d == 0 else d for i, d in enumerate(self.shape)]
        return torch.reshape(x, target)

    def extra_repr(self) -> str:
        return f"shape={self.shape}"


def _attrs(node: onnx.NodeProto) -> dict[str, object]:
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _tensor(consts: Mapping[str, np.ndarray], name: str, node: onnx.NodeProto) -> np.ndarray:
    if name not in consts:
        raise UnsupportedModel(
            f"{node.op_type} node {node.name!r}: input {name!r} is not a constant (graph is not a simple chain)"
        )
    return consts[name]


def _param(a: np.ndarray) -> torch.nn.Parameter:
    return torch.nn.Parameter(torch.from_numpy(np.array(a, dtype=np.float32, copy=True)), requires_grad=False)


def _linear(weight_out_in: np.ndarray, bias: np.ndarray | None) -> torch.nn.Linear:
    out_f, in_f = weight_out_in.shape
    layer = torch.nn.Linear(in_f, out_f, bias=bias is not None)
    layer.weight = _param(weight_out_in)
    if bias is not None:
        layer.bias = _param(np.broadcast_to(bias, (out_f,)) if bias.size in (1, out_f) else bias)
    return layer


def _gemm(node: onnx.NodeProto, consts: Mapping[str, np.ndarray]) -> torch.nn.Module:
    at = _attrs(node)
    if int(at.get("transA", 0)) != 0:
        raise UnsupportedModel(f"Gemm {node.name!r}: transA=1 is not supported")
    alpha, beta = float(at.get("alpha", 1.0)), float(at.get("beta", 1.0))
    b = _tensor(consts, node.input[1], node)
    if b.ndim != 2:
        raise UnsupportedModel(f"Gemm {node.name!r}: weight must be 2-D")
    w = alpha * (b if int(at.get("transB", 0)) else b.T)
    bias = None
    if len(node.input) > 2 and node.input[2]:
        c = _tensor(consts, node.input[2], node)
        if c.size not in (1, w.shape[0]):
            raise UnsupportedModel(f"Gemm {node.name!r}: bias shape {c.shape} does not broadcast per output")
        bias = beta * c.reshape(-1)
    return _linear(w, bias)


def _pairs(values: Sequence[int], name: str, node: onnx.NodeProto) -> tuple[int, int]:
    if len(values) != 2:
        raise UnsupportedModel(f"{node.op_type} {node.name!r}: only 2-D {name} supported, got {list(values)}")
    return int(values[0]), int(values[1])


def _sym_pads(at: Mapping[str, object], node: onnx.NodeProto) -> tuple[int, int]:
    if at.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET", b"VALID", "VALID"):
        raise UnsupportedModel(f"{node.op_type} {node.name!r}: auto_pad={at['auto_pad']!r} is not supported")
    pads = [int(p) for p in at.get("pads", [0, 0, 0, 0])]  # type: ignore[union-attr]
    if len(pads) != 4 or pads[:2] != pads[2:]:
        raise UnsupportedModel(f"{node.op_type} {node.name!r}: only symmetric 2-D pads supported, got {pads}")
    return pads[0], pads[1]


def _conv(node: onnx.NodeProto, consts: Mapping[str, np.ndarray]) -> torch.nn.Module:
    at = _attrs(node)
    w = _tensor(consts, node.input[1], node)
    if w.ndim != 4:
        raise UnsupportedModel(f"Conv {node.name!r}: only 2-D convolutions are supported")
    if int(at.get("group", 1)) != 1:
        raise UnsupportedModel(f"Conv {node.name!r}: grouped convolution is not supported")
    bias = _tensor(consts, node.input[2], node) if len(node.input) > 2 and node.input[2] else None
    layer = torch.nn.Conv2d(
        in_channels=w.shape[1],
        out_channels=w.shape[0],
        kernel_size=_pairs(at.get("kernel_shape", w.shape[2:]), "kernel", node),  # type: ignore[arg-type]
        stride=_pairs(at.get("strides", [1, 1]), "strides", node),  # type: ignore[arg-type]
        padding=_sym_pads(at, node),
        dilation=_pairs(at.get("dilations", [1, 1]), "dilations", node),  # type: ignore[arg-type]
        bias=bias is not None,
    )
    layer.weight = _param(w)
    if bias is not None:
        layer.bias = _param(bias)
    return layer


def _maxpool(node: onnx.NodeProto) -> torch.nn.Module:
    at = _attrs(node)
    if len(node.output) > 1 and node.output[1]:
        raise UnsupportedModel(f"MaxPool {node.name!r}: the indices output is not supported")
    if int(at.get("storage_order", 0)) != 0:
        raise UnsupportedModel(f"MaxPool {node.name!r}: storage_order=1 is not supported")
    kernel = _pairs(at["kernel_shape"], "kernel", node)  # type: ignore[arg-type]
    return torch.nn.MaxPool2d(
        kernel_size=kernel,
        stride=_pairs(at.get("strides", [1, 1]), "strides", node),  # type: ignore[arg-type]
        padding=_sym_pads(at, node),
        dilation=_pairs(at.get("dilations", [1, 1]), "dilations", node),  # type: ignore[arg-type]
        ceil_mode=bool(at.get("ceil_mode", 0)),
    )


def onnx_to_torch(model: onnx.ModelProto) -> torch.nn.Sequential:
    """Translate a chain-shaped float ONNX graph into a ``torch.nn.Sequential`` of standard layers."""
    graph = model.graph
    consts: dict[str, np.ndarray] = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    data_inputs = [i.name for i in graph.input if i.name not in consts]
    if len(data_inputs) != 1 or len(graph.output) != 1:
        raise UnsupportedModel(
            f"expected exactly one data input and one output, got inputs={data_inputs} "
            f"outputs={[o.name for o in graph.output]}"
        )
    current = data_inputs[0]
    layers: list[torch.nn.Module] = []
    nodes = list(graph.node)
    i = 0
    while i < len(nodes):
        node = nodes[i]
        op = node.op_type
        if node.domain not in ("", "ai.onnx"):
            raise UnsupportedModel(f"operator {node.domain}:{op} is not supported")
        if op == "Constant":
            at = _attrs(node)
            if "value" not in at:
                raise UnsupportedModel(f"Constant {node.name!r}: only tensor 'value' constants are supported")
            consts[node.output[0]] = numpy_helper.to_array(at["value"])  # type: ignore[arg-type]
            i += 1
            continue
        if not node.input or node.input[0] != current:
            raise UnsupportedModel(
                f"{op} node {node.name!r} does not consume the previous layer's output; only sequential graphs "
                "are supported"
            )
        if op == "Gemm":
            layers.append(_gemm(node, consts))
        elif op == "MatMul":
            w = _tensor(consts, node.input[1], node)
            if w.ndim != 2:
                raise UnsupportedModel(f"MatMul {node.name!r}: weight must be 2-D")
            bias = None
            nxt = nodes[i + 1] if i + 1 < len(nodes) else None
            if nxt is not None and nxt.op_type == "Add" and nxt.input[0] == node.output[0] and nxt.input[1] in consts:
                bias = consts[nxt.input[1]].reshape(-1)
                if bias.size != w.shape[1]:
                    raise UnsupportedModel(f"Add {nxt.name!r}: bias of size {bias.size} after MatMul")
                node = nxt
                i += 1
            layers.append(_linear(w.T, bias))
        elif op == "Relu":
            layers.append(torch.nn.ReLU())
        elif op == "Flatten":
            axis = int(_attrs(node).get("axis", 1))  # type: ignore[arg-type]
            if axis != 1:
                raise UnsupportedModel(f"Flatten {node.name!r}: only axis=1 is supported, got {axis}")
            layers.append(torch.nn.Flatten(1))
        elif op == "Reshape":
            if int(_attrs(node).get("allowzero", 0)) != 0:  # type: ignore[arg-type]
                raise UnsupportedModel(f"Reshape {node.name!r}: allowzero=1 is not supported")
            layers.append(OnnxReshape(_tensor(consts, node.input[1], node).tolist()))
        elif op == "Conv":
            layers.append(_conv(node, consts))
        elif op == "MaxPool":
            layers.append(_maxpool(node))
        elif op in ("Identity", "Dropout"):
            if op == "Dropout" and len(node.output) > 1 and node.output[1]:
                raise UnsupportedModel(f"Dropout {node.name!r}: the mask output is not supported")
        elif op in ("Softmax", "LogSoftmax"):
            raise UnsupportedModel(
                f"{op} node {node.name!r}: explanations are of logits, export the model without the final {op}"
            )
        else:
            raise UnsupportedModel(f"ONNX operator {op!r} (node {node.name!r}) is not supported")
        current = node.output[0]
        i += 1
    if current != graph.output[0].name:
        raise UnsupportedModel(f"graph output {graph.output[0].name!r} is not the end of the layer chain")
    return torch.nn.Sequential(*layers).eval()
