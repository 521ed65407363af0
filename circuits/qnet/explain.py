"""The native oracle of the proven explanations (exact Python ints; the circuit computes the same values).

Methods (``target`` = the explained class). Seeds as in ``explainers.attribution`` (zennit): the gradient methods
start from ``2**16`` (1.0) at ``target``, 0 elsewhere (the one-hot ``grad_output``); LRP starts from
``one_hot(target) * score``, i.e. the relevance of the target is its (fixed-point) score, so a proven LRP
attribution is directly comparable with ``explainers.explain(model, x, "lrp_epsilon_<v>")`` (relevances sum to
about the target logit):

* ``gradient``: d score[target] / d input, backward through each layer:
  dense/conv ``g_in_i = floor(sum_j w_ji g_j / 2**16)``; relu ``g_in = m * g`` (m = the forward mask
  ``[x > 0]``: torch's ReLU derivative, 0 at exactly 0); maxpool routes ``g`` to the window's first maximal entry; avgpool gives each window entry
  ``floor(g / (kh*kw))``; flatten passes.
* ``gradient_x_input``: ``floor(g_i * x_i / 2**16)``.
* ``lrp_epsilon_<v>`` (``v`` as in ``explainers.methods``: ``0_1`` = 0.1): the epsilon rule on every dense/conv
  layer, with ``eps = floor(v * 2**16 + 1/2)`` (must be >= 1, i.e. v >= 2**-17) and, for output ``j`` with
  forward value ``z_j`` (the layer's rescaled output, bias included):
  ``den_j = z_j + eps`` if ``z_j >= 0`` else ``z_j - eps`` (sign(0) = +1, so den_j != 0),
  ``s_j = floor(R_j * 2**16 / den_j)`` (exact rational floor; remainder range-checked in-circuit),
  ``c_i = floor(sum_j w_ji s_j / 2**16)``, ``R_in_i = floor(a_i * c_i / 2**16)`` with ``a`` the layer's input;
  relu passes ``m * R`` (which is ``R``: every relevance is ``a * c`` or the seed ``e * score``, so it is 0 wherever
  the ReLU's output is 0), maxpool routes like the gradient, flatten passes. avgpool is not supported for LRP.
  The seed is an int32 (a score) and ``|s_j| <= |R_j| * 2**16 / (|z_j| + eps)``; every later value is
  range-checked like the others.

Every intermediate value must be an int32 (else FixedPointOverflow: no witness exists).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

from ..errors import QNetError, UnknownMethod, UnsupportedLayer
from .fixed_point import ONE, VALUE_OFFSET, floor_div, rescale
from .forward import Trace
from .lowering import linear_terms, pool_windows
from .model import AvgPool2d, Conv2d, Dense, Flatten, MaxPool2d, QNet, ReLU

Kind = Literal["gradient", "gradient_x_input", "lrp_epsilon"]
#: The method families the proven circuits support.
METHOD_KINDS: tuple[str, ...] = ("gradient", "gradient_x_input", "lrp_epsilon_<v>")
_EPSILON = re.compile(r"lrp_epsilon_((?:0|[1-9][0-9]*)(?:_[0-9]+)?)")


@dataclass(frozen=True)
class ExplainMethod:
    name: str
    kind: Kind
    #: LRP's epsilon in fixed point (0 for the gradient methods)
    epsilon: int = 0

    @property
    def canonical(self) -> str:
        """The method's identity (what digests bind): two names with the same fixed-point epsilon agree."""
        return self.kind if self.kind != "lrp_epsilon" else f"lrp_epsilon@{self.epsilon}/2**16"


def parse_method(name: str | ExplainMethod) -> ExplainMethod:
    if isinstance(name, ExplainMethod):
        return name
    if not isinstance(name, str):
        raise UnknownMethod(f"method name must be a str, got {type(name).__name__}")
    if name in ("gradient", "gradient_x_input"):
        return ExplainMethod(name, name)  # type: ignore[arg-type]
    match = _EPSILON.fullmatch(name)
    if not match:
        raise UnknownMethod(f"unknown proven explanation method {name!r} (supported: {', '.join(METHOD_KINDS)})")
    whole, _, frac = match.group(1).partition("_")
    eps = Fraction(f"{whole}.{frac}" if frac else whole)
    eps_fx = int(eps * ONE + Fraction(1, 2))  # floor(v * 2**16 + 1/2), v > 0
    if not 1 <= eps_fx < VALUE_OFFSET:
        raise UnknownMethod(f"{name}: epsilon must be in [2**-17, 32768) to be a positive fixed-point value")
    return ExplainMethod(name, "lrp_epsilon", eps_fx)


def check_supported(net: QNet, method: str | ExplainMethod) -> ExplainMethod:
    """The parsed method, or UnsupportedLayer naming the first layer it cannot pass."""
    m = parse_method(method)
    if m.kind == "lrp_epsilon":
        for k, layer in enumerate(net.layers):
            if isinstance(layer, AvgPool2d):
                raise UnsupportedLayer(f"layers[{k}]: avgpool2d is not supported by {m.name}")
    return m


def _check_target(net: QNet, target: int) -> int:
    if isinstance(target, bool) or not isinstance(target, int) or not 0 <= target < net.num_classes:
        raise QNetError(f"target must be a class in [0, {net.num_classes}), got {target!r}")
    return target


def seed(net: QNet, target: int) -> list[int]:
    """The gradient methods' seed: 1.0 (2**16) at ``target``, 0 elsewhere."""
    _check_target(net, target)
    return [ONE if j == target else 0 for j in range(net.num_classes)]


def lrp_seed(net: QNet, trace: Trace, target: int) -> list[int]:
    """LRP's seed (zennit's, ``explainers.attribution``): ``one_hot(target) * score`` (the target's score)."""
    _check_target(net, target)
    return [s if j == target else 0 for j, s in enumerate(trace.scores)]


def _linear_backward(terms: tuple[tuple[tuple[int, int], ...], ...], g: list[int], n_in: int, what: str) -> list[int]:
    acc = [0] * n_in
    for j, t in enumerate(terms):
        gj = g[j]
        if gj:
            for i, w in t:
                acc[i] += w * gj
    return [rescale(v, f"{what}[{i}]") for i, v in enumerate(acc)]


def _route(windows: tuple[tuple[int, ...], ...] | None, choice: tuple[int, ...], g: list[int], n_in: int) -> list[int]:
    out = [0] * n_in
    for j, i in enumerate(choice):
        out[i] += g[j]
    return out


def gradient(net: QNet, trace: Trace, target: int) -> list[int]:
    g = seed(net, target)
    for k in reversed(range(len(net.layers))):
        layer, in_shape = net.layers[k], net.shapes[k]
        n_in = len(trace.layer_input(k))
        if isinstance(layer, (Dense, Conv2d)):
            g = _linear_backward(linear_terms(layer, in_shape), g, n_in, f"gradient at layers[{k}] input")
        elif isinstance(layer, ReLU):
            g = [m * v for m, v in zip(trace.choices[k], g)]  # type: ignore[arg-type]
        elif isinstance(layer, MaxPool2d):
            g = _route(None, trace.choices[k], g, n_in)  # type: ignore[arg-type]
        elif isinstance(layer, AvgPool2d):
            out = [0] * n_in
            for j, win in enumerate(pool_windows(layer, in_shape)):
                h = floor_div(g[j], len(win), f"gradient at layers[{k}] window {j}")
                for i in win:
                    out[i] = h
            g = out
        elif not isinstance(layer, Flatten):  # pragma: no cover
            raise UnsupportedLayer(f"layers[{k}]")
    return g


def lrp_epsilon(net: QNet, trace: Trace, target: int, epsilon: int) -> list[int]:
    r = lrp_seed(net, trace, target)
    for k in reversed(range(len(net.layers))):
        layer, in_shape = net.layers[k], net.shapes[k]
        a = trace.layer_input(k)
        if isinstance(layer, (Dense, Conv2d)):
            z = trace.activations[k]
            s = [
                floor_div(rj * ONE, zj + epsilon if zj >= 0 else zj - epsilon, f"lrp ratio at layers[{k}][{j}]")
                for j, (rj, zj) in enumerate(zip(r, z))
            ]
            c = _linear_backward(linear_terms(layer, in_shape), s, len(a), f"lrp sum at layers[{k}] input")
            r = [rescale(ai * ci, f"relevance at layers[{k}] input[{i}]") for i, (ai, ci) in enumerate(zip(a, c))]
        elif isinstance(layer, ReLU):
            r = [m * v for m, v in zip(trace.choices[k], r)]  # type: ignore[arg-type]
        elif isinstance(layer, MaxPool2d):
            r = _route(None, trace.choices[k], r, len(a))  # type: ignore[arg-type]
        elif isinstance(layer, AvgPool2d):
            raise UnsupportedLayer(f"layers[{k}]: avgpool2d is not supported by LRP")
        elif not isinstance(layer, Flatten):  # pragma: no cover
            raise UnsupportedLayer(f"layers[{k}]")
    return r


def explain(net: QNet, trace: Trace, method: str | ExplainMethod, target: int) -> list[int]:
    """The attribution of ``target`` for the traced input (flat, the input's shape), ints at 2**16."""
    m = check_supported(net, method)
    if m.kind == "lrp_epsilon":
        return lrp_epsilon(net, trace, target, m.epsilon)
    g = gradient(net, trace, target)
    if m.kind == "gradient":
        return g
    return [rescale(gi * xi, f"gradient_x_input[{i}]") for i, (gi, xi) in enumerate(zip(g, trace.input))]
