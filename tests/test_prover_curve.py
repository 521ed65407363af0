"""Curve arithmetic: inline G2 formulas vs helper formulas vs py_ecc; curve / subgroup checks."""

from __future__ import annotations

import random

from py_ecc.optimized_bn128 import G1 as PY_G1
from py_ecc.optimized_bn128 import G2 as PY_G2
from py_ecc.optimized_bn128 import add, multiply

from prover.curve import (
    G1_GEN,
    G1_ZERO,
    G2_GEN,
    g1_from_pyecc,
    g1_mul,
    g1_to_affine,
    g2_add,
    g2_double,
    g2_from_pyecc,
    g2_madd,
    g2_mul,
    g2_neg,
    g2_to_affine,
    is_in_g2_subgroup,
    is_on_curve_g1,
    is_on_curve_g2,
)
from prover.curve_g2_fast import g2_add_fast, g2_double_fast, g2_madd_fast
from prover.fields import Q, R, f2_sqr, f2_sqrt
from prover_samples import twist_point_outside_subgroup


def test_f2_sqrt() -> None:
    rng = random.Random(2)
    for _ in range(5):
        a = (rng.randrange(Q), rng.randrange(Q))
        s = f2_sqrt(f2_sqr(a))
        assert s is not None and f2_sqr(s) == f2_sqr(a)
    non_squares = 0
    for _ in range(10):
        a = (rng.randrange(Q), rng.randrange(Q))
        root = f2_sqrt(a)
        if root is None:
            non_squares += 1
        else:
            assert f2_sqr(root) == a
    assert 0 < non_squares < 10


def test_generators_match_py_ecc() -> None:
    assert g1_from_pyecc(PY_G1) == G1_GEN
    assert g2_from_pyecc(PY_G2) == G2_GEN
    assert is_on_curve_g1(G1_GEN) and is_on_curve_g2(G2_GEN)
    assert is_in_g2_subgroup(G2_GEN)


def test_scalar_mul_matches_py_ecc() -> None:
    rng = random.Random(5)
    for _ in range(3):
        k = rng.randrange(R)
        assert g1_to_affine(g1_mul(G1_GEN, k)) == g1_from_pyecc(multiply(PY_G1, k))
        assert g2_to_affine(g2_mul(G2_GEN, k)) == g2_from_pyecc(multiply(PY_G2, k))
    assert g1_to_affine(g1_mul(G1_GEN, R)) == G1_ZERO


def test_inline_g2_formulas_match_helper_formulas() -> None:
    rng = random.Random(6)
    for _ in range(5):
        p = g2_mul(G2_GEN, rng.randrange(1, R))
        q = g2_mul(G2_GEN, rng.randrange(1, R))
        qa = g2_to_affine(q)
        assert g2_to_affine(g2_add_fast(p, q)) == g2_to_affine(g2_add(p, q))
        assert g2_to_affine(g2_double_fast(p)) == g2_to_affine(g2_double(p))
        assert g2_to_affine(g2_madd_fast(p, *qa)) == g2_to_affine(g2_madd(p, *qa))
        assert g2_to_affine(g2_add_fast(p, p)) == g2_to_affine(g2_double(p))
        assert g2_to_affine(g2_add_fast(p, g2_neg(p))) == g2_to_affine(g2_mul(G2_GEN, 0))
    p = g2_mul(G2_GEN, 77)
    s = add(multiply(PY_G2, 77), multiply(PY_G2, 5))
    assert g2_to_affine(g2_madd_fast(p, *g2_to_affine(g2_mul(G2_GEN, 5)))) == g2_from_pyecc(s)


def test_curve_checks_reject() -> None:
    x, y = G1_GEN
    assert not is_on_curve_g1((x, y + 1))
    assert not is_on_curve_g1((x + Q, y))  # non-canonical coordinate
    assert not is_on_curve_g1(G1_ZERO)
    (x0, x1), (y0, y1) = G2_GEN
    assert not is_on_curve_g2(((x0, x1), (y0 + 1, y1)))
    assert not is_in_g2_subgroup(((x0, x1), (y0 + 1, y1)))


def test_twist_point_outside_subgroup_detected() -> None:
    p = twist_point_outside_subgroup(seed=1)
    assert is_on_curve_g2(p)
    assert not is_in_g2_subgroup(p)
