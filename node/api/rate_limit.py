"""A token bucket per client (IP address), for unauthenticated endpoints such as ``/rpc``."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from node.errors import RateLimited

#: Clients remembered at once; the least recently seen are forgotten first (a forgotten client starts full).
MAX_CLIENTS = 4096


class TokenBuckets:
    """``rate`` tokens per second up to ``burst`` per client; :meth:`take` spends one or raises :class:`RateLimited`."""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate, self.burst, self._clock = rate, burst, clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, client: str) -> None:
        now = self._clock()
        tokens, last = self._buckets.pop(client, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) * self.rate)
        if tokens < 1.0:
            self._buckets[client] = (tokens, now)
            raise RateLimited(f"rate limit: at most {self.rate:g} requests per second (burst {self.burst}) per client",
                              retry_after=(1.0 - tokens) / self.rate)
        self._buckets[client] = (tokens - 1.0, now)
        while len(self._buckets) > MAX_CLIENTS:
            self._buckets.popitem(last=False)
