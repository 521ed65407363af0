"""The proof binding on ICP, with real Groth16 proofs (the tiny circuit of tests/contracts_tiny_circuit.py).

The canister cannot check a proof, so it records the caller principal; a verifier reads the record back certified,
recomputes the context ``chain_context("icp", root-key digest, canister id, attester)`` and checks the proof
off-chain. A proof made for the node's principal verifies; the same statement and proof copied by another
principal (who gets there first) is recorded, but its record never verifies, and the node reports it as foreign
instead of adopting it.
"""

from __future__ import annotations

import pytest

from contracts_tiny_circuit import tiny_keys
from node.chains.binding import chain_context
from node.chains.ethereum.calldata import flat_proof, proof_words, public_inputs, unflatten_proof
from node.chains.adapter import ForeignRecord, OnchainRecord, RegistryRef
from node.chains.icp.adapter import IcpAdapter, IcpReader, network_of
from node.chains.icp.agent import IcAgent
from node.chains.icp.identity import Ed25519Identity
from node.verify.report import proof_from_calldata
from prover.verify import verify
from tests.icp_replica_double import ReplicaDouble
from tests.icp_replica_double import sample_statement as statement

pytestmark = pytest.mark.asyncio


@pytest.fixture
def double():
    replica = ReplicaDouble().start()
    yield replica
    replica.stop()


async def _adapter(double: ReplicaDouble) -> IcpAdapter:
    adapter = IcpAdapter(IcAgent(double.url, double.root_key_der, Ed25519Identity.generate()))
    await adapter.attach_or_deploy(double.canister_id.to_text())
    return adapter


def _proof_for(s, context: int) -> list[int]:
    a, b, c = tiny_keys().proof([*public_inputs(s.model_hash, s.input_digest, s.prediction_digest, s.predicted_class,
                                                s.explanation_digest), context])
    return list(flat_proof(proof_words(a, b, c)))


def _verifies(record: OnchainRecord) -> bool:
    """What ``zkxai verify --chain icp`` does after reading the certified record: recompute the context, pair."""
    s = record.statement
    context = chain_context("icp", record.ref.network, record.ref.registry, record.attester)
    public = [*public_inputs(s.model_hash, s.input_digest, s.prediction_digest, s.predicted_class,
                             s.explanation_digest), context]
    a, b, c = unflatten_proof(record.proof)
    return verify(tiny_keys().vk, public, proof_from_calldata((a, b, c)))


async def test_proof_bound_to_the_node_principal_verifies_and_a_copy_does_not(double) -> None:
    node, attacker = await _adapter(double), await _adapter(double)
    ref = RegistryRef("icp", network_of(double.root_key_der), double.canister_id.to_text())
    reader = IcpReader(IcAgent(double.url, double.root_key_der, None))

    honest = statement(1)
    submitted = await node.submit(honest, _proof_for(honest, node.context()))
    assert _verifies(reader.read(ref, submitted.attestation_id))

    # the attacker copies a pending statement with its proof and gets it recorded first under its own principal
    pending = statement(2)
    words = _proof_for(pending, node.context())
    stolen = await attacker.submit(pending, words)
    assert not _verifies(reader.read(ref, stolen.attestation_id))  # bound to the node's principal, not the thief's
    with pytest.raises(ForeignRecord):
        await node.submit(pending, words)

    # the honest record read as if it were at another canister does not verify either
    elsewhere = RegistryRef("icp", ref.network, "ryjl3-tyaaa-aaaaa-aaaba-cai")
    moved = reader.read(ref, submitted.attestation_id)
    assert not _verifies(OnchainRecord(**{**moved.__dict__, "ref": elsewhere}))
