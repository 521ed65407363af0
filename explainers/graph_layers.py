"""Layers of a converted *graph* model: the wiring a DAG needs beyond ``torch.nn`` (residual sums, concatenation).

Both converters (ONNX graphs, :mod:`explainers.onnx_convert`; ``torch.export`` programs, :mod:`explainers.pt2`)
emit a ``torch.fx.GraphModule`` whose graph only *wires* layers: every computation is a ``call_module`` of a
standard ``torch.nn`` layer or of a layer below, so each one is visible to zennit's rules (a computation hidden
in a ``call_function`` would be explained with its plain gradient, silently). :func:`is_wiring_only` states the
property and :func:`explainers.rules.check_support` relies on it.

* :class:`Add` sums its inputs through zennit's :class:`zennit.layer.Sum` (on the inputs stacked on a new last
  axis), so LRP composites give residual sums the norm rule: relevance splits in proportion to each branch's
  contribution, as zennit's ``ResNetCanonizer`` does for torchvision blocks.
* :class:`Concat` concatenates along one axis (its gradient routes relevance back to each part unchanged).
"""

from __future__ import annotations

import operator

import torch
from zennit.layer import Sum

__all__ = ["Add", "Concat", "ORIGIN_ATTR", "WIRING_FUNCTIONS", "is_wiring_only", "origin_of", "set_origin"]


class Add(torch.nn.Module):
    """``x_1 + ... + x_k`` (same shapes), computed by a :class:`zennit.layer.Sum` so LRP rules see the sum."""

    def __init__(self) -> None:
        super().__init__()
        self.sum = Sum()

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        if len(inputs) < 2:
            raise ValueError("Add needs at least two inputs")
        shape = torch.broadcast_shapes(*(t.shape for t in inputs))
        return self.sum(torch.stack([t.expand(shape) for t in inputs], dim=-1))


class Concat(torch.nn.Module):
    """``torch.cat(inputs, dim)``."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dim = int(dim)

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        return torch.cat(inputs, dim=self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


#: ``call_function`` targets a wiring-only graph may hold besides ``call_module``: tuple indexing of a
#: multi-output layer. Anything else computes, and must be a module.
WIRING_FUNCTIONS: tuple[object, ...] = (operator.getitem,)


def is_wiring_only(module: torch.nn.Module) -> bool:
    """True when ``module`` is a ``torch.fx.GraphModule`` whose graph computes nothing outside modules."""
    if not isinstance(module, torch.fx.GraphModule):
        return False
    for node in module.graph.nodes:
        if node.op in ("placeholder", "output", "call_module", "get_attr"):
            continue
        if node.op == "call_function" and node.target in WIRING_FUNCTIONS:
            continue
        return False
    return True


#: Attribute naming where a converted layer came from (e.g. "ONNX node '/layer1/Add', op Add"), for error messages.
ORIGIN_ATTR = "graph_origin"


def set_origin(module: torch.nn.Module, origin: str) -> torch.nn.Module:
    """Record ``origin`` (the source node a converter built ``module`` from) on ``module``; returns it."""
    setattr(module, ORIGIN_ATTR, str(origin))
    return module


def origin_of(module: torch.nn.Module) -> str | None:
    """The origin recorded by :func:`set_origin`, or None."""
    value = getattr(module, ORIGIN_ATTR, None)
    return value if isinstance(value, str) else None
