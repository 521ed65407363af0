"""Removing a final softmax so that logits (not probabilities) are predicted and explained.

Attribution of a softmax output explains the *competition* between classes and saturates for confident
predictions; zkxai always explains logits. Models are rejected at load time when they contain a softmax,
unless the caller asks for it to be stripped (``load_torch(..., strip_softmax=True)`` /
``load_onnx(..., strip_softmax=True)``), which is only allowed when the softmax is the very last operation.
"""

from __future__ import annotations

import onnx
import torch

from explainers.errors import ModelLoadError, UnsupportedModel
from explainers.onnx_export import canonicalize

__all__ = ["SOFTMAX_OPS", "strip_softmax_onnx", "strip_softmax_torch"]

SOFTMAX_OPS: tuple[str, ...] = ("Softmax", "LogSoftmax")
_SOFTMAX_MODULES = (torch.nn.Softmax, torch.nn.LogSoftmax)


def strip_softmax_torch(module: torch.nn.Module) -> torch.nn.Module:
    """``module`` without a trailing Softmax/LogSoftmax child (searched through nested ``Sequential`` tails).

    Returns ``module`` itself when there is none; raises :class:`UnsupportedModel` if a softmax is anywhere
    but last (removing it would change the function).
    """
    if isinstance(module, torch.nn.Sequential) and len(module) > 0:
        children = list(module.children())
        last = children[-1]
        if isinstance(last, _SOFTMAX_MODULES):
            return torch.nn.Sequential(*children[:-1])
        if isinstance(last, torch.nn.Sequential):
            stripped = strip_softmax_torch(last)
            if stripped is not last:
                return torch.nn.Sequential(*children[:-1], stripped)
    for name, sub in module.named_modules():
        if isinstance(sub, _SOFTMAX_MODULES):
            raise UnsupportedModel(f"softmax {name!r} is not the final operation; it cannot be stripped")
    return module


def strip_softmax_onnx(data: bytes) -> bytes:
    """Canonical ONNX bytes of the graph without its final Softmax/LogSoftmax node (``data`` if there is none)."""
    try:
        model = onnx.load_model_from_string(bytes(data))
    except Exception as exc:
        raise ModelLoadError(f"invalid ONNX model: {exc}") from exc
    graph = model.graph
    if len(graph.output) != 1 or not graph.node:
        return bytes(data)
    last = graph.node[-1]
    out_name = graph.output[0].name
    if last.op_type not in SOFTMAX_OPS or list(last.output) != [out_name]:
        if any(n.op_type in SOFTMAX_OPS for n in graph.node):
            raise UnsupportedModel("the softmax is not the graph's final operation; it cannot be stripped")
        return bytes(data)
    source = last.input[0]
    if any(source in n.input for n in graph.node[:-1]) or any(i.name == source for i in graph.input):
        raise UnsupportedModel(f"softmax input {source!r} is used elsewhere; it cannot be stripped")
    del graph.node[-1]
    for node in graph.node:
        for k, name in enumerate(node.output):
            if name == source:
                node.output[k] = out_name
    kept = [v for v in graph.value_info if v.name != source]
    del graph.value_info[:]
    graph.value_info.extend(kept)
    return canonicalize(model)
