"""Attribution method names (SignXAI-style) and the zennit composites that implement them.

Names:

* ``gradient`` — d logit[target] / d x.
* ``gradient_x_input`` — gradient times input.
* ``lrp_epsilon_<v>`` — LRP-epsilon on every Linear/Conv layer; ``<v>`` is a positive decimal with ``_`` as
  the decimal point: ``lrp_epsilon_0_1`` = 0.1, ``lrp_epsilon_1`` = 1.0, ``lrp_epsilon_0_25`` = 0.25.
* ``lrp_z`` — LRP-0 (z-rule): epsilon rule with only a tiny stabilizer (``LRP_Z_STABILIZER``) against 0/0.
* ``lrp_zplus`` — z+ rule on every Linear/Conv layer.

For every LRP method ReLU gets the pass rule, average pooling the norm rule and max pooling its gradient
(winner takes all); any other layer has no rule and is rejected (:class:`UnsupportedModel`), never
silently treated as plain gradient.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

import torch
from zennit.composites import LayerMapComposite
from zennit.core import Composite
from zennit.rules import Epsilon, Norm, Pass, ZPlus
from zennit.types import Activation, AvgPool
from zennit.types import Linear as LinearLike

from explainers.errors import UnknownMethod, UnsupportedModel
from explainers.onnx_convert import OnnxReshape

Family = Literal["gradient", "gradient_x_input", "lrp"]
LrpRule = Literal["epsilon", "zplus"]
LRP_Z_STABILIZER = 1e-9
_EPSILON_NAME = re.compile(r"lrp_epsilon_(0|[1-9][0-9]*)(?:_([0-9]+))?")

_FIXED_NAMES: tuple[str, ...] = ("gradient", "gradient_x_input", "lrp_z", "lrp_zplus")

# Leaves an LRP composite handles: linear-like layers get the rule; the rest are shape-only,
# ReLU (pass rule), pooling (norm rule / max gradient) or inference no-ops.
_RULED_LEAVES: tuple[type[torch.nn.Module], ...] = (
    torch.nn.Linear,
    torch.nn.Conv1d,
    torch.nn.Conv2d,
    torch.nn.Conv3d,
)
_PASS_LEAVES: tuple[type[torch.nn.Module], ...] = (
    torch.nn.ReLU,
    torch.nn.Flatten,
    torch.nn.Identity,
    torch.nn.Dropout,
    torch.nn.MaxPool1d,
    torch.nn.MaxPool2d,
    torch.nn.MaxPool3d,
    torch.nn.AvgPool1d,
    torch.nn.AvgPool2d,
    torch.nn.AvgPool3d,
    OnnxReshape,
)


@dataclass(frozen=True)
class MethodSpec:
    """A parsed method name."""

    name: str
    family: Family
    rule: LrpRule | None = None
    epsilon: float | None = None


def available_methods() -> tuple[str, ...]:
    """Method names accepted by :func:`parse_method`; ``lrp_epsilon_<v>`` stands for any positive ``<v>``."""
    return ("gradient", "gradient_x_input", "lrp_epsilon_<v>", "lrp_z", "lrp_zplus")


def parse_method(name: str) -> MethodSpec:
    """Parse a method name or raise :class:`UnknownMethod`."""
    if not isinstance(name, str):
        raise UnknownMethod(f"method name must be a string, got {type(name).__name__}")
    if name == "gradient":
        return MethodSpec(name, "gradient")
    if name == "gradient_x_input":
        return MethodSpec(name, "gradient_x_input")
    if name == "lrp_z":
        return MethodSpec(name, "lrp", "epsilon", LRP_Z_STABILIZER)
    if name == "lrp_zplus":
        return MethodSpec(name, "lrp", "zplus")
    match = _EPSILON_NAME.fullmatch(name)
    if match is not None:
        whole, frac = match.group(1), match.group(2)
        epsilon = float(f"{whole}.{frac}" if frac else whole)
        if epsilon <= 0.0:
            raise UnknownMethod(f"{name!r}: epsilon must be positive (use 'lrp_z' for the z-rule)")
        return MethodSpec(name, "lrp", "epsilon", epsilon)
    raise UnknownMethod(f"unknown attribution method {name!r}; available: {', '.join(available_methods())}")


def check_lrp_support(module: torch.nn.Module) -> None:
    """Raise :class:`UnsupportedModel` unless every layer of ``module`` has an LRP rule or is rule-neutral.

    Containers must be plain ``torch.nn.Sequential`` (a custom ``forward`` could hide operations no rule sees).
    """
    for name, sub in module.named_modules():
        label = name or "<root>"
        if any(True for _ in sub.children()):
            if type(sub) is not torch.nn.Sequential:
                raise UnsupportedModel(
                    f"container {label!r} ({type(sub).__name__}) is not a torch.nn.Sequential; its forward "
                    "may contain operations without an LRP rule"
                )
            continue
        if type(sub) in _RULED_LEAVES or type(sub) in _PASS_LEAVES:
            continue
        raise UnsupportedModel(f"layer {label!r} ({type(sub).__name__}) has no LRP rule")


def lrp_composite(spec: MethodSpec) -> Composite:
    """The zennit composite implementing an LRP ``spec``."""
    if spec.family != "lrp":
        raise UnknownMethod(f"{spec.name!r} is not an LRP method")
    if spec.rule == "epsilon":
        assert spec.epsilon is not None
        rule = Epsilon(epsilon=spec.epsilon)
    else:
        rule = ZPlus()
    return LayerMapComposite(
        layer_map=[
            (Activation, Pass()),
            (AvgPool, Norm()),
            (LinearLike, rule),
        ]
    )
