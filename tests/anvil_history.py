"""anvil with a long history, cheaply: a genesis block numbered ``GENESIS_BLOCK`` (100,000) plus blocks mined on top.

What "100k+ blocks of history" means in the tests that use it: block numbers start at 100,000 (``--init`` with a
genesis of that number), so every query, window and binary search runs over block numbers past 100k, and the blocks
below the genesis do not exist (anvil answers them as out of range; nothing can be deployed or logged there). The
blocks actually mined on top are as many as is cheap: ``anvil_mine`` costs grow with the chain's length (~1 s per
1,000 blocks on a fresh chain, slower as it grows), so tests mine thousands, not 100k.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.node_harness import http, running_anvil

GENESIS_BLOCK = 100_000
#: anvil's first default account (its key is ``node_harness.ANVIL_KEY``), funded in the genesis.
ANVIL_ADDRESS = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"


def write_genesis(path: Path, number: int = GENESIS_BLOCK) -> Path:
    """A post-Cancun genesis numbered ``number`` funding :data:`ANVIL_ADDRESS`."""
    forks = ("homestead", "eip150", "eip155", "eip158", "byzantium", "constantinople", "petersburg", "istanbul",
             "berlin", "london")
    config = {"chainId": 31337, **{f"{f}Block": 0 for f in forks}, "shanghaiTime": 0, "cancunTime": 0,
              "terminalTotalDifficulty": 0, "terminalTotalDifficultyPassed": True}
    path.write_text(json.dumps({"config": config, "number": hex(number), "timestamp": "0x6500000",
                                "gasLimit": "0x1c9c380", "difficulty": "0x0", "baseFeePerGas": "0x3b9aca00",
                                "alloc": {ANVIL_ADDRESS: {"balance": hex(10**24)}}}))
    return path


def rpc(url: str, method: str, *params: object) -> object:
    """One JSON-RPC call straight to anvil; asserts no error; the result."""
    status, answer = http("POST", url, json.dumps({"jsonrpc": "2.0", "id": 1, "method": method,
                                                  "params": list(params)}).encode(), timeout=120)
    assert status == 200 and "error" not in answer, answer
    return answer["result"]


@contextmanager
def running_history_anvil(directory: Path, *extra: str) -> Iterator[str]:
    """anvil from a genesis at :data:`GENESIS_BLOCK` (``extra``: e.g. ``"--block-time", "2"``); yields its URL."""
    genesis = write_genesis(directory / "genesis.json")
    with running_anvil(extra=("--init", str(genesis), *extra)) as url:
        yield url
