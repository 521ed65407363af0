"""An async web3 provider for public endpoints: several RPC URLs with failover, request timeouts, backoff on rate
limits and server errors, and the chain id checked on every (re)connection.

- **Timeouts**: every HTTP request has ``timeout_s`` (connect + answer); a hung endpoint is a failed attempt.
- **Backoff**: HTTP 429, HTTP 5xx and JSON-RPC rate-limit errors (:func:`~node.chains.ethereum.rpc_errors.classify`)
  are retried after ``Retry-After`` when the endpoint sends one, else after an exponential delay with jitter
  (``backoff_s`` doubling up to ``backoff_max_s``), at most ``max_attempts`` attempts per call.
- **Failover**: a connection error, timeout, 5xx or rate limit moves to the next URL (round robin); the first URL
  is preferred again after ``prefer_primary_after_s``.
- **Chain id**: before the first request to a URL, and again after any connection failure on it, ``eth_chainId`` is
  asked; an endpoint on another chain is never used (:class:`WrongChain` when no URL is on the expected chain).

Errors: :class:`ProviderUnavailable` (a :class:`~node.chains.ethereum.errors.ChainConnectionError` and an
``OSError``, so every caller that already treats a lost connection as "retry later" does so) when all attempts failed.
JSON-RPC errors that are not limits (reverts, bad params, log-range caps) are returned to web3 unchanged.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp
from web3.providers.async_base import AsyncJSONBaseProvider
from web3.types import RPCEndpoint, RPCResponse

from node.chains.ethereum.errors import ChainConnectionError, ChainError
from node.chains.ethereum.rpc_errors import RATE_LIMITED, classify

log = logging.getLogger("zkxai.chain.rpc")


class ProviderUnavailable(ChainConnectionError, ConnectionError):
    """No configured endpoint answered within the attempts allowed (timeouts, refusals, rate limits, 5xx)."""


class WrongChain(ChainError):
    """An endpoint answers for another chain id than the node's (misconfigured URL, or a provider switched)."""

    code = "wrong_chain"


@dataclass(frozen=True)
class ProviderPolicy:
    """Timeouts, retries and backoff of :class:`FailoverProvider` (config: ``chain.rpc_timeout_s``, ...)."""

    timeout_s: float = 30.0
    max_attempts: int = 8
    backoff_s: float = 0.25
    backoff_max_s: float = 10.0
    prefer_primary_after_s: float = 60.0

    def __post_init__(self) -> None:
        if self.timeout_s <= 0 or self.max_attempts < 1 or self.backoff_s < 0 or self.backoff_max_s < self.backoff_s:
            raise ValueError("provider policy: timeout_s > 0, max_attempts >= 1, 0 <= backoff_s <= backoff_max_s")


@dataclass(frozen=True)
class EndpointStats:
    """Counters of one endpoint (for logs, metrics and tests)."""

    url: str
    requests: int
    rate_limited: int
    failures: int


class _Retry(Exception):
    """One attempt failed in a way worth retrying elsewhere / later (``delay``: the endpoint's Retry-After)."""

    def __init__(self, reason: str, delay: float | None = None, failover: bool = True) -> None:
        super().__init__(reason)
        self.delay = delay
        self.failover = failover


class FailoverProvider(AsyncJSONBaseProvider):
    """JSON-RPC over HTTP to the first healthy URL of ``urls`` (see the module docstring)."""

    def __init__(self, urls: Sequence[str], *, policy: ProviderPolicy | None = None,
                 chain_id: int | None = None) -> None:
        super().__init__()
        if not urls:
            raise ValueError("at least one RPC URL")
        self.urls = tuple(urls)
        self.policy = policy or ProviderPolicy()
        #: The chain every endpoint must be on (None: learnt from the first endpoint that answers).
        self.chain_id = chain_id
        self._current = 0
        self._switched_at = 0.0
        self._verified: set[str] = set()
        self._session: aiohttp.ClientSession | None = None
        self._ids = iter(range(1, 1 << 62))
        self._stats = {url: [0, 0, 0] for url in self.urls}

    # ------------------------------------------------------------------ bookkeeping
    @property
    def endpoint_uri(self) -> str:
        return self.urls[self._current]

    def stats(self) -> list[EndpointStats]:
        return [EndpointStats(url, *counts) for url, counts in self._stats.items()]

    def _failover(self, url: str, reason: str) -> None:
        self._verified.discard(url)  # ask its chain id again before using it again
        if len(self.urls) > 1 and self.urls[self._current] == url:
            self._current = (self._current + 1) % len(self.urls)
            self._switched_at = time.monotonic()
            log.warning("RPC endpoint %s: %s; failing over to %s", _redact(url), reason, _redact(self.endpoint_uri))

    def _session_now(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.policy.timeout_s))
        return self._session

    async def disconnect(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def is_connected(self, show_traceback: bool = False) -> bool:
        try:
            await self.make_request(RPCEndpoint("eth_chainId"), [])
            return True
        except ChainError:
            if show_traceback:
                raise
            return False

    # ------------------------------------------------------------------ transport
    async def _post(self, url: str, payload: dict[str, Any]) -> dict[str, Any]:
        counts = self._stats[url]
        counts[0] += 1
        try:
            async with self._session_now().post(url, json=payload) as resp:
                raw = await resp.read()
                retry_after = _retry_after(resp.headers.get("Retry-After"))
                status = resp.status
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            counts[2] += 1
            raise _Retry(f"{type(exc).__name__}: {exc}") from exc
        try:
            answer = json.loads(raw)
        except ValueError:
            answer = None
        if status == 429 or (isinstance(answer, dict) and _rate_limited(answer)):
            counts[1] += 1
            raise _Retry(f"rate limited (HTTP {status})", retry_after, failover=len(self.urls) > 1)
        if status >= 500 or not isinstance(answer, dict):
            counts[2] += 1
            raise _Retry(f"HTTP {status}: {raw[:120]!r}", retry_after)
        return answer

    async def _verify_chain(self, url: str) -> None:
        answer = await self._post(url, {"jsonrpc": "2.0", "id": next(self._ids), "method": "eth_chainId",
                                        "params": []})
        try:
            got = int(answer["result"], 16)
        except (KeyError, TypeError, ValueError) as exc:
            raise _Retry(f"eth_chainId answered {answer!r}") from exc
        if self.chain_id is None:
            self.chain_id = got
        if got != self.chain_id:
            raise WrongChain(f"RPC endpoint {_redact(url)} is on chain {got}, not {self.chain_id}")
        self._verified.add(url)

    async def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        policy = self.policy
        if self._current and time.monotonic() - self._switched_at > policy.prefer_primary_after_s:
            self._current = 0
        delay, last = policy.backoff_s, "no attempt"
        wrong: list[str] = []
        for attempt in range(policy.max_attempts):
            url = self.urls[self._current]
            try:
                if url not in self._verified:
                    await self._verify_chain(url)
                payload = {"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": params}
                return RPCResponse(await self._post(url, payload))  # type: ignore[typeddict-item]
            except WrongChain as exc:
                wrong.append(str(exc))
                if len(wrong) >= len(self.urls):
                    raise
                self._failover(url, str(exc))
                continue
            except _Retry as exc:
                last = str(exc)
                if exc.failover:
                    self._failover(url, last)
                pause = exc.delay if exc.delay is not None else delay * (0.5 + random.random())
                if attempt + 1 < policy.max_attempts:
                    log.info("RPC %s on %s: %s; retrying in %.2f s", method, _redact(url), last, pause)
                    await asyncio.sleep(min(pause, policy.backoff_max_s))
                delay = min(delay * 2, policy.backoff_max_s)
        raise ProviderUnavailable(f"{method}: no RPC endpoint answered after {policy.max_attempts} attempts "
                                  f"(last: {last})")

    async def make_batch_request(self, requests: Any) -> Any:  # web3 batches are not used by the node
        raise NotImplementedError("FailoverProvider does not send batches")


def _rate_limited(answer: dict[str, Any]) -> bool:
    err = answer.get("error")
    if not isinstance(err, dict):
        return False
    refusal = classify(err.get("code"), str(err.get("message", "")))
    return refusal is not None and refusal.kind == RATE_LIMITED


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


def _redact(url: str) -> str:
    """``url`` without a path or query (provider API keys live there)."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" + ("/…" if parts.path.strip("/") or parts.query else "")


__all__ = ["EndpointStats", "FailoverProvider", "ProviderPolicy", "ProviderUnavailable", "WrongChain"]
