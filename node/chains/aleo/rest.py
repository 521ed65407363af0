"""A client of the snarkOS REST API (v2) and of a delegated prover, on urllib: timeouts, retries with backoff on
connection errors, 5xx and 429, and typed errors mapped to the adapter contract's.

Routes (``{base}/v2/{network}/...``): ``block/height/latest``, ``program/{id}``,
``program/{id}/mapping/{name}/{key}`` (``null`` when absent), ``transaction/broadcast`` (POST, the transaction JSON;
answers its id), ``transaction/confirmed/{id}`` (``{"status": "accepted" | "rejected", "type", "index",
"transaction", "finalize"}``; 404 / 5xx while unknown) and ``transaction/{id}``.

The delegated prover takes the SDK's ``ProvingRequest`` JSON (execution + fee authorizations) at
``POST {prover}/{network}/prove`` and answers ``{"transaction", "broadcast_result"}`` (the shape of Provable's
proving API; its current public endpoint wants the request sealed with libsodium to a key from ``/pubkey``, which
this client does not do: see the README).
"""

from __future__ import annotations

import json
import random
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from .errors import AleoProtocolError, AleoRejected, AleoUnavailable

MAX_BODY = 16 << 20


@dataclass(frozen=True)
class Confirmed:
    """A confirmed transaction: ``accepted`` (finalize ran) or ``rejected`` (finalize failed; the fee was paid)."""

    tx_id: str
    status: str
    transaction: dict[str, Any]


class SnarkosRest:
    """Blocking client; the adapter runs it in a worker thread. ``retries`` counts attempts after the first."""

    def __init__(self, base_url: str, network: str = "testnet", timeout: float = 10.0, retries: int = 4,
                 backoff: float = 0.5, prover_url: str | None = None, prover_token: str | None = None) -> None:
        parsed = urllib.parse.urlparse(base_url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ValueError(f"snarkOS endpoint must be an http(s) URL, got {base_url!r}")
        self.base = base_url.rstrip("/")
        self.network = network
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.prover_url = prover_url.rstrip("/") if prover_url else None
        self.prover_token = prover_token

    # -- transport -------------------------------------------------------------------------------------------------
    def _request(self, url: str, body: Any = None, headers: dict[str, str] | None = None,
                 absent_ok: bool = False) -> Any:
        data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
        hdrs = {"Accept": "application/json", **(headers or {})}
        if data is not None:
            hdrs["Content-Type"] = "application/json"
        last = ""
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(min(self.backoff * 2 ** (attempt - 1), 8.0) * (0.5 + random.random() / 2))
            req = urllib.request.Request(url, data=data, headers=hdrs, method="POST" if data is not None else "GET")
            try:
                with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                    raw = resp.read(MAX_BODY + 1)
            except urllib.error.HTTPError as exc:
                detail = exc.read(4096).decode(errors="replace")
                if exc.code == 404 and absent_ok:
                    return None
                if exc.code == 429 or exc.code >= 500:
                    last = f"HTTP {exc.code}: {detail[:200]}"
                    continue
                raise AleoRejected(f"{_path(url)} answered HTTP {exc.code}: {detail[:300]}") from None
            except (urllib.error.URLError, OSError, TimeoutError) as exc:
                last = str(getattr(exc, "reason", exc))
                continue
            if len(raw) > MAX_BODY:
                raise AleoProtocolError(f"{_path(url)} answered more than {MAX_BODY} bytes")
            try:
                return json.loads(raw)
            except (json.JSONDecodeError, UnicodeDecodeError):
                raise AleoProtocolError(f"{_path(url)} answered non-JSON") from None
        raise AleoUnavailable(f"{_path(url)} unreachable after {self.retries + 1} attempts: {last}")

    def _url(self, *parts: str) -> str:
        return "/".join([self.base, "v2", self.network, *(urllib.parse.quote(p, safe="") for p in parts)])

    # -- routes ----------------------------------------------------------------------------------------------------
    def latest_height(self) -> int:
        height = self._request(self._url("block", "height", "latest"))
        if isinstance(height, bool) or not isinstance(height, int) or height < 0:
            raise AleoProtocolError(f"latest height is not a non-negative integer: {height!r}")
        return height

    def program(self, program_id: str) -> str | None:
        source = self._request(self._url("program", program_id), absent_ok=True)
        if source is not None and not isinstance(source, str):
            raise AleoProtocolError("program source is not a string")
        return source

    def mapping_value(self, program_id: str, mapping: str, key: str) -> str | None:
        value = self._request(self._url("program", program_id, "mapping", mapping, key), absent_ok=True)
        if value is not None and not isinstance(value, str):
            raise AleoProtocolError("mapping value is not a string")
        return value

    def broadcast(self, transaction: dict[str, Any]) -> str:
        tx_id = self._request(self._url("transaction", "broadcast"), body=transaction)
        if not isinstance(tx_id, str) or not tx_id.startswith("at1"):
            raise AleoProtocolError(f"broadcast answered {str(tx_id)[:80]!r}, not a transaction id")
        return tx_id

    def confirmed(self, tx_id: str) -> Confirmed | None:
        """The confirmed transaction, or None while it is not in a block (404 or the 5xx snarkOS answers then)."""
        try:
            doc = self._request(self._url("transaction", "confirmed", tx_id), absent_ok=True)
        except AleoUnavailable:
            raise
        if doc is None:
            return None
        if not isinstance(doc, dict) or doc.get("status") not in ("accepted", "rejected"):
            raise AleoProtocolError("confirmed transaction without an accepted/rejected status")
        tx = doc.get("transaction")
        return Confirmed(tx_id, str(doc["status"]), tx if isinstance(tx, dict) else {})

    def transaction(self, tx_id: str) -> dict[str, Any] | None:
        doc = self._request(self._url("transaction", tx_id), absent_ok=True)
        if doc is not None and not isinstance(doc, dict):
            raise AleoProtocolError("transaction is not a JSON object")
        return doc

    def prove(self, proving_request: str) -> dict[str, Any]:
        """Send a ProvingRequest (JSON text from the SDK) to the delegated prover; returns the transaction."""
        if not self.prover_url:
            raise AleoProtocolError("no delegated prover configured ([aleo] prover_url)")
        headers = {"Authorization": self.prover_token} if self.prover_token else {}
        doc = self._request(f"{self.prover_url}/{self.network}/prove", body=proving_request.encode(), headers=headers)
        tx = doc.get("transaction") if isinstance(doc, dict) else None
        if not isinstance(tx, dict) or not str(tx.get("id", "")).startswith("at1"):
            raise AleoProtocolError("the prover did not answer {transaction: {id: at1..}}")
        return tx


def _path(url: str) -> str:
    return urllib.parse.urlparse(url).path or url
