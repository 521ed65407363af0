"""The bucket MSM and the py_ecc reference MSM, one suite over both, against a naive oracle."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

import pytest

from prover.curve import (
    G1_GEN,
    G1_INF,
    G1_ZERO,
    G2_GEN,
    G2_INF,
    G2_ZERO,
    g1_add,
    g1_mul,
    g1_neg_affine,
    g1_to_affine,
    g2_add,
    g2_mul,
    g2_neg_affine,
    g2_to_affine,
)
from prover.fields import R
from prover.fixed_base import batch_mul_g1, batch_mul_g2
from prover.msm import (
    msm_g1,
    msm_g1_jacobian,
    msm_g2,
    msm_g2_jacobian,
    msm_reference_g1,
    msm_reference_g2,
    window_bits,
)

G1_IMPLS = {"batch_affine": msm_g1, "jacobian": msm_g1_jacobian, "reference": msm_reference_g1}
G2_IMPLS = {"batch_affine": msm_g2, "jacobian": msm_g2_jacobian, "reference": msm_reference_g2}


def naive_g1(points: Sequence[tuple[int, int]], scalars: Sequence[int]) -> tuple[int, int]:
    acc = G1_INF
    for p, k in zip(points, scalars):
        acc = g1_add(acc, g1_mul(p, k % R))
    return g1_to_affine(acc)


def naive_g2(points, scalars):  # type: ignore[no-untyped-def]
    acc = G2_INF
    for p, k in zip(points, scalars):
        acc = g2_add(acc, g2_mul(p, k % R))
    return g2_to_affine(acc)


def rand_g1(rng: random.Random, n: int) -> list[tuple[int, int]]:
    return [g1_to_affine(g1_mul(G1_GEN, rng.randrange(1, R))) for _ in range(n)]


def rand_g2(rng: random.Random, n: int):  # type: ignore[no-untyped-def]
    return [g2_to_affine(g2_mul(G2_GEN, rng.randrange(1, R))) for _ in range(n)]


EDGE_SCALARS = [0, 1, R - 1, 2, R - 2, 1 << 253, R, R + 1]


@pytest.mark.parametrize("impl", G1_IMPLS.values(), ids=G1_IMPLS.keys())
@pytest.mark.parametrize("n", [0, 1, 5, 40])
def test_msm_g1_random(impl: Callable, n: int) -> None:
    rng = random.Random(n)
    pts = rand_g1(rng, n)
    sc = [rng.randrange(R) for _ in range(n)]
    assert impl(pts, sc) == naive_g1(pts, sc)


@pytest.mark.parametrize("impl", G1_IMPLS.values(), ids=G1_IMPLS.keys())
def test_msm_g1_edge_scalars_and_repeats(impl: Callable) -> None:
    rng = random.Random(7)
    p = rand_g1(rng, 1)[0]
    pts = [p] * len(EDGE_SCALARS) + rand_g1(rng, len(EDGE_SCALARS))
    sc = EDGE_SCALARS + EDGE_SCALARS
    assert impl(pts, sc) == naive_g1(pts, sc)
    # P + (-P) = identity, P + P = 2P, identity points contribute nothing
    assert impl([p, g1_neg_affine(p)], [1, 1]) == G1_ZERO
    assert impl([p, p], [1, 1]) == g1_to_affine(g1_mul(p, 2))
    assert impl([p, G1_ZERO], [5, 9]) == g1_to_affine(g1_mul(p, 5))
    assert impl([p], [R - 1]) == g1_neg_affine(p)
    assert impl([p], [0]) == G1_ZERO


@pytest.mark.parametrize("impl", G2_IMPLS.values(), ids=G2_IMPLS.keys())
@pytest.mark.parametrize("n", [0, 1, 12])
def test_msm_g2_random(impl: Callable, n: int) -> None:
    rng = random.Random(100 + n)
    pts = rand_g2(rng, n)
    sc = [rng.randrange(R) for _ in range(n)]
    assert impl(pts, sc) == naive_g2(pts, sc)


@pytest.mark.parametrize("impl", G2_IMPLS.values(), ids=G2_IMPLS.keys())
def test_msm_g2_edge_scalars_and_repeats(impl: Callable) -> None:
    rng = random.Random(8)
    p = rand_g2(rng, 1)[0]
    pts = [p] * len(EDGE_SCALARS)
    assert impl(pts, EDGE_SCALARS) == naive_g2(pts, EDGE_SCALARS)
    assert impl([p, g2_neg_affine(p)], [1, 1]) == G2_ZERO
    assert impl([p, p], [3, 4]) == g2_to_affine(g2_mul(p, 7))
    assert impl([p, G2_ZERO], [5, 9]) == g2_to_affine(g2_mul(p, 5))
    assert impl([p], [R - 1]) == g2_neg_affine(p)


def test_fast_and_reference_agree_on_larger_input() -> None:
    """Big enough that Pippenger picks a multi-bit window with many full buckets."""
    rng = random.Random(3)
    pts = rand_g1(rng, 120)
    sc = [rng.randrange(R) for _ in range(120)]
    assert window_bits(120) >= 5
    assert msm_g1(pts, sc) == msm_reference_g1(pts, sc)


def test_length_mismatch_rejected() -> None:
    with pytest.raises(ValueError):
        msm_g1([G1_GEN], [1, 2])


def test_fixed_base_batch_mul_matches_double_and_add() -> None:
    rng = random.Random(11)
    sc = [0, 1, R - 1, *(rng.randrange(R) for _ in range(20))]
    assert batch_mul_g1(G1_GEN, sc) == [g1_to_affine(g1_mul(G1_GEN, k)) for k in sc]
    sc2 = sc[:8]
    assert batch_mul_g2(G2_GEN, sc2) == [g2_to_affine(g2_mul(G2_GEN, k)) for k in sc2]


def test_plain_int_fallback_without_gmpy2(monkeypatch: pytest.MonkeyPatch) -> None:
    """Same results when gmpy2 is unavailable (fast_int / inv_q fall back to plain ints)."""
    import prover.fields as fields

    rng = random.Random(12)
    pts = rand_g1(rng, 20)
    sc = [rng.randrange(R) for _ in range(20)]
    with_gmpy2 = msm_g1(pts, sc)
    monkeypatch.setattr(fields, "_gmpy2", None)
    assert type(fields.fast_int(5)) is int
    assert msm_g1(pts, sc) == with_gmpy2 == naive_g1(pts, sc)
    assert fields.inv_q(3) * 3 % fields.Q == 1


# ----------------------------------------------------------------------------- batch-affine internals
from prover.batch_affine import scale_many_g1, signed_digits, signed_window_bits  # noqa: E402
from prover.fields import fast_int  # noqa: E402
from prover.msm import msm_many_g1, msm_many_g2  # noqa: E402


@pytest.mark.parametrize("c", [2, 5, 10, 13])
def test_signed_digits_reconstruct(c: int) -> None:
    rng = random.Random(c)
    windows = -(-255 // c)
    for k in [0, 1, R - 1, (1 << 254) - 1, *(rng.randrange(R) for _ in range(20))]:
        digits = signed_digits(k, c, windows)
        assert all(-(1 << (c - 1)) < d <= 1 << (c - 1) for d in digits)
        assert sum(d << (c * w) for w, d in enumerate(digits)) == k
    assert 8 <= signed_window_bits(4000) <= 12


@pytest.mark.parametrize("impl", [msm_g1, msm_g1_jacobian], ids=["batch_affine", "jacobian"])
def test_buckets_with_doublings_and_cancellations(impl: Callable) -> None:
    """Many equal points with equal scalars land in the same buckets (affine doubling), P and
    -P with equal scalars cancel inside a bucket (identity), big enough for a multi-bit window."""
    rng = random.Random(21)
    p, q = rand_g1(rng, 2)
    k = rng.randrange(R)
    pts = [p] * 40 + [q, g1_neg_affine(q)] * 20 + rand_g1(rng, 30)
    sc = [k] * 40 + [k] * 40 + [rng.randrange(R) for _ in range(30)]
    assert impl(pts, sc) == naive_g1(pts, sc)
    assert impl([q, g1_neg_affine(q)] * 50, [k] * 100) == G1_ZERO


def test_msm_many_matches_separate_msms() -> None:
    rng = random.Random(22)
    pts = rand_g1(rng, 12)
    p = pts[0]
    groups = [(pts[:n], [rng.randrange(R) for _ in range(n)]) for n in (0, 1, 2, 5, 12)]
    groups += [([p, p], [3, 5]), ([p, g1_neg_affine(p)], [7, 7]), ([p], [R - 1]), ([G1_ZERO, p], [4, 0])]
    assert msm_many_g1(groups) == [naive_g1(*g) for g in groups]
    pts2 = rand_g2(rng, 3)
    groups2 = [(pts2[:n], [rng.randrange(R) for _ in range(n)]) for n in (0, 1, 3)] + [([pts2[0]] * 2, [1, 1])]
    assert msm_many_g2(groups2) == [naive_g2(*g) for g in groups2]
    with pytest.raises(ValueError):
        msm_many_g1([([p], [1, 2])])


def test_scale_many_matches_double_and_add() -> None:
    rng = random.Random(23)
    pts = rand_g1(rng, 6)
    for k in (1, 2, 3, R - 1, rng.randrange(R)):
        got = scale_many_g1([fast_int(x) for x, _ in pts], [fast_int(y) for _, y in pts], k)
        assert [(int(s[0]), int(s[1])) for s in got] == [g1_to_affine(g1_mul(p, k)) for p in pts]  # type: ignore[index]
