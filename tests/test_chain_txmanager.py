"""The transaction manager on anvil: fee bumping of a stuck transaction and re-submission after a reorg.

anvil's automine is switched off (``evm_setAutomine``) to keep a transaction pending, and ``evm_snapshot`` /
``evm_revert`` stand in for a reorg that drops a mined attestation.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_asyncio
from eth_utils import keccak
from hexbytes import HexBytes
from web3 import Web3

import contracts
from contracts_tiny_circuit import TinyKeys, tiny_keys
from node.chains.ethereum import calldata
from node.chains.ethereum.errors import ChainError
from node.chains.ethereum.adapter import (
    Deployment,
    EthereumAdapter,
)
from node.chains.ethereum.txmanager import (
    FeePolicy,
    TransactionDropped,
    bumped_fees,
)
from tests.node_harness import ANVIL_KEY, anvil_rpc, automine_off, pending_txs, wait_for

MODEL = keccak(b"txmanager model")
FAST = FeePolicy(bump_after_s=1.0, poll_s=0.05, receipt_timeout_s=60.0)


# ---------------------------------------------------------------------------------------------- fee arithmetic

def test_bumped_fees_raise_both_by_at_least_an_eighth() -> None:
    policy = FeePolicy()
    priority, fee = bumped_fees(1_000_000_000, 3_000_000_000, 1_000_000_000, policy) or (0, 0)
    assert priority >= 1_125_000_000 and fee >= 3_375_000_000
    assert fee >= 2 * 1_000_000_000 + priority  # still includable at the current base fee
    # rounding goes up, so tiny fees still rise by >= 12.5 %
    assert bumped_fees(1, 7, 0, policy) == (2, 8)
    # a base fee that jumped: the max fee follows it, not just the 12.5 % step
    assert bumped_fees(10, 100, 1_000, policy) == (12, 2_012)


def test_bumped_fees_respect_the_cap() -> None:
    capped = FeePolicy(max_fee_wei=3_400_000_000)
    assert bumped_fees(1_000_000_000, 3_000_000_000, 0, capped) == (1_125_000_000, 3_375_000_000)
    # the next step would need 3.797 gwei > cap: no valid replacement exists
    assert bumped_fees(1_125_000_000, 3_375_000_000, 0, capped) is None
    # the cap clips the base-fee term but the replacement stays >= 12.5 % above the original
    assert bumped_fees(1_000_000_000, 3_000_000_000, 2 * 10**9, capped) == (1_125_000_000, 3_400_000_000)


def test_fee_policy_refuses_a_bump_below_the_replacement_rule() -> None:
    with pytest.raises(ValueError):
        FeePolicy(bump_numerator=110, bump_denominator=100)
    with pytest.raises(ValueError):
        FeePolicy(bump_after_s=0)
    FeePolicy(bump_numerator=2, bump_denominator=1)


# ---------------------------------------------------------------------------------------------- anvil

@dataclass(frozen=True)
class Chain:
    url: str
    w3: Web3
    keys: TinyKeys
    deployment: Deployment


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def chain(anvil_url: str) -> AsyncIterator[Chain]:
    adapter = await EthereumAdapter.connect(anvil_url, ANVIL_KEY)
    keys = tiny_keys()
    deployment = await adapter.deploy_registry(keys.vk_calldata())
    await adapter.close()
    yield Chain(anvil_url, Web3(Web3.HTTPProvider(anvil_url)), keys, deployment)


@pytest.fixture
def manual_mining(chain: Chain) -> Iterator[None]:
    with automine_off(chain.w3):
        yield



async def _adapter(chain: Chain, fees: FeePolicy = FAST) -> EthereumAdapter:
    return await EthereumAdapter.connect(chain.url, ANVIL_KEY, registry=chain.deployment.registry, fees=fees)


def _attested_events(chain: Chain, ident: bytes) -> list[Any]:
    registry = chain.w3.eth.contract(address=chain.deployment.registry, abi=contracts.abi("AttestationRegistry"))
    return list(registry.events.Attested().get_logs(from_block=0, argument_filters={"id": ident}))


def _fields(n: int) -> tuple[bytes, int, int, int, int]:
    return (MODEL, 100 + n, 22, 1, 44)


@pytest.mark.npm
@pytest.mark.asyncio(loop_scope="module")
async def test_stuck_send_is_fee_bumped_and_the_replacement_mined(
    chain: Chain, manual_mining: None, caplog: pytest.LogCaptureFixture
) -> None:
    adapter = await _adapter(chain)
    w3 = chain.w3
    try:
        nonce = w3.eth.get_transaction_count(adapter.address)
        caplog.set_level(logging.INFO, logger="zkxai.chain.tx")
        task = asyncio.create_task(adapter.send(adapter.address, "0x", 21_000, "plain send"))
        original = await wait_for(lambda: pending_txs(w3, adapter.address).get(nonce))
        replacement = await wait_for(
            lambda: (tx := pending_txs(w3, adapter.address).get(nonce)) and tx["hash"] != original["hash"] and tx
        )
        assert not task.done()
        got = w3.eth.get_transaction(replacement["hash"])
        assert got["nonce"] == nonce
        assert 8 * got["maxPriorityFeePerGas"] >= 9 * int(original["maxPriorityFeePerGas"], 16)
        assert 8 * got["maxFeePerGas"] >= 9 * int(original["maxFeePerGas"], 16)
        anvil_rpc(w3, "evm_mine")
        mined = await asyncio.wait_for(task, 20)
        # the receipt returned is of the replacement actually mined (it may have been bumped again meanwhile)
        block = w3.eth.get_block(mined.block_number)
        assert [HexBytes(h).to_0x_hex() for h in block["transactions"]] == [mined.tx_hash]
        assert w3.eth.get_transaction(mined.tx_hash)["nonce"] == nonce
        assert mined.tx_hash != original["hash"]
        assert w3.eth.get_transaction_count(adapter.address) == nonce + 1  # one nonce used
        assert "resent as" in caplog.text and ANVIL_KEY[2:] not in caplog.text
    finally:
        await adapter.close()


@pytest.mark.npm
@pytest.mark.asyncio(loop_scope="module")
async def test_stuck_attest_is_bumped_and_attested_once(chain: Chain, manual_mining: None) -> None:
    adapter = await _adapter(chain)
    w3 = chain.w3
    fields = _fields(1)
    proof = chain.keys.attestation_proof(fields, adapter)
    try:
        nonce = w3.eth.get_transaction_count(adapter.address)
        task = asyncio.create_task(adapter.attest(*fields, *proof))
        original = await wait_for(lambda: pending_txs(w3, adapter.address).get(nonce))
        replacement = await wait_for(
            lambda: (tx := pending_txs(w3, adapter.address).get(nonce)) and tx["hash"] != original["hash"] and tx
        )
        got = w3.eth.get_transaction(replacement["hash"])
        assert got["maxFeePerGas"] > int(original["maxFeePerGas"], 16)
        anvil_rpc(w3, "evm_mine")
        done = await asyncio.wait_for(task, 20)
        assert done.tx_hash != original["hash"] and done.id == calldata.attestation_id(*fields)
        assert w3.eth.get_transaction_count(adapter.address) == nonce + 1
        events = _attested_events(chain, done.id)
        assert len(events) == 1 and HexBytes(events[0]["transactionHash"]).to_0x_hex() == done.tx_hash
    finally:
        await adapter.close()


@pytest.mark.npm
@pytest.mark.asyncio(loop_scope="module")
async def test_fee_cap_stops_bumping_and_the_original_is_mined(
    chain: Chain, manual_mining: None, caplog: pytest.LogCaptureFixture
) -> None:
    w3 = chain.w3
    base = int(w3.eth.get_block("latest")["baseFeePerGas"])
    # the original offers 2 * base + 1 gwei; a cap just above it leaves no room for a 12.5 % replacement
    adapter = await _adapter(chain, FeePolicy(bump_after_s=0.3, poll_s=0.05, max_fee_wei=2 * base + 10**9 + 1))
    try:
        nonce = w3.eth.get_transaction_count(adapter.address)
        caplog.set_level(logging.INFO, logger="zkxai.chain.tx")
        task = asyncio.create_task(adapter.send(adapter.address, "0x", 21_000, "capped send"))
        original = await wait_for(lambda: pending_txs(w3, adapter.address).get(nonce))
        await wait_for(lambda: "fee cap" in caplog.text)
        assert pending_txs(w3, adapter.address)[nonce]["hash"] == original["hash"]
        anvil_rpc(w3, "evm_mine")
        mined = await asyncio.wait_for(task, 20)
        assert mined.tx_hash == original["hash"]
    finally:
        await adapter.close()


@pytest.mark.npm
@pytest.mark.asyncio(loop_scope="module")
async def test_no_receipt_in_time_is_a_chain_error(chain: Chain, manual_mining: None) -> None:
    adapter = await _adapter(chain, FeePolicy(bump_after_s=0.3, poll_s=0.05, receipt_timeout_s=1.5))
    try:
        with pytest.raises(ChainError, match="no receipt"):
            await adapter.send(adapter.address, "0x", 21_000, "never mined")
    finally:
        anvil_rpc(chain.w3, "evm_mine")  # clear the pool for the next test
        await adapter.close()


@pytest.mark.npm
@pytest.mark.asyncio(loop_scope="module")
async def test_reorged_attestation_is_resubmitted_once(chain: Chain, caplog: pytest.LogCaptureFixture) -> None:
    w3 = chain.w3
    # no fee bump within the test: the re-submission must come from the reorg check, not from a bump
    adapter = await _adapter(chain, FeePolicy(bump_after_s=60.0, poll_s=0.05))
    fields = _fields(2)
    ident = calldata.attestation_id(*fields)
    proof = chain.keys.attestation_proof(fields, adapter)
    snapshot = anvil_rpc(w3, "evm_snapshot")
    stop_mining = asyncio.Event()

    async def miner() -> None:
        while not stop_mining.is_set():
            await asyncio.to_thread(anvil_rpc, w3, "evm_mine")
            await asyncio.sleep(0.2)

    caplog.set_level(logging.INFO)
    try:
        task = asyncio.create_task(adapter.attest_confirmed(*fields, *proof, confirmations=3))
        first = await wait_for(lambda: _attested_events(chain, ident))
        first_hash = HexBytes(first[0]["transactionHash"]).to_0x_hex()
        await asyncio.sleep(1.0)  # the adapter polls every 0.05 s: it has the receipt and now waits for depth
        assert not task.done()  # still waiting for depth 3 (automine mined only the including block)
        assert anvil_rpc(w3, "evm_revert", snapshot) is True  # the "reorg": the attestation's block is gone
        assert _attested_events(chain, ident) == []
        mining = asyncio.create_task(miner())
        done = await asyncio.wait_for(task, 30)
        stop_mining.set()
        await mining
        assert "submitting again" in caplog.text
        events = _attested_events(chain, ident)
        assert len(events) == 1
        assert HexBytes(events[0]["transactionHash"]).to_0x_hex() == done.tx_hash
        assert int(events[0]["blockNumber"]) == done.block_number
        assert w3.eth.block_number - done.block_number + 1 >= 3
        receipt = w3.eth.get_transaction_receipt(done.tx_hash)
        assert receipt["blockHash"] == w3.eth.get_block(done.block_number)["hash"]
        # the dropped transaction is not in the canonical chain (its nonce was reused by the re-submission)
        assert w3.eth.get_transaction(done.tx_hash)["nonce"] == w3.eth.get_transaction_count(adapter.address) - 1
        with pytest.raises(Exception):
            w3.eth.get_transaction_receipt(first_hash)
    finally:
        stop_mining.set()
        await adapter.close()


@pytest.mark.npm
@pytest.mark.asyncio(loop_scope="module")
async def test_confirm_detects_a_dropped_transaction(chain: Chain) -> None:
    w3 = chain.w3
    adapter = await _adapter(chain)
    try:
        snapshot = anvil_rpc(w3, "evm_snapshot")
        sent = await adapter.send(adapter.address, "0x", 21_000, "to be dropped")
        dropped_nonce = w3.eth.get_transaction(sent.tx_hash)["nonce"]
        assert (await adapter.confirm(sent.tx_hash, sent.block_number, 1))["blockNumber"] == sent.block_number
        anvil_rpc(w3, "evm_revert", snapshot)
        with pytest.raises(TransactionDropped):
            await adapter.confirm(sent.tx_hash, sent.block_number, 1)
        # the nonce was re-read: the next transaction is mined, not stuck behind a gap
        again = await asyncio.wait_for(adapter.send(adapter.address, "0x", 21_000, "after the drop"), 10)
        assert w3.eth.get_transaction(again.tx_hash)["nonce"] == dropped_nonce
    finally:
        await adapter.close()


@pytest.mark.npm
@pytest.mark.asyncio(loop_scope="module")
async def test_nonce_taken_by_a_foreign_transaction_is_an_error(chain: Chain, manual_mining: None) -> None:
    """Another signer with the same key replaces our pending transaction: no receipt of ours can ever come."""
    from eth_account import Account

    w3 = chain.w3
    adapter = await _adapter(chain, FeePolicy(bump_after_s=0.5, poll_s=0.05))
    try:
        nonce = w3.eth.get_transaction_count(adapter.address)
        task = asyncio.create_task(adapter.send(adapter.address, "0x", 21_000, "ours"))
        ours = await wait_for(lambda: pending_txs(w3, adapter.address).get(nonce))
        foreign = Account.from_key(ANVIL_KEY).sign_transaction({
            "type": 2, "chainId": w3.eth.chain_id, "nonce": nonce, "gas": 21_000, "to": adapter.address,
            "value": 1, "maxPriorityFeePerGas": 50 * 10**9, "maxFeePerGas": 90 * 10**9,
        })
        foreign_hash = w3.eth.send_raw_transaction(foreign.raw_transaction)
        anvil_rpc(w3, "evm_mine")
        assert w3.eth.get_transaction_receipt(foreign_hash)["status"] == 1
        with pytest.raises(ChainError, match="did not send"):
            await asyncio.wait_for(task, 20)
        assert ours["hash"] != HexBytes(foreign_hash).to_0x_hex()
        # the adapter re-reads its nonce after the error: the next transaction goes through
        anvil_rpc(w3, "evm_setAutomine", True)
        after = await asyncio.wait_for(adapter.send(adapter.address, "0x", 21_000, "after"), 10)
        assert w3.eth.get_transaction(after.tx_hash)["nonce"] == nonce + 1
    finally:
        await adapter.close()
