"""Waiting until a recorded statement is final, shared by the single and the batch confirm stages."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from node.chains.adapter import ChainAdapterError, ChainUnavailable, Dropped
from node.metrics import Metrics

log = logging.getLogger("zkxai.node")
T = TypeVar("T")


async def wait_final(confirm: Callable[[], Awaitable[T]], metrics: Metrics, what: str, chain: str) -> T:
    """``await confirm()`` until it answers: an unreachable chain is retried with backoff and slow blocks are waited
    out (the statement is recorded), however long. A reorg that removed it (:class:`~node.chains.adapter.Dropped`)
    is the caller's to handle: re-submitting is stage-specific. Retries count as ``confirm_retry`` on ``chain``.
    """
    delay = 0.5
    while True:
        try:
            return await confirm()
        except Dropped:
            raise
        except (ChainUnavailable, OSError, asyncio.TimeoutError) as exc:
            metrics.failure("confirm_retry", chain)
            log.warning("chain unreachable while confirming %s (%s); retrying in %.1f s", what, exc, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 30.0)
        except ChainAdapterError as exc:  # not deep enough in time (slow blocks): keep waiting
            log.warning("%s: %s; still waiting", what, exc)
