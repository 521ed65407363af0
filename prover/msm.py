"""Multi-scalar multiplication sum_i k_i * P_i on G1 and G2.

``msm_g1`` / ``msm_g2`` (the default, used by the prover) run the batch-affine signed-digit
bucket MSM of :mod:`prover.batch_affine`.

``msm_g1_jacobian`` / ``msm_g2_jacobian`` are the plain bucket (Pippenger) MSMs: scalars are cut
into c-bit windows, each window drops every point into the bucket of its digit with one mixed
(Jacobian + affine) addition, buckets are summed with the running-sum trick (2 additions per
bucket), and windows are combined with c doublings each. The window c minimises
``ceil(254/c) * (n + 2^(c+1))`` for the input size n.

In both, scalars 0 (and identity points) are skipped and scalars 1 are added directly.

``msm_reference_g1`` / ``msm_reference_g2`` are the slow, obviously-correct oracle: py_ecc
``multiply`` + ``add`` per term.

Dispatch: ``msm_g1`` / ``msm_g2`` / ``msm_g1_jac`` / ``msm_g2_jac`` / ``msm_many_*`` run the C
Pippenger of :mod:`prover.native` when the extension is loaded (:data:`NATIVE`), else the
batch-affine Python path, which stays callable as ``msm_g1_python`` / ``msm_g2_python`` (and
``*_jac_python``, ``msm_many_*_python``). Tests run every path on the same inputs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from .curve import (
    G1_INF,
    G2_INF,
    G1Affine,
    G1Jac,
    G2Affine,
    G2Jac,
    g1_add,
    g1_double,
    g1_from_affine,
    g1_from_pyecc,
    g1_is_zero_affine,
    g1_madd,
    g1_to_affine,
    g1_to_pyecc,
    g2_from_affine,
    g2_from_pyecc,
    g2_is_zero_affine,
    g2_to_affine,
    g2_to_pyecc,
)
from . import native as _native
from .batch_affine import msm_g1_batch_affine, msm_g2_batch_affine
from .batch_affine import msm_many_g1 as msm_many_g1_batch_affine
from .batch_affine import msm_many_g2 as msm_many_g2_batch_affine
from .curve_g2_fast import g2_add_fast, g2_double_fast, g2_madd_fast
from .fields import R, fast_int

J = TypeVar("J")
C = TypeVar("C")

SCALAR_BITS = 254

#: True when the C extension is loaded (the default paths below then use it).
NATIVE = _native.NATIVE


def window_bits(n: int) -> int:
    """Window size minimising the estimated group-operation count for ``n`` terms."""
    if n <= 1:
        return 1
    best_c, best_cost = 1, None
    for c in range(1, 17):
        cost = -(-SCALAR_BITS // c) * (n + (1 << (c + 1))) + SCALAR_BITS
        if best_cost is None or cost < best_cost:
            best_c, best_cost = c, cost
    return best_c


def _pippenger(
    xs: Sequence[C],
    ys: Sequence[C],
    scalars: Sequence[int],
    inf: J,
    add: Callable[[J, J], J],
    double: Callable[[J], J],
    madd: Callable[[J, C, C], J],
) -> J:
    n = len(scalars)
    if n == 0:
        return inf
    c = window_bits(n)
    mask = (1 << c) - 1
    n_windows = -(-SCALAR_BITS // c)
    result = inf
    for w in range(n_windows - 1, -1, -1):
        for _ in range(c):
            result = double(result)
        shift = w * c
        buckets: list[J] = [inf] * (mask + 1)
        for i in range(n):
            d = (scalars[i] >> shift) & mask
            if d:
                buckets[d] = madd(buckets[d], xs[i], ys[i])
        running = inf
        window_sum = inf
        for d in range(mask, 0, -1):
            running = add(running, buckets[d])
            window_sum = add(window_sum, running)
        result = add(result, window_sum)
    return result


def _prepare(
    points: Sequence[Any], scalars: Sequence[int], is_zero: Callable[[Any], bool]
) -> tuple[list[Any], list[int], list[Any]]:
    """Split into (points with scalar >= 2, their scalars, points with scalar 1)."""
    if len(points) != len(scalars):
        raise ValueError(f"MSM needs as many scalars as points ({len(scalars)} != {len(points)})")
    big_pts: list[Any] = []
    big_sc: list[int] = []
    ones: list[Any] = []
    for p, k in zip(points, scalars):
        k %= R
        if k == 0 or is_zero(p):
            continue
        if k == 1:
            ones.append(p)
        else:
            big_pts.append(p)
            big_sc.append(k)
    return big_pts, big_sc, ones


def _ones_g1(acc: G1Jac, ones: Sequence[G1Affine]) -> G1Jac:
    for x, y in ones:
        acc = g1_madd(acc, fast_int(x), fast_int(y))
    return acc


def _ones_g2(acc: G2Jac, ones: Sequence[G2Affine]) -> G2Jac:
    for x, y in ones:
        acc = g2_madd_fast(acc, (fast_int(x[0]), fast_int(x[1])), (fast_int(y[0]), fast_int(y[1])))
    return acc


def msm_g1_jac_python(points: Sequence[G1Affine], scalars: Sequence[int]) -> G1Jac:
    """Batch-affine bucket MSM on G1, result in Jacobian coordinates."""
    big_pts, big_sc, ones = _prepare(points, scalars, g1_is_zero_affine)
    xs = [fast_int(p[0]) for p in big_pts]
    ys = [fast_int(p[1]) for p in big_pts]
    return _ones_g1(msm_g1_batch_affine(xs, ys, big_sc), ones)


def msm_g2_jac_python(points: Sequence[G2Affine], scalars: Sequence[int]) -> G2Jac:
    """Batch-affine bucket MSM on G2, result in Jacobian coordinates."""
    big_pts, big_sc, ones = _prepare(points, scalars, g2_is_zero_affine)
    xs = [(fast_int(p[0][0]), fast_int(p[0][1])) for p in big_pts]
    ys = [(fast_int(p[1][0]), fast_int(p[1][1])) for p in big_pts]
    return _ones_g2(msm_g2_batch_affine(xs, ys, big_sc), ones)


def msm_g1_python(points: Sequence[G1Affine], scalars: Sequence[int]) -> G1Affine:
    """Batch-affine Python MSM on G1 (the default when the extension is missing)."""
    return g1_to_affine(msm_g1_jac_python(points, scalars))


def msm_g2_python(points: Sequence[G2Affine], scalars: Sequence[int]) -> G2Affine:
    """Batch-affine Python MSM on G2."""
    return g2_to_affine(msm_g2_jac_python(points, scalars))


def msm_g1(points: Sequence[G1Affine], scalars: Sequence[int]) -> G1Affine:
    """sum_i scalars[i] * points[i] on G1 (affine in, affine out; identity is (0, 0))."""
    if _native.NATIVE:
        return _native.msm_g1_native(points, scalars)
    return msm_g1_python(points, scalars)


def msm_g2(points: Sequence[G2Affine], scalars: Sequence[int]) -> G2Affine:
    """sum_i scalars[i] * points[i] on G2 (affine in, affine out; identity is ((0,0),(0,0)))."""
    if _native.NATIVE:
        return _native.msm_g2_native(points, scalars)
    return msm_g2_python(points, scalars)


def msm_g1_jac(points: Sequence[G1Affine], scalars: Sequence[int]) -> G1Jac:
    """:func:`msm_g1` with the result in Jacobian coordinates."""
    if _native.NATIVE:
        return g1_from_affine(_native.msm_g1_native(points, scalars))
    return msm_g1_jac_python(points, scalars)


def msm_g2_jac(points: Sequence[G2Affine], scalars: Sequence[int]) -> G2Jac:
    """:func:`msm_g2` with the result in Jacobian coordinates."""
    if _native.NATIVE:
        return g2_from_affine(_native.msm_g2_native(points, scalars))
    return msm_g2_jac_python(points, scalars)


def msm_g1_jacobian(points: Sequence[G1Affine], scalars: Sequence[int]) -> G1Affine:
    """Plain Pippenger with Jacobian buckets on G1 (the previous default; kept as a second path)."""
    big_pts, big_sc, ones = _prepare(points, scalars, g1_is_zero_affine)
    xs = [fast_int(p[0]) for p in big_pts]
    ys = [fast_int(p[1]) for p in big_pts]
    acc = _pippenger(xs, ys, big_sc, G1_INF, g1_add, g1_double, g1_madd)
    return g1_to_affine(_ones_g1(acc, ones))


def msm_g2_jacobian(points: Sequence[G2Affine], scalars: Sequence[int]) -> G2Affine:
    """Plain Pippenger with Jacobian buckets on G2."""
    big_pts, big_sc, ones = _prepare(points, scalars, g2_is_zero_affine)
    xs = [(fast_int(p[0][0]), fast_int(p[0][1])) for p in big_pts]
    ys = [(fast_int(p[1][0]), fast_int(p[1][1])) for p in big_pts]
    acc = _pippenger(xs, ys, big_sc, G2_INF, g2_add_fast, g2_double_fast, g2_madd_fast)
    return g2_to_affine(_ones_g2(acc, ones))


def msm_reference_g1(points: Sequence[G1Affine], scalars: Sequence[int]) -> G1Affine:
    """Oracle: py_ecc optimized_bn128 multiply + add, one term at a time."""
    from py_ecc.optimized_bn128.optimized_curve import Z1, add, multiply

    if len(points) != len(scalars):
        raise ValueError("MSM needs as many scalars as points")
    acc = Z1
    for p, k in zip(points, scalars):
        acc = add(acc, multiply(g1_to_pyecc(p), k % R))
    return g1_from_pyecc(acc)


def msm_reference_g2(points: Sequence[G2Affine], scalars: Sequence[int]) -> G2Affine:
    """Oracle: py_ecc optimized_bn128 multiply + add, one term at a time."""
    from py_ecc.optimized_bn128.optimized_curve import Z2, add, multiply

    if len(points) != len(scalars):
        raise ValueError("MSM needs as many scalars as points")
    acc = Z2
    for p, k in zip(points, scalars):
        acc = add(acc, multiply(g2_to_pyecc(p), k % R))
    return g2_from_pyecc(acc)


def _many(
    groups: Sequence[tuple[Sequence[Any], Sequence[int]]],
    is_zero: Callable[[Any], bool],
    fast: Callable[[Any], Any],
    run: Callable[[list[Any]], list[Any]],
    zero: Any,
) -> list[Any]:
    prepared = []
    for points, scalars in groups:
        if len(points) != len(scalars):
            raise ValueError("MSM needs as many scalars as points")
        xs, ys, ks = [], [], []
        for p, k in zip(points, scalars):
            k %= R
            if k and not is_zero(p):
                xs.append(fast(p[0]))
                ys.append(fast(p[1]))
                ks.append(k)
        prepared.append((xs, ys, ks))
    return [zero if s is None else s for s in run(prepared)]


def msm_many_g1(groups: Sequence[tuple[Sequence[G1Affine], Sequence[int]]]) -> list[G1Affine]:
    """``[msm_g1(points, scalars) for points, scalars in groups]`` (natively one C MSM each)."""
    if _native.NATIVE:
        return [_native.msm_g1_native(points, scalars) for points, scalars in groups]
    return msm_many_g1_python(groups)


def msm_many_g2(groups: Sequence[tuple[Sequence[G2Affine], Sequence[int]]]) -> list[G2Affine]:
    """G2 counterpart of :func:`msm_many_g1`."""
    if _native.NATIVE:
        return [_native.msm_g2_native(points, scalars) for points, scalars in groups]
    return msm_many_g2_python(groups)


def msm_many_g1_python(groups: Sequence[tuple[Sequence[G1Affine], Sequence[int]]]) -> list[G1Affine]:
    """Python :func:`msm_many_g1`: all groups computed together (shared batch inversions; far
    faster than separate Python MSMs for many small ones, e.g. key generation)."""
    out = _many(groups, g1_is_zero_affine, fast_int, msm_many_g1_batch_affine, (0, 0))
    return [(int(x), int(y)) for x, y in out]


def msm_many_g2_python(groups: Sequence[tuple[Sequence[G2Affine], Sequence[int]]]) -> list[G2Affine]:
    """Python :func:`msm_many_g2`."""

    def fast2(c: tuple[int, int]) -> tuple[Any, Any]:
        return (fast_int(c[0]), fast_int(c[1]))

    out = _many(groups, g2_is_zero_affine, fast2, msm_many_g2_batch_affine, ((0, 0), (0, 0)))
    return [((int(x[0]), int(x[1])), (int(y[0]), int(y[1]))) for x, y in out]
