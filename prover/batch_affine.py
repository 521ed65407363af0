"""Batch-affine, signed-digit bucket MSM (the fast path behind :mod:`prover.msm`).

Why: in CPython the cost of a group operation is dominated by the number of interpreted big-int
operations, not by their width. An affine addition ``lambda = (y2 - y1) / (x2 - x1)`` needs about
6 products once the inversions are shared (Montgomery's trick: one ``invert`` per *batch* of
independent additions), against 11 for a Jacobian mixed addition.

Algorithm (all windows at once):

1. Every scalar is cut into signed c-bit digits ``d in (-2^(c-1), 2^(c-1)]`` (a digit above
   half borrows from the next window), so each window needs only ``2^(c-1)`` buckets and a
   negative digit adds ``-P = (x, -y)`` (free in affine form).
2. Each (window, |digit|) bucket is one slot; a point landing on an occupied slot empties it
   and queues the pair. Queued pairs are independent, so each round of additions is one batch
   inversion; sums go back into their slots the same way until nothing is queued.
   ``x1 == x2`` pairs are resolved exactly: doubling when ``y1 == y2``, the identity otherwise.
3. Per window, ``sum_d d * B_d`` by the running-sum trick; the running sums of all windows are
   advanced together, so each step is again one batch of independent affine additions.
4. Windows are combined in Jacobian coordinates with ``c`` doublings each (Horner).

The G1 and G2 code paths are written out separately (F_q2 arithmetic inline for G2).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .curve import G1_INF, G2_INF, G1Jac, G2Jac, g1_double, g1_madd
from .curve_g2_fast import g2_double_fast, g2_madd_fast
from .fields import Q as _Q_INT
from .fields import Fq2, fast_int, inv_q

#: The base-field modulus as an mpz when gmpy2 is present (mixing int and mpz operands in a
#: product-then-reduce costs ~1.7x more than mpz throughout).
Q = fast_int(_Q_INT)
_ONE = fast_int(1)
SCALAR_BITS = 254


def _invert(x: int) -> int:
    """Inverse of a non-zero element of F_q, as the same integer type the hot loops use."""
    return fast_int(inv_q(int(x)))
_G1Pt = tuple[int, int]
_G2Pt = tuple[Fq2, Fq2]


def signed_window_bits(n: int) -> int:
    """Window size minimising ``windows * (n + 2 * 2^(c-1))`` affine additions for n terms."""
    best_c, best_cost = 2, None
    for c in range(2, 20):
        windows = -(-(SCALAR_BITS + 1) // c)
        cost = windows * (n + (1 << c))
        if best_cost is None or cost < best_cost:
            best_c, best_cost = c, cost
    return best_c


def signed_digits(k: int, c: int, n_windows: int) -> list[int]:
    """Digits d_w in (-2^(c-1), 2^(c-1)] with ``k = sum_w d_w 2^(c w)`` (k < 2^(c*n_windows - 1))."""
    half = 1 << (c - 1)
    full = 1 << c
    mask = full - 1
    out = [0] * n_windows
    for w in range(n_windows):
        d = k & mask
        k >>= c
        if d > half:
            d -= full
            k += 1
        out[w] = d
    if k:
        raise ValueError("scalar too large for the window layout")
    return out


def _accumulate(
    slots: list,  # type: ignore[type-arg]
    owners: list[int],
    pairs: list,  # type: ignore[type-arg]
    scalars: Sequence[int],
    pos: Sequence,  # type: ignore[type-arg]
    neg: Sequence,  # type: ignore[type-arg]
    c: int,
    offset: int,
) -> None:
    """Drop every signed digit's point into bucket ``offset + w * half + |d| - 1``.

    Each bucket is a single slot: a point arriving at an occupied slot empties it and queues
    the pair (into ``owners`` / ``pairs``) for a later batched addition (:func:`_drain`).
    """
    half = 1 << (c - 1)
    full = 1 << c
    mask = full - 1
    for i in range(len(scalars)):
        k = scalars[i]
        base = offset - 1
        while k:
            d = k & mask
            k >>= c
            if d > half:
                k += 1
                b = base + full - d
                p = neg[i]
            elif d:
                b = base + d
                p = pos[i]
            else:
                base += half
                continue
            q = slots[b]
            if q is None:
                slots[b] = p
            else:
                slots[b] = None
                owners.append(b)
                pairs.append((q, p))
            base += half


def _bucket_sums(
    scalars: Sequence[int],
    c: int,
    n_windows: int,
    pos: Sequence,  # type: ignore[type-arg]
    neg: Sequence,  # type: ignore[type-arg]
    batch_add: Callable[[list], list],  # type: ignore[type-arg]
) -> list:  # type: ignore[type-arg]
    """One accumulated point (or None) per bucket ``w * half + |d| - 1``."""
    slots: list = [None] * (n_windows << (c - 1))  # type: ignore[type-arg]
    owners: list[int] = []
    pairs: list = []  # type: ignore[type-arg]
    _accumulate(slots, owners, pairs, scalars, pos, neg, c, 0)
    _drain(slots, owners, pairs, batch_add)
    return slots


def _drain(slots: list, owners: list[int], pairs: list, batch_add: Callable[[list], list]) -> None:  # type: ignore[type-arg]
    """Add queued pairs in batches and fold the sums back into their slots until none remain."""
    while pairs:
        sums = batch_add(pairs)
        owners_next: list[int] = []
        pairs_next: list = []  # type: ignore[type-arg]
        for b, s in zip(owners, sums):
            if s is None:
                continue
            q = slots[b]
            if q is None:
                slots[b] = s
            else:
                slots[b] = None
                owners_next.append(b)
                pairs_next.append((q, s))
        owners, pairs = owners_next, pairs_next


# ----------------------------------------------------------------------------- G1
def _g1_batch_add(pairs: list[tuple[_G1Pt, _G1Pt]]) -> list[_G1Pt | None]:
    """Affine P + Q for independent pairs with one inversion; None is the identity.

    Coordinates are canonical (< q), so ``x1 == x2`` means P = Q (double: lambda = 3x^2 / 2y;
    y = 0 is impossible, G1 has no 2-torsion) or P = -Q (identity; a dummy denominator 1 keeps
    the shared inversion valid). Reductions are skipped where a product is reduced right after
    anyway (5 reductions and 6 products per addition).
    """
    n = len(pairs)
    dens: list[int] = [0] * n
    acc = _ONE
    prefix = [acc] * n
    i = 0
    for (x1, y1), (x2, y2) in pairs:
        if x1 == x2:
            d = y1 + y1 if y1 == y2 else _ONE
        else:
            d = x2 - x1
        dens[i] = d
        prefix[i] = acc
        acc = acc * d % Q
        i += 1
    inv = _invert(acc)
    out: list[_G1Pt | None] = [None] * n
    for i in range(n - 1, -1, -1):
        (x1, y1), (x2, y2) = pairs[i]
        di = inv * prefix[i]
        inv = inv * dens[i] % Q
        if x1 != x2:
            lam = (y2 - y1) * di % Q
        elif y1 == y2:
            lam = 3 * x1 * x1 % Q * di % Q
        else:
            continue  # P + (-P)
        x3 = (lam * lam - x1 - x2) % Q
        out[i] = (x3, (lam * (x1 - x3) - y1) % Q)
    return out


def _g1_add_many(acc: list[_G1Pt | None], terms: list[_G1Pt | None]) -> None:
    """acc[w] += terms[w] for every w, in place, with one batch inversion."""
    idx: list[int] = []
    pairs: list[tuple[_G1Pt, _G1Pt]] = []
    for w, t in enumerate(terms):
        if t is None:
            continue
        a = acc[w]
        if a is None:
            acc[w] = t
        else:
            idx.append(w)
            pairs.append((a, t))
    if pairs:
        for w, s in zip(idx, _g1_batch_add(pairs)):
            acc[w] = s


def msm_g1_batch_affine(xs: Sequence[int], ys: Sequence[int], scalars: Sequence[int]) -> G1Jac:
    """sum k_i (x_i, y_i) for non-identity affine points and scalars in [1, r)."""
    n = len(scalars)
    if n == 0:
        return G1_INF
    c = signed_window_bits(n)
    n_windows = -(-(SCALAR_BITS + 1) // c)
    half = 1 << (c - 1)
    pos = [(x, y) for x, y in zip(xs, ys)]
    neg = [(x, (Q - y) % Q) for x, y in zip(xs, ys)]
    slots = _bucket_sums(scalars, c, n_windows, pos, neg, _g1_batch_add)
    running: list[_G1Pt | None] = [None] * n_windows
    sums: list[_G1Pt | None] = [None] * n_windows
    for d in range(half - 1, -1, -1):
        _g1_add_many(running, slots[d::half])
        _g1_add_many(sums, running)
    result = G1_INF
    for w in range(n_windows - 1, -1, -1):
        for _ in range(c):
            result = g1_double(result)
        s = sums[w]
        if s is not None:
            result = g1_madd(result, s[0], s[1])
    return result


# ----------------------------------------------------------------------------- G2
def _g2_batch_add(pairs: list[tuple[_G2Pt, _G2Pt]]) -> list[_G2Pt | None]:
    """Affine P + Q on the twist for independent pairs, one F_q inversion overall."""
    n = len(pairs)
    dens: list[Fq2] = [(0, 0)] * n
    prefix: list[Fq2] = [(0, 0)] * n
    a0, a1 = fast_int(1), fast_int(0)
    for i, (((x0, x1), (y0, y1)), ((u0, u1), (v0, v1))) in enumerate(pairs):
        d0 = (u0 - x0) % Q
        d1 = (u1 - x1) % Q
        if d0 == 0 and d1 == 0:
            if y0 == v0 and y1 == v1 and (y0 or y1):
                d0, d1 = 2 * y0 % Q, 2 * y1 % Q
            else:
                d0, d1 = 1, 0
        dens[i] = (d0, d1)
        prefix[i] = (a0, a1)
        t0 = a0 * d0
        t1 = a1 * d1
        a0, a1 = (t0 - t1) % Q, ((a0 + a1) * (d0 + d1) - t0 - t1) % Q
    t = inv_q(a0 * a0 + a1 * a1)
    i0, i1 = fast_int(a0 * t % Q), fast_int(-a1 * t % Q)
    out: list[_G2Pt | None] = [None] * n
    for i in range(n - 1, -1, -1):
        p0, p1 = prefix[i]
        d0, d1 = dens[i]
        t0 = i0 * p0
        t1 = i1 * p1
        e0, e1 = (t0 - t1) % Q, ((i0 + i1) * (p0 + p1) - t0 - t1) % Q  # 1 / den_i
        t0 = i0 * d0
        t1 = i1 * d1
        i0, i1 = (t0 - t1) % Q, ((i0 + i1) * (d0 + d1) - t0 - t1) % Q
        ((x0, x1), (y0, y1)), ((u0, u1), (v0, v1)) = pairs[i]
        if x0 != u0 or x1 != u1:
            n0, n1 = v0 - y0, v1 - y1
        elif y0 == v0 and y1 == v1 and (y0 or y1):
            n0, n1 = 3 * (x0 + x1) * (x0 - x1), 6 * x0 * x1  # 3 x^2
        else:
            continue
        t0 = n0 * e0
        t1 = n1 * e1
        l0, l1 = (t0 - t1) % Q, ((n0 + n1) * (e0 + e1) - t0 - t1) % Q
        X0 = ((l0 + l1) * (l0 - l1) - x0 - u0) % Q
        X1 = (2 * l0 * l1 - x1 - u1) % Q
        g0, g1 = x0 - X0, x1 - X1
        t0 = l0 * g0
        t1 = l1 * g1
        out[i] = ((X0, X1), ((t0 - t1 - y0) % Q, ((l0 + l1) * (g0 + g1) - t0 - t1 - y1) % Q))
    return out


def _g2_add_many(acc: list[_G2Pt | None], terms: list[_G2Pt | None]) -> None:
    idx: list[int] = []
    pairs: list[tuple[_G2Pt, _G2Pt]] = []
    for w, t in enumerate(terms):
        if t is None:
            continue
        a = acc[w]
        if a is None:
            acc[w] = t
        else:
            idx.append(w)
            pairs.append((a, t))
    if pairs:
        for w, s in zip(idx, _g2_batch_add(pairs)):
            acc[w] = s


def msm_g2_batch_affine(xs: Sequence[Fq2], ys: Sequence[Fq2], scalars: Sequence[int]) -> G2Jac:
    """sum k_i (x_i, y_i) on G2 for non-identity affine points and scalars in [1, r)."""
    n = len(scalars)
    if n == 0:
        return G2_INF
    c = signed_window_bits(n)
    n_windows = -(-(SCALAR_BITS + 1) // c)
    half = 1 << (c - 1)
    pos = [(x, y) for x, y in zip(xs, ys)]
    neg = [(x, ((Q - y[0]) % Q, (Q - y[1]) % Q)) for x, y in zip(xs, ys)]
    slots = _bucket_sums(scalars, c, n_windows, pos, neg, _g2_batch_add)
    running: list[_G2Pt | None] = [None] * n_windows
    sums: list[_G2Pt | None] = [None] * n_windows
    for d in range(half - 1, -1, -1):
        _g2_add_many(running, slots[d::half])
        _g2_add_many(sums, running)
    result = G2_INF
    for w in range(n_windows - 1, -1, -1):
        for _ in range(c):
            result = g2_double_fast(result)
        s = sums[w]
        if s is not None:
            result = g2_madd_fast(result, s[0], s[1])
    return result


# ----------------------------------------------------------------------------- many MSMs at once
def _many_window_bits(n_terms: int, n_targets: int) -> int:
    """c minimising windows * (terms + targets * 2^c) additions for T simultaneous MSMs."""
    best_c, best_cost = 2, None
    for c in range(2, 20):
        windows = -(-(SCALAR_BITS + 1) // c)
        cost = windows * (n_terms + n_targets * (1 << c))
        if best_cost is None or cost < best_cost:
            best_c, best_cost = c, cost
    return best_c


def _msm_many(
    groups: Sequence[tuple[Sequence[Any], Sequence[Any], Sequence[int]]],
    negate: Callable[[Any], Any],
    add_many: Callable[[list[Any], list[Any]], None],
    batch_add: Callable[[list[Any]], list[Any]],
) -> list[Any]:
    """Shared driver of :func:`msm_many_g1` / :func:`msm_many_g2`."""
    n_targets = len(groups)
    n_terms = sum(len(g[2]) for g in groups)
    c = _many_window_bits(n_terms, max(n_targets, 1))
    n_windows = -(-(SCALAR_BITS + 1) // c)
    half = 1 << (c - 1)
    stride = n_windows * half
    slots: list[Any] = [None] * (n_targets * stride)
    owners: list[int] = []
    pairs: list[Any] = []
    for t, (xs, ys, scalars) in enumerate(groups):
        pos = list(zip(xs, ys))
        neg = [(x, negate(y)) for x, y in pos]
        _accumulate(slots, owners, pairs, scalars, pos, neg, c, t * stride)
    _drain(slots, owners, pairs, batch_add)
    running: list[Any] = [None] * (n_targets * n_windows)
    sums: list[Any] = [None] * (n_targets * n_windows)
    for d in range(half - 1, -1, -1):
        add_many(running, slots[d::half])
        add_many(sums, running)
    acc: list[Any] = [None] * n_targets
    for w in range(n_windows - 1, -1, -1):
        if w != n_windows - 1:
            for _ in range(c):
                idx = [t for t in range(n_targets) if acc[t] is not None]
                for t, s in zip(idx, batch_add([(acc[t], acc[t]) for t in idx])):
                    acc[t] = s
        add_many(acc, [sums[t * n_windows + w] for t in range(n_targets)])
    return acc


def msm_many_g1(groups: Sequence[tuple[Sequence[int], Sequence[int], Sequence[int]]]) -> list[_G1Pt | None]:
    """Many independent G1 MSMs (each ``(xs, ys, scalars)``, scalars in [1, r), points not the
    identity) sharing every batch inversion -- also the Horner doublings, done in affine form.
    Much cheaper than separate calls when the MSMs are small (key generation). None = identity."""
    return _msm_many(groups, lambda y: (Q - y) % Q, _g1_add_many, _g1_batch_add)


def msm_many_g2(groups: Sequence[tuple[Sequence[Fq2], Sequence[Fq2], Sequence[int]]]) -> list[_G2Pt | None]:
    """G2 counterpart of :func:`msm_many_g1`."""
    return _msm_many(
        groups, lambda y: ((Q - y[0]) % Q, (Q - y[1]) % Q), _g2_add_many, _g2_batch_add
    )


def _naf(k: int) -> list[int]:
    """Non-adjacent form of k > 0, least significant digit first (digits in {-1, 0, 1})."""
    out = []
    while k:
        if k & 1:
            d = 2 - (k & 3)
            k -= d
        else:
            d = 0
        out.append(d)
        k >>= 1
    return out


def scale_many_g1(xs: Sequence[int], ys: Sequence[int], k: int) -> list[_G1Pt | None]:
    """``[k * P_i]`` for many points and ONE scalar k in [1, r): NAF double-and-add run on all
    points in lockstep, so every doubling / addition step is one batch inversion (about 340
    affine operations per point instead of ~900 for a one-term bucket MSM)."""
    pts = list(zip(xs, ys))
    negs = [(x, (Q - y) % Q) for x, y in pts]
    digits = _naf(k)
    acc: list[_G1Pt | None] = [p if digits[-1] == 1 else q for p, q in zip(pts, negs)]
    for d in reversed(digits[:-1]):
        idx = [i for i, a in enumerate(acc) if a is not None]
        for i, s in zip(idx, _g1_batch_add([(acc[i], acc[i]) for i in idx])):  # type: ignore[misc]
            acc[i] = s
        if d:
            _g1_add_many(acc, pts if d == 1 else negs)  # type: ignore[arg-type]
    return acc
