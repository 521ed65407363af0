"""EthereumAdapter.connect + the reader against a real node (anvil), with real Groth16 proofs.

anvil runs the pairing precompile natively, so this module also covers the adapter's revert path
(a mined, failed transaction replayed to recover its custom error) and reports gas figures.
"""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio
from eth_utils import keccak
from web3 import Web3

from circuits.field import R
from contracts_tiny_circuit import TinyKeys, bound_public, tiny_keys
from node.chains.ethereum import (
    calldata,
    eas,
    reader,
)
from node.chains.ethereum.errors import (
    AlreadyRevoked,
    AttestationNotFound,
    CalldataError,
    ChainConnectionError,
    ContractMismatch,
    DuplicateAttestation,
    ProofRejected,
)
from node.chains.ethereum.adapter import (
    Deployment,
    EthereumAdapter,
    RevocationReason,
    SubmittedAttestation,
)
from tests.node_harness import free_port
from prover.keys import Proof
from prover.verify import verify

#: anvil's first default account (well-known test mnemonic), pre-funded on every anvil chain.
ANVIL_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
MODEL = keccak(b"anvil model")
FIELDS = (MODEL, 11, 22, 7, 44)

pytestmark = [pytest.mark.npm, pytest.mark.asyncio(loop_scope="module")]


@dataclass(frozen=True)
class Chain:
    url: str
    adapter: EthereumAdapter
    keys: TinyKeys
    deployment: Deployment
    proof: tuple[list[int], list[list[int]], list[int]]
    submitted: SubmittedAttestation
    deploy_gas: int


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def chain(anvil_url: str) -> AsyncIterator[Chain]:
    adapter = await EthereumAdapter.connect(anvil_url, ANVIL_KEY)
    keys = tiny_keys()
    deployment = await adapter.deploy_registry(keys.vk_calldata())
    w3 = Web3(Web3.HTTPProvider(anvil_url))
    deploy_gas = sum(
        int(w3.eth.get_transaction_receipt(tx)["gasUsed"])
        for n in range(1, deployment.block + 1)
        for tx in w3.eth.get_block(n)["transactions"]
    )
    proof = keys.attestation_proof(FIELDS, adapter)
    submitted = await adapter.attest(*FIELDS, *proof)
    yield Chain(anvil_url, adapter, keys, deployment, proof, submitted, deploy_gas)
    await adapter.close()


async def test_attest_and_read_back(chain: Chain) -> None:
    w3 = Web3(Web3.HTTPProvider(chain.url))
    got = reader.read_attestation(w3, chain.deployment.registry, chain.submitted.id)
    assert got.id == chain.submitted.id == calldata.attestation_id(*FIELDS)
    assert (got.model_hash, got.input_digest, got.prediction_digest, got.predicted_class, got.explanation_digest) == FIELDS
    assert got.attester == chain.adapter.address
    assert got.tx_hash == chain.submitted.tx_hash
    assert got.block_number == chain.submitted.block_number
    assert got.confirmations == w3.eth.block_number - got.block_number + 1 >= 1
    assert got.timestamp == w3.eth.get_block(got.block_number)["timestamp"]
    assert got.proof == calldata.proof_words(*chain.proof)
    assert got.statement == calldata.public_inputs(*FIELDS) and got.chain_id == w3.eth.chain_id
    assert list(got.public_inputs) == bound_public(FIELDS, chain.adapter)  # the context the registry recomputed


async def test_chain_key_and_event_proof_verify_off_chain(chain: Chain) -> None:
    """What ``zkxai verify`` does: key from the verifier contract, proof from the event, check natively."""
    w3 = Web3(Web3.HTTPProvider(chain.url))
    assert reader.registry_verifier(w3, chain.deployment.registry) == chain.deployment.verifier
    vk_words = reader.read_verifying_key(w3, chain.deployment.verifier)
    assert vk_words == calldata.verifying_key_words(chain.keys.vk_calldata())
    got = reader.read_attestation(w3, chain.deployment.registry, chain.submitted.id)
    (ax, ay), ((bxi, bxr), (byi, byr)), (cx, cy) = got.proof
    proof = Proof(a=(ax, ay), b=((bxr, bxi), (byr, byi)), c=(cx, cy))
    assert verify(chain.keys.vk, list(got.public_inputs), proof)
    tampered = list(got.public_inputs)
    tampered[2] += 1
    assert not verify(chain.keys.vk, tampered, proof)


async def test_rejections_are_typed_and_write_nothing(chain: Chain) -> None:
    registry = Web3(Web3.HTTPProvider(chain.url)).eth.contract(
        address=chain.deployment.registry, abi=__import__("contracts").abi("AttestationRegistry")
    )
    with pytest.raises(DuplicateAttestation) as dup:
        await chain.adapter.attest(*FIELDS, *chain.proof)
    assert dup.value.error_args == (chain.submitted.id,)
    wrong = (MODEL, 11, 22, 7, 45)  # explanation digest differs from what the proof is for
    with pytest.raises(ProofRejected):
        await chain.adapter.attest(*wrong, *chain.proof)
    assert registry.functions.attestationCount().call() == 1
    assert registry.functions.isAttested(calldata.attestation_id(*wrong)).call() is False
    # the adapter's nonce tracking survived the failed transactions
    second = (MODEL, 12, 22, 7, 44)
    done = await chain.adapter.attest(*second, *chain.keys.attestation_proof(second, chain.adapter))
    assert registry.functions.attestationCount().call() == 2
    assert done.id == calldata.attestation_id(*second)


async def test_bad_calldata_is_refused_before_sending(chain: Chain) -> None:
    w3 = Web3(Web3.HTTPProvider(chain.url))
    head = w3.eth.block_number
    a, b, c = chain.proof
    with pytest.raises(CalldataError):
        await chain.adapter.attest(MODEL, R, 22, 7, 44, a, b, c)
    with pytest.raises(CalldataError):
        await chain.adapter.attest(MODEL[:31], 11, 22, 7, 44, a, b, c)
    with pytest.raises(CalldataError):
        await chain.adapter.attest(MODEL, 11, 22, 7, 44, [a[0], calldata.Q], b, c)
    with pytest.raises(CalldataError):
        await chain.adapter.deploy_registry(chain.keys.vk_calldata()[:4] + (chain.keys.vk_calldata()[4][:3],))
    assert w3.eth.block_number == head


async def test_reader_errors(chain: Chain) -> None:
    w3 = Web3(Web3.HTTPProvider(chain.url))
    with pytest.raises(AttestationNotFound):
        reader.read_attestation(w3, chain.deployment.registry, keccak(b"missing"))
    with pytest.raises(ContractMismatch):
        reader.read_attestation(w3, chain.adapter.address, chain.submitted.id)  # an EOA, no code
    with pytest.raises(ContractMismatch):
        reader.read_verifying_key(w3, chain.deployment.registry)  # a contract, but not a verifier


async def test_attach_existing_registry(chain: Chain) -> None:
    other = await EthereumAdapter.connect(chain.url, ANVIL_KEY, registry=chain.deployment.registry)
    try:
        assert other.deployment.verifier == chain.deployment.verifier
        with pytest.raises(DuplicateAttestation):
            await other.attest(*FIELDS, *chain.proof)
    finally:
        await other.close()
    with pytest.raises(ChainConnectionError):
        await EthereumAdapter.connect(f"http://127.0.0.1:{free_port()}", ANVIL_KEY)


async def test_gas_figures(chain: Chain, capsys: pytest.CaptureFixture[str]) -> None:
    assert 0 < chain.submitted.gas_used < chain.adapter.attest_gas
    assert 0 < chain.deploy_gas < 3_000_000
    with capsys.disabled():
        print(f"\n[gas] deploy verifier+registry: {chain.deploy_gas}, first attest: {chain.submitted.gas_used}")


async def test_revoke_on_anvil(chain: Chain) -> None:
    """A revocation through the adapter on a real node; the reader reports it."""
    adapter = await EthereumAdapter.connect(chain.url, ANVIL_KEY, registry=chain.deployment.registry)  # fresh nonce
    fields = (MODEL, 13, 22, 7, 44)
    try:
        done = await adapter.attest(*fields, *chain.keys.attestation_proof(fields, adapter))
        revoked = await adapter.revoke(done.id, RevocationReason.INPUT_INVALID)
        with pytest.raises(AlreadyRevoked):
            await adapter.revoke(done.id)
    finally:
        await adapter.close()
    w3 = Web3(Web3.HTTPProvider(chain.url))
    got = reader.read_attestation(w3, chain.deployment.registry, done.id)
    assert got.revoked and not got.model_revoked and got.revocation_reason == RevocationReason.INPUT_INVALID
    assert got.revoked_at == w3.eth.get_block(revoked.block_number)["timestamp"]


async def test_eas_resolver_on_anvil(chain: Chain) -> None:
    """EAS 1.9.0 from the npm artifacts + our resolver on anvil: a valid statement is attested, a wrong one refused."""
    adapter = await EthereumAdapter.connect(chain.url, ANVIL_KEY)  # fresh nonce
    try:
        contracts_ = await eas.deploy_eas(adapter)
        resolver = await eas.deploy_resolver(adapter, contracts_.eas, chain.deployment.verifier)
        schema = await eas.register_schema(adapter, contracts_.schema_registry, eas.ZKXAI_SCHEMA, resolver.address)
        # a proof bound to this resolver and its EAS attester (the registry's proof is refused here: other context)
        with pytest.raises(ProofRejected):
            await eas.attest(adapter, contracts_.eas, schema,
                             calldata.eas_attestation_data(*FIELDS, calldata.proof_words(*chain.proof)))
        proof = calldata.proof_words(*chain.keys.attestation_proof(FIELDS, adapter, registry=resolver.address))
        data = calldata.eas_attestation_data(*FIELDS, proof)
        done = await eas.attest(adapter, contracts_.eas, schema, data)
        stored = await eas.get_attestation(adapter, contracts_.eas, done.uid)
        assert stored["data"] == data and stored["attester"] == adapter.address
        with pytest.raises(ProofRejected):
            await eas.attest(adapter, contracts_.eas, schema, calldata.eas_attestation_data(MODEL, 11, 22, 7, 45, proof))
    finally:
        await adapter.close()


async def test_gas_report_on_anvil(chain: Chain) -> None:
    """scripts/gas_report.py against anvil: every row measured, in the expected ranges."""
    import json
    import sys

    script = Path(__file__).resolve().parent.parent / "scripts" / "gas_report.py"
    cmd = [sys.executable, str(script), "--rpc-url", chain.url, "--classes", "2", "--json"]
    result = await asyncio.to_thread(subprocess.run, cmd, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    rows = {r["operation"]: r["gas"] for r in json.loads(result.stdout)["rows"]}
    assert rows["registry attest (batched)"] is None
    assert 300_000 < rows["registry attest (single)"] < 400_000
    assert 200_000 < rows["verify (verifyProof, tx gasUsed)"] < rows["registry attest (single)"]
    assert 0 < rows["revoke (one attestation)"] < 60_000
    plain, checked = rows["EAS attest, plain schema (no resolver)"], rows["EAS attest + ZkxaiEASResolver"]
    assert plain + 200_000 < checked < plain + 400_000
