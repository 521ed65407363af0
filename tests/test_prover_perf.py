"""A ~2,000-constraint chain of multiplications: setup / prove / verify end to end, with the
timings printed (run with ``-s`` to see them). Bounds are loose on purpose (shared CI cores)."""

from __future__ import annotations

import random
import time

import pytest

from circuits.r1cs import R1CS, Constraint
from prover import prove, setup, verify
from prover.fields import R

pytestmark = pytest.mark.slow


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


def test_two_thousand_constraints() -> None:
    r1, w = chain_circuit(1998)
    assert r1.n_constraints == 2000 and r1.is_satisfied(w)
    t0 = time.perf_counter()
    pk, vk = setup(r1)
    t1 = time.perf_counter()
    proof = prove(pk, r1, w)
    t2 = time.perf_counter()
    publics = r1.public_values(w)
    assert verify(vk, publics, proof)
    t3 = time.perf_counter()
    assert not verify(vk, [publics[0], (publics[1] + 1) % R], proof)
    print(
        f"\n[prover perf] constraints={r1.n_constraints} wires={r1.n_wires} domain={pk.domain_size} "
        f"setup={t1 - t0:.2f}s prove={t2 - t1:.2f}s verify={t3 - t2:.2f}s"
    )
    assert t2 - t1 < 60
