"""What a public network does that anvil does not by default, reproduced on a real anvil: a deployment reorged out
before its confirmations (evm_snapshot / evm_revert), an empty signer (anvil_setBalance), a dropped transaction in
a window of pipelined nonces (automine off, anvil_dropTransaction), and 1 s blocks (--block-time 1) limiting
single-mode throughput to one transaction per block unless several are in flight."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator

import pytest
from eth_utils import keccak

from contracts_tiny_circuit import tiny_keys
from node.chains.adapter import SignerUnfunded, Statement
from node.chains.ethereum.adapter import EthereumAdapter
from node.chains.ethereum.chain import EthereumChain, statement_id
from node.chains.ethereum.txmanager import FeePolicy
from node.metrics import Metrics
from node.pipeline import submission
from tests.node_harness import ANVIL_KEY, http, running_anvil

pytestmark = [pytest.mark.npm, pytest.mark.asyncio(loop_scope="module")]
ADDRESS = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"


def rpc(url: str, method: str, *params: object) -> object:
    status, answer = http("POST", url, json.dumps({"jsonrpc": "2.0", "id": 1, "method": method,
                                                  "params": list(params)}).encode())
    assert status == 200 and "error" not in answer, answer
    return answer["result"]


class Miner:
    """Mines a block every ``period`` s (anvil's automine mines only blocks with transactions)."""

    def __init__(self, url: str, period: float = 0.25) -> None:
        self.url, self.period, self._stop = url, period, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.period):
            rpc(self.url, "evm_mine")

    def __enter__(self) -> Miner:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)


def claims(keys, adapter, n: int, tag: bytes) -> list[tuple[Statement, tuple[int, ...]]]:
    out = []
    for i in range(n):
        fields = (keccak(tag), 10 + i, 20 + i, i % 3, 30 + i)
        a, b, c = keys.attestation_proof(fields, adapter)
        out.append((Statement(*fields), (a[0], a[1], b[0][0], b[0][1], b[1][0], b[1][1], c[0], c[1])))
    return out


@pytest.fixture(scope="module")
def anvil() -> Iterator[str]:
    with running_anvil() as url:
        yield url


async def _wait(predicate, timeout: float = 30.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not (value := await asyncio.to_thread(predicate)):
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.05)
    return value


async def test_a_deployment_reorged_out_before_its_confirmations_is_redone(anvil: str) -> None:
    snapshot = rpc(anvil, "evm_snapshot")
    start_nonce = int(str(rpc(anvil, "eth_getTransactionCount", ADDRESS, "latest")), 16)
    adapter = await EthereumAdapter.connect(anvil, ANVIL_KEY, deploy_confirmations=4, fees=FeePolicy(poll_s=0.05))
    try:
        task = asyncio.create_task(adapter.deploy_registry(tiny_keys().vk_calldata()))
        await _wait(lambda: int(str(rpc(anvil, "eth_getTransactionCount", ADDRESS, "latest")), 16) >= start_nonce + 2)
        assert not task.done()  # mined, waiting for its confirmations
        rpc(anvil, "evm_revert", snapshot)  # the two deployment blocks are gone
        with Miner(anvil):
            deployment = await asyncio.wait_for(task, 60)
        assert adapter.redeploys == 1
        block = rpc(anvil, "eth_getBlockByNumber", hex(deployment.block), False)
        receipt = rpc(anvil, "eth_getTransactionReceipt", deployment.registry_tx)
        assert isinstance(block, dict) and isinstance(receipt, dict) and block["hash"] == receipt["blockHash"]
        assert rpc(anvil, "eth_getCode", deployment.registry, "latest") != "0x"
        assert int(str(rpc(anvil, "eth_blockNumber")), 16) - deployment.block + 1 >= 4
    finally:
        await adapter.close()


async def test_an_empty_signer_stops_submission_with_a_reason_until_funded(anvil: str,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    adapter = await EthereumAdapter.connect(anvil, ANVIL_KEY, fees=FeePolicy(poll_s=0.05))
    chain = EthereumChain(adapter)
    try:
        keys = tiny_keys()
        await adapter.deploy_registry(keys.vk_calldata())
        [(statement, words)] = claims(keys, adapter, 1, b"unfunded")
        rpc(anvil, "anvil_setBalance", ADDRESS, hex(10**9))
        problem = await chain.funding_problem()
        assert problem is not None and "fund the signer" in problem and ADDRESS in problem
        with pytest.raises(SignerUnfunded):
            await chain.submit(statement, words)
        monkeypatch.setattr(submission, "UNFUNDED_RECHECK_S", 0.2)
        metrics = Metrics()
        recording = asyncio.create_task(submission.record(chain, statement, words, metrics, "request x"))
        await _wait(lambda: metrics.signer_funded.labels("ethereum")._value.get() == 0 or None)
        await asyncio.sleep(1.0)
        assert not recording.done()  # stopped, not failing
        rpc(anvil, "anvil_setBalance", ADDRESS, hex(10**21))
        recorded = await asyncio.wait_for(recording, 30)
        assert recorded.submitted.attestation_id == "0x" + statement_id(statement).hex() and recorded.attempts == 0
        assert metrics.signer_funded.labels("ethereum")._value.get() == 1
        assert metrics.failures.labels("signer_unfunded", "ethereum")._value.get() == 1  # one stop, not a loop
        assert await chain.funding_problem() is None
    finally:
        await chain.close()


async def test_pipelined_nonces_refill_a_dropped_transaction_exactly_once(anvil: str) -> None:
    adapter = await EthereumAdapter.connect(anvil, ANVIL_KEY, fees=FeePolicy(poll_s=0.05, bump_after_s=1.0))
    chain = EthereumChain(adapter)
    try:
        keys = tiny_keys()
        await adapter.deploy_registry(keys.vk_calldata())
        work = claims(keys, adapter, 3, b"pipelined")
        first = int(str(rpc(anvil, "eth_getTransactionCount", ADDRESS, "latest")), 16)
        rpc(anvil, "evm_setAutomine", False)
        try:
            sends = [asyncio.create_task(chain.submit(s, w)) for s, w in work]

            def pool() -> dict[int, str] | None:
                content = rpc(anvil, "txpool_content")["pending"]  # type: ignore[index]
                mine = next((t for a, t in content.items() if a.lower() == ADDRESS.lower()), {})
                return {int(n): t["hash"] for n, t in mine.items()} if len(mine) == 3 else None

            in_flight = await _wait(pool)
            assert sorted(in_flight) == [first, first + 1, first + 2]  # three nonces in flight at once
            rpc(anvil, "anvil_dropTransaction", in_flight[first + 1])  # a gap: first + 2 cannot be mined
            with Miner(anvil, 0.3):
                results = await asyncio.wait_for(asyncio.gather(*sends), 60)
        finally:
            rpc(anvil, "evm_setAutomine", True)
        assert sorted(r.attestation_id for r in results) == sorted("0x" + statement_id(s).hex() for s, _ in work)
        assert len({r.tx_id for r in results}) == 3
        assert results[1].tx_id != in_flight[first + 1]  # the refilled, fee-bumped replacement was mined
        assert int(str(rpc(anvil, "eth_getTransactionCount", ADDRESS, "latest")), 16) == first + 3  # exactly once
        for statement, _ in work:
            found = await chain.find(statement)
            assert found is not None and found.attester == ADDRESS
    finally:
        await chain.close()


async def _throughput(chain: EthereumChain, work: list[tuple[Statement, tuple[int, ...]]], window: int) -> float:
    gate = asyncio.Semaphore(window)

    async def one(statement: Statement, words: tuple[int, ...]) -> None:
        async with gate:
            await chain.submit(statement, words)

    t0 = time.monotonic()
    await asyncio.gather(*(one(s, w) for s, w in work))
    return len(work) / (time.monotonic() - t0)


@pytest.mark.slow
async def test_one_second_blocks_pipelining_lifts_the_one_transaction_per_block_limit() -> None:
    with running_anvil(extra=("--block-time", "1")) as url:
        adapter = await EthereumAdapter.connect(url, ANVIL_KEY, fees=FeePolicy(poll_s=0.05))
        chain = EthereumChain(adapter)
        try:
            keys = tiny_keys()
            await adapter.deploy_registry(keys.vk_calldata())
            before = await _throughput(chain, claims(keys, adapter, 5, b"window 1"), 1)
            after = await _throughput(chain, claims(keys, adapter, 5, b"window 5"), 5)
        finally:
            await chain.close()
    print(f"\n[bench] 1 s blocks: window 1 -> {before:.2f} attestations/s, window 5 -> {after:.2f} attestations/s")
    assert before < 1.2 and after > 2 * before
