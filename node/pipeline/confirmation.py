"""Waiting until a mined transaction is final, shared by the single and the batch confirm stages."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

from node.chains.ethereum.errors import (
    ChainConnectionError,
    ChainError,
)
from node.chains.ethereum.adapter import EthereumAdapter
from node.chains.ethereum.txmanager import TransactionDropped
from node.metrics import Metrics

log = logging.getLogger("zkxai.node")


async def wait_final(adapter: EthereumAdapter, tx_hash: str, block: int, confirmations: int, metrics: Metrics,
                     what: str) -> Mapping[str, Any]:
    """The receipt of ``tx_hash`` once it is ``confirmations`` blocks deep with its block still canonical.

    An unreachable chain is retried with backoff and slow blocks are waited out (the transaction is mined), however
    long; :class:`~node.chains.ethereum.txmanager.TransactionDropped` (a reorg removed it) is the caller's to handle:
    re-submitting is stage-specific.
    """
    delay = 0.5
    while True:
        try:
            return await adapter.confirm(tx_hash, block, confirmations)
        except TransactionDropped:
            raise
        except (ChainConnectionError, OSError, asyncio.TimeoutError) as exc:
            metrics.failures.labels("confirm_retry").inc()
            log.warning("chain unreachable while confirming %s (%s); retrying in %.1f s", what, exc, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 30.0)
        except ChainError as exc:  # not deep enough in time (slow blocks): it is mined, keep waiting
            log.warning("%s: %s; still waiting", what, exc)
