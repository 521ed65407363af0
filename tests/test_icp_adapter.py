"""The ICP adapter (ChainAdapter) and reader (RecordReader) against the local replica test double."""

from __future__ import annotations

import hashlib

import pytest

from node.chains.binding import chain_context
from node.chains.adapter import (
    ChainAdapter,
    ChainUnavailable,
    ForeignRecord,
    RecordReader,
    RegistryRef,
    StatementRejected,
)
from node.chains.icp.adapter import IcpAdapter, IcpReader, RegistryMismatch, network_of
from node.chains.icp.agent import IcAgent
from node.chains.icp.errors import CertificateError
from node.chains.icp.identity import Ed25519Identity
from tests.icp_replica_double import WASM, ReplicaDouble
from tests.icp_replica_double import sample_proof as proof
from tests.icp_replica_double import sample_statement as statement


@pytest.fixture
def double():
    replica = ReplicaDouble().start()
    yield replica
    replica.stop()


async def _adapter(double: ReplicaDouble, identity: Ed25519Identity | None = None) -> IcpAdapter:
    agent = IcAgent(double.url, double.root_key_der, identity or Ed25519Identity.generate(), poll_interval_s=0.05)
    adapter = IcpAdapter(agent, expected_module_hash=hashlib.sha256(WASM.read_bytes()).digest())
    await adapter.attach_or_deploy(double.canister_id.to_text())
    return adapter


def _reader(double: ReplicaDouble) -> IcpReader:
    return IcpReader(IcAgent(double.url, double.root_key_der, None))


@pytest.mark.asyncio
async def test_submit_find_confirm_read(double) -> None:
    adapter = await _adapter(double)
    assert isinstance(adapter, ChainAdapter) and isinstance(_reader(double), RecordReader)
    s = statement(1)
    assert await adapter.find(s) is None
    submitted = await adapter.submit(s, proof(1))
    assert submitted.chain == "icp" and submitted.attester == adapter.attester and submitted.height == 0
    found = await adapter.find(s)  # the request id (tx_id) is not in the record; the rest is
    assert (found.attestation_id, found.height, found.attester) == (submitted.attestation_id, 0, adapter.attester)
    assert await adapter.confirm(submitted, 3) == submitted
    again = await adapter.submit(s, proof(1))  # idempotent: our own duplicate is adopted
    assert again.attestation_id == submitted.attestation_id
    ref = RegistryRef("icp", network_of(double.root_key_der), double.canister_id.to_text())
    record = _reader(double).read(ref, submitted.attestation_id)
    assert record.statement == s and list(record.proof) == proof(1) and record.attester == adapter.attester
    assert not record.revoked
    # the context a verifier recomputes from the certified record is the one the adapter asked proofs to carry
    assert adapter.context() == chain_context("icp", ref.network, ref.registry, record.attester)


@pytest.mark.asyncio
async def test_revoke_by_the_attester_only(double) -> None:
    mine, theirs = await _adapter(double), await _adapter(double)
    submitted = await mine.submit(statement(2), proof(2))
    with pytest.raises(ForeignRecord):
        await theirs.revoke(submitted.attestation_id, 1)
    await mine.revoke(submitted.attestation_id, 3)
    ref = RegistryRef("icp", network_of(double.root_key_der), double.canister_id.to_text())
    record = _reader(double).read(ref, submitted.attestation_id)
    assert record.revoked and record.revocation_reason == 3
    with pytest.raises(StatementRejected):
        await mine.revoke(submitted.attestation_id, 3)  # already revoked


@pytest.mark.asyncio
async def test_another_principals_record_is_foreign(double) -> None:
    mine, theirs = await _adapter(double), await _adapter(double)
    await theirs.submit(statement(3), proof(3))
    with pytest.raises(ForeignRecord):
        await mine.find(statement(3))
    with pytest.raises(ForeignRecord):
        await mine.submit(statement(3), proof(3))


@pytest.mark.asyncio
async def test_attach_checks_the_certified_module_hash(double) -> None:
    agent = IcAgent(double.url, double.root_key_der, Ed25519Identity.generate())
    with pytest.raises(RegistryMismatch):
        await IcpAdapter(agent, expected_module_hash=b"\x00" * 32).attach_or_deploy(double.canister_id.to_text())


@pytest.mark.asyncio
async def test_unreachable_replica_is_chain_unavailable(double) -> None:
    adapter = await _adapter(double)
    double.stop()
    with pytest.raises(ChainUnavailable):
        await adapter.submit(statement(4), proof(4))


@pytest.mark.asyncio
async def test_reader_refuses_another_network_and_a_tampered_answer(double) -> None:
    adapter = await _adapter(double)
    submitted = await adapter.submit(statement(5), proof(5))
    wrong = RegistryRef("icp", "00" * 32, double.canister_id.to_text())
    with pytest.raises(CertificateError):
        _reader(double).read(wrong, submitted.attestation_id)
    double.tamper = True
    ref = RegistryRef("icp", network_of(double.root_key_der), double.canister_id.to_text())
    with pytest.raises(CertificateError):
        _reader(double).read(ref, submitted.attestation_id)


@pytest.mark.asyncio
async def test_batch_attest(double) -> None:
    mine, theirs = await _adapter(double), await _adapter(double)
    await theirs.submit(statement(10), proof(10))
    results = await mine.submit_batch([(statement(11), proof(11)), (statement(10), proof(10)),
                                       (statement(12), proof(12))])
    assert isinstance(results[1], ForeignRecord)
    assert [r.height for r in (results[0], results[2])] == [1, 2]
    assert all(r.attester == mine.attester for r in (results[0], results[2]))
    with pytest.raises(StatementRejected):
        await mine.submit_batch([])


def test_reader_stays_light() -> None:
    """The reader is for ``zkxai verify`` (light install): importing it pulls neither torch, aiohttp nor web3."""
    import subprocess
    import sys

    code = ("import sys, node.chains.icp.adapter, node.chains.icp.agent; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'torch', 'aiohttp', 'web3'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "[]"
