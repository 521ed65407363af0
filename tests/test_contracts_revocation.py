"""Revocation in the AttestationRegistry (eth-tester, real proofs): who may revoke, what the views and the reader
report afterwards, model-wide revocation. Two on-chain pairings in all (the two accepted attestations)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_asyncio
from eth_account import Account
from eth_utils import keccak
from web3 import Web3
from web3.exceptions import ContractCustomError

import contracts
from contracts_tiny_circuit import TinyKeys, tiny_keys
from node.chains.ethereum import (
    calldata,
    reader,
)
from node.chains.ethereum.errors import (
    AlreadyRevoked,
    AttestationNotFound,
    CalldataError,
    ClassOutOfRange,
    ModelRevoked,
    NotAuthorized,
)
from node.chains.ethereum.adapter import (
    EthereumAdapter,
    RevocationReason,
    SubmittedAttestation,
)
from node.chains.ethereum.revert import decode_revert
from tests.node_harness import served_bridge

MODEL = keccak(b"revocation model")
OWNER_FIELDS = (MODEL, 101, 102, 2, 104)
OTHER_FIELDS = (MODEL, 201, 202, 5, 204)

pytestmark = pytest.mark.asyncio(loop_scope="module")


@dataclass(frozen=True)
class World:
    owner: EthereumAdapter  # deployed the registry
    other: EthereumAdapter  # a second attester on the same chain
    keys: TinyKeys
    by_owner: SubmittedAttestation
    by_other: SubmittedAttestation
    registry: Any
    url: str


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world() -> AsyncIterator[World]:
    owner = await EthereumAdapter.in_process()
    keys = tiny_keys()
    deployment = await owner.deploy_registry(keys.vk_calldata())
    key = owner.w3.provider.ethereum_tester.backend.account_keys[1]  # type: ignore[attr-defined]
    other = EthereumAdapter(owner.w3, Account.from_key(key.to_bytes()), owner.chain_id)
    await other.attach_registry(deployment.registry)
    by_owner = await owner.attest(*OWNER_FIELDS, *keys.attestation_proof(OWNER_FIELDS, owner))
    by_other = await other.attest(*OTHER_FIELDS, *keys.attestation_proof(OTHER_FIELDS, other))
    registry = owner.w3.eth.contract(address=deployment.registry, abi=contracts.abi("AttestationRegistry"))

    async with served_bridge(owner) as url:
        yield World(owner, other, keys, by_owner, by_other, registry, url)
    await owner.close()


async def _read(world: World, ident: bytes) -> reader.OnchainAttestation:
    """What ``zkxai verify`` reads: the sync reader over HTTP JSON-RPC (the node's bridge), in a worker thread."""
    w3 = Web3(Web3.HTTPProvider(world.url, request_kwargs={"timeout": 30}))
    return await asyncio.to_thread(reader.read_attestation, w3, world.registry.address, ident)


async def test_owner_is_the_deployer(world: World) -> None:
    assert await world.registry.functions.owner().call() == world.owner.address


async def test_class_outside_64_bits_is_refused(world: World) -> None:
    with pytest.raises(CalldataError):
        calldata.public_inputs(MODEL, 1, 2, 2**64, 4)
    a, b, c = world.keys.attestation_proof(OWNER_FIELDS, world.owner)
    fn = world.registry.functions.attest(MODEL, 1, 2, 2**64, 4, a, b, c)
    with pytest.raises(ContractCustomError) as info:
        await fn.call({"gas": 2_000_000})
    err = decode_revert(info.value.data, "attest")
    assert isinstance(err, ClassOutOfRange) and err.error_args == (2**64,)


async def test_only_the_attester_may_revoke(world: World) -> None:
    # the second attester may not revoke the owner's attestation...
    with pytest.raises(NotAuthorized):
        await world.other.revoke(world.by_owner.id, RevocationReason.INPUT_INVALID)
    # ...nor may the registry's owner revoke the second attester's: a record is its attester's
    with pytest.raises(NotAuthorized):
        await world.owner.revoke(world.by_other.id, RevocationReason.KEY_COMPROMISED)
    assert await world.registry.functions.isAttested(world.by_other.id).call() is True
    # ...nor revoke a model (owner only)
    with pytest.raises(NotAuthorized):
        await world.other.revoke_model(MODEL, RevocationReason.MODEL_FAULTY)
    assert await world.registry.functions.isAttested(world.by_owner.id).call() is True
    with pytest.raises(AttestationNotFound):
        await world.owner.revoke(keccak(b"no such attestation"))


async def test_attester_revokes_its_own(world: World) -> None:
    reg = world.registry.functions
    ident = world.by_other.id
    assert await reg.isAttestedPredictionBy(world.other.address, MODEL, 5, ident).call() is True
    done = await world.other.revoke(ident, RevocationReason.SUPERSEDED)
    assert done.target == ident and done.reason == RevocationReason.SUPERSEDED and done.gas_used < 100_000
    receipt = await world.owner.w3.eth.get_transaction_receipt(done.tx_hash)  # type: ignore[arg-type]
    (event,) = world.registry.events.Revoked().process_receipt(receipt)
    assert (event["args"]["id"], event["args"]["modelHash"]) == (ident, MODEL)
    assert (event["args"]["revoker"], event["args"]["reason"]) == (world.other.address, RevocationReason.SUPERSEDED)

    assert await reg.isAttested(ident).call() is False
    assert await reg.isRevoked(ident).call() is True
    assert await reg.isAttestedPredictionBy(world.other.address, MODEL, 5, ident).call() is False
    record = await reg.getAttestation(ident).call()
    block = await world.owner.w3.eth.get_block(done.block_number)
    assert tuple(record[5:]) == (True, block["timestamp"], RevocationReason.SUPERSEDED)
    # the record stays: attesting the same statement again is a duplicate, revoking again is refused
    with pytest.raises(AlreadyRevoked):
        await world.other.revoke(ident)
    assert await reg.attestationCount().call() == 2

    got = await _read(world, ident)
    assert got.revoked and not got.model_revoked
    assert (got.revoked_at, got.revocation_reason) == (block["timestamp"], RevocationReason.SUPERSEDED)
    assert (got.input_digest, got.prediction_digest, got.predicted_class, got.explanation_digest) == OTHER_FIELDS[1:]


async def test_owner_revokes_a_whole_model(world: World) -> None:
    reg = world.registry.functions
    ident = world.by_owner.id
    got = await _read(world, ident)
    assert not got.revoked and got.revocation_reason == 0
    assert await reg.modelRevocation(MODEL).call() == [False, 0, 0]

    done = await world.owner.revoke_model(MODEL, RevocationReason.MODEL_FAULTY)
    block = await world.owner.w3.eth.get_block(done.block_number)
    assert await reg.modelRevocation(MODEL).call() == [True, block["timestamp"], RevocationReason.MODEL_FAULTY]
    assert await reg.isAttested(ident).call() is False
    assert await reg.isRevoked(ident).call() is True
    assert await reg.isAttestedPredictionBy(world.owner.address, MODEL, 2, ident).call() is False
    record = await reg.getAttestation(ident).call()
    assert record[5] is False  # the record itself was not revoked; its model was
    got = await _read(world, ident)
    assert got.revoked and got.model_revoked and got.revocation_reason == RevocationReason.MODEL_FAULTY
    with pytest.raises(AlreadyRevoked):
        await world.owner.revoke_model(MODEL)
    # no new attestation for the revoked model: refused before the proof is even checked
    fresh = (MODEL, 301, 302, 1, 304)
    with pytest.raises(ModelRevoked):
        await world.owner.attest(*fresh, *world.keys.attestation_proof(fresh, world.owner))


async def test_ownership_transfer(world: World) -> None:
    reg = world.registry.functions
    with pytest.raises(CalldataError):
        await world.owner.revoke(world.by_owner.id, 70_000)  # reason must fit uint16
    other_registry = world.other.w3.eth.contract(address=world.registry.address, abi=contracts.abi("AttestationRegistry"))
    data = other_registry.encode_abi("transferOwnership", args=[world.other.address])
    with pytest.raises(NotAuthorized):
        await world.other.send(world.registry.address, data, 100_000, "transferOwnership")
    await world.owner.send(world.registry.address, data, 100_000, "transferOwnership")
    assert await reg.owner().call() == world.other.address
