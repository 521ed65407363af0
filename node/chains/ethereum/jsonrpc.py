"""A small synchronous Ethereum JSON-RPC client on the standard library, for the light verifier.

``zkxai verify`` makes a handful of read calls; importing web3 for them dominated the process's start-up (web3
pulls in eth-account, py_ecc's BLS12-381 tables, aiohttp...; see scripts/bench_verify.py). This client
keeps one HTTP/1.1 connection open and sends the independent calls of a step as one JSON-RPC batch (one round
trip); an endpoint that refuses batches (the node's read-only ``/rpc`` bridge answers a batch with one error
object) is then asked call by call on the same connection.

Rate limits: an answer with HTTP 429, or a JSON-RPC error a provider uses for rate limiting
(:func:`~node.chains.ethereum.rpc_errors.classify`), is retried after the endpoint's ``Retry-After`` (capped at
``backoff_max_s``) or else an exponential delay (``backoff_s`` doubling), at most ``max_attempts`` requests in all;
then :class:`RateLimited` is raised.

Transport failures and answers that are not JSON-RPC raise :class:`~node.chains.ethereum.errors.ChainConnectionError`; an
error object in an answer is returned (from :meth:`JsonRpc.batch`) or raised (from :meth:`JsonRpc.call`) as
:class:`RpcCallError`, which carries the ``data`` of a revert.
"""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from .errors import ChainConnectionError
from .rpc_errors import RATE_LIMITED, classify

#: Largest answer read (a verifying key with many inputs is a few kB; logs of one block are small).
MAX_RESPONSE_BYTES = 32 * 1024 * 1024


#: Deepest JSON nesting accepted in an answer (ours need 5). The C JSON parser recurses once per level, and a
#: process that imported py_ecc runs with sys.setrecursionlimit(100000) (py_ecc/__init__.py sets it), where a
#: deeply nested answer overflows the C stack instead of raising RecursionError.
MAX_DEPTH = 64


def _too_deep(raw: bytes) -> bool:
    """True when ``raw`` nests arrays / objects deeper than :data:`MAX_DEPTH` (brackets inside strings ignored)."""
    if raw.count(b"[") + raw.count(b"{") <= MAX_DEPTH:  # the common case, at C speed
        return False
    depth, in_string, escaped = 0, False, False
    for c in raw:
        if in_string:
            if escaped:
                escaped = False
            elif c == 0x5C:  # backslash
                escaped = True
            elif c == 0x22:  # quote
                in_string = False
        elif c == 0x22:
            in_string = True
        elif c in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > MAX_DEPTH:
                return True
        elif c in (0x5D, 0x7D):  # ] }
            depth -= 1
    return False


class RpcCallError(ChainConnectionError):
    """The endpoint answered a call with a JSON-RPC error object (``data``: revert data when it reverted)."""

    def __init__(self, method: str, code: object, message: str, data: object = None) -> None:
        super().__init__(f"{method}: {message} (code {code})")
        self.method = method
        self.rpc_code = code
        self.rpc_message = message
        self.data = data

    @property
    def revert_data(self) -> str | None:
        """Hex revert data of a reverted ``eth_call`` (``0x`` + selector + arguments), if the endpoint sent it."""
        data = self.data
        if isinstance(data, dict):
            data = data.get("data")
        return data if isinstance(data, str) and data.startswith("0x") else None


class RateLimited(ChainConnectionError):
    """The endpoint kept refusing for its rate limit after every attempt allowed."""

    code = "rate_limited"


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:  # an HTTP date: not worth parsing, the exponential delay applies
        return None


def _rate_limited(status: int, answer: object) -> bool:
    if status == 429:
        return True
    items = answer if isinstance(answer, list) else [answer]
    for item in items:
        err = item.get("error") if isinstance(item, dict) else None
        if isinstance(err, dict) and err.get("code") != 3 and "revert" not in str(err.get("message", "")).lower():
            refusal = classify(err.get("code"), str(err.get("message", "")))
            if refusal is not None and refusal.kind == RATE_LIMITED:
                return True
    return False


class JsonRpc:
    """JSON-RPC 2.0 over HTTP(S) POST to ``url``, one kept-alive connection; rate limits backed off (see the module
    docstring)."""

    def __init__(self, url: str, *, timeout: float = 30.0, max_attempts: int = 6, backoff_s: float = 0.25,
                 backoff_max_s: float = 8.0) -> None:
        if max_attempts < 1 or backoff_s < 0 or backoff_max_s < backoff_s:
            raise ValueError("max_attempts >= 1 and 0 <= backoff_s <= backoff_max_s")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ChainConnectionError(f"not an http(s) JSON-RPC URL: {url!r}")
        self.url = url
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port
        self._path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self._timeout = timeout
        self._conn: http.client.HTTPConnection | None = None
        self._next_id = 1
        #: False once the endpoint refused a batch.
        self.batches = True
        #: Round trips made (HTTP requests), for benchmarks and tests.
        self.round_trips = 0
        self.max_attempts, self.backoff_s, self.backoff_max_s = max_attempts, backoff_s, backoff_max_s
        #: Seconds waited after each rate-limited answer, for logs and tests.
        self.waits: list[float] = []

    # ----------------------------------------------------------------------------- transport
    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            cls = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
            self._conn = cls(self._host, self._port, timeout=self._timeout)
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _post(self, payload: object) -> Any:
        """POST ``payload``; a rate-limited answer is retried after a pause (bounded attempts)."""
        delay = self.backoff_s
        for attempt in range(self.max_attempts):
            status, retry_after, answer = self._post_once(payload)
            if not _rate_limited(status, answer):
                return answer
            if attempt + 1 == self.max_attempts:
                break
            pause = min(retry_after if retry_after is not None else delay, self.backoff_max_s)
            self.waits.append(pause)
            time.sleep(pause)
            delay = min(delay * 2, self.backoff_max_s)
        raise RateLimited(f"{self.url} is rate limiting: still refused after {self.max_attempts} attempts")

    def _post_once(self, payload: object) -> tuple[int, float | None, Any]:
        """One POST: (HTTP status, Retry-After in seconds, the parsed answer)."""
        body = json.dumps(payload).encode()
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        for attempt in (0, 1):  # a kept-alive connection the server closed meanwhile is retried once
            conn = self._connection()
            try:
                conn.request("POST", self._path, body, headers)
                resp = conn.getresponse()
                raw = resp.read(MAX_RESPONSE_BYTES + 1)
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as exc:
                self.close()
                if attempt == 0:
                    continue
                raise ChainConnectionError(f"cannot reach {self.url}: {exc}") from exc
            except (OSError, http.client.HTTPException) as exc:
                self.close()
                raise ChainConnectionError(f"cannot reach {self.url}: {exc}") from exc
            self.round_trips += 1
            if len(raw) > MAX_RESPONSE_BYTES:
                self.close()
                raise ChainConnectionError(f"{self.url} answered more than {MAX_RESPONSE_BYTES} bytes")
            if resp.will_close:
                self.close()
            if _too_deep(raw):
                raise ChainConnectionError(f"{self.url} answered JSON nested deeper than {MAX_DEPTH} levels")
            try:
                return resp.status, _retry_after(resp.getheader("Retry-After")), json.loads(raw)
            except (ValueError, RecursionError) as exc:
                if resp.status == 429:  # a rate limit answered in plain text
                    return resp.status, _retry_after(resp.getheader("Retry-After")), None
                raise ChainConnectionError(
                    f"{self.url} did not answer JSON-RPC (HTTP {resp.status}): {raw[:200]!r}"
                ) from exc
        raise AssertionError("unreachable")  # pragma: no cover

    # ----------------------------------------------------------------------------- calls
    def _request(self, method: str, params: Sequence[Any]) -> dict[str, Any]:
        ident = self._next_id
        self._next_id += 1
        return {"jsonrpc": "2.0", "id": ident, "method": method, "params": list(params)}

    @staticmethod
    def _outcome(request: dict[str, Any], answer: object) -> Any:
        method = request["method"]
        if not isinstance(answer, dict):
            raise ChainConnectionError(f"{method}: the endpoint's answer is not a JSON-RPC object")
        if "error" in answer:
            err = answer["error"]
            if not isinstance(err, dict):
                return RpcCallError(method, None, str(err))
            return RpcCallError(method, err.get("code"), str(err.get("message", "")), err.get("data"))
        if "result" not in answer:
            raise ChainConnectionError(f"{method}: the endpoint's answer has neither result nor error")
        return answer["result"]

    def call(self, method: str, params: Sequence[Any] = ()) -> Any:
        """One call; its result, or :class:`RpcCallError` raised."""
        (out,) = self.batch([(method, params)])
        if isinstance(out, RpcCallError):
            raise out
        return out

    def batch(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
        """Several independent calls in one round trip when the endpoint takes batches; each entry of the answer
        is a result or an :class:`RpcCallError` (returned, not raised)."""
        requests = [self._request(m, p) for m, p in calls]
        if len(requests) > 1 and self.batches:
            answer = self._post(requests)
            if isinstance(answer, list):
                by_id = {a["id"]: a for a in answer if isinstance(a, dict) and isinstance(a.get("id"), int)}
                if all(r["id"] in by_id for r in requests):
                    return [self._outcome(r, by_id[r["id"]]) for r in requests]
                raise ChainConnectionError(f"{self.url} answered a batch without every id")
            self.batches = False  # one error object for the whole batch: no batch support; ask one by one
        return [self._outcome(r, self._post(r)) for r in requests]


__all__ = ["JsonRpc", "RateLimited", "RpcCallError"]
