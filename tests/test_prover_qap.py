"""R1CS -> QAP: H(x) * Z(x) == A(x) B(x) - C(x) checked at a random point (naive Lagrange oracle)."""

from __future__ import annotations

import random

import pytest

from circuits.r1cs import R1CS, Constraint
from prover.errors import UnsatisfiedWitness
from prover.fields import R
from prover.r1cs_to_qap import evaluate_qap_at, lagrange_at, qap_domain, qap_domain_size, witness_map


def cubic() -> tuple[R1CS, list[int]]:
    """x^3 + x + 5 = out; wires: 1 out (public), 2 x, 3 x^2, 4 x^3."""
    cons = (
        Constraint({2: 1}, {2: 1}, {3: 1}),
        Constraint({3: 1}, {2: 1}, {4: 1}),
        Constraint({4: 1, 2: 1, 0: 5}, {0: 1}, {1: 1}),
    )
    r1 = R1CS(n_wires=5, n_public=1, constraints=cons, public_names=("out",), wire_names={})
    return r1, [1, 35, 3, 9, 27]


def naive_lagrange(points: list[int], i: int, x: int) -> int:
    num, den = 1, 1
    for j, p in enumerate(points):
        if j != i:
            num = num * (x - p) % R
            den = den * (points[i] - p) % R
    return num * pow(den, -1, R) % R


def test_domain_includes_input_rows() -> None:
    r1, _ = cubic()
    assert qap_domain_size(r1) == 8  # 3 constraints + 2 instance rows = 5 -> 8


def test_lagrange_matches_naive() -> None:
    d = qap_domain(cubic()[0])
    tau = 123456789
    pts = d.elements()
    assert lagrange_at(d, tau) == [naive_lagrange(pts, i, tau) for i in range(d.size)]


def test_divisibility_identity_at_random_point() -> None:
    r1, w = cubic()
    d = qap_domain(r1)
    h = witness_map(r1, w, d)
    assert len(h) == d.size - 1
    x = random.Random(1).randrange(R)
    a, b, c, zx = evaluate_qap_at(r1, d, x)
    ax = sum(ai * wi for ai, wi in zip(a, w)) % R
    bx = sum(bi * wi for bi, wi in zip(b, w)) % R
    cx = sum(ci * wi for ci, wi in zip(c, w)) % R
    hx = sum(hi * pow(x, i, R) for i, hi in enumerate(h)) % R
    assert (ax * bx - cx) % R == hx * zx % R


def test_unsatisfied_witness_not_divisible() -> None:
    r1, w = cubic()
    w[4] = 28
    with pytest.raises(UnsatisfiedWitness):
        witness_map(r1, w, qap_domain(r1))
