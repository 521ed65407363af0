"""Groth16 round trips and every rejection path of verify / prove / the serialisers."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import pytest

from circuits.r1cs import R1CS, Constraint
from prover import (
    InvalidPoint,
    KeyMismatch,
    MalformedProof,
    PublicInputError,
    SerializationError,
    UnsatisfiedWitness,
    prove,
    setup,
    verify,
)
from prover.curve import G1_GEN, G2_GEN, g1_mul, g1_to_affine, g2_mul, g2_to_affine
from prover.fields import Q, R
from prover.serialize import (
    load_json,
    load_proving_key,
    proof_from_snarkjs,
    proof_to_snarkjs,
    public_from_snarkjs,
    public_to_snarkjs,
    save_json,
    save_proving_key,
    vk_from_snarkjs,
    vk_to_snarkjs,
)
from prover_samples import twist_point_outside_subgroup


def mul_circuit() -> R1CS:
    """x * y = z with z public."""
    return R1CS(
        n_wires=4,
        n_public=1,
        constraints=(Constraint({2: 1}, {3: 1}, {1: 1}),),
        public_names=("z",),
        wire_names={2: "x", 3: "y"},
    )


def cubic_circuit() -> R1CS:
    """x^3 + x + 5 = out, out public; two public inputs: out and a pass-through k (k * 1 = k)."""
    cons = (
        Constraint({3: 1}, {3: 1}, {4: 1}),
        Constraint({4: 1}, {3: 1}, {5: 1}),
        Constraint({5: 1, 3: 1, 0: 5}, {0: 1}, {1: 1}),
        Constraint({2: 1}, {0: 1}, {6: 1}),
    )
    return R1CS(n_wires=7, n_public=2, constraints=cons, public_names=("out", "k"), wire_names={})


def cubic_witness(x: int, k: int) -> list[int]:
    return [1, (x**3 + x + 5) % R, k, x, x * x % R, x**3 % R, k]


@pytest.fixture(scope="module")
def mul_keys():  # type: ignore[no-untyped-def]
    r1 = mul_circuit()
    pk, vk = setup(r1, rng=random.Random(1))
    proof = prove(pk, r1, [1, 35, 5, 7], rng=random.Random(2))
    return r1, pk, vk, proof


def test_mul_round_trip_and_wrong_input(mul_keys) -> None:  # type: ignore[no-untyped-def]
    _, _, vk, proof = mul_keys
    assert verify(vk, [35], proof) is True
    assert verify(vk, [36], proof) is False


def test_cubic_round_trip_with_secrets_randomness() -> None:
    r1 = cubic_circuit()
    pk, vk = setup(r1)
    w = cubic_witness(3, R - 1)
    r1.check(w)
    proof = prove(pk, r1, w)
    assert verify(vk, [35, R - 1], proof)
    assert not verify(vk, [35, 0], proof)
    # executor path gives a proof just as valid (thread pool keeps the test cheap)
    with ThreadPoolExecutor(2) as ex:
        proof2 = prove(pk, r1, w, executor=ex)
    assert proof2 != proof  # fresh r, s
    assert verify(vk, [35, R - 1], proof2)


def test_tampered_proofs_rejected(mul_keys) -> None:  # type: ignore[no-untyped-def]
    _, _, vk, proof = mul_keys
    other_g1 = g1_to_affine(g1_mul(G1_GEN, 12345))
    assert not verify(vk, [35], replace(proof, c=other_g1))
    assert not verify(vk, [35], replace(proof, a=other_g1))
    assert not verify(vk, [35], replace(proof, b=g2_to_affine(g2_mul(G2_GEN, 99))))
    # swapping the roles of a and c
    assert not verify(vk, [35], replace(proof, a=proof.c, c=proof.a))


def test_public_input_validation(mul_keys) -> None:  # type: ignore[no-untyped-def]
    _, _, vk, proof = mul_keys
    with pytest.raises(PublicInputError):
        verify(vk, [35 + R], proof)  # alias of a valid input
    with pytest.raises(PublicInputError):
        verify(vk, [-1], proof)
    with pytest.raises(PublicInputError):
        verify(vk, [], proof)
    with pytest.raises(PublicInputError):
        verify(vk, [35, 1], proof)
    with pytest.raises(PublicInputError):
        verify(vk, [True], proof)


def test_invalid_points_rejected(mul_keys) -> None:  # type: ignore[no-untyped-def]
    _, _, vk, proof = mul_keys
    x, y = proof.a
    with pytest.raises(InvalidPoint):
        verify(vk, [35], replace(proof, a=(x, (y + 1) % Q)))  # off curve
    with pytest.raises(InvalidPoint):
        verify(vk, [35], replace(proof, c=(0, 0)))  # identity
    with pytest.raises(InvalidPoint):
        verify(vk, [35], replace(proof, b=((0, 0), (0, 0))))
    with pytest.raises(InvalidPoint):
        verify(vk, [35], replace(proof, b=twist_point_outside_subgroup()))
    with pytest.raises(MalformedProof):
        verify(vk, [35], replace(proof, a=(x + Q, y)))  # non-canonical coordinate
    with pytest.raises(MalformedProof):
        verify(vk, [35], replace(proof, a=(x,)))  # type: ignore[arg-type]
    with pytest.raises(MalformedProof):
        verify(vk, [35], "proof")  # type: ignore[arg-type]


def test_prover_rejects_bad_witness_and_wrong_key(mul_keys) -> None:  # type: ignore[no-untyped-def]
    r1, pk, _, _ = mul_keys
    with pytest.raises(UnsatisfiedWitness):
        prove(pk, r1, [1, 36, 5, 7])
    with pytest.raises(UnsatisfiedWitness):
        prove(pk, r1, [1, 35, 5])
    with pytest.raises(UnsatisfiedWitness):
        prove(pk, r1, [1, 35 + R, 5, 7])
    with pytest.raises(KeyMismatch):
        prove(pk, cubic_circuit(), cubic_witness(3, 1))
    # same shape, different coefficients -> digest differs
    other = R1CS(4, 1, (Constraint({2: 2}, {3: 1}, {1: 1}),), ("z",), {})
    with pytest.raises(KeyMismatch):
        prove(pk, other, [1, 70, 5, 7])


def test_snarkjs_json_round_trip_and_validation(mul_keys) -> None:  # type: ignore[no-untyped-def]
    _, _, vk, proof = mul_keys
    d = proof_to_snarkjs(proof)
    assert d["pi_a"][2] == "1" and d["pi_b"][2] == ["1", "0"] and d["protocol"] == "groth16"
    assert proof_from_snarkjs(d) == proof
    vkd = vk_to_snarkjs(vk)
    assert vkd["nPublic"] == 1 and len(vkd["IC"]) == 2
    assert vk_from_snarkjs(vkd) == vk
    assert public_from_snarkjs(public_to_snarkjs([35]), vk) == [35]
    bad = dict(d, pi_a=[d["pi_a"][0], str(int(d["pi_a"][1]) + 1), "1"])
    with pytest.raises(InvalidPoint):
        proof_from_snarkjs(bad)
    with pytest.raises(SerializationError):
        proof_from_snarkjs(dict(d, pi_a=["0x12", "3", "1"]))
    with pytest.raises(SerializationError):
        proof_from_snarkjs(dict(d, protocol="plonk"))
    with pytest.raises(InvalidPoint):
        proof_from_snarkjs(dict(d, pi_c=["0", "1", "0"]))
    (x0, x1), (y0, y1) = twist_point_outside_subgroup()
    with pytest.raises(InvalidPoint):
        proof_from_snarkjs(dict(d, pi_b=[[str(x0), str(x1)], [str(y0), str(y1)], ["1", "0"]]))
    with pytest.raises(SerializationError):
        vk_from_snarkjs(dict(vkd, nPublic=2))
    with pytest.raises(PublicInputError):
        public_from_snarkjs([str(35 + R)], vk)


def test_proving_key_file_round_trip(mul_keys, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    r1, pk, vk, _ = mul_keys
    path = tmp_path / "pk.json"
    save_proving_key(pk, path)
    loaded = load_proving_key(path)
    assert loaded == pk
    d = load_json(path)
    d["version"] = 99
    save_json(d, tmp_path / "v99.json")
    with pytest.raises(SerializationError):
        load_proving_key(tmp_path / "v99.json")
    d = load_json(path)
    d["a_query"] = d["a_query"][:-1]
    save_json(d, tmp_path / "short.json")
    with pytest.raises(SerializationError):
        load_proving_key(tmp_path / "short.json")
    d = load_json(path)
    d["h_query"][0][1] = hex(int(d["h_query"][0][1], 16) ^ 1)
    save_json(d, tmp_path / "offcurve.json")
    with pytest.raises(InvalidPoint):
        load_proving_key(tmp_path / "offcurve.json")
    (tmp_path / "garbage.json").write_text("{not json")
    with pytest.raises(SerializationError):
        load_proving_key(tmp_path / "garbage.json")
