"""The node's HTTP API as typed async calls (one aiohttp session per client, on the SDK's loop)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from typing import Any

import aiohttp

from node.sdk.errors import ModelRejected, NodeUnavailable, RequestRejected

#: How long to poll a request that the node answered 202 (accepted, not attested within its wait window).
POLL_INTERVAL_S = 0.25


class NodeClient:
    """Calls of one node (``url``), authenticated with ``api_key`` when given (``Authorization: Bearer``)."""

    def __init__(self, url: str, api_key: str | None = None, *, timeout_s: float = 600.0) -> None:
        self.url = url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._session: aiohttp.ClientSession | None = None

    async def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(headers=self._headers, timeout=self._timeout)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _call(self, verb: str, path: str, *, rejected: type[RequestRejected] = RequestRejected,
                    **kwargs: Any) -> tuple[int, Any]:
        http = await self._http()
        try:
            async with http.request(verb, self.url + path, **kwargs) as resp:
                text = await resp.text()
                status = resp.status
        except (aiohttp.ClientError, OSError, asyncio.TimeoutError) as exc:
            raise NodeUnavailable(f"cannot reach the node at {self.url}: {type(exc).__name__}: {exc}") from exc
        try:
            body = json.loads(text) if text else None
        except json.JSONDecodeError:
            body = {"error": {"code": "not_json", "message": text[:300]}}
        if status >= 400:
            error = body.get("error", {}) if isinstance(body, dict) else {}
            if not isinstance(error, dict):  # a failed request's result: {"status": "failed", "error": "..."}
                error = {"code": str(body.get("status", "error")), "message": str(error)}
            raise rejected(status, str(error.get("code", "error")), str(error.get("message", text[:300])))
        return status, body

    async def info(self) -> dict[str, Any]:
        return (await self._call("GET", "/v1/info"))[1]

    async def register_model(self, data: bytes, name: str, level: str = "commitment",
                             method: str | None = None) -> dict[str, Any]:
        params = {"name": name, "level": level} | ({"method": method} if method else {})
        return (await self._call("POST", "/v1/models", params=params, data=data,
                                 headers={"Content-Type": "application/octet-stream"}, rejected=ModelRejected))[1]

    async def calibrate(self, model_hash: str, inputs: Sequence[Any], labels: Sequence[int] | None) -> dict[str, Any]:
        body: dict[str, Any] = {"inputs": [_plain(x) for x in inputs]}
        if labels is not None:
            body["labels"] = [int(v) for v in labels]
        return (await self._call("POST", f"/v1/models/{model_hash}/calibration", json=body))[1]

    async def attest(self, model_hash: str, x: Any, method: str, *, quality: bool = False,
                     key: str | None = None, level: str | None = None) -> dict[str, Any]:
        """Submit one request and wait until it is attested (or failed): the node's result JSON."""
        headers = {"Idempotency-Key": key} if key else {}
        body: dict[str, Any] = {"model_hash": model_hash, "input": _plain(x), "method": method, "quality": quality}
        if level is not None:
            body["level"] = level
        status, body = await self._call("POST", "/v1/attestations", params={"wait": "true"}, headers=headers, json=body)
        while body.get("status") not in ("attested", "failed"):  # 202: still in the pipeline
            await asyncio.sleep(POLL_INTERVAL_S)
            status, body = await self._call("GET", f"/v1/attestations/{body['request_id']}")
        return body

    async def disclosure(self, key: str, chain: str | None = None) -> dict[str, Any]:
        params = {"chain": chain} if chain else {}
        return (await self._call("GET", f"/v1/attestations/{key}/disclosure", params=params))[1]


def _plain(x: Any) -> Any:
    """A JSON-ready nested list from a numpy array, a torch tensor or a list."""
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    if hasattr(x, "tolist"):
        return x.tolist()
    return x
