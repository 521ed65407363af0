"""ZkxaiEASResolver with the real EAS 1.9.0 (SchemaRegistry + EAS deployed from the npm package's artifacts) on
eth-tester, real Groth16 proofs. EAS accepts a zkxai-schema attestation only if the resolver verified its proof.
Two on-chain pairings in all (one accepted, one rejected attestation)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_asyncio
from eth_account import Account
from eth_utils import keccak
from web3.exceptions import ContractCustomError

import contracts
from circuits.field import R
from contracts_tiny_circuit import TinyKeys, tiny_keys
from node.chains.ethereum import (
    calldata,
    eas,
)
from node.chains.ethereum.errors import (
    FieldOverflow,
    ProofRejected,
    TransactionReverted,
)
from node.chains.ethereum.adapter import (
    Deployment,
    EthereumAdapter,
)
from node.chains.ethereum.revert import decode_revert

MODEL = keccak(b"eas model")
FIELDS = (MODEL, 71, 72, 4, 74)

pytestmark = [pytest.mark.npm, pytest.mark.asyncio(loop_scope="module")]


@dataclass(frozen=True)
class World:
    adapter: EthereumAdapter
    keys: TinyKeys
    deployment: Deployment
    eas: eas.EASContracts
    resolver: Any
    plain_schema: bytes
    zk_schema: bytes
    proof: calldata.ProofWords


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world() -> AsyncIterator[World]:
    adapter = await EthereumAdapter.in_process()
    keys = tiny_keys()
    deployment = await adapter.deploy_registry(keys.vk_calldata())
    contracts_ = await eas.deploy_eas(adapter)
    resolver = await eas.deploy_resolver(adapter, contracts_.eas, deployment.verifier)
    plain = await eas.register_schema(adapter, contracts_.schema_registry, eas.ZKXAI_SCHEMA)
    zk = await eas.register_schema(adapter, contracts_.schema_registry, eas.ZKXAI_SCHEMA, resolver.address)
    proof = calldata.proof_words(*keys.attestation_proof(FIELDS, adapter, registry=resolver.address))
    contract = adapter.w3.eth.contract(address=resolver.address, abi=contracts.abi("ZkxaiEASResolver"))
    yield World(adapter, keys, deployment, contracts_, contract, plain, zk, proof)
    await adapter.close()


async def test_schema_is_registered_with_the_resolver(world: World) -> None:
    assert await world.resolver.functions.SCHEMA().call() == eas.ZKXAI_SCHEMA
    assert await world.resolver.functions.eas().call() == world.eas.eas
    assert await world.resolver.functions.verifier().call() == world.deployment.verifier
    assert await world.resolver.functions.isPayable().call() is False
    registry = world.adapter.w3.eth.contract(address=world.eas.schema_registry, abi=eas.eas_artifact("SchemaRegistry")["abi"])
    uid, resolver, revocable, schema = await registry.functions.getSchema(world.zk_schema).call()
    assert (uid, resolver, revocable, schema) == (world.zk_schema, world.resolver.address, True, eas.ZKXAI_SCHEMA)
    assert world.plain_schema != world.zk_schema == eas.schema_uid(eas.ZKXAI_SCHEMA, world.resolver.address, True)


async def test_valid_statement_is_attested_through_eas(world: World) -> None:
    data = calldata.eas_attestation_data(*FIELDS, world.proof)
    done = await eas.attest(world.adapter, world.eas.eas, world.zk_schema, data)
    stored = await eas.get_attestation(world.adapter, world.eas.eas, done.uid)
    assert stored["uid"] == done.uid and stored["schema"] == world.zk_schema
    assert stored["attester"] == world.adapter.address and stored["data"] == data
    assert stored["revocationTime"] == 0
    # the EAS record names the same statement as the registry's id
    assert await world.resolver.functions.statementId(data).call() == calldata.attestation_id(*FIELDS)
    assert 0 < done.gas_used < eas.EAS_ATTEST_GAS


async def test_invalid_proof_is_refused_by_eas(world: World) -> None:
    wrong = (*FIELDS[:4], FIELDS[4] + 1)  # explanation digest changed; proof for the original statement
    data = calldata.eas_attestation_data(*wrong, world.proof)
    with pytest.raises(ProofRejected):
        await eas.attest(world.adapter, world.eas.eas, world.zk_schema, data)
    # the plain schema (no resolver) would have stored it: the resolver is what makes the difference
    plain = await eas.attest(world.adapter, world.eas.eas, world.plain_schema, data)
    assert (await eas.get_attestation(world.adapter, world.eas.eas, plain.uid))["data"] == data


async def test_malformed_data_is_refused_before_any_pairing(world: World) -> None:
    good = calldata.eas_attestation_data(*FIELDS, world.proof)
    with pytest.raises(TransactionReverted) as short:
        await eas.attest(world.adapter, world.eas.eas, world.zk_schema, good[:-32])
    assert short.value.error_name == "MalformedData" and short.value.error_args == (len(good) - 32,)
    overflow = bytearray(good)
    overflow[32:64] = (FIELDS[1] + R).to_bytes(32, "big")  # input digest + r: same residue, must not alias
    with pytest.raises(FieldOverflow):
        await eas.attest(world.adapter, world.eas.eas, world.zk_schema, bytes(overflow))
    me = world.adapter.address
    assert await world.resolver.functions.verifyData(good[:-1], me).call() is False
    assert await world.resolver.functions.verifyData(bytes(overflow), me).call() is False


async def test_copied_eas_data_is_useless_to_another_attester(world: World) -> None:
    """Front-running through EAS: whoever sends the copied data is the EAS attester of that transaction, so the
    resolver recomputes another context and the proof (made for the node's) fails; so does any other resolver."""
    key = world.adapter.w3.provider.ethereum_tester.backend.account_keys[1]  # type: ignore[attr-defined]
    stranger = EthereumAdapter(world.adapter.w3, Account.from_key(key.to_bytes()), world.adapter.chain_id)
    data = calldata.eas_attestation_data(*(MODEL, 71, 72, 3, 74), world.keys.attestation_proof(
        (MODEL, 71, 72, 3, 74), world.adapter, registry=world.resolver.address))
    assert await world.resolver.functions.verifyData(data, world.adapter.address).call() is True
    assert await world.resolver.functions.verifyData(data, stranger.address).call() is False
    with pytest.raises(ProofRejected):
        await eas.attest(stranger, world.eas.eas, world.zk_schema, data)


async def test_hooks_are_for_eas_only(world: World) -> None:
    data = calldata.eas_attestation_data(*FIELDS, world.proof)
    fake = (b"\x01" * 32, world.zk_schema, 0, 0, 0, b"\x00" * 32, world.adapter.address, world.adapter.address, True, data)
    for call in (world.resolver.functions.attest(fake), world.resolver.functions.revoke(fake)):
        with pytest.raises(ContractCustomError) as info:
            await call.call({"from": world.adapter.address, "gas": 2_000_000})
        assert getattr(decode_revert(info.value.data, "hook"), "error_name", None) == "AccessDenied"


async def test_constructor_checks_its_addresses(world: World) -> None:
    art = contracts.artifact("ZkxaiEASResolver")
    factory = world.adapter.w3.eth.contract(abi=art["abi"], bytecode=art["bytecode"])
    cases = {
        "InvalidEAS": (world.adapter.address, world.deployment.verifier),  # EAS address without code
        "VerifierMismatch": (world.eas.eas, world.deployment.registry),  # a contract, but no verifier
    }
    for name, args in cases.items():
        with pytest.raises(ContractCustomError) as info:
            await world.adapter.w3.eth.call({"data": factory.constructor(*args).data_in_transaction, "gas": 3_000_000})
        assert getattr(decode_revert(info.value.data, "deploy"), "error_name", None) == name
