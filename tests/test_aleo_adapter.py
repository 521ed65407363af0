"""The Aleo adapter and reader against the snarkOS REST **test double** (tests/aleo_double.py: finalize semantics
in Python, no proofs, no fees, no consensus) with transitions authorized by the real SDK (one bridge process for
the module)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator, Sequence

import pytest
from eth_account import Account

from node.chains.binding import chain_context
from node.chains.adapter import ChainAdapter, ChainUnavailable, ForeignRecord, RecordReader, RegistryRef, Statement
from node.chains.aleo.adapter import AleoAdapter, AleoConfig, AleoReader, program_source
from node.chains.aleo.errors import AleoProtocolError, AleoUnavailable
from node.chains.aleo.rest import Confirmed, SnarkosRest
from node.chains.aleo.sdk import SdkBridge
from node.chains.aleo.statement import (
    PROGRAM_ID, AttestInputs, attest_digest, attest_inputs, mapping_key, proof_keccak, revoke_digest, revoke_inputs,
    sign_digest, statement_id,
)
from tests.aleo_double import SnarkosDouble

pytestmark = [pytest.mark.npm, pytest.mark.slow, pytest.mark.asyncio]

ETH_A = Account.from_key("0x" + "a1" * 32)
ETH_B = Account.from_key("0x" + "b2" * 32)
PROOF = tuple(1000 + i for i in range(8))


def statement(n: int) -> Statement:
    return Statement(model_hash=bytes([n]) * 32, input_digest=10 + n, prediction_digest=20 + n, predicted_class=n % 10,
                     explanation_digest=30 + n)


@pytest.fixture(scope="module")
def bridge() -> Iterator[SdkBridge]:
    b = SdkBridge(network="testnet")
    yield b
    b.close()


@pytest.fixture(scope="module")
def aleo_keys(bridge: SdkBridge) -> tuple[str, str]:
    return bridge.new_account()[0], bridge.new_account()[0]


@pytest.fixture()
def double() -> Iterator[SnarkosDouble]:
    d = SnarkosDouble(source=program_source(), block_interval=0.05).start()
    yield d
    d.stop()


def config(double: SnarkosDouble, **extra) -> AleoConfig:
    return AleoConfig.from_mapping({"endpoint": double.url, "prover_url": double.url, "poll_interval": 0.05,
                                    "confirm_timeout": 20, "retries": 2, **extra})


def adapter(double: SnarkosDouble, bridge: SdkBridge, aleo_key: str, eth: object) -> AleoAdapter:
    return AleoAdapter(config(double), aleo_key, eth.key.hex(), bridge=bridge)  # type: ignore[attr-defined]


def raw_attest(bridge: SdkBridge, rest: SnarkosRest, aleo_key: str, st: Statement, proof: Sequence[int],
               attester: str, signer_key: bytes) -> Confirmed | None:
    """An attest transaction built without the adapter (so without its find / signing), broadcast as is."""
    d = attest_digest(PROGRAM_ID, "testnet", statement_id(st), proof_keccak(proof))
    inputs = attest_inputs(AttestInputs(st, tuple(proof), attester, sign_digest(signer_key, d), "testnet"))
    request = bridge.proving_request(program_source(), "attest", inputs, aleo_key)
    return rest.confirmed(rest.broadcast(rest.prove(request.proving_request)))


async def test_submit_find_read_confirm(double: SnarkosDouble, bridge: SdkBridge, aleo_keys: tuple[str, str]) -> None:
    a = adapter(double, bridge, aleo_keys[0], ETH_A)
    assert isinstance(a, ChainAdapter) and a.attester == ETH_A.address
    ref = await a.attach_or_deploy(None)
    assert ref == RegistryRef("aleo", "testnet", PROGRAM_ID, "recorded")
    assert a.context() == chain_context("aleo", "testnet", PROGRAM_ID, ETH_A.address)
    st = statement(1)
    assert await a.find(st) is None
    sub = await a.submit(st, PROOF)
    assert sub.chain == "aleo" and sub.attester == ETH_A.address and sub.tx_id.startswith("at1")
    assert sub.attestation_id == "0x" + statement_id(st).hex() and sub.height > 100 and sub.cost > 0
    found = await a.find(st)
    assert found is not None and found.attestation_id == sub.attestation_id and found.height == sub.height
    deep = await a.confirm(sub, 3)
    assert deep.height == sub.height and double.height - sub.height + 1 >= 3

    reader = AleoReader(double.url)
    assert isinstance(reader, RecordReader)
    record = reader.read(ref, sub.attestation_id, tx_id=sub.tx_id)
    assert record.statement == st and record.attester == ETH_A.address and not record.revoked
    assert record.proof == PROOF and record.proof_keccak == proof_keccak(PROOF)
    assert record.caller == bridge.address(aleo_keys[0]) and record.confirmations >= 3

    broadcasts = sum(r.endswith("/transaction/broadcast") for r in double.requests)
    assert await a.submit(st, PROOF) == found  # idempotent: adopted, nothing sent
    assert sum(r.endswith("/transaction/broadcast") for r in double.requests) == broadcasts

    # another attester: reported, never adopted, cannot revoke
    b = adapter(double, bridge, aleo_keys[1], ETH_B)
    with pytest.raises(ForeignRecord):
        await b.find(st)
    with pytest.raises(ForeignRecord):
        await b.submit(st, PROOF)
    with pytest.raises(ForeignRecord):
        await b.revoke(sub.attestation_id, 2)

    # revocation by the attester
    revoked = await a.revoke(sub.attestation_id, 2)
    assert revoked.tx_id.startswith("at1") and revoked.tx_id != sub.tx_id
    record = reader.read(ref, sub.attestation_id)
    assert record.revoked and record.revocation_reason == 2 and record.proof == ()
    assert (await a.revoke(sub.attestation_id, 2)).tx_id == ""  # already revoked: nothing sent


async def test_finalize_refuses_duplicates_and_foreign_signatures(
    double: SnarkosDouble, bridge: SdkBridge, aleo_keys: tuple[str, str]
) -> None:
    rest = config(double).rest()
    st = statement(2)
    # a signature by B over A's claimed attestation: finalize's ECDSA check refuses it, nothing is stored
    rejected = raw_attest(bridge, rest, aleo_keys[1], st, PROOF, ETH_A.address, ETH_B.key)
    assert rejected is not None and rejected.status == "rejected"
    assert rest.mapping_value(PROGRAM_ID, "attestations", f"{mapping_key(statement_id(st))}field") is None
    # A records it; B's own, correctly signed, attestation of the same statement is a duplicate for finalize
    assert raw_attest(bridge, rest, aleo_keys[0], st, PROOF, ETH_A.address, ETH_A.key).status == "accepted"
    dup = raw_attest(bridge, rest, aleo_keys[1], st, PROOF, ETH_B.address, ETH_B.key)
    assert dup is not None and dup.status == "rejected"
    record = AleoReader(rest).read(RegistryRef("aleo", "testnet", PROGRAM_ID), "0x" + statement_id(st).hex())
    assert record.attester == ETH_A.address
    # a revocation signed by B for A's record is refused too
    sid = statement_id(st)
    bad = revoke_inputs(sid, 1, sign_digest(ETH_B.key, revoke_digest(PROGRAM_ID, "testnet", sid, 1)), "testnet")
    request = bridge.proving_request(program_source(), "revoke", bad, aleo_keys[1])
    confirmed = rest.confirmed(rest.broadcast(rest.prove(request.proving_request)))
    assert confirmed is not None and confirmed.status == "rejected"


async def test_race_lost_to_another_attester_is_foreign(
    double: SnarkosDouble, bridge: SdkBridge, aleo_keys: tuple[str, str]
) -> None:
    a, b = adapter(double, bridge, aleo_keys[0], ETH_A), adapter(double, bridge, aleo_keys[1], ETH_B)
    st = statement(3)
    results = await asyncio.gather(a.submit(st, PROOF), b.submit(st, PROOF), return_exceptions=True)
    winners = [r for r in results if not isinstance(r, BaseException)]
    assert len(winners) == 1 and isinstance([r for r in results if r not in winners][0], ForeignRecord)
    statuses = sorted(c["status"] for c in double.confirmed.values())
    assert statuses == ["accepted", "rejected"]  # both sent: the loser's finalize refused the duplicate


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_unreachable_endpoint_is_chain_unavailable(bridge: SdkBridge, aleo_keys: tuple[str, str]) -> None:
    cfg = AleoConfig.from_mapping({"endpoint": f"http://127.0.0.1:{_closed_port()}", "retries": 1, "timeout": 2})
    a = AleoAdapter(cfg, aleo_keys[0], ETH_A.key.hex(), bridge=bridge)
    with pytest.raises(ChainUnavailable):
        await a.find(statement(4))
    with pytest.raises(ChainUnavailable):
        await a.submit(statement(4), PROOF)


async def test_retries_on_5xx_and_429(double: SnarkosDouble) -> None:
    rest = SnarkosRest(double.url, retries=3, backoff=0.01)
    double.fail_next.extend([503, 429, 500])
    assert rest.latest_height() >= 100
    double.fail_next.extend([503] * 4)
    with pytest.raises(AleoUnavailable):
        rest.latest_height()


async def test_attach_refuses_another_program(bridge: SdkBridge, aleo_keys: tuple[str, str]) -> None:
    tampered = program_source().replace("assert.eq r6 false;", "assert.eq r6 r6;", 1)
    assert tampered != program_source()
    d = SnarkosDouble(source=tampered).start()
    try:
        a = AleoAdapter(config(d), aleo_keys[0], ETH_A.key.hex(), bridge=bridge)
        with pytest.raises(AleoProtocolError, match="not zkxai's registry"):
            await a.attach_or_deploy(None)
        with pytest.raises(AleoProtocolError):
            await a.attach_or_deploy("other_program.aleo")
    finally:
        d.stop()


async def test_reader_checks_what_the_endpoint_answers(
    double: SnarkosDouble, bridge: SdkBridge, aleo_keys: tuple[str, str]
) -> None:
    a = adapter(double, bridge, aleo_keys[0], ETH_A)
    st = statement(5)
    sub = await a.submit(st, PROOF)
    ref = RegistryRef("aleo", "testnet", PROGRAM_ID)
    reader = AleoReader(double.url)
    # an endpoint serving another statement under this id (the mapping key is only a hash of the id)
    stored = double.mapping[mapping_key(statement_id(st))]
    stored["input_digest"] = [0, 999]
    with pytest.raises(AleoProtocolError, match="does not hash"):
        reader.read(ref, sub.attestation_id)
    stored["input_digest"] = [0, st.input_digest]
    # a transaction whose proof is not the recorded one
    tx = double.transactions[sub.tx_id]
    proof_input = tx["execution"]["transitions"][0]["inputs"][5]
    original = proof_input["value"]
    proof_input["value"] = original.replace("232u8", "233u8", 1)
    assert proof_input["value"] != original
    with pytest.raises(AleoProtocolError, match="recorded proof"):
        reader.read(ref, sub.attestation_id, tx_id=sub.tx_id)
    proof_input["value"] = original
    assert reader.read(ref, sub.attestation_id, tx_id=sub.tx_id).proof == PROOF


async def test_packing_mismatch_with_the_program_is_refused_before_sending(
    double: SnarkosDouble, bridge: SdkBridge, aleo_keys: tuple[str, str]
) -> None:
    a = adapter(double, bridge, aleo_keys[0], ETH_A)
    # a program whose program tag differs from the one Python signs over: the SDK's digest output differs
    a._source = program_source().replace("273373466804502198700480034749991298407u128", "1u128")
    assert a._source != program_source()
    with pytest.raises(AleoProtocolError, match="differ"):
        await a.submit(statement(6), PROOF)
    assert not any(r.endswith("/prove") or r.endswith("/broadcast") for r in double.requests)
