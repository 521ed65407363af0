"""The block a contract was deployed at, found from the chain: for a registry configured by address (``chain.registry``
/ ``chain.batch_registry``) whose deployment this node did not record, so event queries start there instead of at
block 0 (on a public chain: millions of blocks of ``eth_getLogs`` windows).

Neither registry stores its own deployment block, so :func:`find_deployment_block` binary-searches ``eth_getCode``
by block: the smallest block whose state holds code at the address (~log2(head) calls: 17 for 100k blocks, 25 for
20 M). A contract cannot lose its code (no ``SELFDESTRUCT`` in the registries), so "code at block b" is monotone.

Historical state: a block that does not exist (a chain whose first block is above 0, e.g. anvil started from a
genesis at block 100,000) holds nothing, so the search moves above it. A block that exists but whose state the
endpoint cannot serve (a pruned, non-archive node: "missing trie node", "header not found") stops the search: the
largest block known to hold no code (or 0) is returned, a safe start that may scan more than needed, and a warning
says so. A connection failure is raised (:class:`~node.chains.ethereum.errors.ChainConnectionError`).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from web3 import AsyncWeb3
from web3.exceptions import Web3Exception

from node.chains.ethereum.errors import ChainConnectionError, ContractMismatch

log = logging.getLogger("zkxai.chain")


@dataclass(frozen=True)
class DeploymentBlock:
    """The search's answer: ``block`` to start event queries at; ``exact`` when it is the deployment block itself
    (False: a safe lower bound, the endpoint could not serve older state); ``calls``: ``eth_getCode`` calls made."""

    block: int
    exact: bool
    calls: int


class _StateUnavailable(Exception):
    """The block exists but the endpoint cannot serve its state."""


async def _has_code(w3: AsyncWeb3, address: str, block: int) -> bool:
    try:
        return len(await w3.eth.get_code(address, block)) > 0  # type: ignore[arg-type]
    except (OSError, asyncio.TimeoutError) as exc:
        raise ChainConnectionError(f"eth_getCode({address}, {block}): {exc}") from exc
    except (Web3Exception, ValueError) as exc:
        try:
            exists = await w3.eth.get_block(block)
        except (Web3Exception, ValueError):  # web3 raises BlockNotFound for a null answer
            exists = None
        except (OSError, asyncio.TimeoutError) as exc2:
            raise ChainConnectionError(f"eth_getBlockByNumber({block}): {exc2}") from exc2
        if exists is None:
            return False  # no such block: nothing was deployed in it
        raise _StateUnavailable(str(exc)) from exc


async def find_deployment_block(w3: AsyncWeb3, address: str, head: int | None = None) -> DeploymentBlock:
    """The first block with code at ``address`` (see the module docstring); ContractMismatch when it has none at
    ``head`` (default: the latest block)."""
    if head is None:
        try:
            head = int(await w3.eth.block_number)
        except (OSError, asyncio.TimeoutError) as exc:
            raise ChainConnectionError(f"eth_blockNumber: {exc}") from exc
    calls = 1
    if not await _has_code(w3, address, head):
        raise ContractMismatch(f"no contract at {address} at block {head}")
    low, high = -1, head  # invariant: no code at low (or low = -1), code at high
    while high - low > 1:
        mid = (low + high) // 2
        calls += 1
        try:
            found = await _has_code(w3, address, mid)
        except _StateUnavailable as exc:
            start = max(low, 0)
            log.warning("the RPC endpoint cannot serve the state of block %d (%s): event queries of %s start at block "
                        "%d (a safe lower bound, not its deployment block); an archive endpoint finds it exactly",
                        mid, exc, address, start)
            return DeploymentBlock(start, False, calls)
        if found:
            high = mid
        else:
            low = mid
    log.info("%s was deployed at block %d (found with %d eth_getCode calls)", address, high, calls)
    return DeploymentBlock(high, True, calls)


__all__ = ["DeploymentBlock", "find_deployment_block"]
