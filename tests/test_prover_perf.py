"""A ~2,000-constraint chain of multiplications: setup / prove / verify end to end, with the
timings printed (run with ``-s`` to see them). Bounds are loose on purpose (shared CI cores)."""

from __future__ import annotations

import time

import pytest

from prover import prove, setup, verify
from prover.fields import R
from prover_samples import chain_circuit

pytestmark = pytest.mark.slow


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
