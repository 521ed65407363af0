"""The native (C) prover pipeline against the Python one: witness maps (both H layouts), whole
proofs (identical bytes for the same randomness, verified by our verifier), the per-key and
per-circuit packing caches, and input validation of the R1CS kernel."""

from __future__ import annotations

import gc
import random
from dataclasses import replace

import pytest

from circuits.r1cs import R1CS, Constraint
from prover import UnsatisfiedWitness, native, prove, setup, verify
from prover.curve import G1_GEN, g1_mul, g1_to_affine
from prover.fields import R
from prover.keys import H_ODD_LAGRANGE
from prover.r1cs_to_qap import (
    qap_domain,
    witness_map,
    witness_map_odd,
    witness_map_odd_python,
    witness_map_python,
)

pytestmark = pytest.mark.skipif(not native.AVAILABLE, reason="prover._native not built")


def chain(n: int, n_public: int = 2, seed: int = 0) -> tuple[R1CS, list[int]]:
    """w[k+1] = w[k] * (w[j] + c) with random earlier j and c, plus ``pub * 1 = w`` rows."""
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


@pytest.mark.parametrize("n", [1, 5, 60])
def test_witness_maps_match_python(n: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(native, "NATIVE", True)
    r1, w = chain(n, seed=n)
    d = qap_domain(r1)
    assert witness_map(r1, w, d) == witness_map_python(r1, w, d)
    assert witness_map_odd(r1, w, d) == witness_map_odd_python(r1, w, d)


def test_witness_map_rejects_unsatisfied_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(native, "NATIVE", True)
    r1, w = chain(10)
    w[5] = (w[5] + 1) % R  # wire 5 is the output of constraint 1 (and an input of later ones)
    d = qap_domain(r1)
    for fn in (witness_map, witness_map_odd):
        with pytest.raises(UnsatisfiedWitness, match="constraint 1 "):
            fn(r1, w, d)


def test_r1cs_kernel_validates_its_buffers() -> None:
    mod = native.module()
    r1, w = chain(3)
    p = native.packed_r1cs(r1)
    wb = native.pack_ints(w)
    n = qap_domain(r1).size
    mod.fr_r1cs_rows(wb, n, p.a, p.b, p.c)  # well-formed
    with pytest.raises(ValueError, match="wire outside"):
        mod.fr_r1cs_rows(wb[:-32], n, p.a, p.b, p.c)  # witness one wire short
    with pytest.raises(ValueError, match="rows"):
        mod.fr_r1cs_rows(wb, 2, p.a, p.b, p.c)  # more rows than outputs
    rowptr, cols, coeffs = p.b
    with pytest.raises(ValueError, match="malformed"):
        mod.fr_r1cs_rows(wb, n, p.a, (rowptr, cols, coeffs[:-1]), p.c)
    broken = (rowptr[:4] + (99).to_bytes(4, "little") + rowptr[8:], cols, coeffs)
    with pytest.raises(ValueError, match="monotone"):
        mod.fr_r1cs_rows(wb, n, p.a, broken, p.c)
    with pytest.raises(ValueError):
        mod.fr_r1cs_rows(wb[:-1], n, p.a, p.b, p.c)


def _prove_both(pk, r1, w, monkeypatch):  # type: ignore[no-untyped-def]
    proofs = []
    for flag in (True, False):
        monkeypatch.setattr(native, "NATIVE", flag)
        proofs.append(prove(pk, r1, w, rng=random.Random(9)))
    return proofs


def test_native_proof_equals_python_proof_and_verifies(monkeypatch: pytest.MonkeyPatch) -> None:
    r1, w = chain(40)
    pk, vk = setup(r1, rng=random.Random(1))
    fast, slow = _prove_both(pk, r1, w, monkeypatch)
    assert fast == slow
    assert verify(vk, r1.public_values(w), fast)
    monkeypatch.setattr(native, "NATIVE", True)
    other = prove(pk, r1, w)  # fresh randomness: a different, still valid proof
    assert other != fast and verify(vk, r1.public_values(w), other)
    bad = list(w)
    bad[10] = (bad[10] + 1) % R
    with pytest.raises(UnsatisfiedWitness):
        prove(pk, r1, bad)


def test_odd_lagrange_layout_same_on_both_paths(monkeypatch: pytest.MonkeyPatch) -> None:
    """A key in the snarkjs H layout (points arbitrary here: only the arithmetic is compared)."""
    r1, w = chain(20)
    pk, _ = setup(r1, rng=random.Random(2))
    rng = random.Random(3)
    h_query = tuple(g1_to_affine(g1_mul(G1_GEN, rng.randrange(1, R))) for _ in range(pk.domain_size))
    odd_pk = replace(pk, h_query=h_query, h_form=H_ODD_LAGRANGE)
    fast, slow = _prove_both(odd_pk, r1, w, monkeypatch)
    assert fast == slow


def test_packing_caches_follow_the_object() -> None:
    r1, _ = chain(4)
    pk, _ = setup(r1, rng=random.Random(4))
    first = native.packed_key(pk)
    assert native.packed_key(pk) is first
    assert len(first.a) == 64 * (len(pk.a_query) + 2) and len(first.b2) == 128 * (len(pk.b_g2_query) + 2)
    copy = replace(pk)  # equal but another object: packed again, same bytes
    assert native.packed_key(copy) is not first and native.packed_key(copy) == first
    packed_r1 = native.packed_r1cs(r1)
    assert native.packed_r1cs(r1) is packed_r1
    before = len(native._KEYS)
    del pk, copy
    gc.collect()
    assert len(native._KEYS) <= before - 2  # entries die with their keys
