"""The native (C) prover pipeline against the Python one: witness maps (both H layouts), setup
keys (fixed-base kernel), whole proofs (identical bytes for the same randomness, verified by our
verifier), the per-key and per-circuit packing caches, and input validation of the R1CS kernel."""

from __future__ import annotations

import gc
import random
import struct
from dataclasses import replace

import pytest

from circuits.r1cs import Constraint
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
from prover_samples import chain_circuit, twist_point_outside_subgroup

pytestmark = pytest.mark.skipif(not native.AVAILABLE, reason="prover._native not built")


@pytest.mark.parametrize("n", [1, 5, 60])
def test_witness_maps_match_python(n: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(native, "NATIVE", True)
    r1, w = chain_circuit(n, seed=n)
    d = qap_domain(r1)
    assert witness_map(r1, w, d) == witness_map_python(r1, w, d)
    assert witness_map_odd(r1, w, d) == witness_map_odd_python(r1, w, d)


def test_witness_map_rejects_unsatisfied_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(native, "NATIVE", True)
    r1, w = chain_circuit(10)
    w[5] = (w[5] + 1) % R  # wire 5 is the output of constraint 1 (and an input of later ones)
    d = qap_domain(r1)
    for fn in (witness_map, witness_map_odd):
        with pytest.raises(UnsatisfiedWitness, match="constraint 1 "):
            fn(r1, w, d)


def test_r1cs_kernel_validates_its_buffers() -> None:
    mod = native.module()
    r1, w = chain_circuit(3)
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
    r1, w = chain_circuit(40)
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


def test_native_setup_equals_python_setup(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fixed-base kernel makes the same keys as the Python reference for the same toxic waste."""
    r1, w = chain_circuit(30)
    keys = []
    for flag in (True, False):
        monkeypatch.setattr(native, "NATIVE", flag)
        keys.append(setup(r1, rng=random.Random(3)))
    assert keys[0] == keys[1]
    pk, vk = keys[0]
    monkeypatch.setattr(native, "NATIVE", True)
    proof = prove(pk, r1, w, rng=random.Random(5))
    assert verify(vk, r1.public_values(w), proof)
    assert not verify(vk, [(v + 1) % R for v in r1.public_values(w)], proof)


def test_odd_lagrange_layout_same_on_both_paths(monkeypatch: pytest.MonkeyPatch) -> None:
    """A key in the snarkjs H layout (points arbitrary here: only the arithmetic is compared)."""
    r1, w = chain_circuit(20)
    pk, _ = setup(r1, rng=random.Random(2))
    rng = random.Random(3)
    h_query = tuple(g1_to_affine(g1_mul(G1_GEN, rng.randrange(1, R))) for _ in range(pk.domain_size))
    odd_pk = replace(pk, h_query=h_query, h_form=H_ODD_LAGRANGE)
    fast, slow = _prove_both(odd_pk, r1, w, monkeypatch)
    assert fast == slow


def test_packing_caches_follow_the_object() -> None:
    r1, _ = chain_circuit(4)
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


# ----------------------------------------------------------------------------- file-loading kernels
def test_r1cs_digest_native_equals_python() -> None:
    """Same digest text from C (decimal formatting, sorting by wire, zero terms left out, the
    decimal cache overflowing) as from Python; values C cannot represent are hashed in Python."""
    import hashlib

    from prover import r1cs_digest as rd

    r1, _ = chain_circuit(30)
    rng = random.Random(5)
    extra = [
        Constraint({5: 0, 3: 2**256 - 1, 1: R - 1}, {}, {0: 10**19, 2: 2**64, 4: 2**64 - 1}),
        Constraint({i: rng.randrange(R) for i in rng.sample(range(40), 30)}, {7: 0}, {}),
        *(Constraint({1: rng.randrange(2**64, R)}, {2: rng.randrange(R)}, {3: 1}) for _ in range(3000)),
    ]
    big = replace(r1, constraints=r1.constraints + tuple(extra))
    for circuit in (r1, big, replace(r1, constraints=())):
        h = rd._header(circuit)
        assert native.module().r1cs_digest_update(h, circuit.constraints) is True
        assert h.hexdigest() == rd.compute_python(circuit)
    for odd in ({1: 2**256}, {1: -1}, {1: True}, {-1: 1}, {2**70: 1}):
        circuit = replace(r1, constraints=(*r1.constraints, Constraint({}, dict(odd), {})))
        h = hashlib.sha256()
        assert native.module().r1cs_digest_update(h, circuit.constraints) is False
        assert h.hexdigest() == hashlib.sha256().hexdigest()  # nothing was fed
        assert rd._compute(circuit) == rd.compute_python(circuit)


def test_zkey_point_kernels_match_python() -> None:
    from prover.binfile import to_montgomery_q
    from prover.curve import G2_GEN, g2_mul, g2_to_affine, is_in_g2_subgroup
    from prover.fields import Q

    rng = random.Random(6)
    g1 = [g1_to_affine(g1_mul(G1_GEN, rng.randrange(1, R))) for _ in range(20)] + [(0, 0)]
    g2 = [g2_to_affine(g2_mul(G2_GEN, rng.randrange(1, R))) for _ in range(5)] + [((0, 0), (0, 0)), twist_point_outside_subgroup()]
    mont = lambda cs: b"".join(to_montgomery_q(c).to_bytes(32, "little") for c in cs)  # noqa: E731
    raw1 = mont([c for p in g1 for c in p])
    raw2 = mont([c for p in g2 for xy in p for c in xy])
    canon, bad = native.zkey_points(raw1, g2=False)
    assert bad == -1 and canon == native.pack_g1(g1) and native.unpack_points(canon, g2=False) == tuple(g1)
    canon, bad = native.zkey_points(raw2, g2=True)  # on the twist; subgroup membership is not checked here
    assert bad == -1 and canon == native.pack_g2(g2) and native.unpack_points(canon, g2=True) == tuple(g2)
    assert native.zkey_points(b"", g2=False) == (b"", -1)
    # first bad point: off the curve, or a coordinate >= q (Montgomery value, before conversion)
    off = bytearray(raw1)
    off[5 * 64 + 40] ^= 1
    assert native.zkey_points(bytes(off), g2=False)[1] == 5
    big = bytearray(raw2)
    big[3 * 128 + 96 : 3 * 128 + 128] = Q.to_bytes(32, "little")
    big[4 * 128 : 4 * 128 + 32] = bytes(32)  # point 4 is off the twist too, but 3 comes first
    assert native.zkey_points(bytes(big), g2=True)[1] == 3
    y_only = bytearray(64)
    y_only[32:] = mont([2])  # (0, 2): not the identity, not on the curve
    assert native.zkey_points(bytes(y_only), g2=False)[1] == 0
    with pytest.raises(ValueError):
        native.zkey_points(raw1[:-1], g2=False)
    with pytest.raises(ValueError):
        native.unpack_points(raw2[:-64], g2=True)
    # subgroup membership through the G2 MSM: (r - 1) P == -P
    for p in g2:
        assert native.g2_in_subgroup(p) == is_in_g2_subgroup(p)
    assert not native.g2_in_subgroup(g2[-1])


def test_coefficient_and_r1cs_kernels() -> None:
    from circuits.r1cs import Constraint as Con
    from prover.circom_files import r1cs_bytes
    from prover.binfile import parse_binfile
    from prover.zkey import expected_coefficients

    r1, _ = chain_circuit(6)
    r2 = pow(2, 512, R)

    def section(entries: list[tuple[int, int, int, int]]) -> bytes:
        packed = [struct.pack("<III", m, row, w) + (v * r2 % R).to_bytes(32, "little") for m, row, w, v in entries]
        return struct.pack("<I", len(entries)) + b"".join(packed)

    exp = expected_coefficients(r1)
    assert native.zkey_coefs_match(section(exp), r1)
    row1_b = [k for k, e in enumerate(exp) if e[:2] == (1, 1)]  # B of constraint 1 has two terms
    assert len(row1_b) == 2
    perm = exp[:]
    perm[row1_b[0]], perm[row1_b[1]] = perm[row1_b[1]], perm[row1_b[0]]
    assert native.zkey_coefs_match(section(perm), r1)  # permuted within a row
    assert not native.zkey_coefs_match(section(exp[::-1]), r1)  # across rows: left to the Python check
    changed = exp[:]
    changed[0] = (*changed[0][:3], changed[0][3] + 1)
    assert not native.zkey_coefs_match(section(changed), r1)
    assert not native.zkey_coefs_match(section(exp[:-1]), r1)
    twice = exp[:]
    twice[row1_b[1]] = twice[row1_b[0]]  # a wire twice in a row
    assert not native.zkey_coefs_match(section(twice), r1)
    raw = bytearray(section(exp))
    raw[4 + 12 : 4 + 44] = R.to_bytes(32, "little")
    assert not native.zkey_coefs_match(bytes(raw), r1)
    assert not native.zkey_coefs_match(section(exp)[:-1], r1)
    assert not native.zkey_coefs_match(b"\0\0\0", r1)
    p = native.packed_r1cs(r1)
    with pytest.raises(ValueError, match="malformed"):
        native.module().zkey_coefs_match(section(exp), (p.a[0], p.a[1], p.a[2][:-1]), p.b, r1.n_constraints)
    # .r1cs section 2: parsed (CSR as packed_r1cs builds it) or None when anything is off
    f = parse_binfile(r1cs_bytes(r1), "r1cs", 1)
    sec2 = bytes(f.section(2))
    mod = native.module()
    cons, csr = mod.parse_r1cs(sec2, r1.n_constraints, r1.n_wires, r1.n_public, Con)
    assert cons == r1.constraints  # r1cs_bytes sorts terms by wire: the CSR follows the file's order
    again = native._pack_r1cs(replace(r1, constraints=cons))
    assert csr == (again.a, again.b, again.c)
    for args in (
        (sec2[:-1], r1.n_constraints),
        (sec2 + b"\0", r1.n_constraints),
        (sec2, r1.n_constraints + 1),
        (sec2, r1.n_constraints - 1),
    ):
        assert mod.parse_r1cs(args[0], args[1], r1.n_wires, r1.n_public, Con) is None
    assert mod.parse_r1cs(sec2, r1.n_constraints, r1.n_wires - 1, r1.n_public, Con) is None  # wire out of range
    assert mod.parse_r1cs(sec2, r1.n_constraints, r1.n_wires, r1.n_wires, Con) is None
