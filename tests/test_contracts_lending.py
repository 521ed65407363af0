"""The example consumer AttestedLending (contracts/src/examples) on eth-tester with real proofs: it acts only on
a valid, non-revoked attestation of an allowed model, approved class, trusted attester, recent enough, once.
Four on-chain pairings in all (the four attestations); the policy checks themselves are cheap views."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

import pytest
import pytest_asyncio
from eth_account import Account
from eth_utils import keccak

import contracts
from contracts_tiny_circuit import tiny_keys
from node.chains.ethereum.errors import (
    NotAuthorized,
    TransactionReverted,
)
from node.chains.ethereum.adapter import (
    EthereumAdapter,
    RevocationReason,
    SubmittedAttestation,
)

MODEL = keccak(b"credit model v1")
OTHER_MODEL = keccak(b"credit model v0")
APPROVED = (1 << 1) | (1 << 3)  # classes 1 and 3 approve a loan
MAX_AGE = 3600
MAX_AMOUNT = 1_000
BORROWER = "0x000000000000000000000000000000000000bEEF"

pytestmark = pytest.mark.asyncio(loop_scope="module")


class Eligibility(IntEnum):
    ELIGIBLE = 0
    NOT_ATTESTED = 1
    MODEL_NOT_ALLOWED = 2
    CLASS_NOT_APPROVED = 3
    ATTESTER_NOT_TRUSTED = 4
    EXPIRED = 5
    ALREADY_USED = 6


@dataclass(frozen=True)
class World:
    node: EthereumAdapter  # the lender's scoring node: attests, and owns the lender contract
    stranger: EthereumAdapter
    approved: SubmittedAttestation  # MODEL, class 1
    rejected: SubmittedAttestation  # MODEL, class 2
    old_model: SubmittedAttestation  # OTHER_MODEL, class 1
    to_revoke: SubmittedAttestation  # MODEL, class 3
    lender: Any


async def _deploy_lender(node: EthereumAdapter, registry: str, max_age: int) -> Any:
    art = contracts.artifact("AttestedLending")
    factory = node.w3.eth.contract(abi=art["abi"], bytecode=art["bytecode"])
    data = factory.constructor(registry, APPROVED, max_age, MAX_AMOUNT).data_in_transaction
    mined = await node.send(None, data, 1_500_000, "lender deployment")
    assert mined.contract_address is not None
    return node.w3.eth.contract(address=mined.contract_address, abi=art["abi"])


async def _call_as(adapter: EthereumAdapter, lender: Any, fn: str, *args: Any) -> None:
    await adapter.send(lender.address, lender.encode_abi(fn, args=list(args)), 200_000, fn)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world() -> AsyncIterator[World]:
    node = await EthereumAdapter.in_process()
    keys = tiny_keys()
    deployment = await node.deploy_registry(keys.vk_calldata())
    key = node.w3.provider.ethereum_tester.backend.account_keys[1]  # type: ignore[attr-defined]
    stranger = EthereumAdapter(node.w3, Account.from_key(key.to_bytes()), node.chain_id)

    async def attest(fields: tuple[Any, ...]) -> SubmittedAttestation:
        return await node.attest(*fields, *keys.attestation_proof(fields, node))

    approved = await attest((MODEL, 11, 12, 1, 14))
    rejected = await attest((MODEL, 21, 22, 2, 24))
    old_model = await attest((OTHER_MODEL, 31, 32, 1, 34))
    to_revoke = await attest((MODEL, 41, 42, 3, 44))
    lender = await _deploy_lender(node, deployment.registry, MAX_AGE)
    await _call_as(node, lender, "setModel", MODEL, True)
    yield World(node, stranger, approved, rejected, old_model, to_revoke, lender)
    await node.close()


async def _eligibility(world: World, ident: bytes, lender: Any = None) -> Eligibility:
    return Eligibility(await (lender or world.lender).functions.eligibility(ident).call())


async def _refusal(world: World, adapter: EthereumAdapter, *args: Any) -> TransactionReverted:
    with pytest.raises(TransactionReverted) as info:
        await _call_as(adapter, world.lender, "approveLoan", *args)
    return info.value


async def test_policy_checks_before_trusting_the_node(world: World) -> None:
    assert await _eligibility(world, world.approved.id) == Eligibility.ATTESTER_NOT_TRUSTED
    assert await _eligibility(world, world.rejected.id) == Eligibility.CLASS_NOT_APPROVED
    assert await _eligibility(world, world.old_model.id) == Eligibility.MODEL_NOT_ALLOWED
    assert await _eligibility(world, keccak(b"never attested")) == Eligibility.NOT_ATTESTED
    err = await _refusal(world, world.node, world.approved.id, BORROWER, 500)
    assert err.error_name == "NotEligible" and err.error_args == (world.approved.id, Eligibility.ATTESTER_NOT_TRUSTED)


async def test_only_the_owner_configures(world: World) -> None:
    with pytest.raises(NotAuthorized):
        await _call_as(world.stranger, world.lender, "setAttester", world.stranger.address, True)
    await _call_as(world.node, world.lender, "setAttester", world.node.address, True)
    assert await world.lender.functions.attesterTrusted(world.node.address).call() is True
    assert await _eligibility(world, world.approved.id) == Eligibility.ELIGIBLE
    assert await _eligibility(world, world.to_revoke.id) == Eligibility.ELIGIBLE


async def test_loan_on_an_eligible_attestation_once(world: World) -> None:
    ident = world.approved.id
    with pytest.raises(NotAuthorized):  # eligible, but only its attester may act for a borrower
        await _call_as(world.stranger, world.lender, "approveLoan", ident, world.stranger.address, 500)
    assert (await _refusal(world, world.node, ident, BORROWER, MAX_AMOUNT + 1)).error_name == "BadAmount"
    assert (await _refusal(world, world.node, ident, BORROWER, 0)).error_name == "BadAmount"
    zero = "0x0000000000000000000000000000000000000000"
    assert (await _refusal(world, world.node, ident, zero, 500)).error_name == "ZeroBorrower"

    mined = await world.node.send(
        world.lender.address, world.lender.encode_abi("approveLoan", args=[ident, BORROWER, 500]), 200_000, "approveLoan"
    )
    (event,) = world.lender.events.LoanApproved().process_receipt(mined.receipt)
    assert event["args"]["attestationId"] == ident and event["args"]["borrower"] == BORROWER
    assert (event["args"]["modelHash"], event["args"]["predictedClass"], event["args"]["amount"]) == (MODEL, 1, 500)
    assert await world.lender.functions.creditOf(BORROWER).call() == 500
    assert await world.lender.functions.usedBy(ident).call() == BORROWER
    assert await _eligibility(world, ident) == Eligibility.ALREADY_USED
    err = await _refusal(world, world.node, ident, BORROWER, 500)
    assert err.error_args == (ident, Eligibility.ALREADY_USED)
    assert await world.lender.functions.creditOf(BORROWER).call() == 500


async def test_revoked_attestation_is_not_acted_on(world: World) -> None:
    ident = world.to_revoke.id
    await world.node.revoke(ident, RevocationReason.MODEL_FAULTY)
    assert await _eligibility(world, ident) == Eligibility.NOT_ATTESTED
    err = await _refusal(world, world.node, ident, BORROWER, 100)
    assert err.error_args == (ident, Eligibility.NOT_ATTESTED)


async def test_disallowing_a_model_and_expiry(world: World) -> None:
    # a second lender with a one-second age limit sees the (unused there) approved attestation expire
    strict = await _deploy_lender(world.node, await world.lender.functions.registry().call(), 1)
    await _call_as(world.node, strict, "setModel", MODEL, True)
    await _call_as(world.node, strict, "setAttester", world.node.address, True)
    tester = world.node.w3.provider.ethereum_tester  # type: ignore[attr-defined]
    latest = await world.node.w3.eth.get_block("latest")
    tester.time_travel(int(latest["timestamp"]) + 120)
    assert await _eligibility(world, world.approved.id, strict) == Eligibility.EXPIRED
    # disallowing the model in the first lender stops it from acting on that model
    await _call_as(world.node, world.lender, "setModel", MODEL, False)
    assert await _eligibility(world, world.rejected.id) == Eligibility.MODEL_NOT_ALLOWED
