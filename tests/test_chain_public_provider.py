"""The Ethereum adapter behind a provider that behaves like a public one (:mod:`tests.provider_double`: block-range
cap, result cap, rate limit with HTTP 429) in front of a real anvil with 2 s blocks and 100k+ blocks of history.

History: anvil starts from a genesis at block 100,000 (:mod:`tests.anvil_history`: anvil_mine slows as the chain
grows, so 100k mined blocks would take too long); then blocks are mined between attestations. The caps are scaled to that history (range 500
blocks, 1 result: attestations come in pairs) so that every lookup needs many windows and meets both refusals; the
window starts at 400 blocks.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from eth_utils import keccak

from contracts_tiny_circuit import tiny_keys
from node.chains.ethereum.adapter import EthereumAdapter
from node.chains.ethereum.logscan import WindowPolicy
from node.chains.ethereum.provider import ProviderPolicy, WrongChain
from tests.anvil_history import GENESIS_BLOCK, rpc, running_history_anvil
from tests.node_harness import ANVIL_KEY
from tests.provider_double import ProviderDouble, ProviderLimits

pytestmark = [pytest.mark.npm, pytest.mark.asyncio(loop_scope="module")]


@pytest.fixture(scope="module")
def anvil(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_history_anvil(tmp_path_factory.mktemp("genesis"), "--block-time", "2") as url:
        yield url


@pytest.mark.slow
async def test_attests_and_finds_records_across_capped_history(anvil: str) -> None:
    double = ProviderDouble(anvil, ProviderLimits(max_range=500, max_results=1, rate_per_s=40, burst=20))
    with double as url:
        adapter = await EthereumAdapter.connect(url, ANVIL_KEY, logs=WindowPolicy(initial=400, settled_depth=16),
                                                provider=ProviderPolicy(backoff_s=0.05, max_attempts=12))
        try:
            keys = tiny_keys()
            deployment = await adapter.deploy_registry(keys.vk_calldata())
            assert deployment.block > GENESIS_BLOCK
            sent = []
            for i in range(6):
                if i % 2 == 0:
                    rpc(anvil, "anvil_mine", hex(1500 if i == 0 else 600))
                fields = (keccak(b"public model"), 100 + i, 200 + i, i % 3, 300 + i)
                a, b, c = keys.attestation_proof(fields, adapter)
                sent.append(await adapter.attest(*fields, a, b, c))
            rpc(anvil, "anvil_mine", hex(300))
            head = int(str(rpc(anvil, "eth_blockNumber")), 16)
            assert head - deployment.block >= 2_000 and head > GENESIS_BLOCK + 2_000

            for s in sent:  # point lookups at the record's block
                found = await adapter.find_own_attestation(s.id)
                assert found is not None and (found.tx_hash, found.block_number) == (s.tx_hash, s.block_number)

            scanned = await adapter.own_attestations()  # a windowed scan by the indexed attester topic
            assert [x.id for x in scanned] == [s.id for s in sent]
            first_queries = adapter.logs.queries
            again = await adapter.own_attestations()  # settled blocks come from the cache
            assert [x.id for x in again] == [s.id for s in sent]
            assert adapter.logs.queries - first_queries <= 3
        finally:
            await adapter.close()
    # both caps were met and absorbed (no lookup failed), every query started at or after the deployment block,
    # and the rate limit answered 429s that the provider backed off from
    assert double.stats["range_refused"] >= 1 and double.stats["results_refused"] >= 1, double.stats
    assert min(double.log_starts) >= deployment.block
    assert adapter.logs.window.refusals == double.stats["range_refused"] + double.stats["results_refused"]


async def test_rate_limit_is_backed_off_and_failover_skips_a_dead_endpoint(anvil: str) -> None:
    dead, limited = ProviderDouble(anvil), ProviderDouble(anvil, ProviderLimits(rate_per_s=5, burst=2))
    with dead as dead_url, limited as url:
        dead.down = True
        adapter = await EthereumAdapter.connect([dead_url, url], ANVIL_KEY,
                                                provider=ProviderPolicy(backoff_s=0.05, max_attempts=20))
        try:
            heights = [int(await adapter.w3.eth.block_number) for _ in range(12)]
        finally:
            await adapter.close()
    assert heights == sorted(heights) and heights[0] >= GENESIS_BLOCK
    assert dead.stats["down"] >= 1 and limited.stats["rate_limited"] >= 1


async def test_an_endpoint_on_another_chain_is_refused(anvil: str) -> None:
    other = ProviderDouble(anvil)
    with other as url:
        other.chain_id = 1
        with pytest.raises(WrongChain, match="chain 1, not 31337"):
            await EthereumAdapter.connect([url], ANVIL_KEY, chain_id=31337)


async def test_a_configured_registry_without_a_recorded_block_finds_its_deployment_block(anvil: str) -> None:
    """Attached by address only: the deployment block is found by a binary search over eth_getCode (~log2(head)
    calls through the capped, rate-limited double), and the attester's scan starts there, not at block 0. Behind a
    pruned endpoint (archive depth 64) the search stops at the first state it cannot read and starts at a safe lower
    bound instead (never after the deployment)."""
    deployer = await EthereumAdapter.connect(anvil, ANVIL_KEY)
    try:
        rpc(anvil, "anvil_mine", hex(300))  # the search spans [0, head] whatever the history mined
        deployment = await deployer.deploy_registry(tiny_keys().vk_calldata())
    finally:
        await deployer.close()
    rpc(anvil, "anvil_mine", hex(100))
    head = int(str(rpc(anvil, "eth_blockNumber")), 16)

    double = ProviderDouble(anvil, ProviderLimits(max_range=500, rate_per_s=40, burst=20))
    with double as url:
        adapter = await EthereumAdapter.connect(url, ANVIL_KEY, registry=deployment.registry,
                                                logs=WindowPolicy(initial=400, settled_depth=16),
                                                provider=ProviderPolicy(backoff_s=0.05, max_attempts=12))
        try:
            assert adapter.deployment.block == deployment.block > GENESIS_BLOCK
            assert await adapter.own_attestations() == []
        finally:
            await adapter.close()
    assert double.stats["method:eth_getCode"] <= 3 + head.bit_length(), double.stats  # attach's check + the search
    assert min(double.log_starts) == deployment.block

    pruned = ProviderDouble(anvil, ProviderLimits(archive_depth=64))
    with pruned as url:
        adapter = await EthereumAdapter.connect(url, ANVIL_KEY, registry=deployment.registry)
        try:
            assert adapter.deployment.block < deployment.block  # a safe start, not the deployment block
        finally:
            await adapter.close()
    assert pruned.stats["state_refused"] >= 1  # (refusals below the genesis block are of blocks that do not exist)
