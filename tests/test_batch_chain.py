"""Batched attestations on a real node (anvil): real batch proofs accepted by BatchAttestationRegistry, tampered
claims rejected, and one prediction's inclusion checked alone, off-chain and on-chain (circomlibjs Poseidon)."""

from __future__ import annotations

import hashlib
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
import pytest_asyncio
from web3 import Web3

import contracts
from circuits.batch import batch_circuit, statement_leaf
from circuits.commitment import CommitmentOpening, hash_to_field, vector_hash
from circuits.field import R
from circuits.merkle import batch_root
from contracts_tiny_circuit import tiny_keys
from node.chains.ethereum.batch import (
    BatchChainError,
    BatchDeployment,
    BatchReverted,
    BatchSubmitter,
    ForeignBatch,
    SubmittedBatch,
    batch_id,
)
from node.chains.binding import attestation_context
from node.pipeline.batching import (
    BatchError,
    BatchInclusion,
    BatchOpening,
    BatchProof,
    batch_inclusion,
    prove_batch,
)
from prover.keys import ProvingKey, VerifyingKey
from prover.setup import setup
from prover.solidity import vk_calldata
from prover.verify import verify

ANVIL_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
#: anvil's second default account, an attacker copying the node's batches
ATTACKER_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
ATTACKER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
SIZE = 2
NUM_CLASSES = 2

pytestmark = [pytest.mark.npm, pytest.mark.asyncio(loop_scope="module")]


def _opening(k: int, scores: tuple[int, int]) -> CommitmentOpening:
    return CommitmentOpening(
        model_hash=hashlib.sha256(b"batch chain model").digest(),
        input_hash=hash_to_field(b"chain input %d" % k),
        input_salt=random.Random(k).randrange(R),
        scores=scores,
        predicted_class=scores.index(max(scores)),
        prediction_salt=random.Random(100 + k).randrange(R),
        explanation_hash=vector_hash([k, 2 * k]),
        explanation_salt=random.Random(200 + k).randrange(R),
    )


FULL_OPENINGS = (_opening(0, (7, -3)), _opening(1, (-1 << 16, 4 << 16)))
PADDED_OPENINGS = (_opening(2, (0, 1)),)


@dataclass(frozen=True)
class Setup:
    pk: ProvingKey
    vk: VerifyingKey
    full: BatchProof
    padded: BatchProof
    #: the batch of FULL_OPENINGS, bound to the submitter's account at the deployed registry
    full_batch: BatchOpening


@dataclass(frozen=True)
class Deployed:
    submitter: BatchSubmitter
    deployment: BatchDeployment
    pk: ProvingKey
    vk: VerifyingKey


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def deployed(anvil_url: str) -> AsyncIterator[Deployed]:
    pk, vk = setup(batch_circuit(SIZE, NUM_CLASSES).r1cs, rng=random.Random(5))
    submitter = await BatchSubmitter.connect(anvil_url, ANVIL_KEY)
    deployment = await submitter.deploy(vk_calldata(vk), SIZE)
    yield Deployed(submitter, deployment, pk, vk)
    await submitter.close()


@pytest.fixture(scope="module")
def proofs(deployed: Deployed) -> Setup:
    context = attestation_context(deployed.submitter.chain_id, deployed.deployment.registry,
                                  str(deployed.submitter.account.address))
    full_batch = BatchOpening(FULL_OPENINGS, SIZE, context)
    full = prove_batch(deployed.pk, full_batch, rng=random.Random(6))
    padded = prove_batch(deployed.pk, BatchOpening(PADDED_OPENINGS, SIZE, context), rng=random.Random(7))
    return Setup(deployed.pk, deployed.vk, full, padded, full_batch)


@dataclass(frozen=True)
class Chain:
    submitter: BatchSubmitter
    deployment: BatchDeployment
    full: SubmittedBatch
    padded: SubmittedBatch
    #: the revert of the padded proof claimed with count 2, tried before it was recorded
    wrong_count: BatchReverted


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def chain(deployed: Deployed, proofs: Setup) -> AsyncIterator[Chain]:
    submitter, deployment = deployed.submitter, deployed.deployment
    full = await submitter.submit(proofs.full)
    with pytest.raises(BatchReverted) as wrong_count:
        await submitter.submit(proofs.padded, count=2)
    padded = await submitter.submit(proofs.padded)
    yield Chain(submitter, deployment, full, padded, wrong_count.value)


async def test_batch_proof_verifies_off_chain(proofs: Setup) -> None:
    context = proofs.full_batch.context
    assert proofs.full.public_inputs == [batch_root(proofs.full_batch.leaves()), 2, context]
    assert proofs.padded.leaves[1] == 0 and proofs.padded.count == 1
    assert verify(proofs.vk, proofs.full.public_inputs, proofs.full.proof)
    assert not verify(proofs.vk, [proofs.full.root, 1, context], proofs.full.proof)
    assert not verify(proofs.vk, [proofs.full.root, 2, context + 1], proofs.full.proof)


async def test_batches_recorded(chain: Chain, proofs: Setup) -> None:
    registry = chain.submitter.registry
    assert await registry.functions.batchCount().call() == 2
    assert await registry.functions.treeDepth().call() == 1
    for submitted, proof in ((chain.full, proofs.full), (chain.padded, proofs.padded)):
        assert submitted.batch_id == batch_id(proof.root, proof.count)
        assert await registry.functions.isBatchRoot(proof.root).call()
        assert await registry.functions.batchIdOf(proof.root).call() == submitted.batch_id
        root, record = await registry.functions.getBatch(submitted.batch_id).call()
        assert root == proof.root
        assert record[0] == chain.submitter.account.address and record[1] == proof.count
        assert record[3] == submitted.block_number
    assert not await registry.functions.isBatchRoot(proofs.full.root + 1).call()
    print(f"\nattestBatch gas (size {SIZE}): {chain.full.gas_used}; deployments: {dict(chain.deployment.gas)}")


async def test_event_carries_the_proof(chain: Chain, anvil_url: str, proofs: Setup) -> None:
    w3 = Web3(Web3.HTTPProvider(anvil_url))
    receipt = w3.eth.get_transaction_receipt(chain.full.tx_hash)
    registry = w3.eth.contract(address=chain.deployment.registry, abi=contracts.abi("BatchAttestationRegistry"))
    (event,) = registry.events.BatchAttested().process_receipt(receipt)
    assert event["args"]["root"] == proofs.full.root and event["args"]["count"] == 2
    a, b, c = event["args"]["proof"][0:2], event["args"]["proof"][2:6], event["args"]["proof"][6:8]
    p = proofs.full.proof
    assert list(a) == [p.a[0], p.a[1]] and list(c) == [p.c[0], p.c[1]]
    assert list(b) == [p.b[0][1], p.b[0][0], p.b[1][1], p.b[1][0]]


async def test_tampered_claims_rejected(chain: Chain, proofs: Setup) -> None:
    assert chain.wrong_count.error_name == "InvalidProof"
    with pytest.raises(BatchReverted) as info:
        await chain.submitter.submit(proofs.full, root=proofs.full.root + 1)
    assert info.value.error_name == "InvalidProof"
    for count, name in ((0, "CountOutOfRange"), (3, "CountOutOfRange")):
        with pytest.raises(BatchReverted) as info:
            await chain.submitter.submit(proofs.full, count=count)
        assert info.value.error_name == name
    with pytest.raises(BatchReverted) as info:
        await chain.submitter.submit(proofs.full, root=R)
    assert info.value.error_name == "FieldOverflow"
    with pytest.raises(BatchReverted) as info:
        await chain.submitter.submit(proofs.full)
    assert info.value.error_name == "AlreadyAttested"


async def test_one_prediction_checked_alone(chain: Chain, proofs: Setup) -> None:
    registry = chain.submitter.registry
    attester = str(chain.submitter.account.address)
    for index, statement in enumerate(proofs.full_batch.statements()):
        inclusion = batch_inclusion(proofs.full.leaves, index)
        assert inclusion.root == proofs.full.root and inclusion.leaf == statement_leaf(statement)
        assert inclusion.verify() and inclusion.matches(statement)
        assert await chain.submitter.verify_inclusion(inclusion)
        assert await chain.submitter.is_attested_leaf(attester, statement, inclusion)
        assert not await chain.submitter.is_attested_leaf(ATTACKER, statement, inclusion)  # not that attester's
        # the leaf the chain computes from the six statement values equals the native one (circomlibjs Poseidon)
        model_hash = (statement[0] << 128 | statement[1]).to_bytes(32, "big")
        assert await registry.functions.leafOf(model_hash, *statement[2:]).call() == inclusion.leaf
        # tampering with any part is refused, on- and off-chain
        other_class = [*statement[:4], 1 - statement[4], statement[5]]
        assert not inclusion.matches(other_class)
        assert not await chain.submitter.is_attested_leaf(attester, other_class, inclusion)
        bad = [
            BatchInclusion(inclusion.root, inclusion.index, inclusion.leaf + 1, inclusion.path),
            BatchInclusion(inclusion.root, 1 - inclusion.index, inclusion.leaf, inclusion.path),
            BatchInclusion(inclusion.root, inclusion.index, inclusion.leaf, (inclusion.path[0] + 1,)),
            BatchInclusion(inclusion.root + 1, inclusion.index, inclusion.leaf, inclusion.path),
            BatchInclusion(inclusion.root, inclusion.index, inclusion.leaf, (*inclusion.path, 0)),
        ]
        for wrong in bad:
            assert not wrong.verify()
            assert not await chain.submitter.verify_inclusion(wrong)


async def test_padding_is_not_a_prediction(chain: Chain, proofs: Setup) -> None:
    leaves = proofs.padded.leaves
    real = batch_inclusion(leaves, 0)
    assert await chain.submitter.verify_inclusion(real)
    with pytest.raises(BatchError):
        batch_inclusion(leaves, 1)
    # the zero leaf at index 1 does hash to the root, but the registry refuses index >= count and leaf 0
    padding = BatchInclusion(proofs.padded.root, 1, 0, (leaves[0],))
    assert batch_root([leaves[0], 0]) == padding.root
    assert not await chain.submitter.verify_inclusion(padding)


async def test_registry_checks_its_verifier_and_hashers(chain: Chain) -> None:
    deployment = chain.deployment
    seven_input_vk = vk_calldata(tiny_keys().vk)  # the single circuit's shape: not a batch key
    three_input_vk = seven_input_vk[:4] + (seven_input_vk[4][:4],)
    with pytest.raises(BatchReverted) as info:
        await chain.submitter.deploy(three_input_vk, SIZE, hashers=(deployment.poseidon6, deployment.poseidon2))  # type: ignore[arg-type]
    assert info.value.error_name == "HasherMismatch"
    with pytest.raises(BatchChainError):
        await chain.submitter.deploy(seven_input_vk, SIZE, hashers=(deployment.poseidon2, deployment.poseidon6))
    seven_verifier, _ = await chain.submitter._deploy("Groth16Verifier", seven_input_vk, 2_000_000)
    for args, name in (
        ((seven_verifier, deployment.poseidon2, deployment.poseidon6, 1), "VerifierMismatch"),
        ((deployment.verifier, deployment.poseidon2, deployment.poseidon6, 0), "InvalidDepth"),
        ((deployment.verifier, deployment.poseidon2, deployment.poseidon2, 1), "HasherMismatch"),
    ):
        with pytest.raises(BatchReverted) as info:
            await chain.submitter._deploy("BatchAttestationRegistry", args, 2_000_000)
        assert info.value.error_name == name
    # attach restores the first registry
    attached = await chain.submitter.attach(deployment.registry)
    assert (attached.verifier, attached.poseidon2, attached.poseidon6, attached.depth) == (
        deployment.verifier,
        deployment.poseidon2,
        deployment.poseidon6,
        1,
    )


async def test_a_copied_batch_is_useless_to_another_account(chain: Chain, deployed: Deployed, anvil_url: str) -> None:
    """Front-running / replay of attestBatch: the node's batch proof, sent by anyone else or to another batch
    registry, reverts InvalidProof (the context names the sender and the registry); the node reports a batch of
    another account instead of adopting it."""
    fresh = BatchOpening((_opening(5, (3, 1)),), SIZE, 0)
    node = deployed.submitter
    mine = prove_batch(deployed.pk, BatchOpening(fresh.openings, SIZE, attestation_context(
        node.chain_id, deployed.deployment.registry, str(node.account.address))), rng=random.Random(9))
    attacker = await BatchSubmitter.connect(anvil_url, ATTACKER_KEY)
    try:
        assert str(attacker.account.address) == ATTACKER
        await attacker.attach(deployed.deployment.registry)
        with pytest.raises(BatchReverted) as info:
            await attacker.submit(mine)
        assert info.value.error_name == "InvalidProof"
        # the attacker may of course prove the same predictions itself if it knows them: its own record, then
        theirs = prove_batch(deployed.pk, BatchOpening(fresh.openings, SIZE, attestation_context(
            node.chain_id, deployed.deployment.registry, ATTACKER)), rng=random.Random(10))
        await attacker.submit(theirs)
        with pytest.raises(ForeignBatch):
            await node.find_own_batch(theirs.root)
        found = await node.find_batch(theirs.root)
        assert found is not None and found.attester == ATTACKER
    finally:
        await attacker.close()
