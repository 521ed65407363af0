"""Fixed-base batch scalar multiplication (the setup multiplies G1/G2 generators by thousands
of scalars): a windowed table ``T[i][d] = d * 2^(w*i) * G`` in affine form, then each product
is one mixed addition per window. The window w minimises table cost + per-scalar cost.

:func:`batch_mul_g1` / :func:`batch_mul_g2` run the C kernel (:mod:`prover.native`, same
algorithm with signed digits, threads and the GIL released) when ``prover.native.NATIVE`` is on;
the ``*_python`` functions are the pure-Python reference and the fallback. Both give the same
affine points (identity ``(0, 0)`` / ``((0, 0), (0, 0))``; scalars reduced mod r).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from . import native
from .curve import (
    G1_INF,
    G2_INF,
    G1Affine,
    G2Affine,
    g1_add,
    g1_batch_to_affine,
    g1_double,
    g1_from_affine,
    g1_madd,
    g2_batch_to_affine,
    g2_from_affine,
)
from .curve_g2_fast import g2_add_fast, g2_double_fast, g2_madd_fast
from .fields import R, fast_int
from .msm import SCALAR_BITS


def _window(count: int) -> int:
    best_w, best_cost = 1, None
    for w in range(1, 17):
        windows = -(-SCALAR_BITS // w)
        cost = windows * ((1 << w) + count)
        if best_cost is None or cost < best_cost:
            best_w, best_cost = w, cost
    return best_w


def _batch_mul(
    base_jac: Any,
    scalars: Sequence[int],
    inf: Any,
    add: Callable[[Any, Any], Any],
    double: Callable[[Any], Any],
    madd: Callable[[Any, Any, Any], Any],
    to_affine: Callable[[Sequence[Any]], list[Any]],
    fast: Callable[[Any], Any],
) -> list[Any]:
    w = _window(len(scalars))
    size = 1 << w
    n_windows = -(-SCALAR_BITS // w)
    flat: list[Any] = []
    base = base_jac
    for _ in range(n_windows):
        row = [inf] * size
        acc = inf
        for d in range(1, size):
            acc = add(acc, base)
            row[d] = acc
        flat.extend(row)
        for _ in range(w):
            base = double(base)
    table = [(fast(x), fast(y)) for x, y in to_affine(flat)]
    mask = size - 1
    out = []
    for k in scalars:
        k %= R
        acc = inf
        i = 0
        while k:
            d = k & mask
            if d:
                x, y = table[i * size + d]
                acc = madd(acc, x, y)
            k >>= w
            i += 1
        out.append(acc)
    return to_affine(out)


def _fast2(c: tuple[int, int]) -> tuple[int, int]:
    return (fast_int(c[0]), fast_int(c[1]))


def batch_mul_g1(base: G1Affine, scalars: Sequence[int]) -> list[G1Affine]:
    """[k * base for k in scalars] (affine; k = 0 gives (0, 0)); native when available."""
    if native.NATIVE:
        return native.batch_mul_g1_native(base, scalars)
    return batch_mul_g1_python(base, scalars)


def batch_mul_g2(base: G2Affine, scalars: Sequence[int]) -> list[G2Affine]:
    """[k * base for k in scalars] (affine; k = 0 gives the identity); native when available."""
    if native.NATIVE:
        return native.batch_mul_g2_native(base, scalars)
    return batch_mul_g2_python(base, scalars)


def batch_mul_g1_python(base: G1Affine, scalars: Sequence[int]) -> list[G1Affine]:
    """Pure-Python :func:`batch_mul_g1` (the reference)."""
    return _batch_mul(
        g1_from_affine(base),
        scalars,
        G1_INF,
        g1_add,
        g1_double,
        g1_madd,
        g1_batch_to_affine,
        fast_int,
    )


def batch_mul_g2_python(base: G2Affine, scalars: Sequence[int]) -> list[G2Affine]:
    """Pure-Python :func:`batch_mul_g2` (the reference)."""
    return _batch_mul(
        g2_from_affine(base),
        scalars,
        G2_INF,
        g2_add_fast,
        g2_double_fast,
        g2_madd_fast,
        g2_batch_to_affine,
        _fast2,
    )
