"""Pooling: max (one-hot of the first maximal entry, which the backward passes route through) and average."""

from __future__ import annotations

from collections.abc import Sequence

from ..builder import Api, Var
from ..field import to_signed
from ..gadgets import to_bits
from ..qnet.fixed_point import VALUE_BITS
from .fixed import div_floor_const


def _first_max_one_hot(*values: int) -> list[int]:
    signed = [to_signed(v) for v in values]
    best = 0
    for i, v in enumerate(signed):
        if v > signed[best]:
            best = i
    return [int(i == best) for i in range(len(values))]


def max_one_hot(api: Api, values: Sequence[Var], bits: int = VALUE_BITS) -> tuple[Var, list[Var]]:
    """(max, e) for signed ``bits``-bit values: e is the one-hot of the FIRST maximal index.

    Constraints: e boolean and summing to 1, y = sum e_i v_i, and for every i
    ``y - v_i - [i before the chosen index] in [0, 2**(bits+1))`` (strictly smaller before it, <= after).
    """
    e = api.hints(_first_max_one_hot, len(values), *values)
    for bit in e:
        api.assert_boolean(bit)
    api.assert_equal(api.sum(e), 1)
    y = api.sum([api.mul(ei, vi) for ei, vi in zip(e, values)])
    for i, v in enumerate(values):
        before = api.sum(e[i + 1 :]) if i + 1 < len(e) else api.constant(0)
        to_bits(api, api.sub(api.sub(y, v), before), bits + 1)
    return y, e


def maxpool(api: Api, x: Sequence[Var], windows: Sequence[Sequence[int]]) -> tuple[list[Var], list[list[Var]]]:
    """Window maxima and each window's one-hot choice."""
    outs, hots = [], []
    for win in windows:
        y, e = max_one_hot(api, [x[i] for i in win])
        outs.append(y)
        hots.append(e)
    return outs, hots


def avgpool(api: Api, x: Sequence[Var], windows: Sequence[Sequence[int]]) -> list[Var]:
    """floor(window sum / window size), remainder range-checked."""
    return [div_floor_const(api, api.sum([x[i] for i in win]), len(win)) for win in windows]
