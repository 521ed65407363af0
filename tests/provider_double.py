"""A TEST DOUBLE of a public JSON-RPC provider: a real HTTP server on 127.0.0.1 forwarding to anvil, refusing what
public providers refuse, with their published error codes and messages.

Modelled (defaults from providers' published limits, 2024-2025):

- **block-range cap** of ``eth_getLogs``: ``max_range`` blocks (10,000: QuickNode / geth-derived public endpoints);
  beyond it ``{"code": -32000, "message": "exceed maximum block range: 10000"}`` (HTTP 200);
- **result cap** of ``eth_getLogs``: ``max_results`` logs (10,000: Infura / Alchemy); beyond it Infura's
  ``{"code": -32005, "message": "query returned more than 10000 results. Try with this block range [0x.., 0x..]."}``
  with the largest range from the query's start that fits;
- **rate limit**: a token bucket of ``rate_per_s`` requests per second (burst ``burst``; each call of a batch counts);
  beyond it HTTP 429 with Alchemy's ``{"code": 429, "message": "Your app has exceeded its compute units per second
  capacity..."}`` and, when ``retry_after`` is set, a ``Retry-After`` header;
- **archive depth** (``archive_depth``, default None = an archive node): ``eth_getCode`` / ``eth_call`` /
  ``eth_getBalance`` at a block more than that many blocks below the head are refused as a pruned (non-archive) geth
  node refuses them: ``{"code": -32000, "message": "missing trie node ... (path ...)"}``;
- **outage / wrong chain** switches for failover tests: ``down`` (HTTP 503), ``chain_id`` (answer another
  ``eth_chainId``).

Not modelled: compute-unit weights per method (every call costs one token), per-day quotas, WebSocket
subscriptions, response-size caps in bytes,
``eth_getLogs`` by ``blockHash`` limits, providers that silently truncate instead of refusing, and latency.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web

RATE_LIMIT_MESSAGE = ("Your app has exceeded its compute units per second capacity. If you have retries enabled, you "
                      "can safely ignore this message. If not, check out https://docs.alchemy.com/reference/throughput")


#: Methods reading state at a block, and the index of their block parameter.
_STATE_METHODS = {"eth_getCode": 1, "eth_call": 1, "eth_getBalance": 1}


@dataclass
class ProviderLimits:
    """The caps the double enforces (mutable: a test may tighten them while the double runs)."""

    max_range: int = 10_000
    max_results: int = 10_000
    rate_per_s: float = 50.0
    burst: int = 50
    retry_after: float | None = None
    archive_depth: int | None = None


class ProviderDouble:
    """Run with ``with ProviderDouble(anvil_url) as url:``; ``stats`` counts what it refused."""

    def __init__(self, upstream: str, limits: ProviderLimits | None = None) -> None:
        self.upstream = upstream
        self.limits = limits or ProviderLimits()
        self.stats: Counter[str] = Counter()
        #: fromBlock of every eth_getLogs range query seen.
        self.log_starts: list[int] = []
        self.down = False
        self.chain_id: int | None = None
        self._tokens = float(self.limits.burst)
        self._refill = time.monotonic()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self.url = ""

    # ------------------------------------------------------------------ lifecycle
    def __enter__(self) -> str:
        ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, args=(ready,), daemon=True, name="provider-double")
        self._thread.start()
        assert ready.wait(10), "the provider double did not start"
        return self.url

    def __exit__(self, *exc: object) -> None:
        assert self._loop is not None and self._thread is not None
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def _serve(self, ready: threading.Event) -> None:
        self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._start())
        ready.set()
        self._loop.run_forever()
        self._loop.close()

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_post("/", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}/"
        self._session = aiohttp.ClientSession()

    async def _stop(self) -> None:
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    # ------------------------------------------------------------------ limits
    def _take(self, n: int) -> bool:
        now = time.monotonic()
        lim = self.limits
        self._tokens = min(float(lim.burst), self._tokens + (now - self._refill) * lim.rate_per_s)
        self._refill = now
        if self._tokens < n:
            return False
        self._tokens -= n
        return True

    async def _upstream(self, call: dict[str, Any]) -> dict[str, Any]:
        assert self._session is not None
        async with self._session.post(self.upstream, json=call) as resp:
            return dict(await resp.json(content_type=None))

    async def _block(self, tag: object) -> int:
        if isinstance(tag, str) and tag.startswith("0x"):
            return int(tag, 16)
        if tag == "earliest":
            return 0
        head = await self._upstream({"jsonrpc": "2.0", "id": 0, "method": "eth_blockNumber", "params": []})
        return int(head["result"], 16)

    async def _get_logs(self, call: dict[str, Any]) -> dict[str, Any]:
        params = call.get("params") or [{}]
        query = dict(params[0]) if params and isinstance(params[0], dict) else {}
        ident = call.get("id")
        if "blockHash" not in query:
            start, end = await self._block(query.get("fromBlock", "latest")), await self._block(query.get("toBlock", "latest"))
            self.log_starts.append(start)
            if end - start + 1 > self.limits.max_range:
                self.stats["range_refused"] += 1
                return {"jsonrpc": "2.0", "id": ident,
                        "error": {"code": -32000, "message": f"exceed maximum block range: {self.limits.max_range}"}}
        answer = await self._upstream(call)
        logs = answer.get("result")
        if isinstance(logs, list) and len(logs) > self.limits.max_results:
            self.stats["results_refused"] += 1
            start = int(logs[0]["blockNumber"], 16)
            last_ok = int(logs[self.limits.max_results]["blockNumber"], 16) - 1
            return {"jsonrpc": "2.0", "id": ident, "error": {
                "code": -32005, "message": f"query returned more than {self.limits.max_results} results. Try with "
                                           f"this block range [{hex(start)}, {hex(max(start, last_ok))}]."}}
        return answer

    async def _one(self, call: Any) -> dict[str, Any]:
        if not isinstance(call, dict):
            return {"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": "invalid request"}}
        method = call.get("method")
        self.stats[f"method:{method}"] += 1
        if method == "eth_chainId" and self.chain_id is not None:
            return {"jsonrpc": "2.0", "id": call.get("id"), "result": hex(self.chain_id)}
        if method == "eth_getLogs":
            return await self._get_logs(call)
        if method in _STATE_METHODS and self.limits.archive_depth is not None:
            params = call.get("params") or []
            tag = params[_STATE_METHODS[method]] if len(params) > _STATE_METHODS[method] else "latest"
            head = await self._block("latest")
            if await self._block(tag) < head - self.limits.archive_depth:
                self.stats["state_refused"] += 1
                return {"jsonrpc": "2.0", "id": call.get("id"), "error": {
                    "code": -32000, "message": "missing trie node 1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90a "
                                               "(path ) state 0x1b2c... is not available"}}
        return await self._upstream(call)

    async def _handle(self, request: web.Request) -> web.Response:
        self.stats["requests"] += 1
        if self.down:
            self.stats["down"] += 1
            return web.Response(status=503, text="Service Unavailable")
        body = json.loads(await request.read())
        calls = body if isinstance(body, list) else [body]
        if not self._take(len(calls)):
            self.stats["rate_limited"] += 1
            headers = {"Retry-After": str(self.limits.retry_after)} if self.limits.retry_after is not None else {}
            error = {"jsonrpc": "2.0", "id": calls[0].get("id") if isinstance(calls[0], dict) else None,
                     "error": {"code": 429, "message": RATE_LIMIT_MESSAGE}}
            return web.json_response(error, status=429, headers=headers)
        answers = [await self._one(call) for call in calls]
        self.stats["errors"] += sum(1 for a in answers if "error" in a)
        return web.json_response(answers if isinstance(body, list) else answers[0])


__all__ = ["ProviderDouble", "ProviderLimits", "RATE_LIMIT_MESSAGE"]
