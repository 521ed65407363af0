"""The light verifier's JSON-RPC client (``zkxai verify``) behind :mod:`tests.provider_double` (a TEST DOUBLE of a
public provider) rate limiting a real anvil: 429s are waited out (the endpoint's Retry-After honoured), batches
included, and a limit that never lifts ends in :class:`RateLimited` after the attempts allowed."""

from __future__ import annotations

import time

import pytest

from node.chains.ethereum.jsonrpc import JsonRpc, RateLimited
from tests.node_harness import running_anvil
from tests.provider_double import ProviderDouble, ProviderLimits

pytestmark = pytest.mark.npm


def test_rate_limits_are_backed_off_honouring_retry_after_and_bounded() -> None:
    with running_anvil() as anvil:
        double = ProviderDouble(anvil, ProviderLimits(rate_per_s=4, burst=2, retry_after=0.3))
        with double as url:
            client = JsonRpc(url)
            try:
                heights = [int(client.call("eth_blockNumber"), 16) for _ in range(6)]
                chain_id, head = client.batch([("eth_chainId", []), ("eth_blockNumber", [])])
            finally:
                client.close()
            assert heights == sorted(heights) and int(chain_id, 16) == 31337 and int(head, 16) >= heights[-1]
            assert double.stats["rate_limited"] >= 1 and len(client.waits) == double.stats["rate_limited"]
            assert set(client.waits) == {0.3}  # the endpoint's Retry-After, not the client's own delay

            double.limits.rate_per_s, double.limits.retry_after = 0.01, None  # a limit that does not lift
            double._tokens = 0.0
            stubborn = JsonRpc(url, max_attempts=3, backoff_s=0.05)
            t0 = time.monotonic()
            with pytest.raises(RateLimited, match="after 3 attempts"):
                stubborn.call("eth_blockNumber")
            stubborn.close()
            assert stubborn.waits == [0.05, 0.1] and time.monotonic() - t0 < 5
