"""In-circuit backward passes of the proven explanations (the oracle and the exact roundings:
:mod:`circuits.qnet.explain`).

They reuse what :func:`circuits.nn.network` proved in the forward pass (rescale sign bits, ReLU masks,
maxpool one-hots) and the one-hot of the target class. The gradient passes through a ReLU with torch's derivative
``[x > 0]``: the forward mask ``[x >= 0]`` minus an is-zero flag (:func:`circuits.nn.positive_mask`, 2 constraints
per value). LRP starts from ``one_hot * score`` (zennit's seed; one product per class) and passes a ReLU unchanged:
every relevance it carries is ``floor(a * c / 2**16)`` or that seed, already 0 wherever the ReLU's output is. Every value they produce is proven int32 by a
rescale / division range check, or is a selection (mask, one-hot) of such a value, or (the first dense/conv
step of ``gradient`` back from the one-hot seed) a weight itself: ``floor(sum_j w_ji * 2**16 e_j / 2**16)
= sum_j w_ji e_j`` exactly, so that step needs no constraint at all.
"""

from __future__ import annotations

from collections.abc import Sequence

from .builder import Api, Operand, Var
from .errors import UnsupportedLayer
from .field import to_signed
from .gadgets import to_bits
from .nn.fixed import div_floor_const, positive_mask, rescale, signed_range
from .nn.linear import transpose_sum
from .nn.network import NetworkVars
from .qnet.explain import ExplainMethod, check_supported
from .qnet.fixed_point import ONE, VALUE_BITS
from .qnet.lowering import linear_terms, pool_windows
from .qnet.model import AvgPool2d, Conv2d, Dense, Flatten, MaxPool2d, QNet, ReLU

#: |den| < 2**31 + eps < 2**32, so remainders and |den| - 1 - remainder are checked on 33 bits.
DEN_BITS = VALUE_BITS + 1


def _route(api: Api, g: Sequence[Operand], hots: Sequence[Sequence[Var]], windows: Sequence[Sequence[int]], n_in: int) -> list[Operand]:
    out: list[Operand] = [0] * n_in
    for gj, e, win in zip(g, hots, windows):
        for ei, i in zip(e, win):
            out[i] = api.mul(ei, gj)  # windows do not overlap: one write per input
    return out


def gradient_gadget(api: Api, net: QNet, fw: NetworkVars, target_one_hot: Sequence[Var]) -> list[Var]:
    """d score[target] / d input (see the oracle): one rescale per dense/conv input except from the seed."""
    # while ``unit``, the gradient is 2**16 * h for the variables h (exact: no rounding has happened yet)
    h: list[Operand] = list(target_one_hot)
    unit = True
    g: list[Operand] = []
    for k in reversed(range(len(net.layers))):
        layer, in_shape = net.layers[k], net.shapes[k]
        n_in = len(fw.inputs[k])
        cur = h if unit else g
        if isinstance(layer, (Dense, Conv2d)):
            acc = transpose_sum(api, cur, linear_terms(layer, in_shape), n_in)
            g = acc if unit else [rescale(api, a).value for a in acc]
            unit = False
            continue
        if isinstance(layer, ReLU):
            masks = [positive_mask(api, x, m) for x, m in zip(fw.inputs[k], fw.masks[k])]  # type: ignore[arg-type]
            cur = [api.mul(m, v) for m, v in zip(masks, cur)]
        elif isinstance(layer, MaxPool2d):
            cur = _route(api, cur, fw.one_hots[k], pool_windows(layer, in_shape), n_in)  # type: ignore[arg-type]
        elif isinstance(layer, AvgPool2d):
            if unit:
                cur, unit = [api.scale(api.as_var(v), ONE) for v in cur], False
            out: list[Operand] = [0] * n_in
            for gj, win in zip(cur, pool_windows(layer, in_shape)):
                q = div_floor_const(api, gj, len(win))
                for i in win:
                    out[i] = q
            cur = out
        elif not isinstance(layer, Flatten):  # pragma: no cover
            raise UnsupportedLayer(f"layers[{k}]")
        if unit:
            h = cur
        else:
            g = cur
    if unit:
        g = [api.scale(api.as_var(v), ONE) for v in h]
    return [api.as_var(v) for v in g]


def gradient_x_input_gadget(api: Api, net: QNet, fw: NetworkVars, target_one_hot: Sequence[Var]) -> list[Var]:
    g = gradient_gadget(api, net, fw, target_one_hot)
    return [rescale(api, api.mul(gi, xi)).value for gi, xi in zip(g, fw.inputs[0])]


def _ratio_hint(num: int, den: int) -> int:
    n, d = to_signed(num), to_signed(den)
    return n // d if d > 0 else 0  # d <= 0 cannot satisfy the range checks anyway


def lrp_ratio(api: Api, r: Operand, z: Var, sign: Var, epsilon: int) -> Var:
    """floor(r * 2**16 / den), den = z + eps if z >= 0 else z - eps (``sign`` = [z >= 0], proven already).

    With sg = 2 sign - 1: |den| = sg z + eps > 0 and the quotient is floor(sg r 2**16 / |den|): the hinted
    quotient q is range-checked int32 and ``rem = sg r 2**16 - q |den|`` is checked in [0, |den|) (33-bit
    checks of rem and |den| - 1 - rem). 3 + 33 + 2 * 34 constraints.
    """
    num = api.scale(api.as_var(r), ONE)
    signed_z = api.sub(api.scale(api.mul(sign, z), 2), z)
    abs_den = api.add(signed_z, epsilon)
    signed_num = api.sub(api.scale(api.mul(sign, num), 2), num)
    q = api.hint(_ratio_hint, signed_num, abs_den)
    signed_range(api, q)
    rem = api.sub(signed_num, api.mul(q, abs_den))
    to_bits(api, rem, DEN_BITS)
    to_bits(api, api.sub(api.sub(abs_den, 1), rem), DEN_BITS)
    return q


def lrp_epsilon_gadget(
    api: Api, net: QNet, fw: NetworkVars, target_one_hot: Sequence[Var], epsilon: int
) -> list[Var]:
    """LRP-epsilon relevance of the input (see the oracle): seed ``e_j * score_j`` (int32: a proven score)."""
    r: list[Operand] = [api.mul(e, s) for e, s in zip(target_one_hot, fw.scores)]
    for k in reversed(range(len(net.layers))):
        layer, in_shape = net.layers[k], net.shapes[k]
        a = fw.inputs[k]
        if isinstance(layer, (Dense, Conv2d)):
            s = [
                lrp_ratio(api, rj, zj, sj, epsilon)
                for rj, zj, sj in zip(r, fw.outputs[k], fw.signs[k])  # type: ignore[arg-type]
            ]
            c = [rescale(api, acc).value for acc in transpose_sum(api, s, linear_terms(layer, in_shape), len(a))]
            r = [rescale(api, api.mul(ai, ci)).value for ai, ci in zip(a, c)]
        elif isinstance(layer, ReLU):
            pass  # m * r = r: r is 0 wherever the ReLU's output is 0 (see the module doc)
        elif isinstance(layer, MaxPool2d):
            r = _route(api, r, fw.one_hots[k], pool_windows(layer, in_shape), len(a))  # type: ignore[arg-type]
        elif isinstance(layer, AvgPool2d):
            raise UnsupportedLayer(f"layers[{k}]: avgpool2d is not supported by LRP")
        elif not isinstance(layer, Flatten):  # pragma: no cover
            raise UnsupportedLayer(f"layers[{k}]")
    return [api.as_var(v) for v in r]


def explanation_gadget(
    api: Api, net: QNet, fw: NetworkVars, target_one_hot: Sequence[Var], method: str | ExplainMethod
) -> list[Var]:
    """The attribution of the one-hot target for ``method`` (flat, the input's shape; signed int32 variables)."""
    m = check_supported(net, method)
    if m.kind == "gradient":
        return gradient_gadget(api, net, fw, target_one_hot)
    if m.kind == "gradient_x_input":
        return gradient_x_input_gadget(api, net, fw, target_one_hot)
    return lrp_epsilon_gadget(api, net, fw, target_one_hot, m.epsilon)
