"""End to end: Groth16 setup, prove and verify of a small MLP at level explanation (prover/)."""

from __future__ import annotations

import random

from circuits.proven import proven_circuit, proven_witness
from prover.prove import prove
from prover.setup import setup
from prover.verify import verify
from tests.qnet_samples import mlp, rand_input


def test_explanation_level_proves_and_verifies() -> None:
    net = mlp([4, 3, 2], seed=1)
    pc = proven_circuit(net, "explanation", "lrp_epsilon_0_1", bytes(32))
    witness, public, _ = proven_witness(
        pc, rand_input(net, 1), input_salt=1, prediction_salt=2, explanation_salt=3, context=4
    )
    pk, vk = setup(pc.circuit.r1cs, rng=random.Random(7))
    proof = prove(pk, pc.circuit.r1cs, witness, rng=random.Random(8))
    assert verify(vk, public, proof)
    for i in range(len(public)):  # every public input is bound: the attribution digest included
        tampered = list(public)
        tampered[i] = (tampered[i] + 1) % 21888242871839275222246405745257275088548364400416034343698204186575808495617
        assert not verify(vk, tampered, proof)
