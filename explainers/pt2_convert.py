"""Convert a ``torch.export`` program (ATen graph, static shapes) into a wiring-only fx graph of standard layers.

Input: an ``ExportedProgram`` in the default (training-IR, not decomposed) dialect, which keeps high-level ATen ops
(``aten.conv2d``, ``aten.linear``, ``aten.batch_norm``, ``aten.layer_norm`` ...) that map one-to-one onto
``torch.nn`` layers; ``run_decompositions`` would split them (``linear`` -> ``permute`` + ``addmm``) and is not used.

Output: a float64 ``torch.fx.GraphModule`` whose nodes are ``call_module`` only
(:func:`explainers.graph_layers.is_wiring_only`), so zennit's rules see every computation:

* ``conv2d`` -> ``nn.Conv2d``; a ``batch_norm`` (inference) whose input is a conv used only by it is folded into
  that conv in float64 (``w * g / sqrt(v + eps)``, ``(b - m) * g / sqrt(v + eps) + beta``), else ``nn.BatchNorm2d``;
* ``linear`` -> ``nn.Linear``, ``relu`` -> ``nn.ReLU``, pools -> ``nn.MaxPool2d`` / ``nn.AvgPool2d`` /
  ``nn.AdaptiveAvgPool2d``, ``flatten`` -> ``nn.Flatten``, ``unflatten`` -> ``nn.Unflatten``;
* a sum of two computed tensors -> :class:`explainers.graph_layers.Add` (LRP's norm rule), ``cat`` -> ``Concat``;
* ``embedding`` -> ``nn.Embedding``, ``layer_norm`` -> ``nn.LayerNorm``, ``gelu`` -> ``nn.GELU``, attention core ->
  :class:`explainers.pt2_layers.ScaledDotProductAttention`, ``mean`` and data movement -> :mod:`explainers.pt2_layers`;
* inference ``dropout``, ``contiguous`` and ``clone`` are identities and disappear.

Modules are named after their weights (``layer1.0.conv1.weight`` -> ``layer1_0_conv1``) or else the ATen node.
Anything else (a parameter used as data, a training-mode op, a mask) is :class:`UnsupportedModel`.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import torch
from torch.export import ExportedProgram

from explainers.errors import UnsupportedModel
from explainers.graph_layers import Add, Concat
from explainers.pt2_guard import SUPPORTED_OPS, op_name
from explainers.pt2_layers import (
    Mean,
    Permute,
    Reshape,
    ScaledDotProductAttention,
    Select,
    Squeeze,
    Transpose,
    Unsqueeze,
)

__all__ = ["convert_exported"]

_IDENTITY_OPS = frozenset({"aten.contiguous.default", "aten.clone.default", "aten.dropout.default"})
_F64 = torch.float64


class _Builder:
    """State of one conversion: the new graph, its modules and the old-node -> new-node map."""

    def __init__(self, ep: ExportedProgram) -> None:
        sig = ep.graph_signature
        if sig.buffers_to_mutate or sig.user_inputs_to_mutate:
            raise UnsupportedModel("the exported program mutates buffers or inputs (training-mode layers?)")
        if len(sig.user_inputs) != 1 or len(sig.user_outputs) != 1:
            raise UnsupportedModel(f"expected one tensor input and one output, got {sig.user_inputs} -> {sig.user_outputs}")
        tensors = {**ep.state_dict, **ep.constants}
        fqns = {**sig.inputs_to_parameters, **sig.inputs_to_buffers, **sig.inputs_to_lifted_tensor_constants}
        self.params: dict[str, tuple[str, torch.Tensor]] = {}
        for placeholder, fqn in fqns.items():
            if fqn not in tensors or not isinstance(tensors[fqn], torch.Tensor):
                raise UnsupportedModel(f"exported program input {fqn!r} is not a tensor")
            self.params[placeholder] = (fqn, tensors[fqn].detach().to(_F64))
        self.user_input = sig.user_inputs[0]
        self.root = torch.nn.Module()
        self.graph = torch.fx.Graph()
        self.env: dict[str, torch.fx.Node] = {}
        self.producer: dict[str, tuple[str, torch.nn.Module, int]] = {}  # new node name -> (op, module, users)

    def param(self, value: object, what: str) -> tuple[str, torch.Tensor]:
        if not isinstance(value, torch.fx.Node) or value.name not in self.params:
            raise UnsupportedModel(f"{what} must be a parameter or buffer of the model")
        return self.params[value.name]

    def optional_param(self, value: object, what: str) -> torch.Tensor | None:
        return None if value is None else self.param(value, what)[1]

    def value(self, value: object, what: str) -> torch.fx.Node:
        if not isinstance(value, torch.fx.Node) or value.name not in self.env:
            raise UnsupportedModel(f"{what} must be a computed tensor (a parameter used as data is not supported)")
        return self.env[value.name]

    def name(self, base: str) -> str:
        stem = re.sub(r"[^0-9A-Za-z_]", "_", base) or "layer"
        if stem[0].isdigit():
            stem = f"l{stem}"
        candidate, i = stem, 1
        while hasattr(self.root, candidate):
            candidate, i = f"{stem}_{i}", i + 1
        return candidate

    def emit(self, node: torch.fx.Node, module: torch.nn.Module, inputs: tuple[torch.fx.Node, ...], base: str) -> None:
        name = self.name(base)
        self.root.add_module(name, module.to(_F64))
        new = self.graph.call_module(name, inputs)
        self.env[node.name] = new
        self.producer[new.name] = (op_name(str(node.target)), self.root.get_submodule(name), len(node.users))


def _bind(node: torch.fx.Node) -> dict[str, object]:
    schema = node.target._schema  # type: ignore[union-attr]
    bound: dict[str, object] = {}
    for i, arg in enumerate(schema.arguments):
        if i < len(node.args):
            bound[arg.name] = node.args[i]
        elif arg.name in node.kwargs:
            bound[arg.name] = node.kwargs[arg.name]
        elif arg.has_default_value():
            bound[arg.name] = arg.default_value
        else:
            raise UnsupportedModel(f"node {node.name}: missing argument {arg.name!r}")
    return bound


def _module_base(fqn: str) -> str:
    return fqn.rsplit(".", 1)[0] if "." in fqn else fqn


def _shape(node: object) -> tuple[int, ...]:
    val = node.meta.get("val") if isinstance(node, torch.fx.Node) else None
    return tuple(int(d) for d in val.shape) if isinstance(val, torch.Tensor) else ()


def _conv2d(b: _Builder, node: torch.fx.Node, a: dict[str, object]) -> None:
    fqn, weight = b.param(a["weight"], f"{node.name}: conv weight")
    bias = b.optional_param(a["bias"], f"{node.name}: conv bias")
    if isinstance(a["padding"], str):
        raise UnsupportedModel(f"{node.name}: string padding is not supported")
    groups = int(a["groups"])  # type: ignore[arg-type]
    conv = torch.nn.Conv2d(
        weight.shape[1] * groups, weight.shape[0], tuple(weight.shape[2:]), stride=tuple(a["stride"]),  # type: ignore[arg-type]
        padding=tuple(a["padding"]), dilation=tuple(a["dilation"]), groups=groups, bias=bias is not None,  # type: ignore[arg-type]
    ).to(_F64)
    with torch.no_grad():
        conv.weight.copy_(weight)
        if bias is not None:
            conv.bias.copy_(bias)
    b.emit(node, conv, (b.value(a["input"], f"{node.name}: conv input"),), _module_base(fqn))


def _batch_norm(b: _Builder, node: torch.fx.Node, a: dict[str, object]) -> None:
    if a["training"]:
        raise UnsupportedModel(f"{node.name}: batch_norm in training mode (export the model in eval mode)")
    fqn, mean = b.param(a["running_mean"], f"{node.name}: running mean")
    var = b.param(a["running_var"], f"{node.name}: running var")[1]
    gamma = b.optional_param(a["weight"], f"{node.name}: weight")
    beta = b.optional_param(a["bias"], f"{node.name}: bias")
    eps = float(a["eps"])  # type: ignore[arg-type]
    source = b.value(a["input"], f"{node.name}: input")
    op, module, users = b.producer.get(source.name, ("", None, 0))
    if op == "aten.conv2d.default" and users == 1 and isinstance(module, torch.nn.Conv2d):
        scale = (torch.ones_like(var) if gamma is None else gamma) / torch.sqrt(var + eps)
        shift = torch.zeros_like(var) if beta is None else beta
        old_bias = torch.zeros_like(var) if module.bias is None else module.bias.detach()
        with torch.no_grad():
            module.weight.mul_(scale.reshape(-1, 1, 1, 1))
            if module.bias is None:
                module.bias = torch.nn.Parameter(torch.zeros_like(var))
            module.bias.copy_((old_bias - mean) * scale + shift)
        b.env[node.name] = source
        return
    bn = torch.nn.BatchNorm2d(mean.shape[0], eps=eps, affine=gamma is not None).to(_F64).eval()
    with torch.no_grad():
        bn.running_mean.copy_(mean)
        bn.running_var.copy_(var)
        if gamma is not None:
            bn.weight.copy_(gamma)
            bn.bias.copy_(beta if beta is not None else torch.zeros_like(gamma))
    b.emit(node, bn, (source,), _module_base(fqn))


def _linear(b: _Builder, node: torch.fx.Node, a: dict[str, object]) -> None:
    fqn, weight = b.param(a["weight"], f"{node.name}: linear weight")
    bias = b.optional_param(a["bias"], f"{node.name}: linear bias")
    layer = torch.nn.Linear(weight.shape[1], weight.shape[0], bias=bias is not None).to(_F64)
    with torch.no_grad():
        layer.weight.copy_(weight)
        if bias is not None:
            layer.bias.copy_(bias)
    b.emit(node, layer, (b.value(a["input"], f"{node.name}: input"),), _module_base(fqn))


def _embedding(b: _Builder, node: torch.fx.Node, a: dict[str, object]) -> None:
    fqn, weight = b.param(a["weight"], f"{node.name}: embedding weight")
    layer = torch.nn.Embedding(weight.shape[0], weight.shape[1]).to(_F64)
    with torch.no_grad():
        layer.weight.copy_(weight)
    b.emit(node, layer, (b.value(a["indices"], f"{node.name}: token ids"),), _module_base(fqn))


def _layer_norm(b: _Builder, node: torch.fx.Node, a: dict[str, object]) -> None:
    weight, bias = a["weight"], a["bias"]
    fqn = b.param(weight, f"{node.name}: weight")[0] if weight is not None else node.name
    layer = torch.nn.LayerNorm(
        tuple(a["normalized_shape"]), eps=float(a["eps"]), elementwise_affine=weight is not None,  # type: ignore[arg-type]
        bias=bias is not None,
    ).to(_F64)
    with torch.no_grad():
        if weight is not None:
            layer.weight.copy_(b.param(weight, f"{node.name}: weight")[1])
        if bias is not None:
            layer.bias.copy_(b.param(bias, f"{node.name}: bias")[1])
    b.emit(node, layer, (b.value(a["input"], f"{node.name}: input"),), _module_base(fqn))


def _add(b: _Builder, node: torch.fx.Node, a: dict[str, object]) -> None:
    if a["alpha"] != 1:
        raise UnsupportedModel(f"{node.name}: add with alpha {a['alpha']} is not supported")
    left, right = b.value(a["self"], f"{node.name}: summand"), b.value(a["other"], f"{node.name}: summand")
    b.emit(node, Add(), (left, right), node.name)


def _sdpa(b: _Builder, node: torch.fx.Node, a: dict[str, object]) -> None:
    if a["attn_mask"] is not None or float(a["dropout_p"]) != 0.0 or a.get("enable_gqa"):  # type: ignore[arg-type]
        raise UnsupportedModel(f"{node.name}: attention with a mask, dropout or GQA is not supported")
    inputs = tuple(b.value(a[k], f"{node.name}: {k}") for k in ("query", "key", "value"))
    b.emit(node, ScaledDotProductAttention(a["scale"], bool(a["is_causal"])), inputs, "attention")  # type: ignore[arg-type]


def _simple(factory: Callable[[dict[str, object], torch.fx.Node], torch.nn.Module], key: str = "self") -> Callable:
    def handler(b: _Builder, node: torch.fx.Node, a: dict[str, object]) -> None:
        b.emit(node, factory(a, node), (b.value(a[key], f"{node.name}: input"),), node.name)

    return handler


def _reshape(a: dict[str, object], node: torch.fx.Node) -> torch.nn.Module:
    shape = tuple(int(d) for d in (a["size"] if "size" in a else a["shape"]))  # type: ignore[union-attr]
    source = _shape(a["self"])
    return Reshape(shape, keep_batch=bool(shape) and shape[0] == 1 and bool(source) and source[0] == 1)


def _max_pool(a: dict[str, object], node: torch.fx.Node) -> torch.nn.Module:
    stride = tuple(a["stride"]) or tuple(a["kernel_size"])  # type: ignore[arg-type]
    return torch.nn.MaxPool2d(tuple(a["kernel_size"]), stride, tuple(a["padding"]), tuple(a["dilation"]),  # type: ignore[arg-type]
                              ceil_mode=bool(a["ceil_mode"]))


def _avg_pool(a: dict[str, object], node: torch.fx.Node) -> torch.nn.Module:
    if a["divisor_override"] is not None:
        raise UnsupportedModel(f"{node.name}: avg_pool2d divisor_override is not supported")
    stride = tuple(a["stride"]) or tuple(a["kernel_size"])  # type: ignore[arg-type]
    return torch.nn.AvgPool2d(tuple(a["kernel_size"]), stride, tuple(a["padding"]), ceil_mode=bool(a["ceil_mode"]),  # type: ignore[arg-type]
                              count_include_pad=bool(a["count_include_pad"]))


def _mean(a: dict[str, object], node: torch.fx.Node) -> torch.nn.Module:
    if a["dtype"] is not None or a["dim"] is None:
        raise UnsupportedModel(f"{node.name}: mean needs explicit dims and no dtype")
    return Mean(a["dim"], bool(a["keepdim"]))  # type: ignore[arg-type]


_HANDLERS: dict[str, Callable[[_Builder, torch.fx.Node, dict[str, object]], None]] = {
    "aten.conv2d.default": _conv2d,
    "aten.batch_norm.default": _batch_norm,
    "aten.linear.default": _linear,
    "aten.embedding.default": _embedding,
    "aten.layer_norm.default": _layer_norm,
    "aten.add.Tensor": _add,
    "aten.add_.Tensor": _add,
    "aten.scaled_dot_product_attention.default": _sdpa,
    "aten.relu.default": _simple(lambda a, n: torch.nn.ReLU()),
    "aten.relu_.default": _simple(lambda a, n: torch.nn.ReLU()),
    "aten.gelu.default": _simple(lambda a, n: torch.nn.GELU(approximate=str(a["approximate"]))),
    "aten.max_pool2d.default": _simple(_max_pool),
    "aten.avg_pool2d.default": _simple(_avg_pool),
    "aten.adaptive_avg_pool2d.default": _simple(lambda a, n: torch.nn.AdaptiveAvgPool2d(tuple(a["output_size"]))),  # type: ignore[arg-type]
    "aten.flatten.using_ints": _simple(lambda a, n: torch.nn.Flatten(int(a["start_dim"]), int(a["end_dim"]))),  # type: ignore[arg-type]
    "aten.unflatten.int": _simple(lambda a, n: torch.nn.Unflatten(int(a["dim"]), tuple(a["sizes"]))),  # type: ignore[arg-type]
    "aten.mean.dim": _simple(_mean),
    "aten.view.default": _simple(_reshape),
    "aten.reshape.default": _simple(_reshape),
    "aten.transpose.int": _simple(lambda a, n: Transpose(a["dim0"], a["dim1"])),  # type: ignore[arg-type]
    "aten.permute.default": _simple(lambda a, n: Permute(a["dims"])),  # type: ignore[arg-type]
    "aten.unsqueeze.default": _simple(lambda a, n: Unsqueeze(a["dim"])),  # type: ignore[arg-type]
    "aten.squeeze.dim": _simple(lambda a, n: Squeeze(a["dim"])),  # type: ignore[arg-type]
    "aten.select.int": _simple(lambda a, n: Select(a["dim"], a["index"])),  # type: ignore[arg-type]
}


def _cat(b: _Builder, node: torch.fx.Node, a: dict[str, object]) -> None:
    parts = tuple(b.value(t, f"{node.name}: concatenated tensor") for t in a["tensors"])  # type: ignore[union-attr]
    b.emit(node, Concat(int(a["dim"])), parts, node.name)  # type: ignore[arg-type]


_HANDLERS["aten.cat.default"] = _cat
if set(_HANDLERS) | _IDENTITY_OPS != SUPPORTED_OPS:  # pragma: no cover - a guard/converter drift is a bug
    raise ImportError("pt2_convert handlers and pt2_guard.SUPPORTED_OPS disagree")


def convert_exported(ep: ExportedProgram) -> torch.fx.GraphModule:
    """Wiring-only float64 GraphModule computing what ``ep`` computes (see the module docstring)."""
    b = _Builder(ep)
    for node in ep.graph.nodes:
        if node.op == "placeholder":
            if node.name == b.user_input:
                b.env[node.name] = b.graph.placeholder("x")
            elif node.name not in b.params:
                raise UnsupportedModel(f"exported program input {node.name!r} is neither the input nor a parameter")
        elif node.op == "call_function":
            name = op_name(str(node.target))
            if name not in SUPPORTED_OPS:
                raise UnsupportedModel(f"operator {name!r} is not supported (node {node.name})")
            args = _bind(node)
            if name in _IDENTITY_OPS:
                if name == "aten.dropout.default" and args["train"]:
                    raise UnsupportedModel(f"{node.name}: dropout in training mode (export the model in eval mode)")
                key = "input" if "input" in args else "self"
                b.env[node.name] = b.value(args[key], f"{node.name}: input")
            else:
                _HANDLERS[name](b, node, args)
        elif node.op == "output":
            outs = node.args[0]
            out = outs[0] if isinstance(outs, (tuple, list)) else outs
            b.graph.output(b.value(out, "the program output"))
        else:
            raise UnsupportedModel(f"exported graph node {node.name!r} ({node.op}) is not supported")
    module = torch.fx.GraphModule(b.root, b.graph, class_name="ConvertedProgram")
    return module.to(_F64).eval()
