"""The in-process chain served over HTTP JSON-RPC (as the node mounts it at /rpc), read by a plain web3 client in
another thread, the way ``zkxai verify --rpc-url`` reads it from another process."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
import pytest_asyncio
from eth_utils import keccak
from web3 import Web3

import contracts
from contracts_tiny_circuit import tiny_keys
from node.chains.ethereum import (
    calldata,
    reader,
)
from node.chains.ethereum.errors import (
    AttestationNotFound,
    ProofRejected,
)
from node.chains.ethereum.adapter import (
    Deployment,
    EthereumAdapter,
    SubmittedAttestation,
)
from node.chains.ethereum.rpc_bridge import handle_rpc_request
from tests.node_harness import served_bridge

MODEL = keccak(b"bridge model")
FIELDS = (MODEL, 5, 6, 1, 8)

pytestmark = pytest.mark.asyncio(loop_scope="module")


@dataclass(frozen=True)
class Served:
    adapter: EthereumAdapter
    url: str
    deployment: Deployment
    submitted: SubmittedAttestation
    proof: tuple[list[int], list[list[int]], list[int]]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def served() -> AsyncIterator[Served]:
    adapter = await EthereumAdapter.in_process()
    keys = tiny_keys()
    deployment = await adapter.deploy_registry(keys.vk_calldata())
    proof = keys.attestation_proof(FIELDS, adapter)
    submitted = await adapter.attest(*FIELDS, *proof)

    async with served_bridge(adapter) as url:
        yield Served(adapter, url, deployment, submitted, proof)
    await adapter.close()


def _client(url: str) -> Web3:
    return Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": 30}))


async def test_reader_over_the_bridge(served: Served) -> None:
    w3 = _client(served.url)
    got = await asyncio.to_thread(reader.read_attestation, w3, served.deployment.registry, served.submitted.id)
    assert (got.model_hash, got.input_digest, got.prediction_digest, got.predicted_class, got.explanation_digest) == FIELDS
    assert got.tx_hash == served.submitted.tx_hash
    assert got.proof == calldata.proof_words(*served.proof)
    assert got.attester == served.adapter.address
    vk = await asyncio.to_thread(reader.read_verifying_key, w3, served.deployment.verifier)
    assert vk == calldata.verifying_key_words(tiny_keys().vk_calldata())
    assert await asyncio.to_thread(reader.registry_verifier, w3, served.deployment.registry) == served.deployment.verifier


async def test_custom_errors_cross_the_bridge(served: Served) -> None:
    w3 = _client(served.url)
    with pytest.raises(AttestationNotFound):
        await asyncio.to_thread(reader.read_attestation, w3, served.deployment.registry, keccak(b"absent"))


async def test_blocks_receipts_and_logs_decode_in_a_standard_client(served: Served) -> None:
    w3 = _client(served.url)

    def fetch() -> tuple[object, ...]:
        block = w3.eth.get_block(served.submitted.block_number, full_transactions=True)
        receipt = w3.eth.get_transaction_receipt(served.submitted.tx_hash)
        tx = w3.eth.get_transaction(served.submitted.tx_hash)
        return block, receipt, tx, w3.eth.chain_id, w3.eth.block_number

    block, receipt, tx, chain_id, head = await asyncio.to_thread(fetch)
    assert chain_id == served.adapter.chain_id
    assert head >= served.submitted.block_number
    assert len(block["logsBloom"]) == 256  # type: ignore[index]
    assert block["transactions"][0]["hash"].to_0x_hex() == served.submitted.tx_hash  # type: ignore[index]
    assert receipt["status"] == 1 and receipt["gasUsed"] == served.submitted.gas_used  # type: ignore[index]
    registry = w3.eth.contract(address=served.deployment.registry, abi=contracts.abi("AttestationRegistry"))
    (event,) = registry.events.Attested().process_receipt(receipt)  # type: ignore[arg-type]
    assert event["args"]["id"] == served.submitted.id
    assert tx["input"].to_0x_hex() == registry.encode_abi("attest", args=[*FIELDS, *served.proof])  # type: ignore[index]


async def test_state_changing_and_malformed_requests_are_refused(served: Served) -> None:
    adapter = served.adapter
    for method in ("eth_sendTransaction", "eth_sendRawTransaction", "evm_mine", "evm_revert", "personal_sign"):
        out = await handle_rpc_request(adapter, {"jsonrpc": "2.0", "id": 9, "method": method, "params": []})
        assert out["error"]["code"] == -32601 and out["id"] == 9
    assert (await handle_rpc_request(adapter, [{"jsonrpc": "2.0"}]))["error"]["code"] == -32600
    assert (await handle_rpc_request(adapter, {"id": 1, "method": "eth_chainId"}))["error"]["code"] == -32600
    bad = await handle_rpc_request(
        adapter, {"jsonrpc": "2.0", "id": 2, "method": "eth_getBlockByNumber", "params": ["not a block", False]}
    )
    assert "error" in bad and bad["id"] == 2


async def test_in_process_rejection_is_typed(served: Served) -> None:
    """A mined, failed attest on py-evm is decoded like on a real node (one tx + one replay: two pairings)."""
    with pytest.raises(ProofRejected):
        await served.adapter.attest(MODEL, 5, 6, 1, 9, *served.proof)
