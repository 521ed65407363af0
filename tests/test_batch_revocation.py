"""Revocation of batched predictions on a real node (anvil): one slot, a whole batch, a model; who may revoke;
double revocation; the registry's views; and ``zkxai verify`` on a revoked / sibling leaf (exit code 8 / 0)."""

from __future__ import annotations

import argparse
import hashlib
import json
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_asyncio

from circuits.batch import batch_circuit
from circuits.commitment import CommitmentOpening, hash_to_field, statement_values, vector_hash
from circuits.field import R
from node.chains.ethereum.batch import (
    BatchSubmitter,
    SubmittedBatch,
    batch_id,
    slot_id,
)
from node.chains.binding import attestation_context
from node.pipeline.batching import (
    BatchInclusion,
    BatchOpening,
    BatchProof,
    batch_inclusion,
    prove_batch,
)
from node.chains.ethereum.errors import (
    AlreadyRevoked,
    AttestationNotFound,
    NotAuthorized,
)
from node.verify.report import (
    EXIT_OK,
    EXIT_REVOKED,
)
from prover.setup import setup
from prover.solidity import vk_calldata

#: anvil's default accounts 0 (deployer = owner), 1 (attester), 2 (stranger).
OWNER_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
ATTESTER_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
#: anvil's second default account, the batches' attester (ATTESTER_KEY)
ATTESTER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
STRANGER_KEY = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a"
SIZE = 2
NUM_CLASSES = 2
MODEL = hashlib.sha256(b"batch revocation model").digest()

pytestmark = [pytest.mark.npm, pytest.mark.asyncio(loop_scope="module")]


def _opening(k: int) -> CommitmentOpening:
    scores = (k, 3 - k)
    return CommitmentOpening(
        model_hash=MODEL,
        input_hash=hash_to_field(b"revocation input %d" % k),
        input_salt=random.Random(k).randrange(R),
        scores=scores,
        predicted_class=scores.index(max(scores)),
        prediction_salt=random.Random(100 + k).randrange(R),
        explanation_hash=vector_hash([k, k + 1]),
        explanation_salt=random.Random(200 + k).randrange(R),
    )


A = (_opening(0), _opening(1))
B = (_opening(2), _opening(3))


@dataclass(frozen=True)
class Chain:
    owner: BatchSubmitter
    attester: BatchSubmitter
    stranger: BatchSubmitter
    a: BatchProof
    b: BatchProof
    sent_a: SubmittedBatch
    sent_b: SubmittedBatch
    url: str
    gas: dict[str, int]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def chain(anvil_url: str) -> AsyncIterator[Chain]:
    pk, vk = setup(batch_circuit(SIZE, NUM_CLASSES).r1cs, rng=random.Random(11))
    owner = await BatchSubmitter.connect(anvil_url, OWNER_KEY)
    attester = await BatchSubmitter.connect(anvil_url, ATTESTER_KEY)
    stranger = await BatchSubmitter.connect(anvil_url, STRANGER_KEY)
    deployment = await owner.deploy(vk_calldata(vk), SIZE)
    await attester.attach(deployment.registry)
    await stranger.attach(deployment.registry)
    context = attestation_context(attester.chain_id, deployment.registry, str(attester.account.address))
    a = prove_batch(pk, BatchOpening(A, SIZE, context), rng=random.Random(12))
    b = prove_batch(pk, BatchOpening(B, SIZE, context), rng=random.Random(13))
    sent_a = await attester.submit(a)
    sent_b = await attester.submit(b)
    yield Chain(owner, attester, stranger, a, b, sent_a, sent_b, anvil_url,
                {"attestBatch (first)": sent_a.gas_used, "attestBatch": sent_b.gas_used,
                 "BatchAttestationRegistry deployment": deployment.gas["BatchAttestationRegistry"]})
    for submitter in (owner, attester, stranger):
        await submitter.close()


def _inclusion(proof: BatchProof, index: int) -> BatchInclusion:
    return batch_inclusion(proof.leaves, index)


def _statement(openings: tuple[CommitmentOpening, ...], index: int) -> list[int]:
    return statement_values(openings[index])


def verify(chain: Chain, proof: BatchProof, index: int, capsys: pytest.CaptureFixture[str]) -> tuple[int, Any]:
    """``zkxai verify --json`` with the flags of one leaf (in-process: same code as the CLI)."""
    from node.verify.command import (
        add_arguments,
        run,
    )

    inclusion = _inclusion(proof, index)
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(["--rpc-url", chain.url, "--batch-registry", chain.owner.deployment.registry,
                              "--root", str(inclusion.root), "--leaf", str(inclusion.leaf), "--index", str(index),
                              "--path", ",".join(str(p) for p in inclusion.path),
                              "--attester", chain.attester.account.address, "--json"])
    capsys.readouterr()
    code = run(args)
    return code, json.loads(capsys.readouterr().out)


async def test_before_revocation(chain: Chain, capsys: pytest.CaptureFixture[str]) -> None:
    assert await chain.owner.owner() == chain.owner.account.address
    for proof, opening in ((chain.a, A), (chain.b, B)):
        for index in range(SIZE):
            inclusion = _inclusion(proof, index)
            assert await chain.attester.is_valid_leaf(ATTESTER, inclusion)
            assert await chain.attester.is_attested_leaf(ATTESTER, _statement(opening, index), inclusion)
            # the consumer names the attester it trusts: the same leaf is not the owner's or a stranger's
            for other in (chain.owner.account.address, chain.stranger.account.address):
                assert not await chain.attester.is_valid_leaf(other, inclusion)
                assert not await chain.attester.is_attested_leaf(other, _statement(opening, index), inclusion)
            status = await chain.attester.revocation_status(proof.root, index, MODEL)
            assert not status.revoked and status.scope is None
    code, report = verify(chain, chain.a, 0, capsys)
    assert code == EXIT_OK, report
    (check,) = [c for c in report["checks"] if c["name"] == "revocation"]
    assert check["ok"] and "model-wide revocation not checked" in check["detail"]
    assert report["record"]["revoked"] is False and report["record"]["model_revoked"] is None


async def test_only_the_attester_may_revoke(chain: Chain) -> None:
    root = chain.a.root
    # the registry's owner may not revoke the attester's predictions or batches: a record is its attester's
    with pytest.raises(NotAuthorized):
        await chain.owner.revoke_leaf(root, 0, 3)
    with pytest.raises(NotAuthorized):
        await chain.owner.revoke_batch(root, 3)
    with pytest.raises(NotAuthorized) as info:
        await chain.stranger.revoke_leaf(root, 0, 2)
    assert info.value.error_name == "NotAuthorized" and str(info.value.error_args[0]).lower() == chain.stranger.account.address.lower()
    assert info.value.status == 403
    with pytest.raises(NotAuthorized):
        await chain.stranger.revoke_batch(root, 2)
    with pytest.raises(NotAuthorized):  # the attester of batches is not the owner: no model revocation
        await chain.attester.revoke_model(MODEL, 1)
    with pytest.raises(AttestationNotFound):
        await chain.attester.revoke_leaf(root ^ 1, 0)
    with pytest.raises(AttestationNotFound):
        await chain.attester.revoke_leaf(root, SIZE)
    assert not (await chain.attester.leaf_revocation(root, 0)).revoked


async def test_revoke_one_leaf(chain: Chain, capsys: pytest.CaptureFixture[str]) -> None:
    root = chain.a.root
    revocation = await chain.attester.revoke_leaf(root, 0, 2)
    chain.gas["revokeLeaf"] = revocation.gas_used
    assert revocation.target == slot_id(root, 0) and revocation.reason == 2
    state = await chain.attester.leaf_revocation(root, 0)
    assert state.revoked and state.reason == 2 and state.revoked_at > 0
    assert await chain.attester.registry.functions.isRevokedLeaf(root, 0).call()
    assert not await chain.attester.registry.functions.isRevokedLeaf(root, 1).call()
    revoked, sibling = _inclusion(chain.a, 0), _inclusion(chain.a, 1)
    assert await chain.attester.verify_inclusion(revoked)  # inclusion is a fact; validity is not
    assert not await chain.attester.is_valid_leaf(ATTESTER, revoked)
    assert not await chain.attester.is_attested_leaf(ATTESTER, _statement(A, 0), revoked)
    assert await chain.attester.is_valid_leaf(ATTESTER, sibling)
    assert await chain.attester.is_attested_leaf(ATTESTER, _statement(A, 1), sibling)

    with pytest.raises(AlreadyRevoked) as info:
        await chain.attester.revoke_leaf(root, 0, 4)
    assert info.value.error_args == (slot_id(root, 0),) and info.value.status == 409

    code, report = verify(chain, chain.a, 0, capsys)
    assert code == EXIT_REVOKED, report
    assert report["verdict"] == "INVALID"
    (check,) = [c for c in report["checks"] if c["name"] == "revocation"]
    assert not check["ok"] and "slot 0" in check["detail"] and "reason code 2" in check["detail"]
    record = report["record"]
    assert record["revoked"] and record["leaf_revoked"] and not record["batch_revoked"]
    assert record["revocation_scope"] == "leaf" and record["revocation_reason"] == 2 and record["revoked_at"] > 0
    code, report = verify(chain, chain.a, 1, capsys)
    assert code == EXIT_OK, report


async def test_attester_revokes_a_whole_batch(chain: Chain, capsys: pytest.CaptureFixture[str]) -> None:
    root = chain.b.root
    revocation = await chain.attester.revoke_batch(root, 3)
    chain.gas["revokeBatch"] = revocation.gas_used
    assert revocation.target == batch_id(root, 2) == chain.sent_b.batch_id
    assert (await chain.owner.batch_revocation(root)).reason == 3
    for index in range(SIZE):
        inclusion = _inclusion(chain.b, index)
        assert not await chain.owner.is_valid_leaf(ATTESTER, inclusion)
        assert not await chain.owner.is_attested_leaf(ATTESTER, _statement(B, index), inclusion)
        status = await chain.owner.revocation_status(root, index)
        assert status.revoked and status.scope == "batch" and not status.leaf.revoked
        code, report = verify(chain, chain.b, index, capsys)
        assert code == EXIT_REVOKED, report
        assert "whole batch" in next(c["detail"] for c in report["checks"] if c["name"] == "revocation")
        assert report["record"]["batch_revoked"] and report["record"]["revocation_scope"] == "batch"
    with pytest.raises(AlreadyRevoked) as info:
        await chain.attester.revoke_batch(root, 3)
    assert info.value.error_args == (chain.sent_b.batch_id,)
    # a leaf of a revoked batch may still be revoked on its own (its own record)
    await chain.attester.revoke_leaf(root, 1, 4)
    assert (await chain.attester.revocation_status(root, 1)).scope == "leaf"


async def test_owner_revokes_a_model(chain: Chain) -> None:
    sibling = _inclusion(chain.a, 1)
    revocation = await chain.owner.revoke_model(MODEL, 1)
    chain.gas["revokeModel"] = revocation.gas_used
    state = await chain.owner.model_revocation(MODEL)
    assert state.revoked and state.reason == 1
    # the consumer check given the opening refuses every leaf of the model ...
    assert not await chain.owner.is_attested_leaf(ATTESTER, _statement(A, 1), sibling)
    # ... a bare leaf hides its model: isValidLeaf cannot see model revocation (documented); the status with the
    # model named does
    assert await chain.owner.is_valid_leaf(ATTESTER, sibling)
    assert (await chain.owner.revocation_status(chain.a.root, 1, MODEL)).scope == "model"
    with pytest.raises(AlreadyRevoked) as info:
        await chain.owner.revoke_model(MODEL, 1)
    assert info.value.error_args == (MODEL,)
    other = hashlib.sha256(b"another model").digest()
    assert not (await chain.owner.model_revocation(other)).revoked


async def test_gas(chain: Chain) -> None:
    gas = chain.gas
    print("\nbatch registry gas (anvil):", json.dumps(gas))
    assert gas["attestBatch"] < 400_000
    for op in ("revokeLeaf", "revokeBatch", "revokeModel"):
        if op in gas:  # measured by the tests above (absent when run alone)
            assert 0 < gas[op] < 100_000
