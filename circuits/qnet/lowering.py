"""Layers as index maps over flat (C, H, W row-major, torch's order) vectors, shared by oracle and circuit.

A dense or conv layer is a sparse affine map: output ``j`` = ``sum w * x[i]`` over its ``(i, w)`` terms
(zero weights and zero-padding positions dropped) plus its bias. A pool is a list of windows (input
indices of each output, row-major within the window). Flatten is the identity on flat vectors.
"""

from __future__ import annotations

from functools import lru_cache

from .model import AvgPool2d, Conv2d, Dense, MaxPool2d, Shape

Terms = tuple[tuple[tuple[int, int], ...], ...]


@lru_cache(maxsize=64)
def linear_terms(layer: Dense | Conv2d, in_shape: Shape) -> Terms:
    """For each output, its ``(input index, weight)`` pairs with non-zero weight."""
    if isinstance(layer, Dense):
        return tuple(tuple((i, w) for i, w in enumerate(row) if w) for row in layer.weight)
    c_in, h, wd = in_shape
    (sh, sw), (ph, pw) = layer.stride, layer.padding
    kh, kw = len(layer.weight[0][0]), len(layer.weight[0][0][0])
    h_out, w_out = (h + 2 * ph - kh) // sh + 1, (wd + 2 * pw - kw) // sw + 1
    out = []
    for kernel in layer.weight:
        for oy in range(h_out):
            for ox in range(w_out):
                terms = []
                for c in range(c_in):
                    for dy in range(kh):
                        y = oy * sh + dy - ph
                        if not 0 <= y < h:
                            continue
                        for dx in range(kw):
                            x = ox * sw + dx - pw
                            w = kernel[c][dy][dx]
                            if w and 0 <= x < wd:
                                terms.append(((c * h + y) * wd + x, w))
                out.append(tuple(terms))
    return tuple(out)


def linear_bias(layer: Dense | Conv2d, in_shape: Shape) -> tuple[int, ...]:
    """Each output's bias (a conv repeats its channel's bias over the output positions)."""
    if isinstance(layer, Dense):
        return layer.bias
    n_pos = len(linear_terms(layer, in_shape)) // len(layer.bias)
    return tuple(b for b in layer.bias for _ in range(n_pos))


@lru_cache(maxsize=64)
def pool_windows(layer: MaxPool2d | AvgPool2d, in_shape: Shape) -> tuple[tuple[int, ...], ...]:
    """For each output (C, H', W' row-major), the flat input indices of its window, row-major."""
    c_in, h, wd = in_shape
    kh, kw = layer.kernel
    sh, sw = layer.stride
    return tuple(
        tuple((c * h + oy * sh + dy) * wd + ox * sw + dx for dy in range(kh) for dx in range(kw))
        for c in range(c_in)
        for oy in range(h // kh if sh == kh else (h - kh) // sh + 1)
        for ox in range(wd // kw if sw == kw else (wd - kw) // sw + 1)
    )
