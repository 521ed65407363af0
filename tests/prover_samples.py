"""Inputs shared by the prover tests: an R1CS chain of products with its witness, and a G2 twist point outside
the order-r subgroup."""

from __future__ import annotations

import random

from circuits.r1cs import R1CS, Constraint
from prover.curve import B2
from prover.fields import Q, R, f2_add, f2_mul, f2_sqr, f2_sqrt


def chain_circuit(n: int, n_public: int = 2, seed: int = 0) -> tuple[R1CS, list[int]]:
    """w[k+1] = w[k] * (w[j] + c) for random earlier private j and random constant c;
    the last ``n_public`` products are exposed through ``pub * 1 = w`` constraints."""
    rng = random.Random(seed)
    first = 1 + n_public
    w = [1] + [0] * n_public + [rng.randrange(R)]
    cons = []
    for _ in range(n):
        j = rng.randrange(first, len(w))
        c = rng.randrange(R)
        k = len(w) - 1
        cons.append(Constraint({k: 1}, {j: 1, 0: c}, {k + 1: 1}))
        w.append(w[k] * (w[j] + c) % R)
    for p in range(n_public):
        cons.append(Constraint({1 + p: 1}, {0: 1}, {len(w) - 1 - p: 1}))
        w[1 + p] = w[len(w) - 1 - p]
    names = tuple(f"p{i}" for i in range(n_public))
    return R1CS(n_wires=len(w), n_public=n_public, constraints=tuple(cons), public_names=names, wire_names={}), w


def twist_point_outside_subgroup(seed: int = 4) -> tuple[tuple[int, int], tuple[int, int]]:
    """A random point on the G2 twist: the cofactor is huge, so it is not in the r-subgroup."""
    rng = random.Random(seed)
    while True:
        x = (rng.randrange(Q), rng.randrange(Q))
        y = f2_sqrt(f2_add(f2_mul(f2_sqr(x), x), B2))
        if y is not None:
            return (x, y)
