"""Interop with circom / snarkjs on a real circom circuit (one Poseidon(2) hash, plain circom
from scripts/circom): our prover reads circom's .r1cs / .wtns and snarkjs' .zkey, its proofs
verify with ``snarkjs groth16 verify``, snarkjs' proofs verify with ours, our .zkey writer
reproduces snarkjs' sections, and our phase 2 from a .ptau equals ``snarkjs groth16 setup``.
Needs the npm tools (fails, does not skip, when they are missing)."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from circuits.poseidon import poseidon
from circuits.r1cs import R1CS
from prover import KeyMismatch, SerializationError, UnsatisfiedWitness, prove, verify
from prover.binfile import read_binfile
from prover.circom_files import read_r1cs, read_wtns, wtns_bytes
from prover.fields import R
from prover.keys import H_ODD_LAGRANGE, ProvingKey
from prover.ptau import read_ptau
from prover.serialize import (
    proof_from_snarkjs,
    proof_to_snarkjs,
    public_to_snarkjs,
    save_json,
    vk_from_snarkjs,
    vk_to_snarkjs,
)
from prover.setup_ptau import contribute_delta, setup_from_ptau
from prover.verify_batch import verify_batch
from prover.zkey import read_zkey, zkey_bytes

pytestmark = [pytest.mark.npm, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts" / "circom"))

from toolchain import Built, build_chain, build_tiny, make_ptau, make_zkey, snarkjs  # noqa: E402


@dataclass(frozen=True)
class Setup:
    built: Built
    ptau: Path
    zkey0: Path
    zkey: Path
    vk_json: Path
    r1cs: R1CS
    witness: list[int]
    pk: ProvingKey


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Setup:
    folder = tmp_path_factory.mktemp("circom")
    built = build_chain(folder / "chain", 1, x0=5)
    ptau = make_ptau(folder / "ptau", 8)
    z0, z1, vk = make_zkey(built, ptau)
    r1cs = read_r1cs(built.r1cs)
    return Setup(built, ptau, z0, z1, vk, r1cs, read_wtns(built.wtns), read_zkey(z1, r1cs))


def snarkjs_accepts(folder: Path, vk_json: Path, public: list[int], proof_json: dict) -> bool:  # type: ignore[type-arg]
    save_json(proof_json, folder / "p.json")
    save_json(public_to_snarkjs(public), folder / "pub.json")
    try:
        snarkjs(["groth16", "verify", str(vk_json), "pub.json", "p.json"], folder)
    except RuntimeError:
        return False
    return True


def test_r1cs_and_witness_match_the_native_poseidon(env: Setup) -> None:
    r1, w = env.r1cs, env.witness
    assert (r1.n_public, r1.n_constraints, r1.n_wires) == (2, 240, len(w))
    r1.check(w)
    # circom orders outputs before inputs: wire 1 = out, wire 2 = x0
    assert r1.public_values(w) == [poseidon([5, 1000]), 5]
    # our .wtns writer round-trips
    path = env.built.folder / "copy.wtns"
    path.write_bytes(wtns_bytes(w))
    assert read_wtns(path) == w


def test_our_proof_verifies_with_snarkjs_and_ours(env: Setup) -> None:
    proof = prove(env.pk, env.r1cs, env.witness)
    publics = env.r1cs.public_values(env.witness)
    vk = vk_from_snarkjs(json.loads(env.vk_json.read_text()))
    assert vk == env.pk.vk
    assert verify(vk, publics, proof)
    assert snarkjs_accepts(env.built.folder, env.vk_json, publics, proof_to_snarkjs(proof))
    assert not snarkjs_accepts(env.built.folder, env.vk_json, [publics[0], publics[1] + 1], proof_to_snarkjs(proof))


def test_snarkjs_proof_verifies_with_ours(env: Setup) -> None:
    folder = env.built.folder
    snarkjs(["groth16", "prove", str(env.zkey), str(env.built.wtns), "sj.json", "sj_pub.json"], folder)
    proof = proof_from_snarkjs(json.loads((folder / "sj.json").read_text()))
    publics = [int(v) for v in json.loads((folder / "sj_pub.json").read_text())]
    assert publics == env.r1cs.public_values(env.witness)
    assert verify(env.pk.vk, publics, proof)
    assert not verify(env.pk.vk, [publics[0], (publics[1] + 1) % R], proof)
    ours = prove(env.pk, env.r1cs, env.witness)
    assert verify_batch(env.pk.vk, [(publics, proof), (publics, ours)])


def test_bad_witness_and_wrong_circuit_are_refused(env: Setup) -> None:
    bad = list(env.witness)
    bad[5] = (bad[5] + 1) % R
    with pytest.raises(UnsatisfiedWitness):
        prove(env.pk, env.r1cs, bad)
    other = R1CS(env.r1cs.n_wires, env.r1cs.n_public, env.r1cs.constraints[1:] + env.r1cs.constraints[:1], (), {})
    with pytest.raises(KeyMismatch):
        read_zkey(env.zkey, other)
    with pytest.raises(SerializationError):
        read_r1cs(env.built.wtns)  # wrong magic


def test_zkey_writer_reproduces_snarkjs_sections(env: Setup) -> None:
    out = env.built.folder / "ours.zkey"
    out.write_bytes(zkey_bytes(env.pk, env.r1cs))
    theirs = read_binfile(env.zkey, "zkey", 1)
    ours = read_binfile(out, "zkey", 1)
    for kind in range(1, 10):
        assert bytes(ours.section(kind)) == bytes(theirs.section(kind)), f"section {kind}"
    # snarkjs proves with our file
    snarkjs(["groth16", "prove", str(out), str(env.built.wtns), "p_ours_zkey.json", "pub_ours_zkey.json"], env.built.folder)
    proof = proof_from_snarkjs(json.loads((env.built.folder / "p_ours_zkey.json").read_text()))
    assert verify(env.pk.vk, env.r1cs.public_values(env.witness), proof)


def test_phase2_from_ptau_equals_snarkjs_setup(env: Setup) -> None:
    """On tiny.circom (a Poseidon hash has ~6,700 R1CS terms, each a full scalar multiplication
    in Python: a one-off cost for real keys, too slow for this test)."""
    built = build_tiny(env.built.folder.parent / "tiny")
    z0, _, vk_json = make_zkey(built, env.ptau)
    r1cs, witness = read_r1cs(built.r1cs), read_wtns(built.wtns)
    assert r1cs.n_public == 4 and r1cs.public_values(witness)[2:] == [3, 5]
    ptau = read_ptau(env.ptau)
    assert ptau.power == 8
    ours = setup_from_ptau(r1cs, ptau)
    assert ours.h_form == H_ODD_LAGRANGE
    assert ours == read_zkey(z0, r1cs)  # gamma = delta = 1 before any contribution
    key = contribute_delta(ours)
    assert key.vk.delta_g2 != ours.vk.delta_g2 and key.vk.ic == ours.vk.ic
    publics = r1cs.public_values(witness)
    proof = prove(key, r1cs, witness)
    assert verify(key.vk, publics, proof)
    save_json(vk_to_snarkjs(key.vk), built.folder / "our_vk.json")
    assert snarkjs_accepts(built.folder, built.folder / "our_vk.json", publics, proof_to_snarkjs(proof))
    # the h_query of the key before the contribution no longer matches delta
    assert not verify(key.vk, publics, prove(replace(key, h_query=ours.h_query), r1cs, witness))
