"""ONNX layer conversion helpers (one ONNX node -> one standard ``torch.nn`` layer) and the chain entry point.

Why our own converter: zennit attaches LRP rules to standard ``torch.nn`` layers (``Linear``, ``Conv2d``,
``ReLU`` ...). A generic converter produces opaque wrapper modules on which rules would silently not apply.
This converter emits only standard layers, so every layer either gets a known rule or is rejected.

Supported operators (anything else raises :class:`UnsupportedModel`, never a best-effort fallback):
``Gemm``, ``MatMul`` (optionally followed by ``Add`` with a constant bias), ``Relu``, ``Flatten``,
``Reshape`` (constant shape), ``Conv`` (2-D, group 1, symmetric pads), ``MaxPool`` (2-D, symmetric pads),
``Identity``, ``Dropout`` (inference: identity), ``Constant`` (as a parameter source).

The graph walk itself (chains and DAGs, BatchNorm folding, residual sums) lives in :mod:`explainers.onnx_graph`;
:func:`explainers.onnx_graph.onnx_to_torch` is its chain-only form.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import onnx
import torch

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
