"""Groth16Verifier + AttestationRegistry on the in-process EVM (eth-tester / py-evm) with real Groth16 proofs.

py-evm computes each pairing check in Python (~2 s on a small machine), so the deployment and the one accepted
attestation are shared by the module, and each rejection costs at most one ``eth_call``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_asyncio
from eth_utils import keccak
from web3.exceptions import ContractCustomError

import contracts
from circuits.field import R
from contracts_tiny_circuit import TinyKeys, bound_public, tiny_keys
from node.chains.ethereum import calldata
from node.chains.ethereum.adapter import (
    Deployment,
    EthereumAdapter,
    SubmittedAttestation,
)
from node.chains.ethereum.revert import decode_revert

Q = calldata.Q
MODEL = keccak(b"model weights")
FIELDS = (MODEL, 1234567, 7654321, 3, 999)  # model hash, input, prediction, class, explanation digests

pytestmark = pytest.mark.asyncio(loop_scope="module")


@dataclass(frozen=True)
class World:
    adapter: EthereumAdapter
    keys: TinyKeys
    deployment: Deployment
    proof: tuple[list[int], list[list[int]], list[int]]
    submitted: SubmittedAttestation
    verifier: Any
    registry: Any


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world() -> AsyncIterator[World]:
    adapter = await EthereumAdapter.in_process()
    keys = tiny_keys()
    deployment = await adapter.deploy_registry(keys.vk_calldata())
    proof = keys.attestation_proof(FIELDS, adapter)
    submitted = await adapter.attest(*FIELDS, *proof)
    verifier = adapter.w3.eth.contract(address=deployment.verifier, abi=contracts.abi("Groth16Verifier"))
    registry = adapter.w3.eth.contract(address=deployment.registry, abi=contracts.abi("AttestationRegistry"))
    yield World(adapter, keys, deployment, proof, submitted, verifier, registry)
    await adapter.close()


async def _revert_name(call: Any) -> str:
    with pytest.raises(ContractCustomError) as info:
        await call.call({"gas": 2_000_000})
    err = decode_revert(info.value.data, "call")
    return str(getattr(err, "error_name", None) or type(err).__name__)


# ---------------------------------------------------------------- verifier


async def test_verifier_exposes_its_key(world: World) -> None:
    alpha, beta, gamma, delta, ic = await world.verifier.functions.verifyingKey().call()
    assert (alpha, beta, gamma, delta, ic) == world.keys.vk_calldata()
    assert await world.verifier.functions.publicInputCount().call() == 7


async def test_verifier_rejects_malformed_inputs_without_reverting(world: World) -> None:
    a, b, c = world.proof
    public = bound_public(FIELDS, world.adapter)
    fn = world.verifier.functions.verifyProof
    cases = {
        "too few inputs": (a, b, c, public[:6]),
        "too many inputs": (a, b, c, public + [0]),
        "input = r": (a, b, c, public[:6] + [R]),
        "input = r + context (same residue)": (a, b, c, public[:6] + [public[6] + R]),
        "a.x >= q": ([a[0] + Q, a[1]], b, c, public),
        "b coordinate >= q": (a, [[b[0][0], b[0][1] + Q], b[1]], c, public),
        "c off the curve": (a, b, [1, 3], public),
        "a off the curve": ([1, 3], b, c, public),
    }
    for name, args in cases.items():
        assert await fn(*args).call({"gas": 2_000_000}) is False, name


async def test_verifier_rejects_a_changed_public_input(world: World) -> None:
    a, b, c = world.proof
    public = bound_public(FIELDS, world.adapter)
    assert await world.verifier.functions.verifyProof(a, b, c, public).call({"gas": 2_000_000}) is True
    public[3] += 1
    assert await world.verifier.functions.verifyProof(a, b, c, public).call({"gas": 2_000_000}) is False


async def test_verifier_constructor_validates_the_key(world: World) -> None:
    art = contracts.artifact("Groth16Verifier")
    factory = world.adapter.w3.eth.contract(abi=art["abi"], bytecode=art["bytecode"])
    alpha, beta, gamma, delta, ic = world.keys.vk_calldata()
    bad_keys = {
        "alpha off curve": ([1, 3], beta, gamma, delta, ic),
        "ic coordinate >= q": (alpha, beta, gamma, delta, [[ic[0][0] + Q, ic[0][1]], *ic[1:]]),
        "no ic": (alpha, beta, gamma, delta, []),
        "gamma off curve": (alpha, beta, [[1, 2], [3, 4]], delta, ic),
    }
    for name, vk in bad_keys.items():
        data = factory.constructor(*vk).data_in_transaction
        with pytest.raises(ContractCustomError) as info:
            await world.adapter.w3.eth.call({"data": data, "gas": 3_000_000})
        assert decode_revert(info.value.data, "deploy").error_name == "InvalidVerifyingKey", name  # type: ignore[attr-defined]


# ---------------------------------------------------------------- registry: accepted attestation


async def test_accepted_attestation_is_recorded(world: World) -> None:
    reg = world.registry.functions
    ident = world.submitted.id
    assert ident == await reg.attestationId(*FIELDS).call()
    assert ident == calldata.attestation_id(*FIELDS)
    record = await reg.getAttestation(ident).call()
    model, attester, timestamp, block_number, predicted_class, revoked, revoked_at, reason = record
    assert (model, predicted_class) == (MODEL, FIELDS[3])
    assert attester == world.adapter.address
    assert block_number == world.submitted.block_number
    block = await world.adapter.w3.eth.get_block(world.submitted.block_number)
    assert timestamp == block["timestamp"]
    assert (revoked, revoked_at, reason) == (False, 0, 0)
    assert await reg.isAttested(ident).call() is True
    assert await reg.attestationCount().call() == 1
    assert await reg.verifier().call() == world.deployment.verifier


async def test_consumer_view_checks_attester_model_and_class(world: World) -> None:
    reg = world.registry.functions
    ident = world.submitted.id
    me = world.adapter.address
    stranger = (await world.adapter.w3.eth.accounts)[1]
    assert await reg.isAttestedPredictionBy(me, MODEL, 3, ident).call() is True
    assert await reg.isAttestedPredictionBy(stranger, MODEL, 3, ident).call() is False  # not that attester's record
    assert await reg.isAttestedPredictionBy(me, MODEL, 4, ident).call() is False
    assert await reg.isAttestedPredictionBy(me, keccak(b"other model"), 3, ident).call() is False
    assert await reg.isAttestedPredictionBy(me, MODEL, 3, keccak(b"unknown")).call() is False
    assert await reg.isAttested(keccak(b"unknown")).call() is False


async def test_attested_event_carries_the_proof(world: World) -> None:
    receipt = await world.adapter.w3.eth.get_transaction_receipt(world.submitted.tx_hash)
    (event,) = world.registry.events.Attested().process_receipt(receipt)
    args = event["args"]
    assert args["id"] == world.submitted.id
    assert args["modelHash"] == MODEL
    assert args["attester"] == world.adapter.address
    assert args["predictedClass"] == 3
    assert (args["inputDigest"], args["predictionDigest"], args["explanationDigest"]) == (FIELDS[1], FIELDS[2], FIELDS[4])
    assert tuple(args["proof"]) == calldata.flat_proof(calldata.proof_words(*world.proof))
    assert world.submitted.gas_used == receipt["gasUsed"] < world.adapter.attest_gas


# ---------------------------------------------------------------- registry: rejections (nothing written)


def _attest(world: World, fields: tuple[Any, ...], proof: tuple[Any, ...]) -> Any:
    return world.registry.functions.attest(*fields, *proof)


async def test_duplicate_is_rejected(world: World) -> None:
    assert await _revert_name(_attest(world, FIELDS, world.proof)) == "AlreadyAttested"


async def test_input_outside_the_field_is_rejected(world: World) -> None:
    for i in range(1, 5):
        fields = list(FIELDS)
        fields[i] = R + fields[i]  # same residue mod r: must not alias the valid statement
        assert await _revert_name(_attest(world, tuple(fields), world.proof)) == "FieldOverflow"


async def test_tampered_proof_is_rejected(world: World) -> None:
    a, b, c = world.proof
    other = (world.keys.attestation_proof(FIELDS, world.adapter, seed=7)[0], b, c)  # A from another proof
    fields = (MODEL, 1, 2, 3, 4)  # fresh id, so only the proof check can reject
    assert await _revert_name(_attest(world, fields, other)) == "InvalidProof"


async def test_wrong_digest_is_rejected(world: World) -> None:
    fields = (*FIELDS[:4], FIELDS[4] + 1)  # explanation digest changed, proof for the original statement
    assert await _revert_name(_attest(world, fields, world.proof)) == "InvalidProof"


async def test_wrong_model_hash_is_rejected(world: World) -> None:
    fields = (keccak(b"another model"), *FIELDS[1:])
    assert await _revert_name(_attest(world, fields, world.proof)) == "InvalidProof"


async def test_unknown_attestation_reverts(world: World) -> None:
    assert await _revert_name(world.registry.functions.getAttestation(keccak(b"nope"))) == "AttestationNotFound"


async def test_registry_requires_a_seven_input_verifier(world: World) -> None:
    w3 = world.adapter.w3
    other = (await w3.eth.accounts)[1]  # eth-tester's unlocked account; the adapter's own nonce stays untouched
    v_art = contracts.artifact("Groth16Verifier")
    alpha, beta, gamma, delta, ic = world.keys.vk_calldata()
    tx = await w3.eth.contract(abi=v_art["abi"], bytecode=v_art["bytecode"]).constructor(
        alpha, beta, gamma, delta, ic[:3]
    ).transact({"from": other, "gas": 2_000_000})
    two_input_verifier = (await w3.eth.get_transaction_receipt(tx))["contractAddress"]
    art = contracts.artifact("AttestationRegistry")
    factory = w3.eth.contract(abi=art["abi"], bytecode=art["bytecode"])
    # an EOA, a contract that is no verifier, a verifier for two public inputs
    for target in (world.adapter.address, world.deployment.registry, two_input_verifier):
        data = factory.constructor(target).data_in_transaction
        with pytest.raises(ContractCustomError) as info:
            await w3.eth.call({"data": data, "gas": 2_000_000})
        assert decode_revert(info.value.data, "deploy").error_name == "VerifierMismatch", target  # type: ignore[attr-defined]
    ok = factory.constructor(world.deployment.verifier).data_in_transaction
    assert len(await w3.eth.call({"data": ok, "gas": 2_000_000})) > 0  # the real verifier is accepted
