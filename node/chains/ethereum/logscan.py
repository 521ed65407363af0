"""Bounded event lookups: ``eth_getLogs`` in block windows that adapt to the provider's caps, by indexed topic,
from the registry's deployment block, with a cache of what was already scanned.

Public providers refuse log queries over too many blocks (2k-10k typically) or returning too many results (10k):
:class:`AdaptiveWindow` starts at ``WindowPolicy.initial`` blocks, halves (or takes the provider's suggested range)
on such a refusal (:mod:`node.chains.ethereum.rpc_errors`), and doubles after ``grow_after`` cheap windows (fewer
than ``cheap_results`` logs), up to ``maximum``. The window is kept per scanner, so what one lookup learnt about the
provider, the next one uses.

:class:`LogScanner` walks ``[from_block, to_block]`` in such windows. Logs of blocks at least ``settled_depth`` below
the head at the time of the scan are cached with the range they cover (per address and topic filter): a later scan
of the same filter asks only for blocks after that; newer blocks, which a reorg can still change, are asked again
each time.

Point lookups come first wherever the contract stores where its record is (both registries keep the record's block
number): ``eth_getLogs`` over that one block, with the record's id as topic. The windowed scan is the fallback (a
reorg moved the record between the two reads) and the way to list records (e.g. all of one attester's).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from node.chains.ethereum.errors import ChainError
from node.chains.ethereum.rpc_errors import RANGE_TOO_LARGE, TOO_MANY_RESULTS, RpcRefusal, classify_exception

log = logging.getLogger("zkxai.chain.logs")

Topic = str | None | Sequence[str]
GetLogs = Callable[[dict[str, Any]], Awaitable[list[Any]]]


class LogQueryRefused(ChainError):
    """The provider refuses a log query even over the smallest window (``WindowPolicy.minimum`` blocks)."""

    code = "log_query_refused"


@dataclass(frozen=True)
class WindowPolicy:
    """Block windows of ``eth_getLogs`` (config ``chain.logs_window_blocks`` sets ``initial``)."""

    initial: int = 2_000
    minimum: int = 1
    maximum: int = 100_000
    #: A window returning fewer logs than this is cheap; after ``grow_after`` cheap windows in a row it doubles.
    cheap_results: int = 1_000
    grow_after: int = 2
    #: Blocks below the head after which logs are cached (a reorg deeper than this is not expected).
    settled_depth: int = 64

    def __post_init__(self) -> None:
        if not 1 <= self.minimum <= self.initial <= self.maximum or self.grow_after < 1 or self.settled_depth < 0:
            raise ValueError("window policy: 1 <= minimum <= initial <= maximum, grow_after >= 1, settled_depth >= 0")


class AdaptiveWindow:
    """The current window size (blocks per query) and how it changes."""

    def __init__(self, policy: WindowPolicy) -> None:
        self.policy = policy
        self.size = policy.initial
        self._cheap = 0
        #: Provider refusals seen (range or result caps), for logs and tests.
        self.refusals = 0

    def shrink(self, refusal: RpcRefusal, tried: int) -> None:
        """After a refusal of a ``tried``-block query: the provider's hint, else half of it."""
        self.refusals += 1
        self._cheap = 0
        hinted = refusal.hint[1] - refusal.hint[0] + 1 if refusal.hint else None
        new = hinted if hinted is not None and 0 < hinted < tried else tried // 2
        if tried <= self.policy.minimum:
            raise LogQueryRefused(f"the provider refuses eth_getLogs even over {tried} block(s) ({refusal.kind})")
        self.size = max(self.policy.minimum, new)
        log.info("eth_getLogs: %s over %d blocks; window now %d blocks", refusal.kind, tried, self.size)

    def succeeded(self, blocks: int, results: int) -> None:
        """After a successful query of ``blocks`` blocks returning ``results`` logs."""
        if blocks < self.size or results >= self.policy.cheap_results:
            self._cheap = 0
            return
        self._cheap += 1
        if self._cheap >= self.policy.grow_after and self.size < self.policy.maximum:
            self.size = min(self.policy.maximum, self.size * 2)
            self._cheap = 0


@dataclass(frozen=True)
class _Cached:
    """Logs of one filter over ``[start, end]`` (settled blocks only)."""

    start: int
    end: int
    logs: tuple[Any, ...]


class LogScanner:
    """Windowed ``eth_getLogs`` through ``get_logs`` (web3's ``w3.eth.get_logs`` or a JSON-RPC call)."""

    def __init__(self, get_logs: GetLogs, policy: WindowPolicy | None = None) -> None:
        self._get_logs = get_logs
        self.window = AdaptiveWindow(policy or WindowPolicy())
        self._cache: dict[tuple[str, str], _Cached] = {}
        #: Queries sent (for tests and benchmarks).
        self.queries = 0

    @property
    def policy(self) -> WindowPolicy:
        return self.window.policy

    async def query(self, address: str, topics: Sequence[Topic], start: int, end: int) -> list[Any]:
        """Logs of ``[start, end]``, split into windows as the provider requires."""
        found: list[Any] = []
        block = start
        while block <= end:
            size = min(self.window.size, end - block + 1)
            params = {"address": address, "topics": list(topics), "fromBlock": hex(block), "toBlock": hex(block + size - 1)}
            self.queries += 1
            try:
                logs = list(await self._get_logs(params))
            except Exception as exc:  # web3 raises Web3RPCError / ValueError; classified, else passed on
                refusal = classify_exception(exc)
                if refusal is None or refusal.kind not in (RANGE_TOO_LARGE, TOO_MANY_RESULTS):
                    raise
                self.window.shrink(refusal, size)
                continue
            self.window.succeeded(size, len(logs))
            found.extend(logs)
            block += size
        return found

    async def scan(self, address: str, topics: Sequence[Topic], from_block: int, head: int) -> list[Any]:
        """Every log of ``address`` matching ``topics`` in ``[from_block, head]``; settled blocks come from (and go
        to) the cache."""
        key = (address.lower(), repr(list(topics)))
        settled = head - self.policy.settled_depth
        cached = self._cache.get(key)
        if cached is not None and cached.start <= from_block <= cached.end + 1:
            logs = [entry for entry in cached.logs if _block(entry) >= from_block]
            start, base_start, base_logs = cached.end + 1, cached.start, cached.logs
        else:
            logs, start, base_start, base_logs = [], from_block, from_block, ()
        if start <= settled:
            fresh = await self.query(address, topics, start, settled)
            logs.extend(fresh)
            self._cache[key] = _Cached(base_start, settled, tuple(base_logs) + tuple(fresh))
            start = settled + 1
        if start <= head:
            logs.extend(await self.query(address, topics, start, head))
        return logs

    async def find_first(self, address: str, topics: Sequence[Topic], from_block: int, head: int,
                         hint_block: int | None = None) -> Any | None:
        """The first log matching ``topics``: at ``hint_block`` (one block) when given, else (or when absent there) by
        :meth:`scan` from ``from_block``."""
        if hint_block is not None and from_block <= hint_block <= head:
            logs = await self.query(address, topics, hint_block, hint_block)
            if logs:
                return logs[0]
            log.info("no log at the recorded block %d (reorged meanwhile?); scanning from block %d", hint_block,
                     from_block)
        logs = await self.scan(address, topics, from_block, head)
        return logs[0] if logs else None


def _block(entry: Any) -> int:
    value = entry["blockNumber"]
    return int(value, 16) if isinstance(value, str) else int(value)


__all__ = ["AdaptiveWindow", "LogQueryRefused", "LogScanner", "WindowPolicy"]
