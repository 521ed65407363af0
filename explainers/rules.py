"""zennit composites for the LRP and modified-backward methods of :mod:`explainers.methods`, and the SIGN rule.

Layer handling shared by every LRP composite built here:

* ``Linear`` / ``Conv1d/2d/3d`` get the method's rule (the first of them, in forward order, may get a
  special first-layer rule: SIGN or ZBox);
* ``ReLU`` gets the pass rule, average pooling the norm rule;
* max pooling, ``Flatten``, ``Identity``, ``Dropout`` (inference) and ONNX ``Reshape`` need no rule (their
  gradient already routes relevance: winner-takes-all / reshaping);
* residual sums of converted graphs (:class:`explainers.graph_layers.Add`, a zennit ``Sum``) get the norm rule,
  as zennit's ``ResNetCanonizer`` gives torchvision's blocks; ``Concat`` needs no rule;
* ``BatchNorm`` directly after a Linear/Conv inside a ``Sequential`` is merged into it by
  ``SequentialMergeBatchNorm`` while the composite is registered (the ONNX converter folds such norms itself; one
  it could not fold, in a graph, is refused).

:func:`check_support` enforces this: a layer without a rule is rejected, never silently explained with
its plain gradient; the error names the layer (with its ONNX node and op) and the methods that do apply.
"""

from __future__ import annotations

import re

import torch
from zennit.canonizers import Canonizer, SequentialMergeBatchNorm
from zennit.composites import (
    DeconvNet,
    EpsilonAlpha2Beta1,
    EpsilonAlpha2Beta1Flat,
    EpsilonGammaBox,
    EpsilonPlus,
    EpsilonPlusFlat,
    ExcitationBackprop,
    GuidedBackprop,
    LayerMapComposite,
    SpecialFirstLayerMapComposite,
)
from zennit.core import BasicHook, Composite, Hook, Stabilizer
from zennit.rules import AlphaBeta, Epsilon, Flat, Gamma, NoMod, Norm, Pass, WSquare, ZBox, ZPlus
from zennit.types import AvgPool, Convolution
from zennit.types import Linear as LinearLike

from zennit.layer import Sum

from explainers.errors import UnknownMethod, UnsupportedModel
from explainers.graph_layers import Add, Concat, is_wiring_only, origin_of
from explainers.methods import LRP_Z_STABILIZER, MethodSpec, available_methods, parse_method
from explainers.onnx_convert import OnnxReshape
from explainers.pt2_layers import PerSample

__all__ = ["SignRule", "check_support", "composite_for", "check_lrp_support", "methods_that_apply"]

RULED_LEAVES: tuple[type[torch.nn.Module], ...] = (
    torch.nn.Linear,
    torch.nn.Conv1d,
    torch.nn.Conv2d,
    torch.nn.Conv3d,
)
BATCH_NORMS: tuple[type[torch.nn.Module], ...] = (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d, torch.nn.BatchNorm3d)
PASS_LEAVES: tuple[type[torch.nn.Module], ...] = (
    torch.nn.ReLU,
    torch.nn.Flatten,
    torch.nn.Identity,
    torch.nn.Dropout,
    torch.nn.MaxPool1d,
    torch.nn.MaxPool2d,
    torch.nn.MaxPool3d,
    torch.nn.AdaptiveMaxPool2d,
    torch.nn.AvgPool1d,
    torch.nn.AvgPool2d,
    torch.nn.AvgPool3d,
    torch.nn.AdaptiveAvgPool2d,
    OnnxReshape,
    Concat,
)
#: Leaves LRP gives the norm rule (relevance split in proportion to each input's contribution).
NORM_LEAVES: tuple[type[torch.nn.Module], ...] = (Sum,)
#: Containers whose forward is known wiring: the graph of a converted model, and :class:`Add` (stack + Sum).
def _known_container(sub: torch.nn.Module) -> bool:
    return type(sub) is torch.nn.Sequential or type(sub) is Add or is_wiring_only(sub)


def sign_mu(x: torch.Tensor, mu: float = 0.0) -> torch.Tensor:
    """SignXAI's sign: ``+1`` where ``x >= mu``, else ``-1`` (so zeros count as positive for mu = 0)."""
    return torch.where(x >= mu, torch.ones_like(x), -torch.ones_like(x))


class SignRule(BasicHook):
    """SIGN input-layer rule (Gumpfer et al., SignXAI): ``R_i = sign(x_i) * sum_j w_ij R_j / z_j``.

    Like LRP-0 with the input value replaced by its sign, so zero-valued inputs can receive relevance.
    """

    def __init__(self, stabilizer: float = LRP_Z_STABILIZER) -> None:
        stabilizer_fn = Stabilizer.ensure(stabilizer)
        super().__init__(
            input_modifiers=[lambda input: input],
            param_modifiers=[NoMod()],
            output_modifiers=[lambda output: output],
            gradient_mapper=(lambda out_grad, outputs: out_grad / stabilizer_fn(outputs[0])),
            reducer=(lambda inputs, gradients: sign_mu(inputs[0]) * gradients[0]),
        )


#: What still applies when a composite method is refused: every method that only needs gradients.


def _has_batch_norm(module: torch.nn.Module) -> bool:
    return any(isinstance(m, BATCH_NORMS) for m in module.modules())


def _leaves(module: torch.nn.Module) -> list[tuple[str, torch.nn.Module]]:
    return [(n or "<root>", m) for n, m in module.named_modules() if not any(True for _ in m.children())]


#: Class activation maps: any differentiable model with a convolution (:mod:`explainers.cam`).
CAM_FAMILIES = ("grad_cam", "grad_cam_plus_plus", "score_cam")


def _describe(label: str, leaf: torch.nn.Module) -> str:
    """``layer 'name' (Kind)``, plus the source node when a converter recorded it (ONNX node name and op)."""
    where = origin_of(leaf)
    return f"layer {label!r} ({type(leaf).__name__}{'; ' + where if where else ''})"


def _parent(modules: dict[str, torch.nn.Module], name: str) -> torch.nn.Module:
    return modules[name.rsplit(".", 1)[0] if "." in name else ""]


def _problem(module: torch.nn.Module, spec: MethodSpec) -> str | None:
    """Why ``spec`` cannot explain ``module`` faithfully, or None when it can."""
    if spec.family in CAM_FAMILIES:
        has_conv = any(isinstance(m, (torch.nn.Conv1d, torch.nn.Conv2d)) for m in module.modules())
        return None if has_conv else f"{spec.family} needs a Conv1d/Conv2d layer; the model has none"
    if not spec.uses_composite:
        return None
    modules = dict(module.named_modules())
    per_sample = False
    for name, sub in modules.items():
        if type(sub) is PerSample:
            per_sample = True
            continue
        if any(True for _ in sub.children()) and not _known_container(sub):
            return (
                f"container {name or '<root>'!r} ({type(sub).__name__}) is not a torch.nn.Sequential or a converted "
                f"graph; its forward may contain operations {spec.name!r} has no rule for"
            )
    previous: torch.nn.Module | None = None
    for label, leaf in _leaves(module):
        kind = type(leaf)
        if kind in RULED_LEAVES or kind in PASS_LEAVES or kind in NORM_LEAVES:
            pass
        elif kind in BATCH_NORMS:
            in_sequence = type(_parent(modules, label)) is torch.nn.Sequential
            if spec.family == "lrp" and (not in_sequence or type(previous) not in RULED_LEAVES):
                return (
                    f"{_describe(label, leaf)} does not directly follow a Linear/Conv layer, so it cannot be merged "
                    f"into one and has no LRP rule ({spec.name!r})"
                )
        else:
            what = "LRP rule" if spec.family == "lrp" else f"{spec.name} rule (only ReLU activations are handled)"
            return f"{_describe(label, leaf)} has no {what}"
        previous = leaf
    if per_sample:
        return (f"{spec.name!r} needs a batched graph, but this exported program is specialised to batch size 1 and "
                "runs per sample (PerSample)")
    return None


def _catalog_defaults() -> list[str]:
    """The catalog's method names that need no parameter (``smoothgrad[...]`` -> ``smoothgrad``)."""
    names = [re.sub(r"\[.*?\]", "", entry) for entry in available_methods()]
    return [n for n in dict.fromkeys(names) if "<" not in n]


def methods_that_apply(module: torch.nn.Module) -> list[str]:
    """The parameter-free catalog names whose method :func:`check_support` accepts for ``module``."""
    return [n for n in _catalog_defaults() if _problem(module, parse_method(n)) is None]


def check_support(module: torch.nn.Module, spec: MethodSpec) -> None:
    """Raise :class:`UnsupportedModel` unless every layer of ``module`` is handled faithfully by ``spec``.

    Plain gradient methods accept any module (Grad-CAM needs a convolution). Composite methods need
    ``torch.nn.Sequential`` containers or a wiring-only converted graph (a custom ``forward`` could hide operations
    no rule sees); LRP additionally needs a rule for every leaf (a BatchNorm only when it directly follows a
    Linear/Conv inside a Sequential, where it is merged), and guided backprop / deconvnet need every activation to
    be a ReLU. The error names the layer (and its source node) and lists the methods that do apply.
    """
    problem = _problem(module, spec)
    if problem is not None:
        raise UnsupportedModel(f"{problem}; methods that apply: {', '.join(methods_that_apply(module))}")


def check_lrp_support(module: torch.nn.Module) -> None:
    """Backwards-compatible name: :func:`check_support` for a plain LRP method."""
    check_support(module, MethodSpec("lrp_z", "lrp", "epsilon", LRP_Z_STABILIZER))


def _rest_rules(spec: MethodSpec) -> tuple[Hook, Hook]:
    """(rule for Linear, rule for Conv) of an ``lrp_*`` method."""
    rule = spec.rule
    if rule in ("epsilon", "zbox"):
        assert spec.epsilon is not None
        return Epsilon(epsilon=spec.epsilon), Epsilon(epsilon=spec.epsilon)
    if rule == "zplus":
        return ZPlus(), ZPlus()
    if rule == "gamma":
        gamma = float(spec.param("gamma"))
        return Gamma(gamma=gamma), Gamma(gamma=gamma)
    if rule == "alpha_beta":
        alpha, beta = float(spec.param("alpha")), float(spec.param("beta"))
        return AlphaBeta(alpha=alpha, beta=beta), AlphaBeta(alpha=alpha, beta=beta)
    if rule == "flat":
        return Flat(), Flat()
    if rule == "w_square":
        return WSquare(), WSquare()
    if rule in ("sequential_a", "sequential_b"):
        assert spec.epsilon is not None
        conv = AlphaBeta(alpha=1.0, beta=0.0) if rule == "sequential_a" else AlphaBeta(alpha=2.0, beta=1.0)
        return Epsilon(epsilon=spec.epsilon), conv
    raise UnknownMethod(f"{spec.name!r}: no rule set for {rule!r}")


def _preset(spec: MethodSpec, canonizers: list[Canonizer]) -> Composite:
    name = str(spec.param("preset"))
    if name == "epsilon_gamma_box":
        return EpsilonGammaBox(low=float(spec.param("low")), high=float(spec.param("high")), canonizers=canonizers)
    classes = {
        "epsilon_plus": EpsilonPlus,
        "epsilon_plus_flat": EpsilonPlusFlat,
        "epsilon_alpha2_beta1": EpsilonAlpha2Beta1,
        "epsilon_alpha2_beta1_flat": EpsilonAlpha2Beta1Flat,
        "excitation_backprop": ExcitationBackprop,
    }
    if name not in classes:
        raise UnknownMethod(f"unknown zennit preset {name!r}")
    return classes[name](canonizers=canonizers)


def composite_for(spec: MethodSpec, module: torch.nn.Module) -> Composite | None:
    """The zennit composite implementing ``spec`` on ``module`` (None for plain-gradient methods)."""
    if not spec.uses_composite:
        return None
    canonizers: list[Canonizer] = [SequentialMergeBatchNorm()] if _has_batch_norm(module) else []
    if spec.family == "guided_backprop":
        return GuidedBackprop(canonizers=canonizers)
    if spec.family == "deconvnet":
        return DeconvNet(canonizers=canonizers)
    if spec.rule == "preset":
        return _preset(spec, canonizers)
    dense, conv = _rest_rules(spec)
    layer_map = [
        (torch.nn.ReLU, Pass()),
        (AvgPool, Norm()),
        (Sum, Norm()),
        (Convolution, conv),
        (torch.nn.Linear, dense),
    ]
    first: Hook | None = None
    if spec.sign_first:
        first = SignRule()
    elif spec.rule == "zbox":
        first = ZBox(low=float(spec.param("low")), high=float(spec.param("high")))
    if first is None:
        return LayerMapComposite(layer_map=layer_map, canonizers=canonizers)
    return SpecialFirstLayerMapComposite(layer_map=layer_map, first_map=[(LinearLike, first)], canonizers=canonizers)
