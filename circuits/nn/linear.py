"""Dense and conv2d layers with constant weights: free accumulators, then one rescale per output."""

from __future__ import annotations

from collections.abc import Sequence

from ..builder import Api, Operand, Var
from ..qnet.fixed_point import ONE
from ..qnet.lowering import Terms, linear_bias, linear_terms
from ..qnet.model import Conv2d, Dense, Shape
from .fixed import Rescaled, rescale


def affine(api: Api, x: Sequence[Operand], terms: Terms, bias: Sequence[int]) -> list[Var]:
    """acc_j = sum w x_i + b_j * 2**16 over output j's terms (scale 2**32): linear, no constraint."""
    out = []
    for t, b in zip(terms, bias):
        coeffs = [w for _, w in t] + [b * ONE]
        out.append(api.linear_combination(coeffs, [x[i] for i, _ in t] + [1]))
    return out


def transpose_sum(api: Api, g: Sequence[Operand], terms: Terms, n_in: int) -> list[Var]:
    """sum_j w_ji g_j for each input i (the backward accumulator of an affine map): linear, no constraint."""
    cols: list[tuple[list[int], list[Operand]]] = [([], []) for _ in range(n_in)]
    for j, t in enumerate(terms):
        for i, w in t:
            cols[i][0].append(w)
            cols[i][1].append(g[j])
    return [api.linear_combination(c, v) if c else api.constant(0) for c, v in cols]


def dense(api: Api, x: Sequence[Operand], weight: Sequence[Sequence[int]], bias: Sequence[int]) -> list[Rescaled]:
    """floor((W x + b 2**16) / 2**16) per output, int32 (49 constraints per output)."""
    terms = tuple(tuple((i, w) for i, w in enumerate(row) if w) for row in weight)
    return [rescale(api, acc) for acc in affine(api, x, terms, bias)]


def linear_layer(api: Api, x: Sequence[Operand], layer: Dense | Conv2d, in_shape: Shape) -> list[Rescaled]:
    """A dense or conv2d layer of a QNet (its sparse terms from :mod:`circuits.qnet.lowering`)."""
    accs = affine(api, x, linear_terms(layer, in_shape), linear_bias(layer, in_shape))
    return [rescale(api, acc) for acc in accs]
